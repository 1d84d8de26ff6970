/*
 * Cuts a byte stream (a TCP or unix socket) into whole OpenFlow messages using the 16-bit
 * length in each 8-byte header. A header whose length is below 8 cannot be resynchronised
 * from: the framer then reports a fatal framing error and the connection must be closed.
 */
import { OFP_HEADER_LEN } from './constants.ts';

export class OfpFramingError extends Error {
  override readonly name = 'OfpFramingError';
}

export class OfpFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Bytes received but not yet part of a complete message. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /** Adds received bytes; returns the messages they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < OFP_HEADER_LEN) return [];
    let data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const messages: Buffer[] = [];
    let pos = 0;
    while (data.length - pos >= OFP_HEADER_LEN) {
      const len = data.readUInt16BE(pos + 2);
      if (len < OFP_HEADER_LEN) {
        throw new OfpFramingError(`OpenFlow header with length ${len} at stream offset ${pos}`);
      }
      if (data.length - pos < len) break;
      // Copy: the caller may keep messages while the socket reuses its buffers.
      messages.push(Buffer.from(data.subarray(pos, pos + len)));
      pos += len;
    }
    data = data.subarray(pos);
    this.pending = data.length ? [data] : [];
    this.pendingBytes = data.length;
    return messages;
  }
}
