/*
 * The hash a SELECT group picks its bucket with: a stable 32-bit hash of the flow-key fields
 * that tell flows apart at L2-L4 (Ethernet addresses, VLAN ID, eth_type, IPv4/IPv6 addresses,
 * IP protocol, TCP/UDP/SCTP ports). Absent fields are zero in the key, so every packet hashes
 * the same byte ranges and one flow always lands on the same bucket.
 *
 * Open vSwitch's default select method hashes L3/L4 fields only (flow_hash_symmetric_l4 and
 * friends); the MAC addresses are included here too, so that non-IP traffic spreads as well.
 * The mixing is MurmurHash3's (x86_32), over the bytes taken as big-endian 4-byte words.
 */
import { fieldSlot, type FieldSlot } from './flow-layout.ts';

const HASHED_FIELDS: readonly FieldSlot[] = ([
  'eth_dst', 'eth_src', 'vlan_vid', 'eth_type', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'ipv6_src', 'ipv6_dst',
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst',
] as const).map((name) => fieldSlot(name));

/**
 * Hashes the L2-L4 fields of `key`. When `mask` (a megaflow's wildcards, in the same layout)
 * is given, the hashed fields are marked as consulted in it (set to their full masks), since
 * the result depends on all of them.
 */
export function flowHash(key: Uint8Array, mask?: Uint8Array, basis = 0): number {
  let h = basis >>> 0;
  let word = 0;
  let n = 0;
  let total = 0;
  for (const slot of HASHED_FIELDS) {
    for (let i = slot.offset, end = slot.offset + slot.bytes; i < end; i++) {
      word = (word << 8) | key[i]!;
      if (++n === 4) {
        h = mixWord(h, word);
        word = 0;
        n = 0;
      }
      total++;
    }
    if (mask) {
      for (let i = 0; i < slot.bytes; i++) mask[slot.offset + i] |= slot.fullMask[i]!;
    }
  }
  if (n > 0) h ^= mixK(word);
  return finish(h, total);
}

function mixK(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

function mixWord(h: number, word: number): number {
  h ^= mixK(word);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
