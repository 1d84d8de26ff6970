/*
 * Wire constants of the headers this layer reads and writes: Ethernet types, IP protocol
 * numbers, header lengths and the bit layout of the VLAN TCI, the MPLS label stack entry and
 * the PBB I-TAG. Names follow Open vSwitch's lib/packets.h so a reader can look them up there.
 * Everything here is a plain number: the parser and the rewriter compare against these on
 * every packet.
 */

export const ETH_ADDR_LEN = 6;
export const ETH_HEADER_LEN = 14;
/** Offset of the first ethertype (or TPID) in an Ethernet frame: after the two MACs. */
export const ETH_TYPE_OFFSET = 12;
/** Ethertypes below this are IEEE 802.3 lengths, not types. */
export const ETH_TYPE_MIN = 0x600;
/**
 * eth_type of an 802.3 frame without a SNAP header (OpenFlow 1.0's OFP_DL_TYPE_NOT_ETH_TYPE,
 * Open vSwitch's FLOW_DL_TYPE_NONE).
 */
export const FLOW_DL_TYPE_NONE = 0x5ff;

export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_VLAN_8021Q = 0x8100;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_PBB = 0x88e7;

export const isVlanTpid = (type: number): boolean => type === ETH_TYPE_VLAN_8021Q || type === ETH_TYPE_VLAN_8021AD;
export const isMplsType = (type: number): boolean => type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MCAST;

/** 802.2 LLC + SNAP header (8 bytes): DSAP 0xaa, SSAP 0xaa, control 0x03, OUI 000000, type. */
export const LLC_SNAP_HEADER_LEN = 8;

export const VLAN_HEADER_LEN = 4;
export const VLAN_VID_MASK = 0x0fff;
export const VLAN_CFI = 0x1000;
export const VLAN_PCP_SHIFT = 13;

/** One MPLS label stack entry (RFC 3032): label 20 bits, TC 3, bottom of stack 1, TTL 8. */
export const MPLS_HLEN = 4;
export const MPLS_LABEL_SHIFT = 12;
export const MPLS_TC_SHIFT = 9;
export const MPLS_BOS_SHIFT = 8;

/** The PBB (IEEE 802.1ah) I-TAG TCI: I-PCP 3 bits, I-DEI 1, UCA 1, reserved 3, I-SID 24. */
export const PBB_ITAG_LEN = 4;
export const PBB_ISID_MASK = 0xffffff;
/** What push_pbb puts in front of the customer frame: B-DA, B-SA, ethertype, I-TAG. */
export const PBB_ENCAP_LEN = 2 * ETH_ADDR_LEN + 2 + PBB_ITAG_LEN;

export const ARP_ETH_HEADER_LEN = 28;

export const IP_HEADER_LEN = 20;
export const IP_MORE_FRAGMENTS = 0x2000;
export const IP_FRAG_OFF_MASK = 0x1fff;
export const IPV6_HEADER_LEN = 40;
export const IPV6_LABEL_MASK = 0xfffff;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;

export const TCP_HEADER_LEN = 20;
export const UDP_HEADER_LEN = 8;
export const SCTP_HEADER_LEN = 12;
export const ICMP_HEADER_LEN = 4;
/** ICMPv6 header with its 4-byte data word, the least Open vSwitch reads type/code from. */
export const ICMP6_DATA_HEADER_LEN = 8;

/** Offsets of the checksum field inside each transport header. */
export const TCP_CSUM_OFFSET = 16;
export const UDP_CSUM_OFFSET = 6;
export const SCTP_CSUM_OFFSET = 8;
export const ICMP_CSUM_OFFSET = 2;

export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
/** ND message: ICMPv6 header (4), reserved/flags (4), target (16); options follow. */
export const ND_MSG_LEN = 24;
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;
export const ND_LLA_OPT_LEN = 8;
