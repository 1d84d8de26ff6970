/*
 * Open vSwitch's flow hashes (lib/packet/hash.ts) and the select-group choice built on them
 * (lib/ofproto/select-group.ts): what each hash reads and leaves out, that it marks what it read
 * in a megaflow mask, and how hash values are dealt out to weighted buckets. That the values are
 * Open vSwitch's own is shown against a running Open vSwitch by the select-group scenarios of
 * test/interop/differential-datapath.test.ts (every bucket choice identical); the values pinned
 * here only guard against drift.
 */
import t from 'tap';
import {
  buildFrame, type FrameSpec, FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, NW_FRAG_OFFSET, parsePacket, symmetricL3L4Hash, symmetricL4Hash,
} from '../../lib/packet/index.ts';
import { dealHashValues, pickSelectBucket } from '../../lib/ofproto/select-group.ts';
import type { OxmFieldName } from '../../protocol/index.ts';

function keyOf(spec: FrameSpec, inPort = 1): Uint8Array {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  parsePacket(buildFrame({ ethSrc: '00:00:00:00:00:01', ethDst: '00:00:00:00:00:02', ...spec }), key, inPort);
  return key;
}

const TCP4 = { ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { src: 1000, dst: 80 } };
const TCP4_BACK = { ipv4: { src: '10.0.0.2', dst: '10.0.0.1' }, tcp: { src: 80, dst: 1000 } };

t.test('symmetric L3/L4 hash (the dp_hash of a select group)', async (t) => {
  const h = symmetricL3L4Hash(keyOf(TCP4));
  t.equal(h, symmetricL3L4Hash(keyOf({ ...TCP4_BACK, ethSrc: '00:00:00:00:00:02', ethDst: '00:00:00:00:00:01' })), 'both directions of a connection hash alike');
  t.not(symmetricL3L4Hash(keyOf({ ...TCP4, tcp: { src: 1001, dst: 80 } })), h, 'TCP ports count');
  t.not(symmetricL3L4Hash(keyOf({ ...TCP4, ipv4: { src: '10.0.0.3', dst: '10.0.0.2' } })), h, 'addresses count');
  t.equal(symmetricL3L4Hash(keyOf({ ...TCP4, ethSrc: '02:00:00:00:00:09', vlans: [{ vid: 7 }] })), h, 'MACs and VLAN do not count for IP');
  t.not(symmetricL3L4Hash(keyOf(TCP4), 1), h, 'the basis counts');
  const udp = (src: number): number => symmetricL3L4Hash(keyOf({ ipv4: TCP4.ipv4, udp: { src, dst: 53 } }));
  t.equal(udp(1000), udp(2000), 'UDP ports are left out');
  t.not(udp(1000), h, 'the protocol counts');
  const sctp = (src: number): number => symmetricL3L4Hash(keyOf({ ipv4: TCP4.ipv4, sctp: { src, dst: 9 } }));
  t.not(sctp(1), sctp(2), 'SCTP ports count');
  const frag = (src: number): number => symmetricL3L4Hash(keyOf({ ipv4: { ...TCP4.ipv4, moreFragments: true }, tcp: { src, dst: 80 } }));
  t.equal(frag(1000), frag(2000), 'a first fragment\'s ports are left out');
  const v6 = (src: string): number => symmetricL3L4Hash(keyOf({ ipv6: { src, dst: '2001:db8::2' }, tcp: { src: 1, dst: 2 } }));
  t.not(v6('2001:db8::1'), v6('2001:db8::3'), 'IPv6 addresses count');
  const l2 = (spec: FrameSpec): number => symmetricL3L4Hash(keyOf({ ethType: 0x88b5, payload: Buffer.alloc(46), ...spec }));
  t.equal(l2({}), l2({ ethSrc: '00:00:00:00:00:02', ethDst: '00:00:00:00:00:01' }), 'non-IP: the MACs both ways hash alike');
  t.not(l2({ vlans: [{ vid: 5 }] }), l2({ vlans: [{ vid: 6 }] }), 'non-IP: the VLAN ID counts');
  t.equal(l2({ vlans: [{ vid: 5, pcp: 1 }] }), l2({ vlans: [{ vid: 5, pcp: 6 }] }), 'non-IP: the VLAN PCP does not');
  t.not(l2({}), l2({ ethType: 0x88b6 }), 'non-IP: the Ethernet type counts');
  t.equal(h, 1106637820, 'the value does not drift');
});

t.test('symmetric L4 hash (the slow-path select hash)', async (t) => {
  const h = symmetricL4Hash(keyOf(TCP4));
  t.equal(h, symmetricL4Hash(keyOf({ ...TCP4_BACK, ethSrc: '00:00:00:00:00:02', ethDst: '00:00:00:00:00:01' })), 'both directions hash alike');
  t.not(symmetricL4Hash(keyOf({ ...TCP4, ethSrc: '02:00:00:00:00:09' })), h, 'MACs count');
  t.not(symmetricL4Hash(keyOf({ ...TCP4, tcp: { src: 1001, dst: 80 } })), h, 'TCP ports count');
  const udp = (src: number): number => symmetricL4Hash(keyOf({ ipv4: TCP4.ipv4, udp: { src, dst: 53 } }));
  t.equal(udp(1000), udp(2000), 'UDP ports are left out');
  t.equal(h, 3579482749, 'the value does not drift');
});

/** Fields whose mask bytes are set in `mask`. */
function marked(mask: Uint8Array): OxmFieldName[] {
  return FIELD_SLOTS.filter((s) => mask.subarray(s.offset, s.offset + s.bytes).some((b) => b !== 0)).map((s) => s.name);
}

t.test('the fields read are marked in the megaflow mask', async (t) => {
  const mask = (spec: FrameSpec, hash = symmetricL3L4Hash): [OxmFieldName[], number] => {
    const m = new Uint8Array(FLOW_KEY_BYTES);
    hash(keyOf(spec), 0, m);
    return [marked(m), m[NW_FRAG_OFFSET]!];
  };
  t.same(mask(TCP4), [['eth_type', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst'], 0xff], 'TCP: addresses, protocol, ports, fragment bits');
  t.same(mask({ ipv4: TCP4.ipv4, udp: { src: 1, dst: 2 } }), [['eth_type', 'ip_proto', 'ipv4_src', 'ipv4_dst'], 0], 'UDP: no ports');
  t.same(mask({ ethType: 0x88b5, payload: Buffer.alloc(46) }), [['eth_dst', 'eth_src', 'eth_type', 'vlan_vid'], 0], 'non-IP: L2');
  const vlan = new Uint8Array(FLOW_KEY_BYTES);
  symmetricL3L4Hash(keyOf({ ethType: 0x88b5, payload: Buffer.alloc(46) }), 0, vlan);
  const vid = fieldSlot('vlan_vid');
  t.same([...vlan.subarray(vid.offset, vid.offset + 2)], [0x0f, 0xff], 'only the VLAN ID bits, not the present bit');
  t.same(mask(TCP4, symmetricL4Hash)[0], ['eth_dst', 'eth_src', 'eth_type', 'vlan_vid', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst'], 'slow-path hash: L2 to L4');
});

t.test('hash values dealt out to weighted buckets (Webster\'s method)', async (t) => {
  const counts = (table: number[] | undefined): number[] => {
    const n = [0, 0, 0];
    for (const b of table ?? []) n[b]!++;
    return n;
  };
  t.same(dealHashValues([1, 1, 1])?.length, 16, 'at least 16 hash values');
  t.same(counts(dealHashValues([1, 1, 1])), [6, 5, 5], 'equal weights: as even as 16 allows, ties to the first');
  t.same(dealHashValues([1, 1, 1])?.slice(0, 6), [0, 1, 2, 0, 1, 2], 'dealt in turn');
  t.same(counts(dealHashValues([1, 3, 4])), [2, 6, 8], 'weights 1:3:4 over 16 values');
  t.equal(dealHashValues([1, 100])?.length, 128, 'a power of two covering total / smallest weight');
  t.equal(dealHashValues([1, 1000, 1000]), undefined, 'more than 256 values: none (the slow path scores buckets instead)');
  t.equal(dealHashValues([]), undefined, 'no buckets');
});

t.test('picking a bucket', async (t) => {
  const key = keyOf(TCP4);
  const table = dealHashValues([1, 1, 1])!;
  const first = table[symmetricL3L4Hash(key) & 15]!;
  const pick = (live: (b: number) => boolean): number => pickSelectBucket([1, 1, 1].map((weight) => ({ weight })), table, key, new Uint8Array(FLOW_KEY_BYTES), live);
  t.equal(pick(() => true), first, 'the hash indexes the table');
  const next = table[(symmetricL3L4Hash(key) + 1) & 15]!;
  t.equal(pick((b) => b !== first), next, 'a dead bucket: the next table entry');
  t.equal(pick(() => false), -1, 'no live bucket: none');
  const scored = (live: (b: number) => boolean): number =>
    pickSelectBucket([1, 1000, 1000].map((weight) => ({ weight })), undefined, key, new Uint8Array(FLOW_KEY_BYTES), live);
  const slow = scored(() => true);
  t.ok(slow === 1 || slow === 2, `slow path: a heavy bucket (${slow})`);
  t.equal(scored((b) => b !== slow), 3 - slow, 'slow path, the winner dead: the other heavy bucket');
  t.equal(scored((b) => b === 0), 0, 'slow path: the light bucket when it is the only live one');
});
