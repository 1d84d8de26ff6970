/*
 * PacketLayout: where the headers of one frame are, as the parser found them (Open vSwitch's
 * dp_packet l2_5_ofs / l3_ofs / l4_ofs, plus what the rewriter needs beyond those). Every
 * offset is a byte offset from the start of the frame; -1 means "this frame has no such
 * header" (or the header was truncated or malformed, so the parser stopped before it).
 *
 * A Packet is a frame with its layout. Actions that change the frame's length (push/pop of a
 * tag) replace `data` and keep `layout` right, so a sequence of actions can run on one Packet.
 *
 * A layout object is reusable: parsePacket resets every field before filling it in.
 */

/** What the parser found at the network layer. */
export type NetworkHeader = 'none' | 'ipv4' | 'ipv6' | 'arp';

/** Fragment bits (Open vSwitch's FLOW_NW_FRAG_*). */
export const FRAG_ANY = 1;
export const FRAG_LATER = 2;

export class PacketLayout {
  /**
   * Offset of the 2-byte ethertype that eth_type was read from: after the MACs and any VLAN
   * tags, or the type of an 802.2 SNAP header. -1 when the frame is shorter than an Ethernet
   * header or is 802.3 without SNAP (eth_type 0x05ff).
   */
  ethTypeOffset = -1;
  /** Number of VLAN tags (TPID 0x8100 or 0x88a8); tag i has its TPID at 12 + 4i, its TCI at 14 + 4i. */
  vlanCount = 0;
  /** Offset of the PBB I-TAG (after the 0x88e7 ethertype), -1 without one. */
  pbbOffset = -1;
  /** Offset of the top MPLS label stack entry, -1 without MPLS. */
  mplsOffset = -1;
  /** Label stack entries from mplsOffset up to and including the bottom of stack (or the frame's end). */
  mplsCount = 0;
  /**
   * Start of the network header: after the Ethernet header, VLAN tags and MPLS label stack
   * (for MPLS, the label stack's payload). -1 when the frame has no complete Ethernet header.
   */
  l3Offset = -1;
  /** Which network header was parsed at l3Offset; 'none' for MPLS, PBB, other types, or a bad header. */
  network: NetworkHeader = 'none';
  /** Offset of the byte holding ip_proto: the IPv4 protocol, or the last IPv6 next-header field. */
  ipProtoOffset = -1;
  /** End of the IP datagram (IPv4 total length, IPv6 payload length): Ethernet padding starts here. */
  ipEnd = -1;
  /** FRAG_ANY for any fragment, plus FRAG_LATER for a fragment other than the first. */
  fragment = 0;
  /** IPv6: a routing header with segments left, so the pseudo-header's destination is not ipv6_dst. */
  ipv6RoutingPending = false;
  /**
   * Start of the transport header (just past the IPv4 header or the IPv6 extension headers),
   * -1 when the IP header was not parsed.
   */
  l4Offset = -1;
  /**
   * The IP protocol of the transport header parsed at l4Offset (TCP, UDP, SCTP, ICMP, ICMPv6),
   * 0 when none was: a later fragment, an unknown protocol or a truncated header.
   */
  l4Protocol = 0;
  /** ICMPv6 neighbour solicitation/advertisement: offset of the target address, -1 otherwise. */
  ndTargetOffset = -1;
  /** Offset of the MAC in the NS source link-layer address option, -1 without one. */
  ndSllOffset = -1;
  /** Offset of the MAC in the NA target link-layer address option, -1 without one. */
  ndTllOffset = -1;

  /** A flow key scratch area for re-parsing after a rewrite; allocated on first use. */
  scratchKey: Uint8Array | undefined = undefined;

  reset(): void {
    this.ethTypeOffset = -1;
    this.vlanCount = 0;
    this.pbbOffset = -1;
    this.mplsOffset = -1;
    this.mplsCount = 0;
    this.l3Offset = -1;
    this.network = 'none';
    this.ipProtoOffset = -1;
    this.ipEnd = -1;
    this.fragment = 0;
    this.ipv6RoutingPending = false;
    this.l4Offset = -1;
    this.l4Protocol = 0;
    this.ndTargetOffset = -1;
    this.ndSllOffset = -1;
    this.ndTllOffset = -1;
  }

  /**
   * Moves every offset at or after `from` by `delta` bytes: what inserting or removing bytes
   * at `from` does to the headers behind it.
   */
  shift(from: number, delta: number): void {
    this.ethTypeOffset = moved(this.ethTypeOffset, from, delta);
    this.pbbOffset = moved(this.pbbOffset, from, delta);
    this.mplsOffset = moved(this.mplsOffset, from, delta);
    this.l3Offset = moved(this.l3Offset, from, delta);
    this.ipProtoOffset = moved(this.ipProtoOffset, from, delta);
    this.ipEnd = moved(this.ipEnd, from, delta);
    this.l4Offset = moved(this.l4Offset, from, delta);
    this.ndTargetOffset = moved(this.ndTargetOffset, from, delta);
    this.ndSllOffset = moved(this.ndSllOffset, from, delta);
    this.ndTllOffset = moved(this.ndTllOffset, from, delta);
  }
}

function moved(offset: number, from: number, delta: number): number {
  return offset >= from ? offset + delta : offset;
}

/** A frame and where its headers are. `data` may be replaced when the frame grows or shrinks. */
export interface Packet {
  data: Buffer;
  layout: PacketLayout;
}
