/**
 * setField on every settable OXM field: the frame re-parses to the old key with just that
 * field changed, and every checksum is right afterwards, checked two ways: recomputed from
 * scratch here (badChecksums), and by tshark with IPv4/TCP/UDP/ICMP/ICMPv6/SCTP checksum
 * validation on. Setting a field the packet has no header for, or a pipeline field, changes
 * nothing.
 */
import t from 'tap';
import {
  badChecksums, buildFrame, fieldSlot, FLOW_KEY_BYTES, type FrameSpec, type Packet, parsePacket, setField,
} from '../../lib/packet/index.ts';
import type { OxmFieldName } from '../../protocol/index.ts';
import { type ChecksumStatus, keyFields, TSHARK_UNAVAILABLE, tsharkChecksums, wire } from './helpers.ts';

const V4 = { src: '192.168.0.1', dst: '192.168.0.2', dscp: 46, ecn: 2 };
const V6 = { src: '2001:db8::a', dst: '2001:db8::b', dscp: 10, ecn: 1, flabel: 0x54321 };
const PAYLOAD = Buffer.from('an odd-length payload!!');

const FRAMES: Record<string, FrameSpec> = {
  tcp4: { vlans: [{ vid: 100, pcp: 2 }], ipv4: V4, tcp: { src: 40000, dst: 443 }, payload: PAYLOAD },
  udp4: { ipv4: V4, udp: { src: 5000, dst: 53 }, payload: PAYLOAD, padTo: 60 },
  udp4NoChecksum: { ipv4: V4, udp: { src: 5000, dst: 53, checksum: false }, payload: PAYLOAD },
  sctp4: { ipv4: V4, sctp: { src: 2905, dst: 2906, vtag: 99 }, payload: Buffer.from([0, 3, 0, 9, 0, 0, 0, 1, 7, 0, 0, 0]) },
  icmp4: { ipv4: V4, icmpv4: { type: 8, code: 0, rest: 0x00010002 }, payload: PAYLOAD },
  arp: { arp: { op: 1, sha: '02:00:00:00:00:01', spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' } },
  tcp6: { ipv6: { ...V6, extHeaders: [{ type: 'hop' }, { type: 'dest' }] }, tcp: { src: 33333, dst: 22 }, payload: PAYLOAD },
  udp6: { vlans: [{ vid: 5, tpid: 0x88a8 }, { vid: 6 }], ipv6: V6, udp: { src: 546, dst: 547 }, payload: PAYLOAD },
  sctp6: { ipv6: V6, sctp: { src: 1, dst: 2 }, payload: Buffer.from([0, 3, 0, 9, 0, 0, 0, 1, 7, 0, 0, 0]) },
  echo6: { ipv6: V6, icmpv6: { type: 128, code: 0, rest: 0x12345678 }, payload: PAYLOAD },
  ns: { ipv6: { ...V6, dst: 'ff02::1:ff00:b' }, icmpv6: { type: 135, code: 0, ndTarget: '2001:db8::b', sll: '02:00:00:00:00:0a' } },
  na: { ipv6: V6, icmpv6: { type: 136, code: 0, rest: 0x60000000, ndTarget: '2001:db8::b', tll: '02:00:00:00:00:0b' } },
  routed6: {
    ipv6: { ...V6, extHeaders: [{ type: 'routing', segmentsLeft: 1, addresses: ['2001:db8::ff'] }] }, udp: { src: 1, dst: 2 },
    payload: PAYLOAD,
  },
  mpls: { vlans: [{ vid: 7 }], mpls: [{ label: 1000, tc: 3, ttl: 20 }], ipv4: V4, udp: { src: 1, dst: 2 } },
  pbb: { pbb: { isid: 0xabcdef, pcp: 1 }, payload: buildFrame({ ipv4: V4, tcp: { src: 1, dst: 2 } }) },
};

interface Row {
  frame: keyof typeof FRAMES;
  field: OxmFieldName;
  value: number | string | bigint;
  /** Other key fields the change implies (name → new value, 0 to clear). */
  also?: Partial<Record<OxmFieldName, number | string>>;
  /** The frame must not change at all. */
  noop?: boolean;
  /** Checksums that are expected wrong afterwards (a changed ip_proto). */
  broken?: string[];
}

const ROWS: Row[] = [
  { frame: 'tcp4', field: 'eth_dst', value: 'aa:bb:cc:dd:ee:ff' },
  { frame: 'tcp4', field: 'eth_src', value: '02:12:34:56:78:9a' },
  { frame: 'tcp4', field: 'vlan_vid', value: 0x1000 | 4000 },
  { frame: 'tcp4', field: 'vlan_pcp', value: 7 },
  { frame: 'udp6', field: 'vlan_vid', value: 0x1000 | 1 },
  { frame: 'udp6', field: 'vlan_pcp', value: 5 },
  { frame: 'tcp4', field: 'ip_dscp', value: 0 },
  { frame: 'tcp4', field: 'ip_ecn', value: 3 },
  { frame: 'tcp4', field: 'ipv4_src', value: '1.2.3.4' },
  { frame: 'tcp4', field: 'ipv4_dst', value: '255.254.253.252' },
  { frame: 'tcp4', field: 'tcp_src', value: 1 },
  { frame: 'tcp4', field: 'tcp_dst', value: 65535 },
  { frame: 'tcp4', field: 'ip_proto', value: 17, also: { tcp_src: 0, tcp_dst: 0, udp_src: 40000, udp_dst: 443 }, broken: ['udp'] },
  { frame: 'udp4', field: 'udp_src', value: 68 },
  { frame: 'udp4', field: 'udp_dst', value: 67 },
  { frame: 'udp4', field: 'ipv4_src', value: '0.0.0.0' },
  { frame: 'udp4', field: 'ipv4_dst', value: '255.255.255.255' },
  { frame: 'udp4', field: 'ip_dscp', value: 63 },
  { frame: 'udp4NoChecksum', field: 'udp_dst', value: 4789 },
  { frame: 'udp4NoChecksum', field: 'ipv4_src', value: '10.9.8.7' },
  { frame: 'sctp4', field: 'sctp_src', value: 5060 },
  { frame: 'sctp4', field: 'sctp_dst', value: 38412 },
  { frame: 'sctp4', field: 'ipv4_dst', value: '8.8.8.8' },
  { frame: 'sctp6', field: 'sctp_dst', value: 3868 },
  { frame: 'icmp4', field: 'icmpv4_type', value: 0 },
  { frame: 'icmp4', field: 'icmpv4_code', value: 9 },
  { frame: 'icmp4', field: 'ipv4_src', value: '172.31.255.1' },
  { frame: 'arp', field: 'arp_op', value: 2 },
  { frame: 'arp', field: 'arp_spa', value: '10.0.0.99' },
  { frame: 'arp', field: 'arp_tpa', value: '10.0.0.98' },
  { frame: 'arp', field: 'arp_sha', value: '02:00:00:00:00:99' },
  { frame: 'arp', field: 'arp_tha', value: '02:00:00:00:00:98' },
  { frame: 'tcp6', field: 'ipv6_src', value: 'fe80::1234:5678:9abc:def0' },
  { frame: 'tcp6', field: 'ipv6_dst', value: '::1' },
  { frame: 'tcp6', field: 'ipv6_flabel', value: 0xfffff },
  { frame: 'tcp6', field: 'ip_dscp', value: 0x3f },
  { frame: 'tcp6', field: 'ip_ecn', value: 0 },
  { frame: 'tcp6', field: 'tcp_src', value: 80 },
  { frame: 'tcp6', field: 'tcp_dst', value: 8080 },
  { frame: 'tcp6', field: 'ip_proto', value: 17, also: { tcp_src: 0, tcp_dst: 0, udp_src: 33333, udp_dst: 22 }, broken: ['udp'] },
  { frame: 'udp6', field: 'udp_src', value: 9 },
  { frame: 'udp6', field: 'ipv6_dst', value: 'ff02::1:2' },
  { frame: 'udp6', field: 'ipv6_src', value: 'fe80::1' },
  { frame: 'echo6', field: 'icmpv6_type', value: 129 },
  { frame: 'echo6', field: 'icmpv6_code', value: 1 },
  { frame: 'echo6', field: 'ipv6_src', value: '2001:db8:ffff::1' },
  { frame: 'echo6', field: 'ipv6_dst', value: '2001:db8:ffff::2' },
  { frame: 'ns', field: 'ipv6_nd_target', value: '2001:db8::c' },
  { frame: 'ns', field: 'ipv6_nd_sll', value: '02:ff:ff:ff:ff:ff' },
  { frame: 'ns', field: 'icmpv6_type', value: 136, also: { ipv6_nd_sll: 0 } },
  { frame: 'ns', field: 'icmpv6_code', value: 1, also: { ipv6_nd_sll: 0, ipv6_nd_target: 0 } },
  { frame: 'na', field: 'ipv6_nd_target', value: 'fe80::abcd' },
  { frame: 'na', field: 'ipv6_nd_tll', value: '00:00:00:00:00:01' },
  { frame: 'na', field: 'ipv6_src', value: 'fe80::77' },
  { frame: 'routed6', field: 'ipv6_dst', value: '2001:db8::1:1' },
  { frame: 'routed6', field: 'ipv6_src', value: '2001:db8::1:2' },
  { frame: 'routed6', field: 'udp_dst', value: 4500 },
  { frame: 'mpls', field: 'mpls_label', value: 0xfffff },
  { frame: 'mpls', field: 'mpls_tc', value: 6 },
  { frame: 'mpls', field: 'eth_type', value: 0x8848 },
  { frame: 'pbb', field: 'pbb_isid', value: 0x000001 },
  { frame: 'pbb', field: 'eth_dst', value: '01:1e:83:00:00:01' },
  /* No-ops: pipeline fields, fields that cannot be set, headers the packet lacks. */
  { frame: 'tcp4', field: 'metadata', value: 12345n, noop: true },
  { frame: 'tcp4', field: 'tunnel_id', value: 99n, noop: true },
  { frame: 'tcp4', field: 'in_port', value: 5, noop: true },
  { frame: 'tcp6', field: 'ipv6_exthdr', value: 1, noop: true },
  { frame: 'udp4', field: 'tcp_src', value: 1, noop: true },
  { frame: 'udp4', field: 'vlan_vid', value: 0x1005, noop: true },
  { frame: 'udp4', field: 'ipv6_src', value: '::5', noop: true },
  { frame: 'tcp6', field: 'ipv4_src', value: '1.1.1.1', noop: true },
  { frame: 'tcp6', field: 'icmpv6_type', value: 1, noop: true },
  { frame: 'echo6', field: 'ipv6_nd_target', value: '::9', noop: true },
  { frame: 'na', field: 'ipv6_nd_sll', value: '02:00:00:00:00:01', noop: true },
  { frame: 'arp', field: 'mpls_label', value: 1, noop: true },
  { frame: 'mpls', field: 'ipv4_src', value: '1.1.1.1', noop: true },
  { frame: 'mpls', field: 'pbb_isid', value: 1, noop: true },
  { frame: 'icmp4', field: 'arp_op', value: 2, noop: true },
];

function rowName(row: Row): string {
  return `${row.frame}: set ${row.field}=${row.value}`;
}

function keyOf(frame: Buffer): Uint8Array {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  parsePacket(frame, key, 1);
  return key;
}

function setInKey(key: Uint8Array, name: OxmFieldName, value: number | string | bigint): void {
  const slot = fieldSlot(name);
  if (value === 0) key.fill(0, slot.offset, slot.offset + slot.bytes);
  else key.set(wire(name, value), slot.offset);
}

const results: { row: Row; data: Buffer }[] = [];

t.test('every field: new value in the key, nothing else changed, checksums right', async (t) => {
  for (const row of ROWS) {
    const original = buildFrame(FRAMES[row.frame]!);
    t.same(badChecksums(original), [], `${row.frame}: the built frame is right to begin with`);
    const data = Buffer.from(original);
    const packet: Packet = { data, layout: parsePacket(data, new Uint8Array(FLOW_KEY_BYTES), 1) };
    setField(packet, row.field, wire(row.field, row.value));
    if (row.noop) {
      t.ok(packet.data.equals(original), `${rowName(row)}: frame unchanged`);
      continue;
    }
    const want = keyOf(original);
    setInKey(want, row.field, row.value);
    for (const [name, value] of Object.entries(row.also ?? {})) setInKey(want, name as OxmFieldName, value);
    t.same(keyFields(keyOf(packet.data)), keyFields(want), `${rowName(row)}: key`);
    const fresh = parsePacket(packet.data, new Uint8Array(FLOW_KEY_BYTES), 1);
    t.same({ ...packet.layout, scratchKey: undefined }, { ...fresh, scratchKey: undefined }, `${rowName(row)}: layout still right`);
    t.same(badChecksums(packet.data), row.broken ?? [], `${rowName(row)}: checksums`);
    results.push({ row, data: packet.data });
  }
  const covered = new Set(ROWS.filter((r) => !r.noop).map((r) => r.field));
  const settable: OxmFieldName[] = [
    'eth_dst', 'eth_src', 'eth_type', 'vlan_vid', 'vlan_pcp', 'ip_dscp', 'ip_ecn', 'ip_proto', 'ipv4_src', 'ipv4_dst',
    'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmpv4_type', 'icmpv4_code', 'arp_op', 'arp_spa',
    'arp_tpa', 'arp_sha', 'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'icmpv6_type', 'icmpv6_code',
    'ipv6_nd_target', 'ipv6_nd_sll', 'ipv6_nd_tll', 'mpls_label', 'mpls_tc', 'pbb_isid',
  ];
  t.same(settable.filter((f) => !covered.has(f)), [], 'every settable field has a row');
});

t.test('mpls_bos re-parses the label stack', async (t) => {
  const original = buildFrame({ mpls: [{ label: 16, ttl: 5 }], ipv4: V4, udp: { src: 1, dst: 2 } });
  const data = Buffer.from(original);
  const packet: Packet = { data, layout: parsePacket(data, new Uint8Array(FLOW_KEY_BYTES), 1) };
  t.equal(packet.layout.mplsCount, 1);
  setField(packet, 'mpls_bos', wire('mpls_bos', 0));
  t.equal(keyFields(keyOf(packet.data)).mpls_bos, undefined, 'bos now 0');
  t.ok(packet.layout.mplsCount > 1, 'the IPv4 header now reads as more labels');
  setField(packet, 'mpls_bos', wire('mpls_bos', 1));
  t.ok(packet.data.equals(original), 'and back');
  t.equal(packet.layout.mplsCount, 1);
});

t.test('a zero UDP checksum stays zero', async (t) => {
  for (const { row, data } of results.filter((r) => r.row.frame === 'udp4NoChecksum')) {
    t.equal(data.readUInt16BE(14 + 20 + 6), 0, rowName(row));
  }
});

t.test('tshark agrees the checksums are right', { skip: TSHARK_UNAVAILABLE }, async (t) => {
  const statuses = tsharkChecksums(results.map((r) => r.data));
  t.equal(statuses.length, results.length);
  statuses.forEach((status, i) => {
    const { row } = results[i]!;
    for (const [header, value] of Object.entries(status) as [keyof ChecksumStatus, string][]) {
      if (value === '') continue;
      const verdicts = value.split(',');
      if (row.broken?.includes(header)) continue;
      if (header === 'udp' && row.frame === 'udp4NoChecksum') {
        t.ok(verdicts.every((v) => v !== '0'), `${rowName(row)}: udp not bad (${value})`);
        continue;
      }
      t.ok(verdicts.every((v) => v === '1'), `${rowName(row)}: ${header} checksum good (${value})`);
    }
  });
});
