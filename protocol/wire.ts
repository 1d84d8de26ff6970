/*
 * Bounds-checked cursors over Buffers: WireReader for decoding, WireWriter for encoding.
 *
 * A reader is always a window [pos, end) of one Buffer; reading past `end` raises the
 * OfpDecodeError the reader was created with (each nested structure of OpenFlow has its own
 * "bad length" error: BAD_REQUEST/BAD_LEN for a message, BAD_MATCH/BAD_LEN inside a match,
 * BAD_ACTION/BAD_LEN inside an action list, ...). All integers are big-endian.
 */
import { OfpDecodeError, OfpEncodeError } from './errors.ts';

export interface LengthError {
  errType: number;
  errCode: number;
}

export class WireReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly lengthError: LengthError,
  ) {}

  static of(buf: Buffer, lengthError: LengthError): WireReader {
    return new WireReader(buf, 0, buf.length, lengthError);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Raises this reader's length error unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new OfpDecodeError(this.lengthError.errType, this.lengthError.errCode,
        `${what}: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2, 'u16');
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3, 'u24');
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4, 'u32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8, 'u64');
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(n: number): void {
    this.need(n, 'padding');
    this.pos += n;
  }

  /** A copy of the next `n` bytes (copied so that decoded messages never alias socket buffers). */
  bytes(n: number): Buffer {
    this.need(n, 'bytes');
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  rest(): Buffer {
    return this.bytes(this.end - this.pos);
  }

  /** A NUL-padded fixed-width string field (port, table and description names), UTF-8. */
  fixedString(n: number): string {
    this.need(n, 'string');
    const field = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    const nul = field.indexOf(0);
    return field.toString('utf8', 0, nul < 0 ? n : nul);
  }

  /** A child reader over the next `n` bytes, which this reader then skips. */
  sub(n: number, lengthError: LengthError = this.lengthError): WireReader {
    this.need(n, 'nested structure');
    const child = new WireReader(this.buf, this.pos, this.pos + n, lengthError);
    this.pos += n;
    return child;
  }
}

/** A growable big-endian writer. `patchU16` fills in length fields once a structure is done. */
export class WireWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  u24(v: number): void {
    this.reserve(3);
    this.buf.writeUIntBE(v & 0xffffff, this.pos, 3);
    this.pos += 3;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  u64(v: bigint): void {
    this.reserve(8);
    // Most 64-bit fields (counters, cookies) fit 32 bits: skip the slower BigInt write for them.
    if (v >= 0n && v <= 0xffffffffn) {
      this.buf.writeUInt32BE(0, this.pos);
      this.buf.writeUInt32BE(Number(v), this.pos + 4);
    } else {
      this.buf.writeBigUInt64BE(BigInt.asUintN(64, v), this.pos);
    }
    this.pos += 8;
  }

  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Writes `s` as UTF-8 into an n-byte NUL-padded field; Buffer.write cuts on a character boundary. */
  fixedString(s: string, n: number): void {
    this.reserve(n);
    const written = this.buf.write(s, this.pos, n, 'utf8');
    this.buf.fill(0, this.pos + written, this.pos + n);
    this.pos += n;
  }

  /** Zero bytes up to the next multiple of `align` counted from `start`. */
  padTo(start: number, align: number): void {
    const len = this.pos - start;
    this.zeros((align - (len % align)) % align);
  }

  patchU16(at: number, v: number): void {
    if (v > 0xffff) throw new OfpEncodeError(`length ${v} does not fit a 16-bit length field`);
    this.buf.writeUInt16BE(v, at);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export function padLength(len: number, align = 8): number {
  return (len + align - 1) & ~(align - 1);
}
