/*
 * Matches as (value, mask) over the flow-key layout of lib/packet/flow-layout.ts, so that
 * matching a packet's key is byte-wise `(key & mask) == value` — for OpenFlow tables and for
 * the datapath's megaflows (Open vSwitch's struct minimatch).
 *
 * A match converts to (value, mask) with the mask clipped to each field's valid bits; the
 * canonical OXM list is read back from (value, mask) in field-number order, dropping
 * wildcarded fields and writing full masks as exact matches, as Open vSwitch reports them.
 */
import {
  type BasicOxm, type Match, OfpError, OFPBMC_BAD_FIELD, OFPET_BAD_MATCH, OFPXMC_OPENFLOW_BASIC, OXM_FIELDS,
  type OxmField, oxmHeader, oxmValueBytes, oxmValueFromBytes,
} from '../../protocol/index.ts';
import { FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, type FieldSlot } from '../packet/flow-layout.ts';

export { FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, type FieldSlot };

/** A match as (value, mask) over the flow-key layout; value has no bits outside mask. */
export interface MaskedKey {
  value: Uint8Array;
  mask: Uint8Array;
}

/**
 * Converts an OXM match to (value, mask). Opaque entries (other OXM classes) cannot be
 * matched by this switch: OFPBMC_BAD_FIELD, as for any field a switch does not support.
 */
export function matchToMaskedKey(match: Match): MaskedKey {
  const value = new Uint8Array(FLOW_KEY_BYTES);
  const mask = new Uint8Array(FLOW_KEY_BYTES);
  for (const entry of match) {
    if (entry.field === 'opaque') {
      throw new OfpError(OFPET_BAD_MATCH, OFPBMC_BAD_FIELD, `unsupported OXM field 0x${entry.header.toString(16)}`);
    }
    const slot = fieldSlot(entry.field);
    const v = oxmValueBytes(entry.field, entry.value);
    const m = entry.mask === undefined ? slot.fullMask : oxmValueBytes(entry.field, entry.mask);
    for (let i = 0; i < slot.bytes; i++) {
      const bits = m[i]! & slot.fullMask[i]!;
      mask[slot.offset + i] = bits;
      value[slot.offset + i] = v[i]! & bits;
    }
  }
  return { value, mask };
}

const SLOT_BY_NUMBER: readonly (FieldSlot | undefined)[] = (() => {
  const table: (FieldSlot | undefined)[] = [];
  OXM_FIELDS.forEach((f, i) => { table[f.num] = FIELD_SLOTS[i]; });
  return table;
})();

/**
 * The same as matchToMaskedKey, read straight from the ofp_match at `offset` of a message
 * that decodeMessage has already validated: a copy of each entry's wire bytes, without the
 * round trip through text that typed values take. Used on the flow-mod fast path.
 */
export function maskedKeyFromWire(buf: Buffer, offset: number): MaskedKey {
  const value = new Uint8Array(FLOW_KEY_BYTES);
  const mask = new Uint8Array(FLOW_KEY_BYTES);
  const end = offset + buf.readUInt16BE(offset + 2);
  for (let at = offset + 4; at + 4 <= end;) {
    const header = buf.readUInt32BE(at);
    const length = header & 0xff;
    const slot = header >>> 16 === 0x8000 ? SLOT_BY_NUMBER[(header >>> 9) & 0x7f] : undefined;
    if (!slot) throw new OfpError(OFPET_BAD_MATCH, OFPBMC_BAD_FIELD, `unsupported OXM field 0x${header.toString(16)}`);
    const v = at + 4;
    const hasMask = (header & 0x100) !== 0;
    for (let i = 0; i < slot.bytes; i++) {
      const bits = (hasMask ? buf[v + slot.bytes + i]! : 0xff) & slot.fullMask[i]!;
      mask[slot.offset + i] = bits;
      value[slot.offset + i] = buf[v + i]! & bits;
    }
    at += 4 + length;
  }
  return { value, mask };
}

function isZero(bytes: Uint8Array, offset: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

function equalsAt(bytes: Uint8Array, offset: number, other: Uint8Array): boolean {
  for (let i = 0; i < other.length; i++) if (bytes[offset + i] !== other[i]) return false;
  return true;
}

/** The canonical OXM list of (value, mask): field-number order, wildcards dropped, full masks exact. */
export function maskedKeyToMatch(key: MaskedKey): Match {
  const match: OxmField[] = [];
  for (const slot of FIELD_SLOTS) {
    if (isZero(key.mask, slot.offset, slot.bytes)) continue;
    const value = oxmValueFromBytes(slot.name, key.value, slot.offset);
    if (equalsAt(key.mask, slot.offset, slot.fullMask)) {
      match.push({ field: slot.name, value } as BasicOxm);
    } else {
      match.push({ field: slot.name, value, mask: oxmValueFromBytes(slot.name, key.mask, slot.offset) } as BasicOxm);
    }
  }
  return match;
}

/**
 * The canonical match of (value, mask) as entries already in wire form (see OpaqueOxm):
 * what maskedKeyToMatch gives, without the round trip through text, for replies.
 */
export function maskedKeyToWireMatch(key: MaskedKey): Match {
  const { value } = key;
  return wireMatch(key.mask, (offset) => value[offset]!);
}

/** The canonical OXM list of a match given by its mask and a reader of its value's bytes. */
export function wireMatch(mask: Uint8Array, valueAt: (offset: number) => number): Match {
  const layout = wireLayout(mask);
  // One buffer for every field's payload: a dump builds this for each of its rules.
  const bytes = Buffer.allocUnsafe(layout.bytes);
  const match: OxmField[] = [];
  let at = 0;
  for (const f of layout.fields) {
    const n = f.slot.bytes;
    for (let i = 0; i < n; i++) bytes[at + i] = valueAt(f.slot.offset + i);
    if (!f.exact) for (let i = 0; i < n; i++) bytes[at + n + i] = mask[f.slot.offset + i]!;
    const size = f.exact ? n : 2 * n;
    match.push({ field: 'opaque', header: f.header, payload: bytes.subarray(at, at + size) });
    at += size;
  }
  return match;
}

interface WireLayout {
  fields: Array<{ slot: FieldSlot; exact: boolean; header: number }>;
  bytes: number;
}

const layoutByMask = new WeakMap<Uint8Array, WireLayout>();

/** Which fields a mask matches, exactly or not, with their OXM headers (cached per mask array). */
function wireLayout(mask: Uint8Array): WireLayout {
  let layout = layoutByMask.get(mask);
  if (!layout) {
    layout = { fields: [], bytes: 0 };
    for (const slot of FIELD_SLOTS) {
      if (isZero(mask, slot.offset, slot.bytes)) continue;
      const exact = equalsAt(mask, slot.offset, slot.fullMask);
      const size = exact ? slot.bytes : 2 * slot.bytes;
      layout.fields.push({ slot, exact, header: oxmHeader(OFPXMC_OPENFLOW_BASIC, slot.num, !exact, size) });
      layout.bytes += size;
    }
    layoutByMask.set(mask, layout);
  }
  return layout;
}

/** Whether two masked keys are the same match (same fields, masks and values). */
export function sameMaskedKey(a: MaskedKey, b: MaskedKey): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) if (a.mask[i] !== b.mask[i] || a.value[i] !== b.value[i]) return false;
  return true;
}

/**
 * Whether `rule` is at least as specific as `filter` (OpenFlow's non-strict matching for
 * modify, delete and stats): every bit the filter matches, the rule matches too, with the
 * same value.
 */
export function coversFilter(rule: MaskedKey, filter: MaskedKey): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) {
    const fm = filter.mask[i]!;
    if (fm === 0) continue;
    if ((fm & ~rule.mask[i]!) !== 0 || (rule.value[i]! & fm) !== filter.value[i]) return false;
  }
  return true;
}

/** Whether some packet could match both (OFPFF_CHECK_OVERLAP): no common bit disagrees. */
export function overlaps(a: MaskedKey, b: MaskedKey): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) {
    if (((a.value[i]! ^ b.value[i]!) & a.mask[i]! & b.mask[i]!) !== 0) return false;
  }
  return true;
}

/** Whether a packet's flow key matches (value, mask). */
export function keyMatches(flowKey: Uint8Array, m: MaskedKey): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) if ((flowKey[i]! & m.mask[i]!) !== m.value[i]) return false;
  return true;
}
