/*
 * Push and pop of VLAN tags, MPLS label stack entries and PBB service instance tags
 * (OpenFlow 1.3 section 5.12 "push-tag/pop-tag"; Open vSwitch's eth_push_vlan, eth_pop_vlan,
 * push_mpls, pop_mpls in lib/packets.c). Each keeps packet.layout right: a VLAN push or pop
 * moves the offsets behind the tag; the others re-parse the frame.
 *
 * Where a tag goes and what it starts with:
 *   - push_vlan: a new outermost tag right after the MACs, with the given TPID. Its VID and
 *     PCP are copied from the tag that was outermost, or are 0 on an untagged frame (the
 *     OpenFlow 1.3 rule; Open vSwitch always pushes VID 0, PCP 0). DEI is 0.
 *   - pop_vlan: removes the outermost tag.
 *   - push_mpls: a new top label stack entry after the Ethernet header and VLAN tags (where
 *     Open vSwitch and 802.1Q/MPLS hardware put it), and eth_type becomes the given type.
 *     Onto an existing stack it is a copy of the old top entry (label, TC, TTL) with BOS 0;
 *     otherwise label 0, TC 0, BOS 1 and TTL from the IPv4 TTL or IPv6 hop limit (OpenFlow
 *     1.3's table of push defaults), or 64 when the payload is not IP (Open vSwitch's choice;
 *     the spec gives no source). Open vSwitch differs on a first label: it uses label 2 for
 *     IPv6, the DSCP's low bits as TC, and TTL 64 also when the IP TTL is 0.
 *   - pop_mpls: removes the top entry and sets eth_type to the given type.
 *   - push_pbb (IEEE 802.1ah): puts a backbone header in front of the whole frame, which
 *     becomes the customer frame unchanged (its MACs, VLAN tags and payload):
 *       B-DA = C-DA, B-SA = C-SA (the spec's "ETH DST/SRC" defaults), the given ethertype
 *       (0x88e7), and the I-TAG: I-PCP = PCP of the frame's outer VLAN tag (0 without one),
 *       DEI 0, UCA 0, reserved 0, I-SID = the I-SID of the frame's outer I-TAG when it is
 *       already a PBB frame, else 0.
 *     No B-TAG is added; push_vlan afterwards adds one.
 *   - pop_pbb: removes everything up to the end of the outer I-TAG (backbone MACs, any
 *     B-TAGs, the 0x88e7 type and the I-TAG), leaving the customer frame.
 *
 * An ethertype that does not fit the action (push_vlan other than 0x8100/0x88a8, push_mpls
 * other than 0x8847/0x8848, push_pbb other than 0x88e7) and a pop with no such tag are no-ops:
 * flow-mod checks refuse those actions before they get here. Frames shorter than an Ethernet
 * header are left alone.
 *
 * Growing a frame allocates a new Buffer; shrinking one moves the bytes before the removed
 * tag forward in place and keeps a view (so, like every rewrite here, it changes the bytes of
 * the Buffer it was given).
 */
import { get16, get32, put16, put32 } from './bytes.ts';
import {
  ETH_HEADER_LEN, ETH_TYPE_OFFSET, ETH_TYPE_PBB, isMplsType, isVlanTpid, MPLS_HLEN, PBB_ENCAP_LEN, PBB_ISID_MASK,
  PBB_ITAG_LEN, VLAN_CFI, VLAN_HEADER_LEN,
} from './headers.ts';
import type { Packet } from './layout.ts';
import { reparse } from './parse.ts';

/** MPLS TTL of a first label over a non-IP payload (Open vSwitch's default). */
const MPLS_DEFAULT_TTL = 64;

export function pushVlan(packet: Packet, tpid: number): void {
  const { data, layout } = packet;
  if (!isVlanTpid(tpid) || data.length < ETH_HEADER_LEN) return;
  const tci = layout.vlanCount > 0 ? get16(data, ETH_TYPE_OFFSET + 2) & ~VLAN_CFI : 0;
  packet.data = insertGap(data, ETH_TYPE_OFFSET, VLAN_HEADER_LEN);
  put16(packet.data, ETH_TYPE_OFFSET, tpid);
  put16(packet.data, ETH_TYPE_OFFSET + 2, tci);
  layout.shift(ETH_TYPE_OFFSET, VLAN_HEADER_LEN);
  layout.vlanCount++;
}

export function popVlan(packet: Packet): void {
  const layout = packet.layout;
  if (layout.vlanCount === 0) return;
  packet.data = removeBytes(packet.data, ETH_TYPE_OFFSET, VLAN_HEADER_LEN);
  layout.shift(ETH_TYPE_OFFSET + VLAN_HEADER_LEN, -VLAN_HEADER_LEN);
  layout.vlanCount--;
}

export function pushMpls(packet: Packet, ethertype: number): void {
  const { data, layout } = packet;
  if (!isMplsType(ethertype) || layout.ethTypeOffset < 0) return;
  let lse: number;
  let at: number;
  if (layout.mplsOffset >= 0) {
    at = layout.mplsOffset;
    lse = (get32(data, at) & ~0x100) >>> 0;
  } else {
    at = layout.l3Offset;
    const l3 = layout.l3Offset;
    const ttl = layout.network === 'ipv4' ? data[l3 + 8]!
      : layout.network === 'ipv6' ? data[l3 + 7]!
        : MPLS_DEFAULT_TTL;
    lse = 0x100 | ttl;
  }
  const grown = insertGap(data, at, MPLS_HLEN);
  put32(grown, at, lse);
  put16(grown, layout.ethTypeOffset, ethertype);
  packet.data = grown;
  reparse(packet);
}

export function popMpls(packet: Packet, ethertype: number): void {
  const layout = packet.layout;
  if (layout.mplsOffset < 0) return;
  const shrunk = removeBytes(packet.data, layout.mplsOffset, MPLS_HLEN);
  put16(shrunk, layout.ethTypeOffset, ethertype);
  packet.data = shrunk;
  reparse(packet);
}

export function pushPbb(packet: Packet, ethertype: number): void {
  const { data, layout } = packet;
  if (ethertype !== ETH_TYPE_PBB || data.length < ETH_HEADER_LEN) return;
  const pcp = layout.vlanCount > 0 ? data[ETH_TYPE_OFFSET + 2]! >>> 5 : 0;
  const isid = layout.pbbOffset >= 0 ? get32(data, layout.pbbOffset) & PBB_ISID_MASK : 0;
  const grown = insertGap(data, 0, PBB_ENCAP_LEN);
  grown.copy(grown, 0, PBB_ENCAP_LEN, PBB_ENCAP_LEN + 12); // B-DA, B-SA from C-DA, C-SA
  put16(grown, ETH_TYPE_OFFSET, ethertype);
  put32(grown, ETH_TYPE_OFFSET + 2, ((pcp << 29) | isid) >>> 0);
  packet.data = grown;
  reparse(packet);
}

export function popPbb(packet: Packet): void {
  const layout = packet.layout;
  if (layout.pbbOffset < 0) return;
  packet.data = packet.data.subarray(layout.pbbOffset + PBB_ITAG_LEN);
  reparse(packet);
}

/** A copy of `data` with `length` uninitialised bytes inserted at `at`. */
function insertGap(data: Buffer, at: number, length: number): Buffer {
  const grown = Buffer.allocUnsafe(data.length + length);
  data.copy(grown, 0, 0, at);
  data.copy(grown, at + length, at);
  return grown;
}

/** `data` without [at, at + length): the bytes before move forward, and a view is returned. */
function removeBytes(data: Buffer, at: number, length: number): Buffer {
  data.copyWithin(length, 0, at);
  return data.subarray(length);
}
