/*
 * Big-endian reads and writes at known offsets of a byte array, without bounds checks or
 * allocation: the callers check lengths against the frame first (a read past the end of a
 * Uint8Array gives undefined, which these turn into 0 rather than throwing).
 */

export function get16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

export function get32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function put16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value & 0xff;
}

export function put32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** Copies `length` bytes; a loop beats Buffer.copy for the 2- to 16-byte fields of a header. */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, length: number): void {
  for (let i = 0; i < length; i++) dst[to + i] = src[from + i]!;
}

/** The big-endian unsigned value of all of `bytes` (at most 4 of them). */
export function valueOf(bytes: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + bytes[i]!;
  return v;
}
