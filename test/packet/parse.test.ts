/**
 * parsePacket on frames from lib/packet/build.ts: the edge cases os-ken cannot build
 * (truncated and lying headers, where parsing stops as Open vSwitch's flow_extract does),
 * the header offsets of the returned PacketLayout, and reuse of the key and layout.
 */
import t from 'tap';
import {
  buildFrame, FLOW_KEY_BYTES, FRAG_ANY, FRAG_LATER, type PacketLayout, PacketLayout as Layout, parsePacket,
} from '../../lib/packet/index.ts';
import { OFPIEH_DEST, OFPIEH_FRAG, OFPIEH_HOP, OFPIEH_ROUTER } from '../../protocol/index.ts';
import { expectedKey, type FieldValues, keyFields, vlanTags } from './helpers.ts';

const SRC = '00:00:00:00:00:01';
const DST = '00:00:00:00:00:02';
const MAC1 = '02:00:00:00:00:01';
const MAC2 = '02:00:00:00:00:02';
const ETH: FieldValues = { eth_src: SRC, eth_dst: DST };
const V4 = { src: '10.1.1.1', dst: '10.2.2.2' };
const V6 = { src: 'fe80::1', dst: 'fe80::2' };
const V4_FIELDS: FieldValues = { ...ETH, eth_type: 0x0800, ipv4_src: V4.src, ipv4_dst: V4.dst };
const V6_FIELDS: FieldValues = { ...ETH, eth_type: 0x86dd, ipv6_src: V6.src, ipv6_dst: V6.dst };

/** Edits a frame in place and returns it. */
function edit(frame: Buffer, change: (b: Buffer) => void): Buffer {
  change(frame);
  return frame;
}

interface Row {
  name: string;
  frame: Buffer;
  fields: FieldValues;
  nwTtl?: number;
  mplsTtl?: number;
  layout?: Partial<PacketLayout>;
}

const ROWS: Row[] = [
  { name: 'shorter than an Ethernet header', frame: buildFrame({}).subarray(0, 13), fields: {}, layout: { l3Offset: -1 } },
  {
    name: 'Ethernet header only', frame: buildFrame({ ethType: 0x0800 }), fields: { ...ETH, eth_type: 0x0800 },
    layout: { ethTypeOffset: 12, l3Offset: 14, network: 'none', l4Offset: -1 },
  },
  {
    name: 'VLAN tag without the type after it', frame: Buffer.concat([buildFrame({ ethType: 0x8100 }), Buffer.from([0, 5, 8])]),
    fields: { ...ETH, eth_type: 0x8100 }, layout: { vlanCount: 0, ethTypeOffset: 12 },
  },
  {
    name: 'QinQ IPv4 TCP offsets',
    frame: buildFrame({ vlans: [{ vid: 1, tpid: 0x88a8 }, { vid: 2 }], ipv4: { ...V4, ttl: 9 }, tcp: { src: 1, dst: 2 } }),
    fields: { ...V4_FIELDS, vlan_vid: 0x1001, ip_proto: 6, tcp_src: 1, tcp_dst: 2 }, nwTtl: 9,
    layout: {
      vlanCount: 2, ethTypeOffset: 20, l3Offset: 22, network: 'ipv4', ipProtoOffset: 31, l4Offset: 42, l4Protocol: 6,
      ipEnd: 62, fragment: 0,
    },
  },
  {
    name: 'IPv4 header length below 20', frame: edit(buildFrame({ ipv4: V4, udp: { src: 1, dst: 2 } }), (b) => { b[14] = 0x44; }),
    fields: { ...ETH, eth_type: 0x0800 }, layout: { network: 'none', l3Offset: 14 },
  },
  {
    name: 'IPv4 total length beyond the frame',
    frame: edit(buildFrame({ ipv4: V4, udp: { src: 1, dst: 2 } }), (b) => { b.writeUInt16BE(200, 16); }),
    fields: { ...ETH, eth_type: 0x0800 }, layout: { network: 'none' },
  },
  {
    name: 'IPv4 total length below the header length',
    frame: edit(buildFrame({ ipv4: V4, udp: { src: 1, dst: 2 } }), (b) => { b.writeUInt16BE(19, 16); }),
    fields: { ...ETH, eth_type: 0x0800 },
  },
  {
    name: 'IPv4 UDP padded to 60: padding is not payload',
    frame: buildFrame({ ipv4: V4, udp: { src: 7, dst: 9 }, padTo: 60 }),
    fields: { ...V4_FIELDS, ip_proto: 17, udp_src: 7, udp_dst: 9 }, nwTtl: 64,
    layout: { l4Offset: 34, ipEnd: 42, l4Protocol: 17 },
  },
  {
    name: 'IPv4 total length cuts the UDP header: no ports',
    frame: edit(buildFrame({ ipv4: V4, udp: { src: 7, dst: 9 } }), (b) => { b.writeUInt16BE(24, 16); }),
    fields: { ...V4_FIELDS, ip_proto: 17 }, nwTtl: 64, layout: { l4Offset: 34, l4Protocol: 0 },
  },
  {
    name: 'TCP data offset below 5: no ports',
    frame: edit(buildFrame({ ipv4: V4, tcp: { src: 1, dst: 2 } }), (b) => { b[34 + 12] = 0x40; }),
    fields: { ...V4_FIELDS, ip_proto: 6 }, nwTtl: 64, layout: { l4Protocol: 0 },
  },
  {
    name: 'TCP header longer than the segment: no ports',
    frame: edit(buildFrame({ ipv4: V4, tcp: { src: 1, dst: 2 } }), (b) => { b[34 + 12] = 0x60; }),
    fields: { ...V4_FIELDS, ip_proto: 6 }, nwTtl: 64,
  },
  {
    name: 'IPv4 later fragment of UDP',
    frame: buildFrame({ ipv4: { ...V4, proto: 17, fragmentOffset: 3 }, payload: Buffer.alloc(16) }),
    fields: { ...V4_FIELDS, ip_proto: 17 }, nwTtl: 64, layout: { fragment: FRAG_ANY | FRAG_LATER, l4Protocol: 0, l4Offset: 34 },
  },
  {
    name: 'IPv4 first fragment of UDP',
    frame: buildFrame({ ipv4: { ...V4, moreFragments: true }, udp: { src: 1, dst: 2 } }),
    fields: { ...V4_FIELDS, ip_proto: 17, udp_src: 1, udp_dst: 2 }, nwTtl: 64, layout: { fragment: FRAG_ANY },
  },
  {
    name: 'ICMP over IPv6 is not ICMPv4',
    frame: buildFrame({ ipv6: { ...V6, nextHeader: 1 }, payload: Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]) }),
    fields: { ...V6_FIELDS, ip_proto: 1 }, nwTtl: 64, layout: { l4Protocol: 0 },
  },
  {
    name: 'ICMPv4 shorter than 4 bytes',
    frame: buildFrame({ ipv4: { ...V4, proto: 1 }, payload: Buffer.from([8, 0, 0]) }),
    fields: { ...V4_FIELDS, ip_proto: 1 }, nwTtl: 64,
  },
  {
    name: 'IPv6 payload length beyond the frame',
    frame: edit(buildFrame({ ipv6: V6, udp: { src: 1, dst: 2 } }), (b) => { b.writeUInt16BE(9, 18); }),
    fields: { ...ETH, eth_type: 0x86dd }, layout: { network: 'none' },
  },
  {
    name: 'IPv6 truncated extension header: fixed header kept, ip_proto 0',
    frame: edit(buildFrame({ ipv6: { ...V6, flabel: 5, extHeaders: [{ type: 'hop' }] }, udp: { src: 1, dst: 2 } }),
      (b) => { b[54 + 1] = 9; }),
    fields: { ...V6_FIELDS, ipv6_flabel: 5, ipv6_exthdr: OFPIEH_HOP }, nwTtl: 64,
    layout: { network: 'ipv6', l4Offset: -1, ipProtoOffset: -1 },
  },
  {
    name: 'IPv6 extension header shorter than 8 bytes',
    frame: buildFrame({ ipv6: { ...V6, nextHeader: 60 }, payload: Buffer.alloc(4) }),
    fields: { ...V6_FIELDS, ipv6_exthdr: OFPIEH_DEST }, nwTtl: 64,
  },
  {
    name: 'IPv6 routing header with segments left',
    frame: buildFrame({
      ipv6: { ...V6, extHeaders: [{ type: 'routing', segmentsLeft: 1, addresses: ['2001:db8::5'] }] }, tcp: { src: 3, dst: 4 },
    }),
    fields: { ...V6_FIELDS, ip_proto: 6, tcp_src: 3, tcp_dst: 4, ipv6_exthdr: OFPIEH_ROUTER }, nwTtl: 64,
    layout: { ipv6RoutingPending: true, ipProtoOffset: 54, l4Offset: 78 },
  },
  {
    name: 'IPv6 atomic fragment (offset 0, no more): not a fragment',
    frame: buildFrame({ ipv6: { ...V6, extHeaders: [{ type: 'fragment' }] }, udp: { src: 1, dst: 2 } }),
    fields: { ...V6_FIELDS, ip_proto: 17, udp_src: 1, udp_dst: 2, ipv6_exthdr: OFPIEH_FRAG }, nwTtl: 64,
    layout: { fragment: 0 },
  },
  {
    name: 'ICMPv6 shorter than 8 bytes: no type or code',
    frame: buildFrame({ ipv6: { ...V6, nextHeader: 58 }, payload: Buffer.from([128, 0, 0, 0]) }),
    fields: { ...V6_FIELDS, ip_proto: 58 }, nwTtl: 64,
  },
  {
    name: 'ND solicitation cut before the target',
    frame: buildFrame({ ipv6: { ...V6, nextHeader: 58 }, payload: Buffer.from([135, 0, 0, 0, 0, 0, 0, 0, 1, 2]) }),
    fields: { ...V6_FIELDS, ip_proto: 58, icmpv6_type: 135 }, nwTtl: 64, layout: { ndTargetOffset: -1, l4Protocol: 58 },
  },
  {
    name: 'ND solicitation with SLL and TLL: only the SLL counts',
    frame: buildFrame({ ipv6: V6, icmpv6: { type: 135, code: 0, ndTarget: 'fe80::9', sll: MAC1, tll: MAC2 } }),
    fields: { ...V6_FIELDS, ip_proto: 58, icmpv6_type: 135, ipv6_nd_target: 'fe80::9', ipv6_nd_sll: '02:00:00:00:00:01' },
    nwTtl: 64, layout: { ndTargetOffset: 62, ndSllOffset: 80, ndTllOffset: -1 },
  },
  {
    name: 'ND advertisement with SLL and TLL: only the TLL counts',
    frame: buildFrame({ ipv6: V6, icmpv6: { type: 136, code: 0, ndTarget: 'fe80::9', sll: MAC1, tll: MAC2 } }),
    fields: { ...V6_FIELDS, ip_proto: 58, icmpv6_type: 136, ipv6_nd_target: 'fe80::9', ipv6_nd_tll: '02:00:00:00:00:02' },
    nwTtl: 64, layout: { ndTargetOffset: 62, ndSllOffset: -1, ndTllOffset: 88 },
  },
  {
    name: 'ND solicitation with two SLL options is invalid: no target, no SLL',
    frame: buildFrame({
      ipv6: V6, icmpv6: { type: 135, code: 0, ndTarget: 'fe80::9', sll: '02:00:00:00:00:01' },
      payload: Buffer.from([1, 1, 2, 0, 0, 0, 0, 3]),
    }),
    fields: { ...V6_FIELDS, ip_proto: 58, icmpv6_type: 135 }, nwTtl: 64, layout: { ndTargetOffset: -1, ndSllOffset: -1 },
  },
  {
    name: 'ND option of length 0 ends the options',
    frame: buildFrame({
      ipv6: V6, icmpv6: { type: 135, code: 0, ndTarget: 'fe80::9' },
      payload: Buffer.from([1, 0, 1, 2, 3, 4, 5, 6, 1, 1, 2, 0, 0, 0, 0, 3]),
    }),
    fields: { ...V6_FIELDS, ip_proto: 58, icmpv6_type: 135, ipv6_nd_target: 'fe80::9' }, nwTtl: 64,
  },
  {
    name: 'ARP cut short',
    frame: buildFrame({ arp: { sha: SRC, spa: '1.1.1.1', tpa: '2.2.2.2' } }).subarray(0, 14 + 27),
    fields: { ...ETH, eth_type: 0x0806 }, layout: { network: 'none' },
  },
  {
    name: 'MPLS label stack running off the frame without a bottom',
    frame: buildFrame({ mpls: [{ label: 5, ttl: 3, bos: false }, { label: 6, bos: false }] }),
    fields: { ...ETH, eth_type: 0x8847, mpls_label: 5 }, mplsTtl: 3, layout: { mplsOffset: 14, mplsCount: 2, l3Offset: 22 },
  },
  {
    name: 'MPLS ethertype with no whole label',
    frame: Buffer.concat([buildFrame({ ethType: 0x8847 }), Buffer.from([1, 2])]),
    fields: { ...ETH, eth_type: 0x8847 }, layout: { mplsOffset: -1, mplsCount: 0, l3Offset: 14 },
  },
  {
    name: 'MPLS over two VLAN tags',
    frame: buildFrame({
      vlans: [{ vid: 3, pcp: 7 }, { vid: 4 }], mpls: [{ label: 77, tc: 2, ttl: 200 }], ipv4: V4, udp: { src: 1, dst: 2 },
    }),
    fields: { ...ETH, eth_type: 0x8847, vlan_vid: 0x1003, vlan_pcp: 7, mpls_label: 77, mpls_tc: 2, mpls_bos: 1 },
    mplsTtl: 200, layout: { vlanCount: 2, ethTypeOffset: 20, mplsOffset: 22, mplsCount: 1, l3Offset: 26, network: 'none' },
  },
  {
    name: 'PBB with a cut I-TAG',
    frame: Buffer.concat([buildFrame({ ethType: 0x88e7 }), Buffer.from([0, 0, 1])]),
    fields: { ...ETH, eth_type: 0x88e7 }, layout: { pbbOffset: -1 },
  },
  {
    name: 'PBB offsets',
    frame: buildFrame({ pbb: { isid: 0x123456, pcp: 5 }, payload: buildFrame({ ipv4: V4 }) }),
    fields: { ...ETH, eth_type: 0x88e7, pbb_isid: 0x123456 }, layout: { pbbOffset: 14, l3Offset: 14, network: 'none' },
  },
  {
    name: 'SNAP with a length, not a type: 0x05ff',
    frame: Buffer.concat([buildFrame({ ethType: 20 }), Buffer.from([0xaa, 0xaa, 3, 0, 0, 0, 0x05, 0xdc])]),
    fields: { ...ETH, eth_type: 0x05ff }, layout: { ethTypeOffset: -1, l3Offset: 22 },
  },
];

t.test('edge cases and layouts', async (t) => {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  for (const row of ROWS) {
    const layout = parsePacket(row.frame, key, 3);
    const want = expectedKey({ ...row.fields, in_port: 3, in_phy_port: 3 }, row.nwTtl ?? 0, row.mplsTtl ?? 0, row.layout?.fragment ?? 0, vlanTags(row.frame));
    t.same(keyFields(key), keyFields(want), row.name);
    t.ok(Buffer.from(key).equals(Buffer.from(want)), `${row.name}: key bytes`);
    for (const [name, value] of Object.entries(row.layout ?? {})) {
      t.equal((layout as unknown as Record<string, unknown>)[name], value, `${row.name}: layout.${name}`);
    }
  }
});

t.test('the key and layout are reset on reuse', async (t) => {
  const key = new Uint8Array(FLOW_KEY_BYTES).fill(0xee);
  const layout = new Layout();
  const rich = buildFrame({
    vlans: [{ vid: 9 }], ipv6: { ...V6, extHeaders: [{ type: 'hop' }] }, icmpv6: { type: 135, code: 0, ndTarget: 'fe80::3', sll: SRC },
  });
  t.equal(parsePacket(rich, key, 1, layout), layout, 'the layout passed in is returned');
  t.equal(layout.ndSllOffset > 0, true);
  parsePacket(buildFrame({ arp: { sha: SRC, spa: '1.1.1.1', tpa: '2.2.2.2' } }), key, 2, layout);
  t.same(keyFields(key), keyFields(expectedKey({
    in_port: 2, in_phy_port: 2, ...ETH, eth_type: 0x0806, arp_op: 1, arp_sha: SRC, arp_spa: '1.1.1.1', arp_tpa: '2.2.2.2',
  })));
  t.match(layout, { vlanCount: 0, network: 'arp', ndSllOffset: -1, ndTargetOffset: -1, l4Offset: -1, ipProtoOffset: -1 });
});

t.test('exthdr bits of a long chain', async (t) => {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  const frame = buildFrame({
    ipv6: {
      ...V6,
      extHeaders: [
        { type: 'hop', units: 2 }, { type: 'dest' }, { type: 'routing' }, { type: 'fragment', more: true }, { type: 'auth' },
        { type: 'dest', units: 1 },
      ],
    },
    udp: { src: 10, dst: 20 },
  });
  const layout = parsePacket(frame, key, 0);
  t.equal(keyFields(key).ipv6_exthdr, 0x7c);
  t.equal(keyFields(key).udp_dst, 20);
  t.equal(layout.fragment, FRAG_ANY);
  t.equal(layout.l4Offset, 14 + 40 + 24 + 8 + 8 + 8 + 24 + 16);
});
