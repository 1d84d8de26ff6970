/**
 * The TTL actions: set/dec of the IP TTL and of the MPLS TTL (a decrement from 0 or 1 is
 * refused and changes nothing, so the caller can send an OFPR_INVALID_TTL packet-in), and
 * copy_ttl_in/out between MPLS labels and between the bottom label and the IPv4/IPv6 header
 * under it. The IPv4 header checksum must stay right throughout (checked from scratch and by
 * tshark).
 */
import t from 'tap';
import {
  badChecksums, buildFrame, copyTtlIn, copyTtlOut, decMplsTtl, decNwTtl, FLOW_KEY_BYTES, type FrameSpec, type Packet,
  parsePacket, popMpls, setMplsTtl, setNwTtl,
} from '../../lib/packet/index.ts';
import { internetChecksum } from '../../lib/packet/checksum.ts';
import { TSHARK_UNAVAILABLE, tsharkChecksums } from './helpers.ts';

const V4 = { src: '10.0.0.1', dst: '10.0.0.2' };
const V6 = { src: '2001:db8::1', dst: '2001:db8::2' };

function packetOf(spec: FrameSpec): Packet {
  const data = buildFrame(spec);
  return { data, layout: parsePacket(data, new Uint8Array(FLOW_KEY_BYTES), 1) };
}

const forTshark: Buffer[] = [];

t.test('dec_nw_ttl and set_nw_ttl', async (t) => {
  const rows: { name: string; spec: FrameSpec; at: number; from: number; ok: boolean }[] = [
    { name: 'IPv4 64', spec: { ipv4: { ...V4, ttl: 64 }, tcp: { src: 1, dst: 2 } }, at: 22, from: 64, ok: true },
    { name: 'IPv4 2', spec: { vlans: [{ vid: 1 }], ipv4: { ...V4, ttl: 2 }, udp: { src: 1, dst: 2 } }, at: 26, from: 2, ok: true },
    { name: 'IPv4 1', spec: { ipv4: { ...V4, ttl: 1 }, udp: { src: 1, dst: 2 } }, at: 22, from: 1, ok: false },
    { name: 'IPv4 0', spec: { ipv4: { ...V4, ttl: 0 }, icmpv4: { type: 8, code: 0 } }, at: 22, from: 0, ok: false },
    { name: 'IPv6 255', spec: { ipv6: { ...V6, hopLimit: 255 }, udp: { src: 1, dst: 2 } }, at: 21, from: 255, ok: true },
    { name: 'IPv6 1', spec: { ipv6: { ...V6, hopLimit: 1 }, udp: { src: 1, dst: 2 } }, at: 21, from: 1, ok: false },
  ];
  for (const row of rows) {
    const packet = packetOf(row.spec);
    const before = Buffer.from(packet.data);
    t.equal(decNwTtl(packet), row.ok, `${row.name}: dec_nw_ttl ${row.ok ? 'goes ahead' : 'is refused'}`);
    t.equal(packet.data[row.at], row.ok ? row.from - 1 : row.from, `${row.name}: TTL`);
    if (!row.ok) t.ok(packet.data.equals(before), `${row.name}: frame unchanged`);
    t.same(badChecksums(packet.data), [], `${row.name}: checksums`);
    setNwTtl(packet, 200);
    t.equal(packet.data[row.at], 200, `${row.name}: set_nw_ttl`);
    t.same(badChecksums(packet.data), [], `${row.name}: checksums after set`);
    forTshark.push(packet.data);
  }
  const arp = packetOf({ arp: { sha: '02:00:00:00:00:01', spa: '1.1.1.1', tpa: '2.2.2.2' } });
  const before = Buffer.from(arp.data);
  t.equal(decNwTtl(arp), true, 'not IP: nothing to refuse');
  setNwTtl(arp, 3);
  t.ok(arp.data.equals(before), 'not IP: unchanged');
});

t.test('dec_mpls_ttl and set_mpls_ttl', async (t) => {
  const packet = packetOf({ mpls: [{ label: 1, ttl: 2 }, { label: 2, ttl: 9 }], ipv4: V4 });
  t.equal(decMplsTtl(packet), true);
  t.equal(packet.data[17], 1, 'top label only');
  t.equal(packet.data[21], 9);
  t.equal(decMplsTtl(packet), false, 'from 1: refused');
  t.equal(packet.data[17], 1);
  setMplsTtl(packet, 0);
  t.equal(decMplsTtl(packet), false, 'from 0: refused');
  setMplsTtl(packet, 77);
  t.equal(packet.data[17], 77);
  const plain = packetOf({ ipv4: V4 });
  const before = Buffer.from(plain.data);
  t.equal(decMplsTtl(plain), true);
  setMplsTtl(plain, 5);
  t.ok(plain.data.equals(before), 'no MPLS: unchanged');
});

t.test('copy_ttl_out', async (t) => {
  const overV4 = packetOf({ mpls: [{ label: 1, ttl: 10 }], ipv4: { ...V4, ttl: 50 }, udp: { src: 1, dst: 2 } });
  copyTtlOut(overV4);
  t.equal(overV4.data[17], 50, 'IPv4 TTL to the label');
  const overV6 = packetOf({ mpls: [{ label: 1, ttl: 10 }], ipv6: { ...V6, hopLimit: 9 } });
  copyTtlOut(overV6);
  t.equal(overV6.data[17], 9, 'IPv6 hop limit to the label');
  const twoLabels = packetOf({ mpls: [{ label: 1, ttl: 10 }, { label: 2, ttl: 20 }], ipv4: { ...V4, ttl: 30 } });
  copyTtlOut(twoLabels);
  t.same([twoLabels.data[17], twoLabels.data[21]], [20, 20], 'inner label to the outer one');
  const overOther = packetOf({ mpls: [{ label: 1, ttl: 10 }], payload: Buffer.from([0x12, 0, 0, 0]) });
  copyTtlOut(overOther);
  t.equal(overOther.data[17], 10, 'not IP under the label: unchanged');
  const plain = packetOf({ ipv4: V4 });
  const before = Buffer.from(plain.data);
  copyTtlOut(plain);
  t.ok(plain.data.equals(before), 'no MPLS: unchanged');
});

t.test('copy_ttl_in', async (t) => {
  const overV4 = packetOf({ vlans: [{ vid: 3 }], mpls: [{ label: 1, ttl: 10 }], ipv4: { ...V4, ttl: 50 }, udp: { src: 1, dst: 2 } });
  copyTtlIn(overV4);
  const l3 = overV4.layout.l3Offset;
  t.equal(overV4.data[l3 + 8], 10, 'label TTL to IPv4');
  t.equal(internetChecksum(overV4.data, l3, 20), 0, 'IPv4 header checksum right');
  popMpls(overV4, 0x0800);
  t.same(badChecksums(overV4.data), [], 'checksums after pop');
  forTshark.push(overV4.data);
  const overV6 = packetOf({ mpls: [{ label: 1, ttl: 10 }], ipv6: { ...V6, hopLimit: 9 } });
  copyTtlIn(overV6);
  t.equal(overV6.data[18 + 7], 10, 'label TTL to the IPv6 hop limit');
  const twoLabels = packetOf({ mpls: [{ label: 1, ttl: 10 }, { label: 2, ttl: 20 }], ipv4: { ...V4, ttl: 30 } });
  copyTtlIn(twoLabels);
  t.same([twoLabels.data[17], twoLabels.data[21], twoLabels.data[22 + 8]], [10, 10, 30], 'outer label to the inner one only');
  const cut = packetOf({ mpls: [{ label: 1, ttl: 10 }], payload: Buffer.from([0x45, 0, 0]) });
  const before = Buffer.from(cut.data);
  copyTtlIn(cut);
  t.ok(cut.data.equals(before), 'a cut IPv4 header under the label: unchanged');
});

t.test('tshark agrees on the IPv4 checksums', { skip: TSHARK_UNAVAILABLE }, async (t) => {
  const statuses = tsharkChecksums(forTshark);
  statuses.forEach((s, i) => {
    for (const [header, value] of Object.entries(s) as [string, string][]) {
      if (value !== '') t.ok(value.split(',').every((v) => v === '1'), `frame ${i}: ${header} ${value}`);
    }
  });
});
