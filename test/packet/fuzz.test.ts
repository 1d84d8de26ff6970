/**
 * Robustness and consistency under random input (seeded, so a failure repeats):
 *   - thousands of truncated and byte-mutated frames parse without throwing, with every
 *     layout offset inside the frame, and random actions (set-field, push/pop, TTL) on them
 *     never throw and always leave a layout equal to a fresh parse of the result;
 *   - on well-formed frames, random sequences of header rewrites keep every checksum right
 *     (the incremental updates agree with a recomputation from scratch).
 */
import t from 'tap';
import {
  badChecksums, buildFrame, copyTtlIn, copyTtlOut, decMplsTtl, decNwTtl, FIELD_SLOTS, FLOW_KEY_BYTES,
  type FrameSpec, type Packet, PacketLayout, parsePacket, popMpls, popPbb, popVlan, pushMpls, pushPbb, pushVlan,
  setField, setMplsTtl, setNwTtl, symmetricL3L4Hash, symmetricL4Hash,
} from '../../lib/packet/index.ts';
import type { OxmFieldName } from '../../protocol/index.ts';
import { prng } from '../helpers/prng.ts';

const V4 = { src: '10.0.0.1', dst: '10.0.0.2' };
const V6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const SNAP = Buffer.from([0xaa, 0xaa, 3, 0, 0, 0, 8, 0]);
const P = Buffer.from('payload bytes, 31 of them......');
const SPECS: FrameSpec[] = [
  { vlans: [{ vid: 1 }], ipv4: V4, tcp: { src: 1, dst: 2 }, payload: P },
  { ipv4: { ...V4, options: Buffer.from([1, 1, 1, 0]) }, udp: { src: 1, dst: 2 }, payload: P, padTo: 80 },
  { ipv4: V4, udp: { src: 1, dst: 2, checksum: false }, payload: P },
  { ipv4: V4, sctp: { src: 1, dst: 2 }, payload: P },
  { ipv4: V4, icmpv4: { type: 8, code: 0 }, payload: P },
  { ipv4: { ...V4, moreFragments: true }, tcp: { src: 1, dst: 2 } },
  { arp: { sha: '02:00:00:00:00:01', spa: '1.1.1.1', tpa: '2.2.2.2' } },
  { vlans: [{ vid: 5, tpid: 0x88a8 }, { vid: 6 }], ipv6: V6, tcp: { src: 1, dst: 2 }, payload: P },
  {
    ipv6: {
      ...V6,
      extHeaders: [
        { type: 'hop' }, { type: 'dest' }, { type: 'routing', segmentsLeft: 1, addresses: ['::5'] },
        { type: 'fragment', more: true }, { type: 'auth' },
      ],
    },
    udp: { src: 1, dst: 2 }, payload: P,
  },
  { ipv6: { ...V6, extHeaders: [{ type: 'fragment', offset: 9 }] }, payload: P },
  { ipv6: { ...V6, extHeaders: [{ type: 'esp' }] }, payload: P },
  { ipv6: V6, sctp: { src: 1, dst: 2 }, payload: P },
  { ipv6: V6, icmpv6: { type: 128, code: 0 }, payload: P },
  { ipv6: V6, icmpv6: { type: 135, code: 0, ndTarget: '::7', sll: '02:00:00:00:00:07' } },
  { ipv6: V6, icmpv6: { type: 136, code: 0, ndTarget: '::7', tll: '02:00:00:00:00:07' } },
  { vlans: [{ vid: 2 }], mpls: [{ label: 5 }, { label: 6 }], ipv4: V4, udp: { src: 1, dst: 2 } },
  { mpls: [{ label: 5 }], ipv6: V6, tcp: { src: 1, dst: 2 } },
  { pbb: { isid: 9 }, payload: buildFrame({ ipv4: V4, tcp: { src: 1, dst: 2 } }) },
  { ethType: 48, payload: Buffer.concat([SNAP, buildFrame({ ipv4: V4, tcp: { src: 1, dst: 2 } }).subarray(14)]) },
];
const BASES = SPECS.map((s) => buildFrame(s));

type Action = (p: Packet, rnd: () => number) => void;
const FIELDS = FIELD_SLOTS.map((s) => s.name);
const ETHERTYPES = [0x8100, 0x88a8, 0x8847, 0x8848, 0x88e7, 0x0800, 0x86dd, 0x0806];

function randomBytes(n: number, rnd: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

const ACTIONS: Action[] = [
  (p, rnd) => {
    const slot = FIELD_SLOTS[Math.floor(rnd() * FIELDS.length)]!;
    setField(p, slot.name, randomBytes(slot.bytes, rnd));
  },
  (p, rnd) => pushVlan(p, ETHERTYPES[Math.floor(rnd() * ETHERTYPES.length)]!),
  (p) => popVlan(p),
  (p, rnd) => pushMpls(p, ETHERTYPES[Math.floor(rnd() * ETHERTYPES.length)]!),
  (p, rnd) => popMpls(p, ETHERTYPES[Math.floor(rnd() * ETHERTYPES.length)]!),
  (p, rnd) => pushPbb(p, rnd() < 0.8 ? 0x88e7 : 0x8100),
  (p) => popPbb(p),
  (p) => { decNwTtl(p); },
  (p) => { decMplsTtl(p); },
  (p, rnd) => setNwTtl(p, Math.floor(rnd() * 256)),
  (p, rnd) => setMplsTtl(p, Math.floor(rnd() * 256)),
  (p) => copyTtlIn(p),
  (p) => copyTtlOut(p),
];

const OFFSETS: (keyof PacketLayout)[] = [
  'ethTypeOffset', 'pbbOffset', 'mplsOffset', 'l3Offset', 'ipProtoOffset', 'ipEnd', 'l4Offset', 'ndTargetOffset',
  'ndSllOffset', 'ndTllOffset',
];

/** What is wrong with a layout for a frame of `length` bytes, if anything. */
function layoutProblem(layout: PacketLayout, length: number): string | undefined {
  for (const name of OFFSETS) {
    const v = layout[name] as number;
    if (!Number.isInteger(v) || v < -1 || v > length) return `${name}=${v} (frame ${length})`;
  }
  if (layout.l4Offset > layout.ipEnd) return 'l4Offset past ipEnd';
  if (layout.ndSllOffset >= 0 && layout.ndSllOffset + 6 > layout.ipEnd) return 'SLL past the end';
  if (layout.ndTllOffset >= 0 && layout.ndTllOffset + 6 > layout.ipEnd) return 'TLL past the end';
  if (layout.ndTargetOffset >= 0 && layout.ndTargetOffset + 16 > layout.ipEnd) return 'target past the end';
  if (layout.mplsOffset >= 0 && layout.mplsOffset + 4 * layout.mplsCount > length) return 'labels past the end';
  if (layout.pbbOffset >= 0 && layout.pbbOffset + 4 > length) return 'I-TAG past the end';
  return undefined;
}

function sameLayout(a: PacketLayout, b: PacketLayout): boolean {
  return JSON.stringify({ ...a, scratchKey: undefined }) === JSON.stringify({ ...b, scratchKey: undefined });
}

function mutate(base: Buffer, rnd: () => number): Buffer {
  const frame = Buffer.from(base);
  const flips = Math.floor(rnd() * 4);
  for (let i = 0; i < flips; i++) {
    /* Mostly inside the headers, where it matters. */
    const at = Math.floor(rnd() * Math.min(frame.length, rnd() < 0.8 ? 90 : frame.length));
    frame[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : frame[at]! ^ (1 << Math.floor(rnd() * 8));
  }
  return rnd() < 0.5 ? frame.subarray(0, Math.floor(rnd() * (frame.length + 1))) : frame;
}

t.test('every truncation of every base frame', async (t) => {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  let problems = 0;
  let count = 0;
  for (const base of BASES) {
    for (let n = 0; n <= base.length; n++) {
      const frame = base.subarray(0, n);
      const layout = parsePacket(frame, key, 1);
      const problem = layoutProblem(layout, n);
      if (problem && problems++ < 5) t.fail(`${base.toString('hex')} cut at ${n}: ${problem}`);
      symmetricL3L4Hash(key);
      symmetricL4Hash(key);
      count++;
    }
  }
  t.equal(problems, 0, `${count} truncations parse with sane layouts`);
});

t.test('mutated frames: parse, act, never throw, layout stays right', async (t) => {
  const rnd = prng(20261121);
  const key = new Uint8Array(FLOW_KEY_BYTES);
  const mask = new Uint8Array(FLOW_KEY_BYTES);
  const ROUNDS = 6000;
  let failures = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const input = mutate(BASES[Math.floor(rnd() * BASES.length)]!, rnd);
    const frame = Buffer.from(input);
    try {
      const packet: Packet = { data: frame, layout: parsePacket(frame, key, 1) };
      symmetricL3L4Hash(key, 0, mask);
      symmetricL4Hash(key, 0, mask);
      const problem = layoutProblem(packet.layout, frame.length);
      if (problem) throw new Error(`bad layout: ${problem}`);
      const steps = 1 + Math.floor(rnd() * 6);
      for (let s = 0; s < steps; s++) {
        const which = Math.floor(rnd() * ACTIONS.length);
        ACTIONS[which]!(packet, rnd);
        const fresh = parsePacket(packet.data, key, 1);
        if (!sameLayout(packet.layout, fresh)) {
          throw new Error(`layout out of step after action ${which}: ${JSON.stringify(packet.layout)} vs ${JSON.stringify(fresh)}`);
        }
      }
    } catch (e) {
      if (failures++ < 5) t.fail(`round ${i}, frame ${input.toString('hex')}: ${(e as Error).stack}`);
    }
  }
  t.equal(failures, 0, `${ROUNDS} mutated frames`);
});

/** Fields whose rewrite keeps a well-formed packet well-formed (same headers, new values). */
const SAFE_FIELDS: OxmFieldName[] = [
  'eth_dst', 'eth_src', 'vlan_vid', 'vlan_pcp', 'ip_dscp', 'ip_ecn', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst',
  'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmpv4_type', 'icmpv4_code', 'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha',
  'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'icmpv6_code', 'ipv6_nd_target', 'ipv6_nd_sll', 'ipv6_nd_tll',
  'mpls_label', 'mpls_tc', 'pbb_isid',
];

t.test('random rewrites of well-formed frames keep every checksum right', async (t) => {
  const rnd = prng(7);
  let failures = 0;
  const ROUNDS = 3000;
  const checked = BASES.filter((b) => badChecksums(b).length === 0);
  t.equal(checked.length, BASES.length, 'all base frames start with right checksums');
  for (let i = 0; i < ROUNDS; i++) {
    const base = checked[Math.floor(rnd() * checked.length)]!;
    const packet: Packet = { data: Buffer.from(base), layout: parsePacket(base, new Uint8Array(FLOW_KEY_BYTES), 1) };
    const steps = 1 + Math.floor(rnd() * 8);
    const done: string[] = [];
    for (let s = 0; s < steps; s++) {
      const r = rnd();
      if (r < 0.8) {
        const name = SAFE_FIELDS[Math.floor(rnd() * SAFE_FIELDS.length)]!;
        const slot = FIELD_SLOTS.find((f) => f.name === name)!;
        setField(packet, name, randomBytes(slot.bytes, rnd));
        done.push(name);
      } else if (r < 0.9) {
        setNwTtl(packet, Math.floor(rnd() * 256));
        done.push('set_nw_ttl');
      } else {
        decNwTtl(packet);
        done.push('dec_nw_ttl');
      }
    }
    const bad = badChecksums(packet.data);
    if (bad.length > 0 && failures++ < 5) t.fail(`${base.toString('hex')} after ${done.join(', ')}: bad ${bad.join(', ')}`);
  }
  t.equal(failures, 0, `${ROUNDS} rewrite sequences`);
});
