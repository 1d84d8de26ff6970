/**
 * push/pop of VLAN, MPLS and PBB tags: the OpenFlow 1.3 defaults of a pushed tag (VID/PCP
 * copied from the outer tag or 0; MPLS TTL from IP, label/TC copied from an outer label; PBB
 * backbone MACs from the customer MACs), placement (VLAN outermost, MPLS after the VLAN tags,
 * PBB in front of the whole frame), round trips back to the original bytes, the layout kept
 * equal to a fresh parse, checksums untouched, and os-ken's reading of the pushed frames.
 */
import t, { type Test } from 'tap';
import {
  badChecksums, buildFrame, FLOW_KEY_BYTES, type FrameSpec, type Packet, parsePacket, popMpls, popPbb, popVlan,
  pushMpls, pushPbb, pushVlan,
} from '../../lib/packet/index.ts';
import { keyFields, oskenUnavailable, runPython } from './helpers.ts';

const C_DST = '00:00:00:00:00:aa';
const C_SRC = '00:00:00:00:00:bb';
const V4 = { src: '10.0.0.1', dst: '10.0.0.2', ttl: 33 };

function packetOf(spec: FrameSpec | Buffer): Packet {
  const data = Buffer.isBuffer(spec) ? Buffer.from(spec) : buildFrame({ ethDst: C_DST, ethSrc: C_SRC, ...spec });
  return { data, layout: parsePacket(data, new Uint8Array(FLOW_KEY_BYTES), 1) };
}

function fields(packet: Packet): Record<string, number | string> {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  parsePacket(packet.data, key, 1);
  return keyFields(key);
}

/** The packet's layout equals what parsing its bytes afresh gives. */
function layoutIsFresh(t: Test, packet: Packet, what: string): void {
  const fresh = parsePacket(packet.data, new Uint8Array(FLOW_KEY_BYTES), 1);
  t.same({ ...packet.layout, scratchKey: undefined }, { ...fresh, scratchKey: undefined }, `${what}: layout`);
}

const oskenFrames: { name: string; data: Buffer; check: (t: Test, headers: Record<string, unknown>[]) => void }[] = [];

t.test('push_vlan / pop_vlan', async (t) => {
  const untagged = packetOf({ ipv4: V4, tcp: { src: 1, dst: 2 }, payload: Buffer.from('x') });
  const original = Buffer.from(untagged.data);
  pushVlan(untagged, 0x8100);
  t.same(untagged.data.subarray(12, 16), Buffer.from([0x81, 0x00, 0x00, 0x00]), 'untagged: VID 0, PCP 0');
  t.match(fields(untagged), { vlan_vid: 0x1000, eth_type: 0x0800, tcp_dst: 2, ipv4_src: V4.src });
  t.equal(fields(untagged).vlan_pcp, undefined);
  layoutIsFresh(t, untagged, 'pushed on untagged');
  t.same(badChecksums(untagged.data), []);
  pushVlan(untagged, 0x88a8);
  t.same(untagged.data.subarray(12, 20), Buffer.from([0x88, 0xa8, 0, 0, 0x81, 0, 0, 0]), 'second push copies the (zero) outer tag');
  layoutIsFresh(t, untagged, 'second push');
  popVlan(untagged);
  popVlan(untagged);
  t.ok(untagged.data.equals(original), 'two pops give the original frame');
  layoutIsFresh(t, untagged, 'after pops');
  popVlan(untagged);
  t.ok(untagged.data.equals(original), 'pop on an untagged frame does nothing');

  const tagged = packetOf({ vlans: [{ vid: 100, pcp: 5, dei: true }], ipv6: { src: '::1', dst: '::2' }, udp: { src: 3, dst: 4 } });
  const taggedOriginal = Buffer.from(tagged.data);
  pushVlan(tagged, 0x88a8);
  t.same(tagged.data.subarray(12, 20), Buffer.from([0x88, 0xa8, 0xa0, 0x64, 0x81, 0x00, 0xb0, 0x64]),
    'VID and PCP copied from the outer tag, DEI 0, new tag outermost');
  t.match(fields(tagged), { vlan_vid: 0x1000 | 100, vlan_pcp: 5, eth_type: 0x86dd, udp_src: 3 });
  t.equal(tagged.layout.vlanCount, 2);
  layoutIsFresh(t, tagged, 'pushed on tagged');
  oskenFrames.push({
    name: 'QinQ push', data: Buffer.from(tagged.data),
    check: (t, h) => {
      t.match(h[1], { protocol: 'svlan', vid: 100, pcp: 5, cfi: 0, ethertype: 0x8100 });
      t.match(h[2], { protocol: 'vlan', vid: 100, pcp: 5, cfi: 1, ethertype: 0x86dd });
    },
  });
  popVlan(tagged);
  t.ok(tagged.data.equals(taggedOriginal), 'pop gives the original');

  const before = Buffer.from(tagged.data);
  pushVlan(tagged, 0x0800);
  t.ok(tagged.data.equals(before), 'a TPID that is not a VLAN type does nothing');
  const short = packetOf(Buffer.alloc(10));
  pushVlan(short, 0x8100);
  t.equal(short.data.length, 10, 'too short for Ethernet: nothing');
});

t.test('push_mpls / pop_mpls', async (t) => {
  const v4 = packetOf({ vlans: [{ vid: 9 }], ipv4: V4, udp: { src: 1, dst: 2 } });
  const original = Buffer.from(v4.data);
  pushMpls(v4, 0x8847);
  t.equal(v4.data.readUInt16BE(16), 0x8847, 'ethertype after the VLAN tag');
  t.equal(v4.data.readUInt32BE(18), 0x00000100 | 33, 'label 0, TC 0, BOS 1, TTL from IPv4');
  t.same(fields(v4), {
    in_port: 1, in_phy_port: 1, eth_dst: C_DST, eth_src: C_SRC, eth_type: 0x8847, vlan_vid: 0x1009, mpls_bos: 1, mpls_ttl: 33, vlan_count: 1,
  });
  layoutIsFresh(t, v4, 'push on IPv4');
  oskenFrames.push({
    name: 'MPLS push', data: Buffer.from(v4.data),
    check: (t, h) => {
      t.match(h[1], { protocol: 'vlan', vid: 9, ethertype: 0x8847 });
      t.match(h[2], { protocol: 'mpls', label: 0, exp: 0, bsb: 1, ttl: 33 });
      t.match(h[3], { protocol: 'ipv4', src: V4.src, ttl: 33 });
    },
  });

  pushMpls(v4, 0x8848);
  t.equal(v4.data.readUInt16BE(16), 0x8848);
  t.same(v4.data.subarray(18, 26), Buffer.from([0, 0, 0, 33, 0, 0, 1, 33]), 'outer copy of the old top, BOS 0');
  setLabel(v4, 5000, 6);
  pushMpls(v4, 0x8847);
  t.same(v4.data.subarray(18, 22), Buffer.from([0x01, 0x38, 0x8c, 33]), 'label and TC copied from the outer entry');
  t.match(fields(v4), { mpls_label: 5000, mpls_tc: 6, mpls_ttl: 33 });
  t.equal(fields(v4).mpls_bos, undefined);
  t.equal(v4.layout.mplsCount, 3);
  layoutIsFresh(t, v4, 'three labels');
  popMpls(v4, 0x8847);
  popMpls(v4, 0x8847);
  t.equal(v4.layout.mplsCount, 1);
  popMpls(v4, 0x0800);
  t.ok(v4.data.equals(original), 'three pops give the original frame');
  t.same(badChecksums(v4.data), []);
  layoutIsFresh(t, v4, 'after pops');
  popMpls(v4, 0x0800);
  t.ok(v4.data.equals(original), 'pop without MPLS does nothing');
  pushMpls(v4, 0x0800);
  t.ok(v4.data.equals(original), 'push with a non-MPLS ethertype does nothing');

  const v6 = packetOf({ ipv6: { src: '::1', dst: '::2', hopLimit: 7 }, tcp: { src: 1, dst: 2 } });
  pushMpls(v6, 0x8847);
  t.equal(v6.data.readUInt32BE(14), 0x100 | 7, 'TTL from the IPv6 hop limit');
  const arp = packetOf({ arp: { sha: C_SRC, spa: '1.1.1.1', tpa: '2.2.2.2' } });
  pushMpls(arp, 0x8847);
  t.equal(arp.data.readUInt32BE(14), 0x100 | 64, 'not IP: TTL 64');
  popMpls(arp, 0x0806);
  t.match(fields(arp), { eth_type: 0x0806, arp_spa: '1.1.1.1' });
});

function setLabel(packet: Packet, label: number, tc: number): void {
  const at = packet.layout.mplsOffset;
  packet.data.writeUInt32BE(((label << 12) | (tc << 9) | (packet.data.readUInt32BE(at) & 0x1ff)) >>> 0, at);
}

t.test('push_pbb / pop_pbb', async (t) => {
  const customer = packetOf({ vlans: [{ vid: 10, pcp: 6 }], ipv4: V4, tcp: { src: 1, dst: 2 } });
  const original = Buffer.from(customer.data);
  pushPbb(customer, 0x88e7);
  const d = customer.data;
  t.equal(d.length, original.length + 18);
  t.same(d.subarray(0, 12), original.subarray(0, 12), 'B-DA, B-SA are the customer MACs');
  t.equal(d.readUInt16BE(12), 0x88e7);
  t.equal(d.readUInt32BE(14), (6 << 29) >>> 0, 'I-PCP from the VLAN PCP; DEI, UCA 0; I-SID 0');
  t.ok(d.subarray(18).equals(original), 'the customer frame follows unchanged');
  t.same(fields(customer), { in_port: 1, in_phy_port: 1, eth_dst: C_DST, eth_src: C_SRC, eth_type: 0x88e7 });
  layoutIsFresh(t, customer, 'pushed');
  oskenFrames.push({
    name: 'PBB push', data: Buffer.from(d),
    check: (t, h) => {
      t.match(h[0], { protocol: 'ethernet', dst: C_DST, src: C_SRC, ethertype: 0x88e7 });
      t.match(h[1], { protocol: 'itag', pcp: 6, dei: 0, uca: 0, sid: 0 });
      t.match(h[2], { protocol: 'ethernet', dst: C_DST, src: C_SRC, ethertype: 0x8100 });
      t.match(h[3], { protocol: 'vlan', vid: 10, pcp: 6 });
    },
  });

  customer.data.writeUIntBE(0xabcdef, 15, 3);
  pushPbb(customer, 0x88e7);
  t.equal(customer.data.readUInt32BE(14) & 0xffffff, 0xabcdef, 'onto a PBB frame: I-SID copied from its I-TAG');
  t.equal(customer.data.readUInt32BE(14) >>> 29, 0, 'no VLAN tag outside: I-PCP 0');
  popPbb(customer);
  pushVlan(customer, 0x88a8);
  t.match(fields(customer), { eth_type: 0x88e7, pbb_isid: 0xabcdef, vlan_vid: 0x1000 });
  layoutIsFresh(t, customer, 'B-TAG');
  popPbb(customer);
  t.ok(customer.data.equals(original), 'pop_pbb removes the B-TAG, type and I-TAG: the original frame');
  t.same(badChecksums(customer.data), []);
  layoutIsFresh(t, customer, 'popped');
  popPbb(customer);
  t.ok(customer.data.equals(original), 'pop_pbb without an I-TAG does nothing');
  pushPbb(customer, 0x8100);
  t.ok(customer.data.equals(original), 'push_pbb with another ethertype does nothing');
});

t.test('os-ken reads the pushed frames', { skip: oskenUnavailable() }, async (t) => {
  const out = runPython('osken_decode.py', oskenFrames.map((f) => f.data.toString('hex')).join('\n') + '\n');
  const decoded = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>[]);
  t.equal(decoded.length, oskenFrames.length);
  oskenFrames.forEach((f, i) => t.test(f.name, async (t) => f.check(t, decoded[i]!)));
});
