/*
 * OpenFlow's set-field action on a frame (Open vSwitch's odp_execute_set_action and the
 * packet_set_* functions of lib/packets.c): write one OXM field's value into its header and
 * bring every checksum that covers it up to date.
 *
 * Checksums follow the field: the IPv4 header checksum (TOS, protocol, addresses); TCP and
 * UDP (ports, and the addresses of their IPv4 or IPv6 pseudo-header); ICMPv4 (type, code);
 * ICMPv6 (type, code, ND target and link-layer options, the IPv6 addresses of its
 * pseudo-header); SCTP's CRC32c (ports). One's-complement checksums are updated
 * incrementally (see checksum.ts); a UDP checksum of zero ("none") stays zero. An IPv6
 * destination behind a routing header with segments left is not in the pseudo-header (the
 * final destination is), so changing it leaves the transport checksum alone, as in Open
 * vSwitch.
 *
 * A field of a header the packet does not have is ignored (OpenFlow's prerequisites keep such
 * actions out of flow tables). metadata and tunnel_id are pipeline fields, not header fields,
 * and in_port, in_phy_port and ipv6_exthdr cannot be set: all no-ops here.
 *
 * `value` is the field's OXM wire form (vlan_vid with OFPVID_PRESENT, mpls_label in 4 bytes,
 * pbb_isid in 3); bits beyond the field's width are ignored.
 *
 * Known limits: setting ip_proto changes the protocol number only (the transport header is
 * not converted, and its checksum, which covers the old number in the pseudo-header, is left
 * alone); the SCTP CRC of the first fragment of a fragmented datagram cannot be repaired from
 * the fragment alone and is updated as if the fragment were the whole packet (Open vSwitch
 * does the same). Fields set on a later IPv4 fragment touch the IP header only.
 */
import type { OxmFieldName } from '../../protocol/index.ts';
import { get16, get32, put16, put32, valueOf } from './bytes.ts';
import {
  applyChecksumDelta, applyUdpChecksumDelta, checksumDelta, replaceByteWithChecksum, replaceWithChecksum,
  sctpChecksum,
} from './checksum.ts';
import {
  ETH_HEADER_LEN, ICMP_CSUM_OFFSET, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
  IPV6_LABEL_MASK, SCTP_CSUM_OFFSET, TCP_CSUM_OFFSET, UDP_CSUM_OFFSET, VLAN_PCP_SHIFT, VLAN_VID_MASK,
} from './headers.ts';
import type { Packet } from './layout.ts';
import { reparse } from './parse.ts';

/** Writes `value` (the OXM wire form of `field`) into `packet`'s headers, fixing checksums. */
export function setField(packet: Packet, field: OxmFieldName, value: Uint8Array): void {
  const data = packet.data;
  const layout = packet.layout;
  const l3 = layout.l3Offset;
  const l4 = layout.l4Offset;
  switch (field) {
    case 'eth_dst':
      if (data.length >= ETH_HEADER_LEN) writeBytes(data, 0, value, 6);
      break;
    case 'eth_src':
      if (data.length >= ETH_HEADER_LEN) writeBytes(data, 6, value, 6);
      break;
    case 'eth_type':
      if (layout.ethTypeOffset >= 0 && value.length >= 2) {
        put16(data, layout.ethTypeOffset, valueOf(value) & 0xffff);
        reparse(packet);
      }
      break;
    case 'vlan_vid':
      if (layout.vlanCount > 0) put16(data, 14, (get16(data, 14) & ~VLAN_VID_MASK) | (valueOf(value) & VLAN_VID_MASK));
      break;
    case 'vlan_pcp':
      if (layout.vlanCount > 0) put16(data, 14, (get16(data, 14) & 0x1fff) | ((valueOf(value) & 7) << VLAN_PCP_SHIFT));
      break;
    case 'ip_dscp':
      setTrafficClass(packet, 0x03, (valueOf(value) & 0x3f) << 2);
      break;
    case 'ip_ecn':
      setTrafficClass(packet, 0xfc, valueOf(value) & 0x03);
      break;
    case 'ip_proto':
      if (layout.ipProtoOffset >= 0 && value.length >= 1) {
        const proto = value[value.length - 1]!;
        if (layout.network === 'ipv4') replaceByteWithChecksum(data, layout.ipProtoOffset, proto, l3 + 10, l3);
        else data[layout.ipProtoOffset] = proto;
        reparse(packet);
      }
      break;
    case 'ipv4_src':
    case 'ipv4_dst':
      if (layout.network === 'ipv4' && value.length >= 4) {
        setAddress(packet, l3 + (field === 'ipv4_src' ? 12 : 16), value, 4, true);
      }
      break;
    case 'ipv6_src':
    case 'ipv6_dst':
      if (layout.network === 'ipv6' && value.length >= 16) {
        const isDst = field === 'ipv6_dst';
        setAddress(packet, l3 + (isDst ? 24 : 8), value, 16, !(isDst && layout.ipv6RoutingPending));
      }
      break;
    case 'ipv6_flabel':
      if (layout.network === 'ipv6') {
        put32(data, l3, ((get32(data, l3) & ~IPV6_LABEL_MASK) | (valueOf(value) & IPV6_LABEL_MASK)) >>> 0);
      }
      break;
    case 'tcp_src':
    case 'tcp_dst':
      if (layout.l4Protocol === IPPROTO_TCP && value.length >= 2) {
        const at = l4 + (field === 'tcp_src' ? 0 : 2);
        replaceWithChecksum(data, at, value, value.length - 2, 2, l4 + TCP_CSUM_OFFSET, l4);
      }
      break;
    case 'udp_src':
    case 'udp_dst':
      if (layout.l4Protocol === IPPROTO_UDP && value.length >= 2) {
        const at = l4 + (field === 'udp_src' ? 0 : 2);
        applyUdpChecksumDelta(data, l4 + UDP_CSUM_OFFSET, checksumDelta(data, at, value, value.length - 2, 2, l4));
        writeBytes(data, at, value, 2);
      }
      break;
    case 'sctp_src':
    case 'sctp_dst':
      if (layout.l4Protocol === IPPROTO_SCTP && value.length >= 2) {
        setSctpPort(packet, field === 'sctp_src' ? 0 : 2, value);
      }
      break;
    case 'icmpv4_type':
    case 'icmpv4_code':
      if (layout.l4Protocol === IPPROTO_ICMP && value.length >= 1) {
        replaceWithChecksum(data, l4 + (field === 'icmpv4_type' ? 0 : 1), value, value.length - 1, 1,
          l4 + ICMP_CSUM_OFFSET, l4);
      }
      break;
    case 'icmpv6_type':
    case 'icmpv6_code':
      if (layout.l4Protocol === IPPROTO_ICMPV6 && value.length >= 1) {
        replaceWithChecksum(data, l4 + (field === 'icmpv6_type' ? 0 : 1), value, value.length - 1, 1,
          l4 + ICMP_CSUM_OFFSET, l4);
        reparse(packet); // whether the message is ND (and so has a target) may have changed
      }
      break;
    case 'ipv6_nd_target':
      setIcmpv6Bytes(packet, layout.ndTargetOffset, value, 16);
      break;
    case 'ipv6_nd_sll':
      setIcmpv6Bytes(packet, layout.ndSllOffset, value, 6);
      break;
    case 'ipv6_nd_tll':
      setIcmpv6Bytes(packet, layout.ndTllOffset, value, 6);
      break;
    case 'arp_op':
      if (layout.network === 'arp') writeBytes(data, l3 + 6, value, 2);
      break;
    case 'arp_sha':
      if (layout.network === 'arp') writeBytes(data, l3 + 8, value, 6);
      break;
    case 'arp_spa':
      if (layout.network === 'arp') writeBytes(data, l3 + 14, value, 4);
      break;
    case 'arp_tha':
      if (layout.network === 'arp') writeBytes(data, l3 + 18, value, 6);
      break;
    case 'arp_tpa':
      if (layout.network === 'arp') writeBytes(data, l3 + 24, value, 4);
      break;
    case 'mpls_label':
      if (layout.mplsOffset >= 0) setLse(data, layout.mplsOffset, 0xfff, (valueOf(value) & 0xfffff) * 0x1000);
      break;
    case 'mpls_tc':
      if (layout.mplsOffset >= 0) setLse(data, layout.mplsOffset, ~(7 << 9), (valueOf(value) & 7) << 9);
      break;
    case 'mpls_bos':
      if (layout.mplsOffset >= 0) {
        setLse(data, layout.mplsOffset, ~(1 << 8), (valueOf(value) & 1) << 8);
        reparse(packet); // where the label stack ends has changed
      }
      break;
    case 'pbb_isid':
      if (layout.pbbOffset >= 0) writeBytes(data, layout.pbbOffset + 1, value, 3);
      break;
    case 'in_port':
    case 'in_phy_port':
    case 'metadata':
    case 'tunnel_id':
    case 'ipv6_exthdr':
      break;
    default: {
      const unknown: never = field;
      void unknown;
    }
  }
}

/** Copies the last `length` bytes of `value` (its low-order bytes) to `at`; too short a value is ignored. */
function writeBytes(data: Uint8Array, at: number, value: Uint8Array, length: number): void {
  if (value.length < length) return;
  const from = value.length - length;
  for (let i = 0; i < length; i++) data[at + i] = value[from + i]!;
}

function setLse(data: Uint8Array, at: number, keep: number, bits: number): void {
  put32(data, at, ((get32(data, at) & keep) | bits) >>> 0);
}

/**
 * The IPv4 TOS byte or the IPv6 traffic class: keep the bits in `keep`, or in `bits`. The
 * IPv6 traffic class straddles the first two bytes (version 4 bits, class 8, flow label 20).
 */
function setTrafficClass(packet: Packet, keep: number, bits: number): void {
  const { data, layout } = packet;
  const l3 = layout.l3Offset;
  if (layout.network === 'ipv4') {
    replaceByteWithChecksum(data, l3 + 1, (data[l3 + 1]! & keep) | bits, l3 + 10, l3);
  } else if (layout.network === 'ipv6') {
    const word = get16(data, l3);
    const tc = (((word >>> 4) & 0xff) & keep) | bits;
    put16(data, l3, (word & 0xf00f) | (tc << 4));
  }
}

/**
 * An IPv4 or IPv6 address at `at`: the IPv4 header checksum covers it, and so does the
 * pseudo-header of TCP, UDP and (IPv6) ICMPv6 when `inPseudoHeader`.
 */
function setAddress(packet: Packet, at: number, value: Uint8Array, length: number, inPseudoHeader: boolean): void {
  const { data, layout } = packet;
  const from = value.length - length;
  const l3 = layout.l3Offset;
  const l4 = layout.l4Offset;
  const delta = checksumDelta(data, at, value, from, length, l3);
  if (layout.network === 'ipv4') applyChecksumDelta(data, l3 + 10, delta);
  if (inPseudoHeader) {
    const proto = layout.l4Protocol;
    if (proto === IPPROTO_TCP) applyChecksumDelta(data, l4 + TCP_CSUM_OFFSET, delta);
    else if (proto === IPPROTO_UDP) applyUdpChecksumDelta(data, l4 + UDP_CSUM_OFFSET, delta);
    else if (proto === IPPROTO_ICMPV6) applyChecksumDelta(data, l4 + ICMP_CSUM_OFFSET, delta);
  }
  for (let i = 0; i < length; i++) data[at + i] = value[from + i]!;
}

/** Bytes inside an ICMPv6 message (ND target, link-layer address option), with its checksum. */
function setIcmpv6Bytes(packet: Packet, at: number, value: Uint8Array, length: number): void {
  if (at < 0 || value.length < length) return;
  const l4 = packet.layout.l4Offset;
  replaceWithChecksum(packet.data, at, value, value.length - length, length, l4 + ICMP_CSUM_OFFSET, l4);
}

/**
 * An SCTP port: the CRC32c is recomputed over the packet before and after the change, and
 * the stored value moved by the same amount (Open vSwitch's packet_set_sctp_port), so a
 * wrong checksum stays wrong.
 */
function setSctpPort(packet: Packet, offset: number, value: Uint8Array): void {
  const { data, layout } = packet;
  const l4 = layout.l4Offset;
  const length = layout.ipEnd - l4;
  const stored = data.readUInt32LE(l4 + SCTP_CSUM_OFFSET);
  const before = sctpChecksum(data, l4, length);
  writeBytes(data, l4 + offset, value, 2);
  const after = sctpChecksum(data, l4, length);
  data.writeUInt32LE((stored ^ before ^ after) >>> 0, l4 + SCTP_CSUM_OFFSET);
}
