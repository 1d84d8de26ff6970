/*
 * Checksum verification from scratch, for tests: which checksums of a frame are wrong. It
 * recomputes the IPv4 header checksum and the TCP, UDP, ICMP, ICMPv6 and SCTP checksums of
 * an unfragmented packet over their whole extent (with the pseudo-headers), independently of
 * the incremental updates the rewriter makes.
 */
import { FLOW_KEY_BYTES } from './flow-layout.ts';
import { internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, sctpChecksum } from './checksum.ts';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './headers.ts';
import { parsePacket } from './parse.ts';

/**
 * Names of the wrong checksums in `frame` ("ipv4", "tcp", "udp", "icmp", "icmpv6", "sctp");
 * empty when all are right. Transport checksums of fragments are not checked.
 */
export function badChecksums(frame: Buffer): string[] {
  const layout = parsePacket(frame, new Uint8Array(FLOW_KEY_BYTES), 0);
  const bad: string[] = [];
  const l3 = layout.l3Offset;
  if (layout.network === 'ipv4') {
    const headerLength = (frame[l3]! & 0x0f) * 4;
    if (internetChecksum(frame, l3, headerLength) !== 0) bad.push('ipv4');
  }
  if (layout.l4Protocol === 0 || layout.fragment !== 0) return bad;
  const l4 = layout.l4Offset;
  const length = layout.ipEnd - l4;
  const proto = layout.l4Protocol;
  let pseudo = 0;
  if (layout.network === 'ipv4') pseudo = ipv4PseudoHeaderSum(frame, l3, proto, length);
  else pseudo = ipv6PseudoHeaderSum(frame, l3, proto, length, finalDestination(frame, l3, layout.ipProtoOffset));
  if (proto === IPPROTO_TCP) {
    if (internetChecksum(frame, l4, length, pseudo) !== 0) bad.push('tcp');
  } else if (proto === IPPROTO_UDP) {
    const stored = frame.readUInt16BE(l4 + 6);
    if (stored !== 0 && internetChecksum(frame, l4, length, pseudo) !== 0) bad.push('udp');
  } else if (proto === IPPROTO_ICMP) {
    if (internetChecksum(frame, l4, length) !== 0) bad.push('icmp');
  } else if (proto === IPPROTO_ICMPV6) {
    if (internetChecksum(frame, l4, length, pseudo) !== 0) bad.push('icmpv6');
  } else if (proto === IPPROTO_SCTP) {
    if (frame.readUInt32LE(l4 + 8) !== sctpChecksum(frame, l4, length)) bad.push('sctp');
  }
  return bad;
}

/**
 * The IPv6 pseudo-header's destination: the last address of a type-0 routing header with
 * segments left, else the IPv6 destination (good enough for the frames the builder makes).
 */
function finalDestination(frame: Buffer, l3: number, lastProtoOffset: number): number {
  let proto = frame[l3 + 6]!;
  let at = l3 + 40;
  while (at < lastProtoOffset + 1 && at + 8 <= frame.length) {
    if (proto === IPPROTO_ROUTING && frame[at + 3] !== 0 && frame[at + 2] === 0 && frame[at + 1]! >= 2) {
      return at + 8 + 16 * (frame[at + 1]! / 2 - 1);
    }
    const length = proto === 51 ? (frame[at + 1]! + 2) * 4 : proto === 44 ? 8 : (frame[at + 1]! + 1) * 8;
    proto = frame[at]!;
    at += length;
  }
  return l3 + 24;
}
