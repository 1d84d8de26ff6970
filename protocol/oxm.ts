/*
 * OXM: the OpenFlow Extensible Match TLVs, and the ofp_match structure that carries them.
 *
 * Every OpenFlow-basic field (class 0x8000, 40 fields) decodes to a typed value: numbers for
 * fields up to 32 bits, bigint for 64-bit fields, text for MAC and IP addresses. Any other
 * class (Nicira's NXM, packet registers, experimenter OXM) is kept as opaque bytes so it
 * survives a decode/encode round trip unchanged.
 *
 * Match decoding checks what Open vSwitch checks, in the same order (lib/nx-match.c):
 * entry length, known field, value bits outside the mask (BAD_WILDCARDS), mask on a field
 * that cannot be masked (BAD_MASK), value range (BAD_VALUE), and, for a strict match,
 * prerequisites satisfied by the fields listed before it (BAD_PREREQ), then duplicates.
 */
import { formatIpv4, formatIpv6, formatMac, writeIpv4, writeIpv6, writeMac } from './addresses.ts';
import { OFPMT_OXM, OFPVID_PRESENT } from './constants.ts';
import {
  OFPBMC_BAD_FIELD, OFPBMC_BAD_LEN, OFPBMC_BAD_MASK, OFPBMC_BAD_PREREQ, OFPBMC_BAD_TYPE, OFPBMC_BAD_VALUE,
  OFPBMC_BAD_WILDCARDS, OFPBMC_DUP_FIELD, OFPET_BAD_MATCH, OfpDecodeError, OfpEncodeError,
} from './errors.ts';
import { padLength, WireReader, WireWriter } from './wire.ts';

export const OFPXMC_NXM_0 = 0x0000;
export const OFPXMC_NXM_1 = 0x0001;
export const OFPXMC_OPENFLOW_BASIC = 0x8000;
export const OFPXMC_PACKET_REGS = 0x8001;
export const OFPXMC_EXPERIMENTER = 0xffff;

type ValueKind = 'u8' | 'u16' | 'u24' | 'u32' | 'u64' | 'mac' | 'ipv4' | 'ipv6';

/** The decoded value type of each OpenFlow-basic field. */
export interface OxmValueTypes {
  in_port: number; in_phy_port: number; metadata: bigint; eth_dst: string; eth_src: string;
  eth_type: number; vlan_vid: number; vlan_pcp: number; ip_dscp: number; ip_ecn: number;
  ip_proto: number; ipv4_src: string; ipv4_dst: string; tcp_src: number; tcp_dst: number;
  udp_src: number; udp_dst: number; sctp_src: number; sctp_dst: number; icmpv4_type: number;
  icmpv4_code: number; arp_op: number; arp_spa: string; arp_tpa: string; arp_sha: string;
  arp_tha: string; ipv6_src: string; ipv6_dst: string; ipv6_flabel: number; icmpv6_type: number;
  icmpv6_code: number; ipv6_nd_target: string; ipv6_nd_sll: string; ipv6_nd_tll: string;
  mpls_label: number; mpls_tc: number; mpls_bos: number; pbb_isid: number; tunnel_id: bigint;
  ipv6_exthdr: number;
}
export type OxmFieldName = keyof OxmValueTypes;

/** One OpenFlow-basic match entry; `mask` absent means an exact match. */
export type BasicOxm = {
  [K in OxmFieldName]: { field: K; value: OxmValueTypes[K]; mask?: OxmValueTypes[K] }
}[OxmFieldName];

/**
 * An entry kept as bytes: one of an OXM class the codec does not type (Nicira's NXM,
 * experimenter), an unknown basic field in a loosely parsed match, or an entry a sender
 * already holds in wire form (a switch reporting its rules), which encodes as a plain copy.
 */
export interface OpaqueOxm {
  field: 'opaque';
  /** The 32-bit OXM header: class, field, hasmask, length. */
  header: number;
  /** The payload after the header (experimenter id first, for class 0xffff). */
  payload: Buffer;
}

export type OxmField = BasicOxm | OpaqueOxm;
/** An OXM match: its entries in wire order. */
export type Match = OxmField[];

/** What the fields listed so far establish, for prerequisite checks. */
export interface PrereqState {
  ethType: number | undefined;
  ipProto: number | undefined;
  icmpv6Type: number | undefined;
  vlanPresent: boolean;
  inPort: boolean;
}

type Prereq = (s: PrereqState) => boolean;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const isIp: Prereq = (s) => s.ethType === ETH_IPV4 || s.ethType === ETH_IPV6;
const isIpv4: Prereq = (s) => s.ethType === ETH_IPV4;
const isIpv6: Prereq = (s) => s.ethType === ETH_IPV6;
const isArp: Prereq = (s) => s.ethType === ETH_ARP || s.ethType === ETH_RARP;
const isMpls: Prereq = (s) => s.ethType === 0x8847 || s.ethType === 0x8848;
const ipProto = (proto: number): Prereq => (s) => isIp(s) && s.ipProto === proto;
const icmpv4: Prereq = (s) => isIpv4(s) && s.ipProto === 1;
const icmpv6: Prereq = (s) => isIpv6(s) && s.ipProto === 58;

export interface OxmFieldSpec {
  name: OxmFieldName;
  /** OXM field number within OFPXMC_OPENFLOW_BASIC. */
  num: number;
  kind: ValueKind;
  /** Value width on the wire, in bytes. */
  bytes: number;
  /** Whether a mask other than all-ones may be given (Open vSwitch's choice where it has one). */
  maskable: boolean;
  /** Largest valid value, for fields narrower than their wire width. */
  maxValue?: number;
  prereq?: Prereq;
  /** Human-readable prerequisite, for error details. */
  prereqText?: string;
}

const KIND_BYTES: Record<ValueKind, number> = { u8: 1, u16: 2, u24: 3, u32: 4, u64: 8, mac: 6, ipv4: 4, ipv6: 16 };

function spec(name: OxmFieldName, num: number, kind: ValueKind, maskable: boolean,
  extra: Partial<Pick<OxmFieldSpec, 'maxValue' | 'prereq' | 'prereqText'>> = {}): OxmFieldSpec {
  return { name, num, kind, bytes: KIND_BYTES[kind], maskable, ...extra };
}

/**
 * Port numbers an in_port match may name. Open vSwitch's rule (ofputil_port_from_ofp11):
 * 16-bit port numbers below 0xff00, or 0xffffff00 and above (its 0xff00-0xffff range and the
 * reserved ports, as ovs-ofctl encodes them). The band between is refused with BAD_VALUE.
 */
const validPort = (v: number): boolean => v < 0xff00 || v >= 0xffffff00;

export const OXM_FIELDS: readonly OxmFieldSpec[] = [
  spec('in_port', 0, 'u32', false),
  spec('in_phy_port', 1, 'u32', false, { prereq: (s) => s.inPort, prereqText: 'in_port' }),
  spec('metadata', 2, 'u64', true),
  spec('eth_dst', 3, 'mac', true),
  spec('eth_src', 4, 'mac', true),
  spec('eth_type', 5, 'u16', false),
  spec('vlan_vid', 6, 'u16', true, { maxValue: 0x1fff }),
  // VLAN_PCP is "not maskable" in the 1.3 table, yet OFTest (match.VlanPCPMasked) expects a masked
  // priority to match, and a mask costs the classifier nothing: ofswitch accepts it (Open vSwitch
  // answers BAD_MASK).
  spec('vlan_pcp', 7, 'u8', true, { maxValue: 7, prereq: (s) => s.vlanPresent, prereqText: 'vlan_vid present' }),
  spec('ip_dscp', 8, 'u8', false, { maxValue: 63, prereq: isIp, prereqText: 'eth_type IPv4 or IPv6' }),
  spec('ip_ecn', 9, 'u8', false, { maxValue: 3, prereq: isIp, prereqText: 'eth_type IPv4 or IPv6' }),
  spec('ip_proto', 10, 'u8', false, { prereq: isIp, prereqText: 'eth_type IPv4 or IPv6' }),
  spec('ipv4_src', 11, 'ipv4', true, { prereq: isIpv4, prereqText: 'eth_type=0x0800' }),
  spec('ipv4_dst', 12, 'ipv4', true, { prereq: isIpv4, prereqText: 'eth_type=0x0800' }),
  spec('tcp_src', 13, 'u16', true, { prereq: ipProto(6), prereqText: 'ip_proto=6' }),
  spec('tcp_dst', 14, 'u16', true, { prereq: ipProto(6), prereqText: 'ip_proto=6' }),
  spec('udp_src', 15, 'u16', true, { prereq: ipProto(17), prereqText: 'ip_proto=17' }),
  spec('udp_dst', 16, 'u16', true, { prereq: ipProto(17), prereqText: 'ip_proto=17' }),
  spec('sctp_src', 17, 'u16', true, { prereq: ipProto(132), prereqText: 'ip_proto=132' }),
  spec('sctp_dst', 18, 'u16', true, { prereq: ipProto(132), prereqText: 'ip_proto=132' }),
  spec('icmpv4_type', 19, 'u8', false, { prereq: icmpv4, prereqText: 'ip_proto=1' }),
  spec('icmpv4_code', 20, 'u8', false, { prereq: icmpv4, prereqText: 'ip_proto=1' }),
  spec('arp_op', 21, 'u16', false, { prereq: isArp, prereqText: 'eth_type=0x0806' }),
  spec('arp_spa', 22, 'ipv4', true, { prereq: isArp, prereqText: 'eth_type=0x0806' }),
  spec('arp_tpa', 23, 'ipv4', true, { prereq: isArp, prereqText: 'eth_type=0x0806' }),
  spec('arp_sha', 24, 'mac', true, { prereq: isArp, prereqText: 'eth_type=0x0806' }),
  spec('arp_tha', 25, 'mac', true, { prereq: isArp, prereqText: 'eth_type=0x0806' }),
  spec('ipv6_src', 26, 'ipv6', true, { prereq: isIpv6, prereqText: 'eth_type=0x86dd' }),
  spec('ipv6_dst', 27, 'ipv6', true, { prereq: isIpv6, prereqText: 'eth_type=0x86dd' }),
  spec('ipv6_flabel', 28, 'u32', true, { maxValue: 0xfffff, prereq: isIpv6, prereqText: 'eth_type=0x86dd' }),
  spec('icmpv6_type', 29, 'u8', false, { prereq: icmpv6, prereqText: 'ip_proto=58' }),
  spec('icmpv6_code', 30, 'u8', false, { prereq: icmpv6, prereqText: 'ip_proto=58' }),
  spec('ipv6_nd_target', 31, 'ipv6', true, {
    prereq: (s) => icmpv6(s) && (s.icmpv6Type === 135 || s.icmpv6Type === 136), prereqText: 'icmpv6_type=135 or 136',
  }),
  spec('ipv6_nd_sll', 32, 'mac', true, { prereq: (s) => icmpv6(s) && s.icmpv6Type === 135, prereqText: 'icmpv6_type=135' }),
  spec('ipv6_nd_tll', 33, 'mac', true, { prereq: (s) => icmpv6(s) && s.icmpv6Type === 136, prereqText: 'icmpv6_type=136' }),
  spec('mpls_label', 34, 'u32', false, { maxValue: 0xfffff, prereq: isMpls, prereqText: 'eth_type=0x8847 or 0x8848' }),
  spec('mpls_tc', 35, 'u8', false, { maxValue: 7, prereq: isMpls, prereqText: 'eth_type=0x8847 or 0x8848' }),
  spec('mpls_bos', 36, 'u8', false, { maxValue: 1, prereq: isMpls, prereqText: 'eth_type=0x8847 or 0x8848' }),
  spec('pbb_isid', 37, 'u24', true, { prereq: (s) => s.ethType === 0x88e7, prereqText: 'eth_type=0x88e7' }),
  spec('tunnel_id', 38, 'u64', true),
  spec('ipv6_exthdr', 39, 'u16', true, { maxValue: 0x1ff, prereq: isIpv6, prereqText: 'eth_type=0x86dd' }),
];

const FIELD_BY_NUM: readonly (OxmFieldSpec | undefined)[] = (() => {
  const table: (OxmFieldSpec | undefined)[] = [];
  for (const f of OXM_FIELDS) table[f.num] = f;
  return table;
})();
const FIELD_BY_NAME = new Map<string, OxmFieldSpec>(OXM_FIELDS.map((f) => [f.name, f]));

export function oxmFieldSpec(name: OxmFieldName): OxmFieldSpec {
  return FIELD_BY_NAME.get(name)!;
}

export function oxmHeader(oxmClass: number, field: number, hasMask: boolean, length: number): number {
  return ((oxmClass << 16) | (field << 9) | (hasMask ? 0x100 : 0) | length) >>> 0;
}
export const oxmClassOf = (header: number): number => header >>> 16;
export const oxmFieldOf = (header: number): number => (header >>> 9) & 0x7f;
export const oxmHasMask = (header: number): boolean => (header & 0x100) !== 0;
export const oxmLengthOf = (header: number): number => header & 0xff;

/** The OXM header of a basic field, as used in table-features property lists. */
export function basicOxmHeader(name: OxmFieldName, hasMask = false): number {
  const f = oxmFieldSpec(name);
  return oxmHeader(OXM_CLASS_BASIC, f.num, hasMask, f.bytes * (hasMask ? 2 : 1));
}
const OXM_CLASS_BASIC = OFPXMC_OPENFLOW_BASIC;

function readValue(kind: ValueKind, buf: Buffer, off: number): number | bigint | string {
  switch (kind) {
    case 'u8': return buf[off]!;
    case 'u16': return buf.readUInt16BE(off);
    case 'u24': return buf.readUIntBE(off, 3);
    case 'u32': return buf.readUInt32BE(off);
    case 'u64': return buf.readBigUInt64BE(off);
    case 'mac': return formatMac(buf, off);
    case 'ipv4': return formatIpv4(buf, off);
    case 'ipv6': return formatIpv6(buf, off);
  }
}

const scratch = Buffer.alloc(16);

/** Writes a typed value in its wire form; throws OfpEncodeError when it does not fit. */
function writeValue(w: WireWriter, f: OxmFieldSpec, value: number | bigint | string): void {
  try {
    switch (f.kind) {
      case 'u8': case 'u16': case 'u24': case 'u32': {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** (8 * f.bytes)) {
          throw new RangeError(`${String(value)} is not a ${f.bytes * 8}-bit value`);
        }
        if (f.kind === 'u8') w.u8(value);
        else if (f.kind === 'u16') w.u16(value);
        else if (f.kind === 'u24') w.u24(value);
        else w.u32(value);
        return;
      }
      case 'u64':
        if (typeof value !== 'bigint') throw new RangeError('a 64-bit field takes a bigint');
        w.u64(value);
        return;
      case 'mac': writeMac(String(value), scratch, 0); break;
      case 'ipv4': writeIpv4(String(value), scratch, 0); break;
      case 'ipv6': writeIpv6(String(value), scratch, 0); break;
    }
    w.bytes(scratch.subarray(0, f.bytes));
  } catch (e) {
    throw new OfpEncodeError(`OXM ${f.name}: ${(e as Error).message}`);
  }
}

/** The wire bytes of a basic field's value (or mask); throws OfpEncodeError when it does not fit. */
export function oxmValueBytes(name: OxmFieldName, value: number | bigint | string): Buffer {
  const f = oxmFieldSpec(name);
  const w = new WireWriter(16);
  writeValue(w, f, value);
  return Buffer.from(w.finish());
}

/** The typed value of a basic field from its wire bytes (the inverse of oxmValueBytes). */
export function oxmValueFromBytes(name: OxmFieldName, bytes: Uint8Array, offset = 0): number | bigint | string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return readValue(oxmFieldSpec(name).kind, buf, offset);
}

export function encodeOxm(w: WireWriter, entry: OxmField): void {
  if (entry.field === 'opaque') {
    w.u32(entry.header);
    w.bytes(entry.payload);
    return;
  }
  const f = FIELD_BY_NAME.get(entry.field);
  if (!f) throw new OfpEncodeError(`unknown OXM field ${String(entry.field)}`);
  const hasMask = entry.mask !== undefined;
  w.u32(oxmHeader(OXM_CLASS_BASIC, f.num, hasMask, f.bytes * (hasMask ? 2 : 1)));
  writeValue(w, f, entry.value);
  if (hasMask) writeValue(w, f, entry.mask!);
}

/** The errors an OXM entry raises where it appears (a match, or a set-field action). */
export interface OxmErrors {
  errType: number;
  badLen: number;
  badField: number;
  badMask: number;
  badValue: number;
  badWildcards: number;
}

export const MATCH_ERRORS: OxmErrors = {
  errType: OFPET_BAD_MATCH, badLen: OFPBMC_BAD_LEN, badField: OFPBMC_BAD_FIELD, badMask: OFPBMC_BAD_MASK,
  badValue: OFPBMC_BAD_VALUE, badWildcards: OFPBMC_BAD_WILDCARDS,
};

function allBytes(buf: Buffer, off: number, n: number, byte: number): boolean {
  for (let i = 0; i < n; i++) if (buf[off + i] !== byte) return false;
  return true;
}

/** Throws the decode error `code` of `errors`' type (module-level: decodeOxm is hot, a closure per call costs). */
function oxmFail(errors: OxmErrors, code: number, detail: string): never {
  throw new OfpDecodeError(errors.errType, code, detail);
}

/**
 * Decodes one OXM entry. `allowMask` false rejects masked entries with errors.badMask;
 * `looseUnknown` keeps unknown basic fields as opaque instead of failing with badField.
 */
export function decodeOxm(r: WireReader, errors: OxmErrors, allowMask: boolean, looseUnknown: boolean): OxmField {
  if (r.remaining < 4) oxmFail(errors, errors.badLen, `partial OXM header (${r.remaining} bytes)`);
  const header = r.u32();
  const length = oxmLengthOf(header);
  if (length > r.remaining) oxmFail(errors, errors.badLen, `OXM entry 0x${header.toString(16)} overruns its container`);
  const oxmClass = oxmClassOf(header);
  const hasMask = oxmHasMask(header);
  const f = oxmClass === OXM_CLASS_BASIC ? FIELD_BY_NUM[oxmFieldOf(header)] : undefined;
  if (!f) {
    if (oxmClass === OXM_CLASS_BASIC && !looseUnknown) oxmFail(errors, errors.badField, `unknown OXM field ${oxmFieldOf(header)}`);
    if (oxmClass === OFPXMC_EXPERIMENTER && length < 4) oxmFail(errors, errors.badLen, 'experimenter OXM shorter than its id');
    return { field: 'opaque', header, payload: r.bytes(length) };
  }
  if (length !== f.bytes * (hasMask ? 2 : 1)) oxmFail(errors, errors.badLen, `OXM ${f.name} has length ${length}`);
  const buf = r.buf;
  const off = r.pos;
  r.pos += length;
  if (hasMask) {
    if (!allowMask) oxmFail(errors, errors.badMask, `OXM ${f.name} may not be masked here`);
    for (let i = 0; i < f.bytes; i++) {
      if ((buf[off + i]! & ~buf[off + f.bytes + i]!) !== 0) oxmFail(errors, errors.badWildcards, `OXM ${f.name} value has bits outside its mask`);
    }
    if (!f.maskable && !allBytes(buf, off + f.bytes, f.bytes, 0xff) && !allBytes(buf, off + f.bytes, f.bytes, 0)) {
      oxmFail(errors, errors.badMask, `OXM ${f.name} cannot be masked`);
    }
  }
  const value = readValue(f.kind, buf, off);
  if (f.maxValue !== undefined && (value as number) > f.maxValue) oxmFail(errors, errors.badValue, `OXM ${f.name} value ${String(value)} out of range`);
  if ((f.name === 'in_port' || f.name === 'in_phy_port') && !validPort(value as number)) {
    oxmFail(errors, errors.badValue, `OXM ${f.name} value 0x${(value as number).toString(16)} is not a port`);
  }
  if (!hasMask) return { field: f.name, value } as BasicOxm;
  return { field: f.name, value, mask: readValue(f.kind, buf, off + f.bytes) } as BasicOxm;
}

function updatePrereqState(s: PrereqState, e: BasicOxm): void {
  switch (e.field) {
    case 'eth_type': s.ethType = e.value; break;
    case 'ip_proto': s.ipProto = e.value; break;
    case 'icmpv6_type': s.icmpv6Type = e.value; break;
    case 'in_port': s.inPort = true; break;
    case 'vlan_vid':
      s.vlanPresent = (e.value & OFPVID_PRESENT) !== 0 && (e.mask === undefined || (e.mask & OFPVID_PRESENT) !== 0);
      break;
    default: break;
  }
}

/**
 * Decodes an ofp_match (type, length, OXM entries, padding to 8 bytes).
 * `strict` matches (flow-mods, flow stats requests) check prerequisites and reject unknown
 * basic fields; loose ones (packet-in) keep unknown fields opaque, as Open vSwitch does.
 */
export function decodeMatch(r: WireReader, strict: boolean): Match {
  const matchError = { errType: OFPET_BAD_MATCH, errCode: OFPBMC_BAD_LEN };
  if (r.remaining < 4) throw new OfpDecodeError(OFPET_BAD_MATCH, OFPBMC_BAD_LEN, 'truncated match header');
  const type = r.u16();
  const length = r.u16();
  if (type !== OFPMT_OXM) throw new OfpDecodeError(OFPET_BAD_MATCH, OFPBMC_BAD_TYPE, `match type ${type}`);
  if (length < 4 || padLength(length) - 4 > r.remaining) {
    throw new OfpDecodeError(OFPET_BAD_MATCH, OFPBMC_BAD_LEN, `match length ${length}`);
  }
  const body = r.sub(length - 4, matchError);
  r.skip(padLength(length) - length);
  const fields: Match = [];
  const state: PrereqState = { ethType: undefined, ipProto: undefined, icmpv6Type: undefined, vlanPresent: false, inPort: false };
  const seen = new Set<number>();
  while (body.remaining > 0) {
    const entry = decodeOxm(body, MATCH_ERRORS, true, !strict);
    const key = entry.field === 'opaque' ? (entry.header & 0xfffffe00) >>> 0 : oxmFieldSpec(entry.field).num;
    if (entry.field !== 'opaque') {
      const f = oxmFieldSpec(entry.field);
      if (strict && f.prereq && !f.prereq(state)) {
        throw new OfpDecodeError(OFPET_BAD_MATCH, OFPBMC_BAD_PREREQ, `${f.name} requires ${f.prereqText} before it`);
      }
      updatePrereqState(state, entry);
    }
    if (seen.has(key)) throw new OfpDecodeError(OFPET_BAD_MATCH, OFPBMC_DUP_FIELD, `field listed twice`);
    seen.add(key);
    fields.push(entry);
  }
  return fields;
}

export function encodeMatch(w: WireWriter, match: Match): void {
  const start = w.pos;
  w.u16(OFPMT_OXM);
  w.u16(0);
  for (const entry of match) encodeOxm(w, entry);
  w.patchU16(start + 2, w.pos - start);
  w.padTo(start, 8);
}
