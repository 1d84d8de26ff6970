/*
 * The flow-key layout (Open vSwitch's struct flow): every OpenFlow-basic field at a fixed
 * offset of one byte array, in its wire (big-endian) form, so that a packet's key and a
 * rule's (value, mask) line up byte for byte. A field absent from a packet (no VLAN tag, no
 * IPv4 header) is all zeros, as OpenFlow's prerequisites make every match on it also match
 * the field that says it is there (vlan_vid's present bit, eth_type, ip_proto, ...).
 */
import { OXM_FIELDS, type OxmFieldName } from '../../protocol/index.ts';

export interface FieldSlot {
  name: OxmFieldName;
  /** OXM field number. */
  num: number;
  offset: number;
  bytes: number;
  /** The field's valid bits as a mask (vlan_vid: 0x1fff; ip_dscp: 0x3f; ...), in wire form. */
  fullMask: Uint8Array;
}

/** Bits that are meaningful in each field narrower than its wire width. */
const VALID_BITS: Partial<Record<OxmFieldName, number>> = {
  vlan_vid: 0x1fff, vlan_pcp: 0x07, ip_dscp: 0x3f, ip_ecn: 0x03, ipv6_flabel: 0xfffff, mpls_label: 0xfffff,
  mpls_tc: 0x07, mpls_bos: 0x01, ipv6_exthdr: 0x1ff,
};

function fullMaskOf(name: OxmFieldName, bytes: number): Uint8Array {
  const mask = new Uint8Array(bytes).fill(0xff);
  const valid = VALID_BITS[name];
  if (valid !== undefined) {
    for (let i = 0; i < bytes; i++) mask[bytes - 1 - i] = Math.floor(valid / 2 ** (8 * i)) & 0xff;
  }
  return mask;
}

export const FIELD_SLOTS: readonly FieldSlot[] = (() => {
  let offset = 0;
  return OXM_FIELDS.map((f) => {
    const slot = { name: f.name, num: f.num, offset, bytes: f.bytes, fullMask: fullMaskOf(f.name, f.bytes) };
    offset += f.bytes;
    return slot;
  });
})();
/** Bytes of the OpenFlow-basic fields; the datapath-only fields follow them. */
const OXM_KEY_BYTES = FIELD_SLOTS.reduce((n, s) => n + s.bytes, 0);

/**
 * Fields that are not OpenFlow match fields but that the datapath's megaflows may depend on
 * (Open vSwitch's flow->nw_ttl, the MPLS label stack entry's TTL, flow->nw_frag, and how many
 * VLAN tags there are): dec_ttl and friends behave differently when the TTL is 0 or 1, a select
 * group's hash leaves the ports out of fragments, and popping the only tag uncovers nothing.
 */
export const NW_TTL_OFFSET = OXM_KEY_BYTES;
export const MPLS_TTL_OFFSET = OXM_KEY_BYTES + 1;
/** The IP fragment bits (FRAG_ANY, FRAG_LATER) of the packet's layout. */
export const NW_FRAG_OFFSET = OXM_KEY_BYTES + 2;
/** How many VLAN tags the frame has (capped at 255): what a pop_vlan uncovers depends on it. */
export const VLAN_COUNT_OFFSET = OXM_KEY_BYTES + 3;
export const FLOW_KEY_BYTES = OXM_KEY_BYTES + 4;
const SLOT_BY_NAME = new Map<string, FieldSlot>(FIELD_SLOTS.map((s) => [s.name, s]));

export function fieldSlot(name: OxmFieldName): FieldSlot {
  return SLOT_BY_NAME.get(name)!;
}
