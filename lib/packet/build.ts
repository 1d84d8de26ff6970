/*
 * Frame builders for tests: an Ethernet frame from a plain description (MACs, VLAN tags,
 * PBB I-TAG, MPLS labels, ARP, IPv4, IPv6 with extension headers, TCP, UDP, SCTP, ICMP,
 * ICMPv6 with neighbour discovery), with every length and checksum filled in correctly.
 * Not for the packet path: it allocates freely.
 *
 *   buildFrame({ ethSrc: '00:00:00:00:00:01', ethDst: '00:00:00:00:00:02', vlans: [{ vid: 10 }],
 *     ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { src: 1234, dst: 80 } })
 *
 * Addresses are text (MACs "aa:bb:cc:dd:ee:ff", dotted IPv4, IPv6 in any RFC 4291 form).
 * Layers nest in the usual order; eth_type, IP protocol and next-header values follow from
 * what is present unless given explicitly.
 */
import { oxmValueBytes } from '../../protocol/index.ts';
import { crc32c, internetChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum } from './checksum.ts';
import {
  ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MPLS, ETH_TYPE_PBB, ETH_TYPE_RARP, ETH_TYPE_VLAN_8021Q,
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_ESP, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMP, IPPROTO_ICMPV6,
  IPPROTO_NONE, IPPROTO_ROUTING, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
} from './headers.ts';

export interface VlanTag {
  vid: number;
  pcp?: number;
  dei?: boolean;
  /** 0x8100 (default) or 0x88a8. */
  tpid?: number;
}

export interface PbbTag {
  isid: number;
  pcp?: number;
  dei?: boolean;
  uca?: boolean;
}

export interface MplsEntry {
  label: number;
  tc?: number;
  /** Default 64. */
  ttl?: number;
  /** Default: set on the last entry only. */
  bos?: boolean;
}

export interface ArpSpec {
  /** 1 request (default), 2 reply; RARP uses 3 and 4. */
  op?: number;
  sha: string;
  spa: string;
  tha?: string;
  tpa: string;
  /** Sends it as RARP (eth_type 0x8035). */
  rarp?: boolean;
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  ttl?: number;
  dscp?: number;
  ecn?: number;
  /** Default: from the transport given, else 253 (experimentation). */
  proto?: number;
  id?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in 8-byte units. */
  fragmentOffset?: number;
  /** IP options, a multiple of 4 bytes. */
  options?: Uint8Array;
}

export type Ipv6ExtHeader =
  | { type: 'hop' | 'dest'; /** Extra 8-byte units of PadN options after the first 8 bytes. */ units?: number }
  | { type: 'routing'; routingType?: number; segmentsLeft?: number; addresses?: string[] }
  | { type: 'fragment'; offset?: number; more?: boolean; id?: number }
  | { type: 'auth'; spi?: number; seq?: number }
  | { type: 'esp'; spi?: number; seq?: number };

export interface Ipv6Spec {
  src: string;
  dst: string;
  hopLimit?: number;
  flabel?: number;
  dscp?: number;
  ecn?: number;
  /** In order after the fixed header. An ESP header makes everything after it opaque. */
  extHeaders?: Ipv6ExtHeader[];
  /** Next header after the extension headers; default from the transport given, else 59. */
  nextHeader?: number;
}

export interface TcpSpec {
  src: number;
  dst: number;
  seq?: number;
  ack?: number;
  /** Default SYN (0x02). */
  flags?: number;
  window?: number;
}

export interface UdpSpec {
  src: number;
  dst: number;
  /** false sends checksum 0 ("none"); default true. */
  checksum?: boolean;
}

export interface SctpSpec {
  src: number;
  dst: number;
  vtag?: number;
}

export interface IcmpSpec {
  type: number;
  code: number;
  /** The 4 bytes after the checksum (identifier and sequence for echo). */
  rest?: number;
}

export interface Icmpv6Spec {
  type: number;
  code: number;
  /** The 4 bytes after the checksum (ND: the R/S/O flags word). */
  rest?: number;
  /** Neighbour solicitation/advertisement target; with sll/tll, the options. */
  ndTarget?: string;
  sll?: string;
  tll?: string;
}

export interface FrameSpec {
  ethDst?: string;
  ethSrc?: string;
  /** Outermost first. */
  vlans?: VlanTag[];
  /** An I-TAG after the tags; `payload` is then the customer frame. */
  pbb?: PbbTag;
  /** Outermost first. */
  mpls?: MplsEntry[];
  /** The ethertype after the VLAN tags; by default from what follows. */
  ethType?: number;
  arp?: ArpSpec;
  ipv4?: Ipv4Spec;
  ipv6?: Ipv6Spec;
  tcp?: TcpSpec;
  udp?: UdpSpec;
  sctp?: SctpSpec;
  icmpv4?: IcmpSpec;
  icmpv6?: Icmpv6Spec;
  /** Bytes after the innermost header. */
  payload?: Uint8Array;
  /** Pads the frame with zeros to this length (60 for a minimum-size Ethernet frame). */
  padTo?: number;
}

export const DEFAULT_ETH_SRC = '00:00:00:00:00:01';
export const DEFAULT_ETH_DST = '00:00:00:00:00:02';

export function buildFrame(spec: FrameSpec): Buffer {
  const parts: Uint8Array[] = [mac(spec.ethDst ?? DEFAULT_ETH_DST), mac(spec.ethSrc ?? DEFAULT_ETH_SRC)];
  for (const tag of spec.vlans ?? []) {
    const tci = ((tag.pcp ?? 0) << 13) | (tag.dei ? 0x1000 : 0) | (tag.vid & 0xfff);
    parts.push(u16(tag.tpid ?? ETH_TYPE_VLAN_8021Q), u16(tci));
  }
  const l3 = spec.arp ? arpHeader(spec.arp) : spec.ipv4 ? ipv4Packet(spec) : spec.ipv6 ? ipv6Packet(spec)
    : Buffer.from(spec.payload ?? []);
  const innerType = spec.arp ? (spec.arp.rarp ? ETH_TYPE_RARP : ETH_TYPE_ARP)
    : spec.ipv4 ? ETH_TYPE_IP : spec.ipv6 ? ETH_TYPE_IPV6 : 0x88b5;
  if (spec.pbb) {
    const p = spec.pbb;
    parts.push(u16(spec.ethType ?? ETH_TYPE_PBB));
    parts.push(u32((((p.pcp ?? 0) << 29) | (p.dei ? 1 << 28 : 0) | (p.uca ? 1 << 27 : 0) | (p.isid & 0xffffff)) >>> 0));
  } else if (spec.mpls && spec.mpls.length > 0) {
    parts.push(u16(spec.ethType ?? ETH_TYPE_MPLS));
    spec.mpls.forEach((e, i) => {
      const bos = e.bos ?? i === spec.mpls!.length - 1;
      parts.push(u32(((e.label << 12) | ((e.tc ?? 0) << 9) | (bos ? 0x100 : 0) | (e.ttl ?? 64)) >>> 0));
    });
  } else {
    parts.push(u16(spec.ethType ?? innerType));
  }
  parts.push(l3);
  const frame = Buffer.concat(parts);
  if (spec.padTo === undefined || frame.length >= spec.padTo) return frame;
  return Buffer.concat([frame, Buffer.alloc(spec.padTo - frame.length)]);
}

function arpHeader(arp: ArpSpec): Buffer {
  return Buffer.concat([
    u16(1), u16(ETH_TYPE_IP), Uint8Array.of(6, 4), u16(arp.op ?? 1),
    mac(arp.sha), ipv4(arp.spa), mac(arp.tha ?? '00:00:00:00:00:00'), ipv4(arp.tpa),
  ]);
}

/** The transport protocol number and header+payload of the frame's transport, without checksum. */
function transport(spec: FrameSpec): { proto: number; bytes: Buffer } | undefined {
  const payload = Buffer.from(spec.payload ?? []);
  if (spec.tcp) {
    const t = spec.tcp;
    const h = Buffer.alloc(20);
    h.writeUInt16BE(t.src, 0);
    h.writeUInt16BE(t.dst, 2);
    h.writeUInt32BE(t.seq ?? 1, 4);
    h.writeUInt32BE(t.ack ?? 0, 8);
    h[12] = 5 << 4;
    h[13] = t.flags ?? 0x02;
    h.writeUInt16BE(t.window ?? 8192, 14);
    return { proto: IPPROTO_TCP, bytes: Buffer.concat([h, payload]) };
  }
  if (spec.udp) {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(spec.udp.src, 0);
    h.writeUInt16BE(spec.udp.dst, 2);
    h.writeUInt16BE(8 + payload.length, 4);
    return { proto: IPPROTO_UDP, bytes: Buffer.concat([h, payload]) };
  }
  if (spec.sctp) {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(spec.sctp.src, 0);
    h.writeUInt16BE(spec.sctp.dst, 2);
    h.writeUInt32BE(spec.sctp.vtag ?? 0, 4);
    return { proto: IPPROTO_SCTP, bytes: Buffer.concat([h, payload]) };
  }
  if (spec.icmpv4) {
    const h = Buffer.alloc(8);
    h[0] = spec.icmpv4.type;
    h[1] = spec.icmpv4.code;
    h.writeUInt32BE(spec.icmpv4.rest ?? 0, 4);
    return { proto: IPPROTO_ICMP, bytes: Buffer.concat([h, payload]) };
  }
  if (spec.icmpv6) {
    const m = spec.icmpv6;
    const h = Buffer.alloc(8);
    h[0] = m.type;
    h[1] = m.code;
    h.writeUInt32BE(m.rest ?? 0, 4);
    const body: Uint8Array[] = [h];
    if (m.ndTarget !== undefined) body.push(ipv6(m.ndTarget));
    if (m.sll !== undefined) body.push(Uint8Array.of(ND_OPT_SOURCE_LINKADDR, 1), mac(m.sll));
    if (m.tll !== undefined) body.push(Uint8Array.of(ND_OPT_TARGET_LINKADDR, 1), mac(m.tll));
    body.push(payload);
    return { proto: IPPROTO_ICMPV6, bytes: Buffer.concat(body) };
  }
  return undefined;
}

/** Fills in the transport checksum, given the pseudo-header's partial sum. */
function finishTransport(proto: number, bytes: Buffer, pseudo: number, spec: FrameSpec): void {
  if (proto === IPPROTO_TCP) bytes.writeUInt16BE(internetChecksum(bytes, 0, bytes.length, pseudo), 16);
  else if (proto === IPPROTO_UDP) {
    if (spec.udp?.checksum === false) return;
    bytes.writeUInt16BE(internetChecksum(bytes, 0, bytes.length, pseudo) || 0xffff, 6);
  } else if (proto === IPPROTO_ICMP) bytes.writeUInt16BE(internetChecksum(bytes, 0, bytes.length), 2);
  else if (proto === IPPROTO_ICMPV6) bytes.writeUInt16BE(internetChecksum(bytes, 0, bytes.length, pseudo), 2);
  else if (proto === IPPROTO_SCTP) bytes.writeUInt32LE(crc32c(bytes, 0, bytes.length), 8);
}

function ipv4Packet(spec: FrameSpec): Buffer {
  const ip = spec.ipv4!;
  const l4 = transport(spec);
  const body = l4?.bytes ?? Buffer.from(spec.payload ?? []);
  const options = Buffer.from(ip.options ?? []);
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | (h.length / 4);
  h[1] = ((ip.dscp ?? 0) << 2) | (ip.ecn ?? 0);
  h.writeUInt16BE(h.length + body.length, 2);
  h.writeUInt16BE(ip.id ?? 0, 4);
  h.writeUInt16BE((ip.dontFragment ? 0x4000 : 0) | (ip.moreFragments ? 0x2000 : 0) | (ip.fragmentOffset ?? 0), 6);
  h[8] = ip.ttl ?? 64;
  h[9] = ip.proto ?? l4?.proto ?? 253;
  ipv4(ip.src).forEach((b, i) => { h[12 + i] = b; });
  ipv4(ip.dst).forEach((b, i) => { h[16 + i] = b; });
  options.copy(h, 20);
  h.writeUInt16BE(internetChecksum(h, 0, h.length), 10);
  if (l4 && !ip.fragmentOffset) {
    finishTransport(l4.proto, l4.bytes, ipv4PseudoHeaderSum(h, 0, l4.proto, body.length), spec);
  }
  return Buffer.concat([h, body]);
}

const EXT_PROTO: Record<Ipv6ExtHeader['type'], number> = {
  hop: IPPROTO_HOPOPTS, dest: IPPROTO_DSTOPTS, routing: IPPROTO_ROUTING, fragment: IPPROTO_FRAGMENT,
  auth: IPPROTO_AH, esp: IPPROTO_ESP,
};

function ipv6Packet(spec: FrameSpec): Buffer {
  const ip = spec.ipv6!;
  const l4 = transport(spec);
  const upper = ip.nextHeader ?? l4?.proto ?? IPPROTO_NONE;
  const exts = ip.extHeaders ?? [];
  let body: Buffer = l4?.bytes ?? Buffer.from(spec.payload ?? []);
  let finalDst = ipv6(ip.dst);
  let laterFragment = false;
  for (const ext of exts) {
    if (ext.type === 'routing' && (ext.segmentsLeft ?? 0) > 0 && ext.addresses?.length) {
      finalDst = ipv6(ext.addresses[ext.addresses.length - 1]!);
    }
    if (ext.type === 'fragment' && (ext.offset ?? 0) > 0) laterFragment = true;
  }
  if (l4 && !laterFragment) {
    const h = Buffer.alloc(40);
    ipv6(ip.src).forEach((b, i) => { h[8 + i] = b; });
    Buffer.from(finalDst).copy(h, 24);
    finishTransport(l4.proto, l4.bytes, ipv6PseudoHeaderSum(h, 0, l4.proto, l4.bytes.length), spec);
  }
  /* Extension headers, innermost first, each pointing at what follows it. */
  let next = upper;
  for (let i = exts.length - 1; i >= 0; i--) {
    const ext = exts[i]!;
    body = Buffer.concat([extHeader(ext, next), body]);
    next = EXT_PROTO[ext.type];
  }
  const h = Buffer.alloc(40);
  const tc = ((ip.dscp ?? 0) << 2) | (ip.ecn ?? 0);
  h.writeUInt32BE(((6 << 28) | (tc << 20) | ((ip.flabel ?? 0) & 0xfffff)) >>> 0, 0);
  h.writeUInt16BE(body.length, 4);
  h[6] = next;
  h[7] = ip.hopLimit ?? 64;
  ipv6(ip.src).forEach((b, i) => { h[8 + i] = b; });
  ipv6(ip.dst).forEach((b, i) => { h[24 + i] = b; });
  return Buffer.concat([h, body]);
}

function extHeader(ext: Ipv6ExtHeader, next: number): Buffer {
  switch (ext.type) {
    case 'hop':
    case 'dest': {
      const units = ext.units ?? 0;
      const h = Buffer.alloc(8 * (units + 1));
      h[0] = next;
      h[1] = units;
      /* PadN option filling the rest (6 + 8*units bytes): type 1, length 4 + 8*units. */
      h[2] = 1;
      h[3] = 4 + 8 * units;
      return h;
    }
    case 'routing': {
      const addresses = ext.addresses ?? [];
      const h = Buffer.alloc(8 + 16 * addresses.length);
      h[0] = next;
      h[1] = 2 * addresses.length;
      h[2] = ext.routingType ?? 0;
      h[3] = ext.segmentsLeft ?? 0;
      addresses.forEach((a, i) => Buffer.from(ipv6(a)).copy(h, 8 + 16 * i));
      return h;
    }
    case 'fragment': {
      const h = Buffer.alloc(8);
      h[0] = next;
      h.writeUInt16BE(((ext.offset ?? 0) << 3) | (ext.more ? 1 : 0), 2);
      h.writeUInt32BE(ext.id ?? 0, 4);
      return h;
    }
    case 'auth': {
      /* 12 bytes of fixed fields and a 12-byte ICV: 24 bytes, payload length (24/4) - 2 = 4. */
      const h = Buffer.alloc(24);
      h[0] = next;
      h[1] = 4;
      h.writeUInt32BE(ext.spi ?? 0x100, 4);
      h.writeUInt32BE(ext.seq ?? 1, 8);
      return h;
    }
    case 'esp': {
      /* SPI and sequence number; what follows is taken as ciphertext. */
      const h = Buffer.alloc(8);
      h.writeUInt32BE(ext.spi ?? 0x100, 0);
      h.writeUInt32BE(ext.seq ?? 1, 4);
      return h;
    }
  }
}

function mac(text: string): Buffer {
  return oxmValueBytes('eth_src', text);
}

function ipv4(text: string): Buffer {
  return oxmValueBytes('ipv4_src', text);
}

function ipv6(text: string): Buffer {
  return oxmValueBytes('ipv6_src', text);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
