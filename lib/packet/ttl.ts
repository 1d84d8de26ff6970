/*
 * The TTL actions of OpenFlow 1.3: set/decrement the IP TTL (IPv4 TTL, with its header
 * checksum, or IPv6 hop limit), set/decrement the TTL of the top MPLS label, and copy a TTL
 * between the outermost header and the next one in (copy_ttl_in) or out (copy_ttl_out).
 *
 * The decrements return false, changing nothing, when the TTL is 0 or 1: the packet must not
 * be forwarded and the caller sends an OFPR_INVALID_TTL packet-in instead (Open vSwitch's
 * compose_dec_ttl and compose_dec_mpls_ttl behave so: a TTL that would reach 0 is never
 * written). A packet without the header the action needs is left alone and they return true,
 * like Open vSwitch's translation of dec_ttl on a non-IP flow.
 *
 * copy_ttl_out / copy_ttl_in work between MPLS label stack entries, or between the bottom
 * label and the IP header under it (IPv4 or IPv6, told by its version nibble, as an MPLS
 * label says nothing of its payload). IP-in-IP copies are not done.
 */
import { replaceByteWithChecksum } from './checksum.ts';
import { IP_HEADER_LEN, IPV6_HEADER_LEN } from './headers.ts';
import type { Packet } from './layout.ts';

export function setNwTtl(packet: Packet, ttl: number): void {
  const { data, layout } = packet;
  if (layout.network === 'ipv4') writeIpv4Ttl(data, layout.l3Offset, ttl);
  else if (layout.network === 'ipv6') data[layout.l3Offset + 7] = ttl;
}

export function decNwTtl(packet: Packet): boolean {
  const { data, layout } = packet;
  const l3 = layout.l3Offset;
  if (layout.network === 'ipv4') {
    const ttl = data[l3 + 8]!;
    if (ttl <= 1) return false;
    writeIpv4Ttl(data, l3, ttl - 1);
  } else if (layout.network === 'ipv6') {
    const hopLimit = data[l3 + 7]!;
    if (hopLimit <= 1) return false;
    data[l3 + 7] = hopLimit - 1;
  }
  return true;
}

export function setMplsTtl(packet: Packet, ttl: number): void {
  const at = packet.layout.mplsOffset;
  if (at >= 0) packet.data[at + 3] = ttl;
}

export function decMplsTtl(packet: Packet): boolean {
  const at = packet.layout.mplsOffset;
  if (at < 0) return true;
  const ttl = packet.data[at + 3]!;
  if (ttl <= 1) return false;
  packet.data[at + 3] = ttl - 1;
  return true;
}

/** Copies the TTL of the next-to-outermost header (MPLS or IP) into the top MPLS label. */
export function copyTtlOut(packet: Packet): void {
  const { data, layout } = packet;
  const top = layout.mplsOffset;
  if (top < 0) return;
  if (layout.mplsCount >= 2) {
    data[top + 3] = data[top + 7]!;
    return;
  }
  const ttlAt = innerIpTtlOffset(packet);
  if (ttlAt >= 0) data[top + 3] = data[ttlAt]!;
}

/** Copies the TTL of the top MPLS label into the next header in (MPLS or IP). */
export function copyTtlIn(packet: Packet): void {
  const { data, layout } = packet;
  const top = layout.mplsOffset;
  if (top < 0) return;
  const ttl = data[top + 3]!;
  if (layout.mplsCount >= 2) {
    data[top + 7] = ttl;
    return;
  }
  const ttlAt = innerIpTtlOffset(packet);
  if (ttlAt < 0) return;
  if (ttlAt === layout.l3Offset + 8) writeIpv4Ttl(data, layout.l3Offset, ttl);
  else data[ttlAt] = ttl;
}

/**
 * Where the TTL (or hop limit) of the IP packet under a one-entry, bottom-of-stack label
 * stack is, or -1 when what follows the label is not a whole IPv4 or IPv6 header.
 */
function innerIpTtlOffset(packet: Packet): number {
  const { data, layout } = packet;
  if (layout.mplsCount !== 1 || (data[layout.mplsOffset + 2]! & 1) === 0) return -1;
  const l3 = layout.l3Offset;
  const available = data.length - l3;
  const version = data[l3]! >>> 4;
  if (version === 4 && available >= IP_HEADER_LEN && (data[l3]! & 0x0f) >= 5) return l3 + 8;
  if (version === 6 && available >= IPV6_HEADER_LEN) return l3 + 7;
  return -1;
}

function writeIpv4Ttl(data: Uint8Array, l3: number, ttl: number): void {
  replaceByteWithChecksum(data, l3 + 8, ttl, l3 + 10, l3);
}
