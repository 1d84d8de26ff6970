/*
 * Open vSwitch's flow hashes, bit for bit, so that a SELECT group sends each flow to the bucket
 * Open vSwitch would (lib/flow.c, lib/hash.h and lib/jhash.c of Open vSwitch 3.1, as built for
 * x86-64 without SSE 4.2: the Murmur-based hash_add).
 *
 *  - symmetricL3L4Hash is flow_hash_symmetric_l3l4() without UDP ports, the dp_hash that
 *    Open vSwitch's datapath computes for a select group (OVS_HASH_ALG_SYM_L4);
 *  - symmetricL4Hash is flow_hash_symmetric_l4(), the slow-path hash of a select group whose
 *    bucket weights need more than 256 hash values;
 *  - hashInt is hash_int(), which scores buckets in that slow path.
 *
 * Open vSwitch hashes struct flow's fields as they lie in memory: network byte order read as
 * little-endian words. The flow key here holds the same bytes, so the words are read the same
 * way. Only the outer VLAN ID is in the key: Open vSwitch also mixes in a second tag's.
 *
 * Given a megaflow `mask`, each function marks the fields its result depended on.
 */
import { fieldSlot, NW_FRAG_OFFSET } from './flow-layout.ts';

const ETH_DST = fieldSlot('eth_dst').offset;
const ETH_SRC = fieldSlot('eth_src').offset;
const VLAN_VID = fieldSlot('vlan_vid').offset;
const ETH_TYPE = fieldSlot('eth_type').offset;
const IP_PROTO = fieldSlot('ip_proto').offset;
const IPV4_SRC = fieldSlot('ipv4_src').offset;
const IPV4_DST = fieldSlot('ipv4_dst').offset;
const IPV6_SRC = fieldSlot('ipv6_src').offset;
const IPV6_DST = fieldSlot('ipv6_dst').offset;
/** Ports of the protocols whose ports the symmetric hashes mix in (UDP's are left out). */
const PORTS: Record<number, [number, number]> = {
  6: [fieldSlot('tcp_src').offset, fieldSlot('tcp_dst').offset],
  132: [fieldSlot('sctp_src').offset, fieldSlot('sctp_dst').offset],
};
const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;

/** Little-endian 32-bit word of `bytes` at `at` (how C reads a be32 field on x86). */
function le32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** hash_add(): one Murmur3 round. */
function hashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let k = Math.imul(data, 0xcc9e2d51);
    k = Math.imul(rot(k, 15), 0x1b873593);
    hash ^= k;
  }
  return (Math.imul(rot(hash, 13), 5) + 0xe6546b64) | 0;
}

/** hash_finish(): Murmur3's finaliser after xoring in `final`. */
function hashFinish(hash: number, final: number): number {
  hash ^= final;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** hash_int(x, basis). */
export function hashInt(x: number, basis: number): number {
  return hashFinish(hashAdd(hashAdd(x, 0), basis), 8);
}

function markFull(mask: Uint8Array | undefined, offset: number, bytes: number): void {
  if (mask) mask.fill(0xff, offset, offset + bytes);
}

function ethTypeOf(key: Uint8Array): number {
  return (key[ETH_TYPE]! << 8) | key[ETH_TYPE + 1]!;
}

/** The VLAN ID bits of the outer tag (Open vSwitch's tci & VLAN_VID_MASK), as its two wire bytes. */
function vidBytes(key: Uint8Array, mask: Uint8Array | undefined): [number, number] {
  if (mask) {
    mask[VLAN_VID] |= 0x0f;
    mask[VLAN_VID + 1] = 0xff;
  }
  return [key[VLAN_VID]! & 0x0f, key[VLAN_VID + 1]!];
}

/** Byte `i` of the xor of the two MAC addresses. */
function macXor(key: Uint8Array, i: number): number {
  return key[ETH_SRC + i]! ^ key[ETH_DST + i]!;
}

/** flow_hash_symmetric_l2(): Ethernet type, VLAN ID and the xor of the two MAC addresses. */
function symmetricL2Hash(key: Uint8Array, basis: number, mask: Uint8Array | undefined): number {
  markFull(mask, ETH_SRC, 6);
  markFull(mask, ETH_DST, 6);
  markFull(mask, ETH_TYPE, 2);
  const [vid0, vid1] = vidBytes(key, mask);
  let hash = basis;
  hash = hashAdd(hash, (key[ETH_TYPE]! | (key[ETH_TYPE + 1]! << 8) | (vid0 << 16) | (vid1 << 24)) >>> 0);
  hash = hashAdd(hash, (macXor(key, 0) | (macXor(key, 1) << 8) | (macXor(key, 2) << 16) | (macXor(key, 3) << 24)) >>> 0);
  hash = hashAdd(hash, macXor(key, 4) | (macXor(key, 5) << 8));
  return hashFinish(hash, basis);
}

/**
 * flow_hash_symmetric_l3l4(flow, basis, false): for IP, the xor of the addresses, the protocol
 * and, for TCP and SCTP outside fragments, the xor of the ports; otherwise the L2 hash.
 */
export function symmetricL3L4Hash(key: Uint8Array, basis = 0, mask?: Uint8Array): number {
  const ethType = ethTypeOf(key);
  let hash = basis;
  markFull(mask, ETH_TYPE, 2);
  if (ethType === ETH_TYPE_IP) {
    markFull(mask, IPV4_SRC, 4);
    markFull(mask, IPV4_DST, 4);
    hash = hashAdd(hash, (le32(key, IPV4_SRC) ^ le32(key, IPV4_DST)) >>> 0);
  } else if (ethType === ETH_TYPE_IPV6) {
    markFull(mask, IPV6_SRC, 16);
    markFull(mask, IPV6_DST, 16);
    for (let i = 0; i < 16; i += 4) hash = hashAdd(hash, (le32(key, IPV6_SRC + i) ^ le32(key, IPV6_DST + i)) >>> 0);
  } else {
    return symmetricL2Hash(key, basis, mask);
  }
  const proto = key[IP_PROTO]!;
  markFull(mask, IP_PROTO, 1);
  hash = hashAdd(hash, proto);
  if (proto === 6 || proto === 132) {
    if (mask) mask[NW_FRAG_OFFSET] = 0xff;
    if (key[NW_FRAG_OFFSET] === 0) {
      const [src, dst] = PORTS[proto]!;
      markFull(mask, src, 2);
      markFull(mask, dst, 2);
      hash = hashAdd(hash, (key[src]! ^ key[dst]!) | ((key[src + 1]! ^ key[dst + 1]!) << 8));
    }
  }
  return hashFinish(hash, basis);
}

/** jhash_bytes() of a 32-byte block (Bob Jenkins' lookup3). */
function jhash32Bytes(bytes: Uint8Array, basis: number): number {
  let a = (0xdeadbeef + bytes.length + basis) | 0;
  let b = a;
  let c = a;
  for (let at = 0; at < 24; at += 12) {
    a = (a + le32(bytes, at)) | 0;
    b = (b + le32(bytes, at + 4)) | 0;
    c = (c + le32(bytes, at + 8)) | 0;
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
  }
  a = (a + le32(bytes, 24)) | 0;
  b = (b + le32(bytes, 28)) | 0;
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/**
 * flow_hash_symmetric_l4(): jhash of a zeroed 32-byte struct holding the xor of the IP
 * addresses (16 bytes), eth_type, VLAN ID, the xor of TCP/SCTP ports, the xor of the MACs and
 * the IP protocol, at their C offsets (0, 16, 18, 20, 22, 28).
 */
export function symmetricL4Hash(key: Uint8Array, basis = 0, mask?: Uint8Array): number {
  const fields = new Uint8Array(32);
  for (let i = 0; i < 6; i++) fields[22 + i] = key[ETH_SRC + i]! ^ key[ETH_DST + i]!;
  markFull(mask, ETH_SRC, 6);
  markFull(mask, ETH_DST, 6);
  [fields[18], fields[19]] = vidBytes(key, mask);
  fields[16] = key[ETH_TYPE]!;
  fields[17] = key[ETH_TYPE + 1]!;
  markFull(mask, ETH_TYPE, 2);
  const ethType = ethTypeOf(key);
  if (ethType === ETH_TYPE_IP || ethType === ETH_TYPE_IPV6) {
    const [src, dst, bytes] = ethType === ETH_TYPE_IP ? [IPV4_SRC, IPV4_DST, 4] : [IPV6_SRC, IPV6_DST, 16];
    for (let i = 0; i < bytes; i++) fields[i] = key[src + i]! ^ key[dst + i]!;
    markFull(mask, src, bytes);
    markFull(mask, dst, bytes);
    const proto = key[IP_PROTO]!;
    fields[28] = proto;
    markFull(mask, IP_PROTO, 1);
    if (proto === 6 || proto === 132) {
      const [tpSrc, tpDst] = PORTS[proto]!;
      fields[20] = key[tpSrc]! ^ key[tpDst]!;
      fields[21] = key[tpSrc + 1]! ^ key[tpDst + 1]!;
      markFull(mask, tpSrc, 2);
      markFull(mask, tpDst, 2);
    }
  }
  return jhash32Bytes(fields, basis);
}
