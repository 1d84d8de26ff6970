/*
 * Checksums: the Internet one's-complement checksum (RFC 1071) of IPv4, TCP, UDP, ICMP and
 * ICMPv6, its incremental update (RFC 1624, Open vSwitch's lib/csum.c recalc_csum*), and the
 * CRC32c of SCTP (RFC 4960 appendix B, Open vSwitch's lib/crc32c.c).
 *
 * A rewrite never recomputes a one's-complement checksum from scratch: it adds the difference
 * the changed bytes make, as Open vSwitch does. That costs the same for a 60-byte frame and a
 * 9000-byte one, works on the first fragment of a datagram whose checksum covers bytes this
 * frame does not carry, and keeps a checksum that was wrong before exactly as wrong after.
 *
 * Checksums are 16-bit big-endian fields. A "partial sum" is an unfolded 32-bit-safe number
 * that the caller folds at the end; offsets are byte offsets into the buffer.
 */

/** Folds a partial sum to 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Adds the bytes [offset, offset + length) to a partial sum, as 16-bit big-endian words; an odd
 * trailing byte is the high byte of a last word padded with zero.
 */
export function sumBytes(buf: Uint8Array, offset: number, length: number, sum = 0): number {
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    if (sum > 0x3fffffff) sum = foldSum(sum);
  }
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** The checksum value (to store as is) of a partial sum. */
export function finishSum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** The Internet checksum of [offset, offset + length), optionally starting from a partial sum. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return finishSum(sumBytes(buf, offset, length, initial));
}

/**
 * Partial sum of the IPv4 pseudo-header of TCP/UDP (source, destination, protocol, length),
 * reading the addresses from the IPv4 header at `l3`.
 */
export function ipv4PseudoHeaderSum(buf: Uint8Array, l3: number, proto: number, l4Length: number): number {
  return sumBytes(buf, l3 + 12, 8, proto + l4Length);
}

/**
 * Partial sum of the IPv6 pseudo-header of TCP/UDP/ICMPv6 (RFC 8200 8.1) with the addresses
 * of the IPv6 header at `l3`; `dstOffset` is where the final destination is (the IPv6
 * destination, or the last address of a routing header).
 */
export function ipv6PseudoHeaderSum(buf: Uint8Array, l3: number, proto: number, l4Length: number,
  dstOffset = l3 + 24): number {
  let sum = sumBytes(buf, l3 + 8, 16, proto);
  sum = sumBytes(buf, dstOffset, 16, sum);
  return sum + Math.floor(l4Length / 0x10000) + (l4Length & 0xffff);
}

/**
 * Writes `length` bytes of `src` (from `srcOffset`) at `offset` of `buf` and updates the
 * checksum at `csumOffset` to match (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')).
 * `regionStart` is where the checksummed region begins, which decides whether a byte is the
 * high or the low half of its 16-bit word; pseudo-header fields sit at even offsets of their
 * headers, so passing the header start is right for them too.
 */
export function replaceWithChecksum(buf: Uint8Array, offset: number, src: Uint8Array, srcOffset: number,
  length: number, csumOffset: number, regionStart: number): void {
  const csum = (buf[csumOffset]! << 8) | buf[csumOffset + 1]!;
  const sum = (~csum & 0xffff) + checksumDelta(buf, offset, src, srcOffset, length, regionStart);
  writeCsum(buf, csumOffset, ~foldSum(sum) & 0xffff);
  for (let i = 0; i < length; i++) buf[offset + i] = src[srcOffset + i]!;
}

/** replaceWithChecksum for a single byte. */
export function replaceByteWithChecksum(buf: Uint8Array, offset: number, value: number, csumOffset: number,
  regionStart: number): void {
  const high = ((offset - regionStart) & 1) === 0;
  const oldWord = high ? buf[offset]! << 8 : buf[offset]!;
  const newWord = high ? (value & 0xff) << 8 : value & 0xff;
  applyChecksumDelta(buf, csumOffset, newWord + (~oldWord & 0xffff));
  buf[offset] = value;
}

/**
 * The partial-sum difference that replacing [offset, offset + length) of `buf` by `src` makes,
 * without writing anything: add it to another checksum that covers the same bytes (a
 * pseudo-header field is covered by the IPv4 header checksum and the TCP checksum alike).
 */
export function checksumDelta(buf: Uint8Array, offset: number, src: Uint8Array, srcOffset: number, length: number,
  regionStart: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const high = ((offset + i - regionStart) & 1) === 0;
    const oldWord = high ? buf[offset + i]! << 8 : buf[offset + i]!;
    const newWord = high ? src[srcOffset + i]! << 8 : src[srcOffset + i]!;
    sum += newWord + (~oldWord & 0xffff);
  }
  return sum;
}

/** Adds a delta from checksumDelta to the checksum at `csumOffset`. */
export function applyChecksumDelta(buf: Uint8Array, csumOffset: number, delta: number): void {
  const csum = (buf[csumOffset]! << 8) | buf[csumOffset + 1]!;
  writeCsum(buf, csumOffset, ~foldSum((~csum & 0xffff) + delta) & 0xffff);
}

/**
 * The UDP form of applyChecksumDelta: a zero checksum means "none" and stays zero, and a
 * computed zero is sent as 0xffff (RFC 768).
 */
export function applyUdpChecksumDelta(buf: Uint8Array, csumOffset: number, delta: number): void {
  if (buf[csumOffset] === 0 && buf[csumOffset + 1] === 0) return;
  applyChecksumDelta(buf, csumOffset, delta);
  if (buf[csumOffset] === 0 && buf[csumOffset + 1] === 0) writeCsum(buf, csumOffset, 0xffff);
}

function writeCsum(buf: Uint8Array, offset: number, csum: number): void {
  buf[offset] = csum >>> 8;
  buf[offset + 1] = csum & 0xff;
}

/* CRC32c (Castagnoli, reflected polynomial 0x82f63b78), table-driven. */
const CRC32C_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32c of [offset, offset + length), as SCTP uses it (initial and final XOR 0xffffffff). */
export function crc32c(buf: Uint8Array, offset: number, length: number): number {
  let crc = 0xffffffff;
  for (let i = offset, end = offset + length; i < end; i++) crc = CRC32C_TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The SCTP checksum of the packet [offset, offset + length) with its checksum field taken as
 * zero. SCTP stores the CRC least-significant byte first (RFC 4960 appendix B, as Linux's
 * sctp_end_cksum and Open vSwitch do), so write it with writeUInt32LE.
 */
export function sctpChecksum(buf: Uint8Array, offset: number, length: number): number {
  const c0 = buf[offset + 8]!, c1 = buf[offset + 9]!, c2 = buf[offset + 10]!, c3 = buf[offset + 11]!;
  buf[offset + 8] = buf[offset + 9] = buf[offset + 10] = buf[offset + 11] = 0;
  const crc = crc32c(buf, offset, length);
  buf[offset + 8] = c0; buf[offset + 9] = c1; buf[offset + 10] = c2; buf[offset + 11] = c3;
  return crc;
}
