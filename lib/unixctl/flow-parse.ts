/*
 * Open vSwitch's flow syntax (the subset `ofproto/trace` needs), turned into a packet:
 *
 *   in_port=1,tcp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,tp_dst=80
 *
 * Fields: in_port (a number, a port name, or LOCAL), dl_src/dl_dst, dl_type, dl_vlan and
 * dl_vlan_pcp (or vlan_tci), nw_src/nw_dst (IPv4, or ARP's addresses for arp),
 * ipv6_src/ipv6_dst, ipv6_label, nw_proto, nw_tos or ip_dscp, nw_ecn, nw_ttl, nw_frag (no, first,
 * later), tp_src/tp_dst
 * (and tcp_/udp_/sctp_src/dst), tcp_flags, icmp_type/icmp_code, arp_op, arp_spa/arp_tpa,
 * arp_sha/arp_tha, nd_target, nd_sll/nd_tll, mpls_label/mpls_tc/mpls_ttl/mpls_bos, and the
 * pipeline fields metadata and tun_id; the OXM spellings (eth_src, ipv4_dst, ip_proto, ...)
 * are accepted too. Shorthands: eth, ip, ipv6, tcp, udp, sctp, icmp, arp, rarp, tcp6, udp6,
 * sctp6, icmp6, mpls, mplsm.
 *
 * As in Open vSwitch, a field whose prerequisites the flow does not establish is an error
 * ("prerequisites not met for setting tp_src"), and a field not given is zero — except where a
 * zero would not describe a usable packet: the IP TTL / hop limit is 64, ARP's operation 1
 * (request), and an IPv6 next header not given is 59 (no next header).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { OFPP_CONTROLLER, OFPP_LOCAL } from '../../protocol/index.ts';
import { buildFrame, type FrameSpec } from '../packet/index.ts';

export class FlowSyntaxError extends Error {}
/** A hex packet that is not one. */
export class PacketSyntaxError extends FlowSyntaxError {}

/** A flow to trace: the packet, the port it comes in on, and the pipeline fields it starts with. */
export interface TraceFlow {
  inPort: number;
  metadata: bigint;
  tunnelId: bigint;
  frame: Buffer;
}

type Value = number | bigint | string;
type Kind = 'u8' | 'u16' | 'u32' | 'u64' | 'mac' | 'ipv4' | 'ipv6' | 'port' | 'vlan_tci' | 'frag';

interface FieldDef {
  /** The canonical field it sets. */
  field: string;
  kind: Kind;
  max?: number;
  /** nw_proto an alias implies (tcp_src: 6). */
  proto?: number;
  /** The value is scaled before it is stored (nw_tos is the DSCP shifted left by 2). */
  tos?: boolean;
}

const ZERO_MAC = '00:00:00:00:00:00';
const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MCAST = 0x8848;

function def(field: string, kind: Kind, extra: Partial<FieldDef> = {}): FieldDef {
  return { field, kind, ...extra };
}

const FIELDS: Record<string, FieldDef> = {
  in_port: def('in_port', 'port'),
  dl_src: def('dl_src', 'mac'), eth_src: def('dl_src', 'mac'),
  dl_dst: def('dl_dst', 'mac'), eth_dst: def('dl_dst', 'mac'),
  dl_type: def('dl_type', 'u16'), eth_type: def('dl_type', 'u16'),
  dl_vlan: def('dl_vlan', 'u16', { max: 4095 }), vlan_vid: def('dl_vlan', 'u16', { max: 4095 }),
  dl_vlan_pcp: def('dl_vlan_pcp', 'u8', { max: 7 }), vlan_pcp: def('dl_vlan_pcp', 'u8', { max: 7 }),
  vlan_tci: def('vlan_tci', 'vlan_tci'),
  nw_src: def('nw_src', 'ipv4'), ip_src: def('nw_src', 'ipv4'), ipv4_src: def('nw_src', 'ipv4'),
  nw_dst: def('nw_dst', 'ipv4'), ip_dst: def('nw_dst', 'ipv4'), ipv4_dst: def('nw_dst', 'ipv4'),
  ipv6_src: def('ipv6_src', 'ipv6'), ipv6_dst: def('ipv6_dst', 'ipv6'),
  ipv6_label: def('ipv6_label', 'u32', { max: 0xfffff }), ipv6_flabel: def('ipv6_label', 'u32', { max: 0xfffff }),
  nw_proto: def('nw_proto', 'u8'), ip_proto: def('nw_proto', 'u8'),
  nw_tos: def('ip_dscp', 'u8', { tos: true }), ip_dscp: def('ip_dscp', 'u8', { max: 63 }),
  nw_ecn: def('nw_ecn', 'u8', { max: 3 }), ip_ecn: def('nw_ecn', 'u8', { max: 3 }),
  nw_ttl: def('nw_ttl', 'u8'),
  nw_frag: def('nw_frag', 'frag'), ip_frag: def('nw_frag', 'frag'),
  tp_src: def('tp_src', 'u16'), tp_dst: def('tp_dst', 'u16'),
  tcp_src: def('tp_src', 'u16', { proto: 6 }), tcp_dst: def('tp_dst', 'u16', { proto: 6 }),
  udp_src: def('tp_src', 'u16', { proto: 17 }), udp_dst: def('tp_dst', 'u16', { proto: 17 }),
  sctp_src: def('tp_src', 'u16', { proto: 132 }), sctp_dst: def('tp_dst', 'u16', { proto: 132 }),
  tcp_flags: def('tcp_flags', 'u16', { max: 0xfff, proto: 6 }),
  icmp_type: def('icmp_type', 'u8'), icmp_code: def('icmp_code', 'u8'),
  icmpv4_type: def('icmp_type', 'u8', { proto: 1 }), icmpv4_code: def('icmp_code', 'u8', { proto: 1 }),
  icmpv6_type: def('icmp_type', 'u8', { proto: 58 }), icmpv6_code: def('icmp_code', 'u8', { proto: 58 }),
  arp_op: def('arp_op', 'u16'), arp_spa: def('arp_spa', 'ipv4'), arp_tpa: def('arp_tpa', 'ipv4'),
  arp_sha: def('arp_sha', 'mac'), arp_tha: def('arp_tha', 'mac'),
  nd_target: def('nd_target', 'ipv6'), ipv6_nd_target: def('nd_target', 'ipv6'),
  nd_sll: def('nd_sll', 'mac'), ipv6_nd_sll: def('nd_sll', 'mac'),
  nd_tll: def('nd_tll', 'mac'), ipv6_nd_tll: def('nd_tll', 'mac'),
  mpls_label: def('mpls_label', 'u32', { max: 0xfffff }), mpls_tc: def('mpls_tc', 'u8', { max: 7 }),
  mpls_ttl: def('mpls_ttl', 'u8'), mpls_bos: def('mpls_bos', 'u8', { max: 1 }),
  metadata: def('metadata', 'u64'), tun_id: def('tun_id', 'u64'), tunnel_id: def('tun_id', 'u64'),
};

const SHORTHANDS: Record<string, { dlType: number; proto?: number }> = {
  ip: { dlType: ETH_IP }, ipv6: { dlType: ETH_IPV6 }, arp: { dlType: ETH_ARP }, rarp: { dlType: ETH_RARP },
  tcp: { dlType: ETH_IP, proto: 6 }, udp: { dlType: ETH_IP, proto: 17 }, sctp: { dlType: ETH_IP, proto: 132 },
  icmp: { dlType: ETH_IP, proto: 1 }, tcp6: { dlType: ETH_IPV6, proto: 6 }, udp6: { dlType: ETH_IPV6, proto: 17 },
  sctp6: { dlType: ETH_IPV6, proto: 132 }, icmp6: { dlType: ETH_IPV6, proto: 58 },
  mpls: { dlType: ETH_MPLS }, mplsm: { dlType: ETH_MPLS_MCAST },
};

const UINT_MAX: Record<'u8' | 'u16' | 'u32', number> = { u8: 0xff, u16: 0xffff, u32: 0xffffffff };

function parseValue(name: string, d: FieldDef, text: string, resolvePort: (name: string) => number | undefined): Value {
  const bad = (what: string): never => { throw new FlowSyntaxError(`${name}: ${JSON.stringify(text)} is not ${what}`); };
  switch (d.kind) {
    case 'mac':
      if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/.test(text)) bad('an Ethernet address');
      return text.split(':').map((p) => p.padStart(2, '0').toLowerCase()).join(':');
    case 'ipv4':
      if (!isIPv4(text)) bad('an IPv4 address');
      return text;
    case 'ipv6':
      if (!isIPv6(text)) bad('an IPv6 address');
      return text;
    case 'frag':
      if (text !== 'first' && text !== 'later') bad('no, first or later');
      return text;
    case 'u64':
      if (!/^(0x[0-9a-fA-F]{1,16}|\d+)$/.test(text) || BigInt(text) > 0xffffffffffffffffn) bad('a 64-bit number');
      return BigInt(text);
    case 'port': {
      if (/^\d+$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
      const upper = text.toUpperCase();
      if (upper === 'LOCAL') return OFPP_LOCAL;
      if (upper === 'CONTROLLER') return OFPP_CONTROLLER;
      const port = resolvePort(text);
      if (port === undefined) throw new FlowSyntaxError(`in_port: unknown port ${JSON.stringify(text)}`);
      return port;
    }
    default: {
      const max = d.kind === 'vlan_tci' ? 0xffff : d.tos ? 0xfc : d.max ?? UINT_MAX[d.kind];
      if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text)) bad('a number');
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n > max) bad(`a number from 0 to ${max}`);
      if (d.tos) {
        if (n % 4) throw new FlowSyntaxError(`${name}: ${text} is not a multiple of 4 (the ECN bits are nw_ecn)`);
        return n >> 2;
      }
      return n;
    }
  }
}

/** A parsed flow: canonical field name to value. */
type Fields = Map<string, Value>;

function set(fields: Fields, field: string, value: Value, source: string): void {
  const old = fields.get(field);
  if (old !== undefined && old !== value) throw new FlowSyntaxError(`${source} conflicts with an earlier ${field}=${String(old)}`);
  fields.set(field, value);
}

function parseFields(text: string, resolvePort: (name: string) => number | undefined): Fields {
  const fields: Fields = new Map();
  const words = text.split(/[,\s]+/).filter((w) => w !== '');
  for (const word of words) {
    const eq = word.indexOf('=');
    const name = (eq < 0 ? word : word.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (name === 'eth') continue;
      const shorthand = SHORTHANDS[name];
      if (!shorthand) throw new FlowSyntaxError(FIELDS[name] ? `${name} needs a value` : `unknown field ${name}`);
      set(fields, 'dl_type', shorthand.dlType, name);
      if (shorthand.proto !== undefined) set(fields, 'nw_proto', shorthand.proto, name);
      continue;
    }
    const value = word.slice(eq + 1);
    if ((name === 'nw_frag' || name === 'ip_frag') && value === 'no') continue;
    const d = FIELDS[name];
    if (!d) throw new FlowSyntaxError(`unknown field ${name}`);
    if (value.includes('/')) throw new FlowSyntaxError(`${name}: a flow to trace has exact values, not masks`);
    const v = parseValue(name, d, value, resolvePort);
    if (d.kind === 'vlan_tci') {
      const tci = v as number;
      if (tci & 0x1000) {
        set(fields, 'dl_vlan', tci & 0xfff, name);
        set(fields, 'dl_vlan_pcp', tci >> 13, name);
      } else if (tci !== 0) {
        throw new FlowSyntaxError(`vlan_tci: ${value} has no tag (0x1000 clear) but other bits set`);
      }
      continue;
    }
    set(fields, d.field, v, name);
    if (d.proto !== undefined) {
      if (fields.get('nw_proto') !== undefined && fields.get('nw_proto') !== d.proto) throw new FlowSyntaxError(`prerequisites not met for setting ${name}`);
      fields.set(`require_proto:${name}`, d.proto);
    }
  }
  return fields;
}

/** Refuses fields the flow's dl_type and nw_proto do not allow, in Open vSwitch's words. */
function checkPrerequisites(fields: Fields): void {
  const dlType = fields.get('dl_type') as number | undefined;
  const proto = fields.get('nw_proto') as number | undefined;
  const ip = dlType === ETH_IP;
  const ipv6 = dlType === ETH_IPV6;
  const arp = dlType === ETH_ARP || dlType === ETH_RARP;
  const icmp = (ip && proto === 1) || (ipv6 && proto === 58);
  const icmpType = fields.get('icmp_type') as number | undefined;
  const allowed: Record<string, boolean> = {
    nw_src: ip || arp, nw_dst: ip || arp, ipv6_src: ipv6, ipv6_dst: ipv6, ipv6_label: ipv6,
    nw_proto: ip || ipv6, ip_dscp: ip || ipv6, nw_ecn: ip || ipv6, nw_ttl: ip || ipv6, nw_frag: ip || ipv6,
    tp_src: (ip || ipv6) && (proto === 6 || proto === 17 || proto === 132), tp_dst: (ip || ipv6) && (proto === 6 || proto === 17 || proto === 132),
    tcp_flags: (ip || ipv6) && proto === 6, icmp_type: icmp, icmp_code: icmp,
    arp_op: arp, arp_spa: arp, arp_tpa: arp, arp_sha: arp, arp_tha: arp,
    nd_target: ipv6 && proto === 58 && (icmpType === 135 || icmpType === 136),
    nd_sll: ipv6 && proto === 58 && icmpType === 135, nd_tll: ipv6 && proto === 58 && icmpType === 136,
    mpls_label: dlType === ETH_MPLS || dlType === ETH_MPLS_MCAST, mpls_tc: dlType === ETH_MPLS || dlType === ETH_MPLS_MCAST,
    mpls_ttl: dlType === ETH_MPLS || dlType === ETH_MPLS_MCAST, mpls_bos: dlType === ETH_MPLS || dlType === ETH_MPLS_MCAST,
  };
  for (const [field, value] of fields) {
    if (field.startsWith('require_proto:')) {
      const name = field.slice('require_proto:'.length);
      if (proto !== value || !(ip || ipv6)) throw new FlowSyntaxError(`prerequisites not met for setting ${name}`);
      if (name.startsWith('icmpv4') && !ip) throw new FlowSyntaxError(`prerequisites not met for setting ${name}`);
      continue;
    }
    if (allowed[field] === false) throw new FlowSyntaxError(`prerequisites not met for setting ${field}`);
  }
}

function frameFromFields(fields: Fields): Buffer {
  const get = <T extends Value>(name: string): T | undefined => fields.get(name) as T | undefined;
  const num = (name: string, fallback = 0): number => get<number>(name) ?? fallback;
  const spec: FrameSpec = { ethSrc: get<string>('dl_src') ?? ZERO_MAC, ethDst: get<string>('dl_dst') ?? ZERO_MAC };
  if (fields.has('dl_vlan') || fields.has('dl_vlan_pcp')) spec.vlans = [{ vid: num('dl_vlan'), pcp: num('dl_vlan_pcp') }];
  const dlType = num('dl_type');
  const proto = get<number>('nw_proto');
  const frag = get<string>('nw_frag');
  const transport = (): void => {
    // A later fragment carries no transport header (its ports read as 0, as in Open vSwitch).
    if (frag === 'later') {
      spec.payload = Buffer.alloc(16);
      return;
    }
    const src = num('tp_src');
    const dst = num('tp_dst');
    if (proto === 6) spec.tcp = { src, dst, ...(fields.has('tcp_flags') ? { flags: num('tcp_flags') } : {}) };
    else if (proto === 17) spec.udp = { src, dst };
    else if (proto === 132) spec.sctp = { src, dst };
  };
  if (dlType === ETH_IP) {
    spec.ipv4 = {
      src: get<string>('nw_src') ?? '0.0.0.0', dst: get<string>('nw_dst') ?? '0.0.0.0', ttl: num('nw_ttl', 64),
      dscp: num('ip_dscp'), ecn: num('nw_ecn'), proto: proto ?? 0,
      ...(frag === 'first' ? { moreFragments: true } : frag === 'later' ? { fragmentOffset: 100 } : {}),
    };
    transport();
    if (proto === 1) spec.icmpv4 = { type: num('icmp_type'), code: num('icmp_code') };
  } else if (dlType === ETH_IPV6) {
    spec.ipv6 = {
      src: get<string>('ipv6_src') ?? '::', dst: get<string>('ipv6_dst') ?? '::', hopLimit: num('nw_ttl', 64),
      flabel: num('ipv6_label'), dscp: num('ip_dscp'), ecn: num('nw_ecn'), nextHeader: proto ?? 59,
      ...(frag ? { extHeaders: [frag === 'first' ? { type: 'fragment' as const, more: true } : { type: 'fragment' as const, offset: 100 }] } : {}),
    };
    transport();
    if (proto === 58) {
      const target = get<string>('nd_target');
      const sll = get<string>('nd_sll');
      const tll = get<string>('nd_tll');
      spec.icmpv6 = {
        type: num('icmp_type'), code: num('icmp_code'),
        ...(target !== undefined ? { ndTarget: target } : {}), ...(sll !== undefined ? { sll } : {}), ...(tll !== undefined ? { tll } : {}),
      };
    }
  } else if (dlType === ETH_ARP || dlType === ETH_RARP) {
    spec.arp = {
      op: num('arp_op', 1), sha: get<string>('arp_sha') ?? ZERO_MAC, tha: get<string>('arp_tha') ?? ZERO_MAC,
      spa: get<string>('arp_spa') ?? get<string>('nw_src') ?? '0.0.0.0', tpa: get<string>('arp_tpa') ?? get<string>('nw_dst') ?? '0.0.0.0',
      rarp: dlType === ETH_RARP,
    };
  } else if (dlType === ETH_MPLS || dlType === ETH_MPLS_MCAST) {
    spec.ethType = dlType;
    spec.mpls = [{ label: num('mpls_label'), tc: num('mpls_tc'), ttl: num('mpls_ttl', 64), bos: num('mpls_bos', 1) === 1 }];
  } else {
    spec.ethType = dlType;
  }
  return buildFrame(spec);
}

/**
 * Parses FLOW (Open vSwitch syntax). With `packet` (hex bytes of an Ethernet frame), the flow
 * may give only in_port and the pipeline fields, and the packet is traced as it is.
 * Throws FlowSyntaxError with a one-line reason.
 */
export function parseTraceFlow(flow: string, packet: string | undefined, resolvePort: (name: string) => number | undefined = () => undefined): TraceFlow {
  const fields = parseFields(flow, resolvePort);
  const inPort = (fields.get('in_port') as number | undefined) ?? 0;
  const metadata = (fields.get('metadata') as bigint | undefined) ?? 0n;
  const tunnelId = (fields.get('tun_id') as bigint | undefined) ?? 0n;
  if (packet !== undefined) {
    const extra = [...fields.keys()].filter((f) => f !== 'in_port' && f !== 'metadata' && f !== 'tun_id');
    if (extra.length) throw new FlowSyntaxError(`with a packet, the flow gives only in_port, metadata and tun_id (not ${extra[0]!.replace('require_proto:', '')})`);
    return { inPort, metadata, tunnelId, frame: parseHexPacket(packet) };
  }
  checkPrerequisites(fields);
  return { inPort, metadata, tunnelId, frame: frameFromFields(fields) };
}

/** Hex bytes of a frame (whitespace, `:` and `.` separators and a 0x prefix allowed). */
export function parseHexPacket(text: string): Buffer {
  const hex = text.replace(/^0x/i, '').replace(/[\s:.]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new PacketSyntaxError(`${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)} is not hex bytes`);
  const frame = Buffer.from(hex, 'hex');
  if (frame.length < 14) throw new PacketSyntaxError(`${frame.length} bytes is shorter than an Ethernet header (14)`);
  return frame;
}
