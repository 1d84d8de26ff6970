/*
 * Flow extraction (Open vSwitch's miniflow_extract in lib/flow.c): one pass over an Ethernet
 * frame that fills a flow key (lib/packet/flow-layout.ts) with every OpenFlow-basic field the
 * frame has, and a PacketLayout with where each header is.
 *
 * The walk: Ethernet MACs; VLAN tags (every 0x8100/0x88a8 tag; the outer one gives vlan_vid
 * and vlan_pcp); the ethertype, or an 802.2 SNAP type, or 0x05ff for other 802.3 frames; then
 * by ethertype one of: the PBB I-TAG (pbb_isid, and stop), the MPLS label stack (the top
 * entry's fields, and stop), IPv4, IPv6 with its extension headers, ARP/RARP; then the
 * transport header (TCP, UDP, SCTP ports; ICMP and ICMPv6 type and code; the ND target and
 * link-layer address options).
 *
 * A header that is truncated or whose length fields do not fit the frame ends the walk: the
 * fields before it stay, it and everything after it stay zero, as in Open vSwitch. The
 * checks are Open vSwitch's (ipv4_sanity_check, ipv6_sanity_check, parse_ipv6_ext_hdrs,
 * parse_icmpv6). Nothing here throws and nothing is allocated per packet: bytes are read at
 * known offsets and copied into the key one by one.
 *
 * Differences from Open vSwitch, on purpose (OpenFlow 1.3 asks for them):
 *   - every VLAN tag is walked, so eth_type is the type after the last tag (Open vSwitch
 *     walks as many as its vlan-limit, 1 by default, and reports 0x8100 for QinQ);
 *   - PBB: eth_type 0x88e7 frames get pbb_isid from the I-TAG (Open vSwitch has no PBB);
 *   - ipv6_exthdr is computed (Open vSwitch does not support it); an ESP header ends the walk
 *     with ip_proto 50, "no next header" with ip_proto 59;
 *   - arp_op keeps all 16 bits (Open vSwitch keeps only opcodes up to 255);
 *   - ipv6_nd_sll is taken from neighbour solicitations and ipv6_nd_tll from neighbour
 *     advertisements only, the message types OpenFlow 1.3 allows those matches on;
 *   - icmpv4 fields only over IPv4 and icmpv6 fields only over IPv6;
 *   - an IPv6 packet whose extension headers are truncated keeps its fixed-header fields
 *     (addresses, flow label, DSCP/ECN, hop limit, ipv6_exthdr so far) with ip_proto 0
 *     (Open vSwitch keeps only the addresses).
 */
import {
  OFPIEH_AUTH, OFPIEH_DEST, OFPIEH_ESP, OFPIEH_FRAG, OFPIEH_HOP, OFPIEH_NONEXT, OFPIEH_ROUTER, OFPIEH_UNREP,
  OFPIEH_UNSEQ, OFPVID_PRESENT,
} from '../../protocol/index.ts';
import { copyBytes, get16, get32, put16, put32 } from './bytes.ts';
import { fieldSlot, FLOW_KEY_BYTES, MPLS_TTL_OFFSET, NW_FRAG_OFFSET, NW_TTL_OFFSET, VLAN_COUNT_OFFSET } from './flow-layout.ts';
import {
  ARP_ETH_HEADER_LEN, ETH_HEADER_LEN, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MIN, ETH_TYPE_OFFSET,
  ETH_TYPE_PBB, ETH_TYPE_RARP, FLOW_DL_TYPE_NONE, ICMP6_DATA_HEADER_LEN, ICMP_HEADER_LEN, IP_FRAG_OFF_MASK,
  IP_HEADER_LEN, IP_MORE_FRAGMENTS, IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_ESP, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS,
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP,
  IPV6_HEADER_LEN, IPV6_LABEL_MASK, isMplsType, isVlanTpid, LLC_SNAP_HEADER_LEN, MPLS_BOS_SHIFT, MPLS_HLEN,
  MPLS_LABEL_SHIFT, MPLS_TC_SHIFT, ND_LLA_OPT_LEN, ND_MSG_LEN, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR, ND_OPT_TARGET_LINKADDR, PBB_ITAG_LEN, SCTP_HEADER_LEN, TCP_HEADER_LEN, UDP_HEADER_LEN,
  VLAN_HEADER_LEN, VLAN_PCP_SHIFT, VLAN_VID_MASK,
} from './headers.ts';
import { FRAG_ANY, FRAG_LATER, type Packet, PacketLayout } from './layout.ts';

/* Flow-key offsets of the fields written here. */
const K_IN_PORT = fieldSlot('in_port').offset;
const K_IN_PHY_PORT = fieldSlot('in_phy_port').offset;
const K_ETH_DST = fieldSlot('eth_dst').offset;
const K_ETH_SRC = fieldSlot('eth_src').offset;
const K_ETH_TYPE = fieldSlot('eth_type').offset;
const K_VLAN_VID = fieldSlot('vlan_vid').offset;
const K_VLAN_PCP = fieldSlot('vlan_pcp').offset;
const K_IP_DSCP = fieldSlot('ip_dscp').offset;
const K_IP_ECN = fieldSlot('ip_ecn').offset;
const K_IP_PROTO = fieldSlot('ip_proto').offset;
const K_IPV4_SRC = fieldSlot('ipv4_src').offset;
const K_IPV4_DST = fieldSlot('ipv4_dst').offset;
const K_TCP_SRC = fieldSlot('tcp_src').offset;
const K_TCP_DST = fieldSlot('tcp_dst').offset;
const K_UDP_SRC = fieldSlot('udp_src').offset;
const K_UDP_DST = fieldSlot('udp_dst').offset;
const K_SCTP_SRC = fieldSlot('sctp_src').offset;
const K_SCTP_DST = fieldSlot('sctp_dst').offset;
const K_ICMPV4_TYPE = fieldSlot('icmpv4_type').offset;
const K_ICMPV4_CODE = fieldSlot('icmpv4_code').offset;
const K_ARP_OP = fieldSlot('arp_op').offset;
const K_ARP_SPA = fieldSlot('arp_spa').offset;
const K_ARP_TPA = fieldSlot('arp_tpa').offset;
const K_ARP_SHA = fieldSlot('arp_sha').offset;
const K_ARP_THA = fieldSlot('arp_tha').offset;
const K_IPV6_SRC = fieldSlot('ipv6_src').offset;
const K_IPV6_DST = fieldSlot('ipv6_dst').offset;
const K_IPV6_FLABEL = fieldSlot('ipv6_flabel').offset;
const K_ICMPV6_TYPE = fieldSlot('icmpv6_type').offset;
const K_ICMPV6_CODE = fieldSlot('icmpv6_code').offset;
const K_ND_TARGET = fieldSlot('ipv6_nd_target').offset;
const K_ND_SLL = fieldSlot('ipv6_nd_sll').offset;
const K_ND_TLL = fieldSlot('ipv6_nd_tll').offset;
const K_MPLS_LABEL = fieldSlot('mpls_label').offset;
const K_MPLS_TC = fieldSlot('mpls_tc').offset;
const K_MPLS_BOS = fieldSlot('mpls_bos').offset;
const K_PBB_ISID = fieldSlot('pbb_isid').offset;
const K_IPV6_EXTHDR = fieldSlot('ipv6_exthdr').offset;

/**
 * Fills `key` (FLOW_KEY_BYTES long; zeroed here first) with the fields of the Ethernet frame
 * `frame` received on `inPort`, and returns where its headers are. metadata and tunnel_id are
 * left zero for the caller. Pass `layout` to reuse a layout object; it is reset first.
 */
export function parsePacket(frame: Uint8Array, key: Uint8Array, inPort: number,
  layout: PacketLayout = new PacketLayout()): PacketLayout {
  key.fill(0);
  layout.reset();
  put32(key, K_IN_PORT, inPort);
  put32(key, K_IN_PHY_PORT, inPort);

  const size = frame.length;
  if (size < ETH_HEADER_LEN) return layout;
  copyBytes(frame, 0, key, K_ETH_DST, 6);
  copyBytes(frame, 6, key, K_ETH_SRC, 6);

  /* VLAN tags: each needs its 4 bytes and the 2-byte type after it, as in parse_vlan(). */
  let at = ETH_TYPE_OFFSET;
  let type = get16(frame, at);
  let vlans = 0;
  while (isVlanTpid(type) && size - at >= VLAN_HEADER_LEN + 2) {
    if (vlans === 0) {
      const tci = get16(frame, at + 2);
      put16(key, K_VLAN_VID, OFPVID_PRESENT | (tci & VLAN_VID_MASK));
      key[K_VLAN_PCP] = tci >>> VLAN_PCP_SHIFT;
    }
    vlans++;
    at += VLAN_HEADER_LEN;
    type = get16(frame, at);
  }
  layout.vlanCount = vlans;
  key[VLAN_COUNT_OFFSET] = Math.min(vlans, 255);

  /* The ethertype, as in parse_ethertype(): Ethernet II, or 802.3 with SNAP, or neither. */
  if (type >= ETH_TYPE_MIN) {
    layout.ethTypeOffset = at;
    at += 2;
  } else {
    at += 2;
    type = FLOW_DL_TYPE_NONE;
    if (size - at >= LLC_SNAP_HEADER_LEN && isSnapHeader(frame, at)) {
      const snapType = get16(frame, at + 6);
      if (snapType >= ETH_TYPE_MIN) {
        type = snapType;
        layout.ethTypeOffset = at + 6;
      }
      at += LLC_SNAP_HEADER_LEN;
    }
  }
  put16(key, K_ETH_TYPE, type);

  if (type === ETH_TYPE_PBB) {
    layout.l3Offset = at;
    if (size - at >= PBB_ITAG_LEN) {
      layout.pbbOffset = at;
      copyBytes(frame, at + 1, key, K_PBB_ISID, 3);
    }
    return layout;
  }

  if (isMplsType(type)) {
    let count = 0;
    while (size - at >= MPLS_HLEN) {
      if (count === 0) {
        layout.mplsOffset = at;
        const lse = get32(frame, at);
        put32(key, K_MPLS_LABEL, lse >>> MPLS_LABEL_SHIFT);
        key[K_MPLS_TC] = (lse >>> MPLS_TC_SHIFT) & 7;
        key[K_MPLS_BOS] = (lse >>> MPLS_BOS_SHIFT) & 1;
        key[MPLS_TTL_OFFSET] = lse & 0xff;
      }
      count++;
      at += MPLS_HLEN;
      if (frame[at - 2]! & 1) break;
    }
    layout.mplsCount = count;
    layout.l3Offset = at;
    return layout;
  }

  layout.l3Offset = at;
  if (type === ETH_TYPE_IP) parseIpv4(frame, at, key, layout);
  else if (type === ETH_TYPE_IPV6) parseIpv6(frame, at, key, layout);
  else if (type === ETH_TYPE_ARP || type === ETH_TYPE_RARP) parseArp(frame, at, key, layout);
  key[NW_FRAG_OFFSET] = layout.fragment;
  return layout;
}

function isSnapHeader(frame: Uint8Array, at: number): boolean {
  return frame[at] === 0xaa && frame[at + 1] === 0xaa && frame[at + 2] === 0x03
    && frame[at + 3] === 0 && frame[at + 4] === 0 && frame[at + 5] === 0;
}

function parseIpv4(frame: Uint8Array, l3: number, key: Uint8Array, layout: PacketLayout): void {
  const avail = frame.length - l3;
  if (avail < IP_HEADER_LEN) return;
  const headerLength = (frame[l3]! & 0x0f) * 4;
  if (headerLength < IP_HEADER_LEN || avail < headerLength) return;
  const totalLength = get16(frame, l3 + 2);
  if (totalLength > avail || headerLength > totalLength) return;

  const tos = frame[l3 + 1]!;
  key[K_IP_DSCP] = tos >>> 2;
  key[K_IP_ECN] = tos & 3;
  key[K_IP_PROTO] = frame[l3 + 9]!;
  key[NW_TTL_OFFSET] = frame[l3 + 8]!;
  copyBytes(frame, l3 + 12, key, K_IPV4_SRC, 4);
  copyBytes(frame, l3 + 16, key, K_IPV4_DST, 4);

  const fragOff = get16(frame, l3 + 6);
  if ((fragOff & (IP_MORE_FRAGMENTS | IP_FRAG_OFF_MASK)) !== 0) {
    layout.fragment = (fragOff & IP_FRAG_OFF_MASK) !== 0 ? FRAG_ANY | FRAG_LATER : FRAG_ANY;
  }
  layout.network = 'ipv4';
  layout.ipProtoOffset = l3 + 9;
  layout.ipEnd = l3 + totalLength;
  layout.l4Offset = l3 + headerLength;
  parseTransport(frame, frame[l3 + 9]!, key, layout);
}

/*
 * IPv6 extension headers in the order RFC 8200 section 4.1 recommends, as ranks for the
 * OFPIEH_UNSEQ check. A destination-options header may come twice: before a routing header
 * (rank 2) and before the upper layer (rank 7).
 */
const RANK_HOP = 1;
const RANK_DEST_FIRST = 2;
const RANK_ROUTER = 3;
const RANK_FRAG = 4;
const RANK_AUTH = 5;
const RANK_ESP = 6;
const RANK_DEST_LAST = 7;

function parseIpv6(frame: Uint8Array, l3: number, key: Uint8Array, layout: PacketLayout): void {
  const avail = frame.length - l3;
  if (avail < IPV6_HEADER_LEN) return;
  const payloadLength = get16(frame, l3 + 4);
  if (payloadLength + IPV6_HEADER_LEN > avail) return;

  const tcFlow = get32(frame, l3);
  const tos = (tcFlow >>> 20) & 0xff;
  key[K_IP_DSCP] = tos >>> 2;
  key[K_IP_ECN] = tos & 3;
  put32(key, K_IPV6_FLABEL, tcFlow & IPV6_LABEL_MASK);
  key[NW_TTL_OFFSET] = frame[l3 + 7]!;
  copyBytes(frame, l3 + 8, key, K_IPV6_SRC, 16);
  copyBytes(frame, l3 + 24, key, K_IPV6_DST, 16);
  layout.network = 'ipv6';
  const end = l3 + IPV6_HEADER_LEN + payloadLength;
  layout.ipEnd = end;

  /* Walk the extension headers (parse_ipv6_ext_hdrs__), collecting the ipv6_exthdr bits. */
  let proto = frame[l3 + 6]!;
  let protoOffset = l3 + 6;
  let at = l3 + IPV6_HEADER_LEN;
  let exthdr = 0;
  let lastRank = 0;
  let destCount = 0;
  for (;;) {
    let bit: number;
    let rank: number;
    if (proto === IPPROTO_HOPOPTS) {
      bit = OFPIEH_HOP;
      rank = RANK_HOP;
      if (lastRank !== 0) exthdr |= OFPIEH_UNSEQ;
    } else if (proto === IPPROTO_DSTOPTS) {
      bit = OFPIEH_DEST;
      destCount++;
      rank = destCount === 1 && lastRank <= RANK_DEST_FIRST ? RANK_DEST_FIRST : RANK_DEST_LAST;
      if (destCount > 2) exthdr |= OFPIEH_UNREP;
    } else if (proto === IPPROTO_ROUTING) {
      bit = OFPIEH_ROUTER;
      rank = RANK_ROUTER;
    } else if (proto === IPPROTO_FRAGMENT) {
      bit = OFPIEH_FRAG;
      rank = RANK_FRAG;
    } else if (proto === IPPROTO_AH) {
      bit = OFPIEH_AUTH;
      rank = RANK_AUTH;
    } else {
      /* The upper layer, or a header that ends the walk. */
      if (proto === IPPROTO_ESP) exthdr |= noteHeader(exthdr, OFPIEH_ESP, RANK_ESP, lastRank);
      else if (proto === IPPROTO_NONE) exthdr |= OFPIEH_NONEXT;
      break;
    }
    exthdr |= noteHeader(exthdr, bit, rank, lastRank);
    if (rank > lastRank) lastRank = rank;

    /* Every extension header has at least 8 bytes, and its length must fit the payload. */
    if (end - at < 8) return putExthdr(key, exthdr);
    const length = proto === IPPROTO_FRAGMENT ? 8
      : proto === IPPROTO_AH ? (frame[at + 1]! + 2) * 4
        : (frame[at + 1]! + 1) * 8;
    if (end - at < length) return putExthdr(key, exthdr);

    if (proto === IPPROTO_ROUTING && frame[at + 3] !== 0) layout.ipv6RoutingPending = true;
    if (proto === IPPROTO_FRAGMENT) {
      const offsetFlags = get16(frame, at + 2);
      if (offsetFlags !== 0) {
        layout.fragment = FRAG_ANY;
        if ((offsetFlags & 0xfff8) !== 0) {
          /* A later fragment: what follows is payload, not headers (ip_proto 44, as in Open vSwitch). */
          layout.fragment = FRAG_ANY | FRAG_LATER;
          at += length;
          break;
        }
      }
    }
    protoOffset = at;
    proto = frame[at]!;
    at += length;
  }
  putExthdr(key, exthdr);
  key[K_IP_PROTO] = proto;
  layout.ipProtoOffset = protoOffset;
  layout.l4Offset = at;
  parseTransport(frame, proto, key, layout);
}

/** The ipv6_exthdr bits that seeing header `bit` of order `rank` adds, given what was seen before. */
function noteHeader(seen: number, bit: number, rank: number, lastRank: number): number {
  let add = bit;
  if (rank < lastRank) add |= OFPIEH_UNSEQ;
  if ((seen & bit) !== 0 && bit !== OFPIEH_DEST) add |= OFPIEH_UNREP;
  return add;
}

function putExthdr(key: Uint8Array, exthdr: number): void {
  put16(key, K_IPV6_EXTHDR, exthdr);
}

function parseArp(frame: Uint8Array, l3: number, key: Uint8Array, layout: PacketLayout): void {
  if (frame.length - l3 < ARP_ETH_HEADER_LEN) return;
  /* Ethernet hardware (1), IPv4 protocol, 6-byte and 4-byte addresses. */
  if (get16(frame, l3) !== 1 || get16(frame, l3 + 2) !== ETH_TYPE_IP || frame[l3 + 4] !== 6 || frame[l3 + 5] !== 4) {
    return;
  }
  layout.network = 'arp';
  copyBytes(frame, l3 + 6, key, K_ARP_OP, 2);
  copyBytes(frame, l3 + 8, key, K_ARP_SHA, 6);
  copyBytes(frame, l3 + 14, key, K_ARP_SPA, 4);
  copyBytes(frame, l3 + 18, key, K_ARP_THA, 6);
  copyBytes(frame, l3 + 24, key, K_ARP_TPA, 4);
}

/** The transport header at layout.l4Offset, up to layout.ipEnd; never for later fragments. */
function parseTransport(frame: Uint8Array, proto: number, key: Uint8Array, layout: PacketLayout): void {
  if ((layout.fragment & FRAG_LATER) !== 0) return;
  const l4 = layout.l4Offset;
  const size = layout.ipEnd - l4;
  if (proto === IPPROTO_TCP) {
    if (size < TCP_HEADER_LEN) return;
    const headerLength = (frame[l4 + 12]! >>> 4) * 4;
    if (headerLength < TCP_HEADER_LEN || size < headerLength) return;
    copyBytes(frame, l4, key, K_TCP_SRC, 2);
    copyBytes(frame, l4 + 2, key, K_TCP_DST, 2);
  } else if (proto === IPPROTO_UDP) {
    if (size < UDP_HEADER_LEN) return;
    copyBytes(frame, l4, key, K_UDP_SRC, 2);
    copyBytes(frame, l4 + 2, key, K_UDP_DST, 2);
  } else if (proto === IPPROTO_SCTP) {
    if (size < SCTP_HEADER_LEN) return;
    copyBytes(frame, l4, key, K_SCTP_SRC, 2);
    copyBytes(frame, l4 + 2, key, K_SCTP_DST, 2);
  } else if (proto === IPPROTO_ICMP && layout.network === 'ipv4') {
    if (size < ICMP_HEADER_LEN) return;
    key[K_ICMPV4_TYPE] = frame[l4]!;
    key[K_ICMPV4_CODE] = frame[l4 + 1]!;
  } else if (proto === IPPROTO_ICMPV6 && layout.network === 'ipv6') {
    if (size < ICMP6_DATA_HEADER_LEN) return;
    key[K_ICMPV6_TYPE] = frame[l4]!;
    key[K_ICMPV6_CODE] = frame[l4 + 1]!;
    const type = frame[l4]!;
    if (frame[l4 + 1] === 0 && (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT)) {
      parseNeighborDiscovery(frame, type, key, layout);
    }
  } else {
    return;
  }
  layout.l4Protocol = proto;
}

/**
 * The target and link-layer address options of a neighbour solicitation or advertisement,
 * as parse_icmpv6() reads them: options of 8-byte units, stopping at a zero or overlong
 * length; a second SLL (or TLL) option makes the message invalid, which clears the target
 * and both addresses.
 */
function parseNeighborDiscovery(frame: Uint8Array, type: number, key: Uint8Array, layout: PacketLayout): void {
  const l4 = layout.l4Offset;
  const end = layout.ipEnd;
  if (end - l4 < ND_MSG_LEN) return;
  let sll = -1;
  let tll = -1;
  for (let at = l4 + ND_MSG_LEN; end - at >= ND_LLA_OPT_LEN;) {
    const length = frame[at + 1]! * 8;
    if (length === 0 || length > end - at) break;
    if (length === ND_LLA_OPT_LEN && frame[at] === ND_OPT_SOURCE_LINKADDR) {
      if (sll !== -1) return;
      sll = at + 2;
    } else if (length === ND_LLA_OPT_LEN && frame[at] === ND_OPT_TARGET_LINKADDR) {
      if (tll !== -1) return;
      tll = at + 2;
    }
    at += length;
  }
  layout.ndTargetOffset = l4 + 8;
  copyBytes(frame, l4 + 8, key, K_ND_TARGET, 16);
  if (type === ND_NEIGHBOR_SOLICIT && sll !== -1) {
    layout.ndSllOffset = sll;
    copyBytes(frame, sll, key, K_ND_SLL, 6);
  } else if (type === ND_NEIGHBOR_ADVERT && tll !== -1) {
    layout.ndTllOffset = tll;
    copyBytes(frame, tll, key, K_ND_TLL, 6);
  }
}

/**
 * Re-reads `packet`'s layout after a rewrite changed how the frame parses (a pushed or popped
 * tag, a new eth_type, ip_proto or mpls_bos). The key this fills is scratch, kept on the
 * layout so that repeated rewrites of the same packet do not allocate.
 */
export function reparse(packet: Packet): void {
  const layout = packet.layout;
  layout.scratchKey ??= new Uint8Array(FLOW_KEY_BYTES);
  parsePacket(packet.data, layout.scratchKey, 0, layout);
}
