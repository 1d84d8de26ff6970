/*
 * Shared pieces of the netdev tests: temporary directories, numbered test frames, raw peers
 * (a plain socket speaking the 2-byte length framing, to see the exact bytes on the wire), and
 * bounded waits. Times are milliseconds.
 */
import { createConnection, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

export { waitFor } from '../helpers/ofswitchd.ts';

/** A private directory, removed at the end of the test. */
export function tempDir(t: Test, prefix = 'netdev-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Local experimental EtherType (IEEE 802 88-B5) for test frames. */
export const TEST_ETH_TYPE = 0x88b5;

/**
 * A frame of `length` bytes (>= 14) whose payload starts with `seq` (32 bits) and continues
 * with a pattern derived from it, so that any reordering, loss or corruption shows.
 */
export function testFrame(length: number, seq: number, src = '02:00:00:00:00:01', dst = '02:00:00:00:00:02'): Buffer {
  const frame = Buffer.alloc(length);
  Buffer.from(dst.split(':').map((b) => parseInt(b, 16))).copy(frame, 0);
  Buffer.from(src.split(':').map((b) => parseInt(b, 16))).copy(frame, 6);
  frame.writeUInt16BE(TEST_ETH_TYPE, 12);
  for (let i = 14; i < length; i++) frame[i] = (seq * 7 + i) & 0xff;
  if (length >= 18) frame.writeUInt32BE(seq >>> 0, 14);
  return frame;
}

export function pad60(frame: Buffer): Buffer {
  return frame.length >= 60 ? frame : Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}

/** A plain socket peer of a stream port: records raw bytes and the frames they hold. */
export class RawPeer {
  readonly frames: Buffer[] = [];
  raw = Buffer.alloc(0);
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.parse();
    });
    socket.on('error', () => { /* 'close' follows */ });
    socket.once('close', () => { this.closed = true; });
  }

  private consumed = 0;

  private parse(): void {
    while (this.raw.length - this.consumed >= 2) {
      const length = this.raw.readUInt16BE(this.consumed);
      if (this.raw.length - this.consumed - 2 < length) break;
      this.frames.push(Buffer.from(this.raw.subarray(this.consumed + 2, this.consumed + 2 + length)));
      this.consumed += 2 + length;
    }
  }

  static async connect(options: { path: string } | { host: string; port: number }, t: Test): Promise<RawPeer> {
    const socket = createConnection(options as { path: string });
    const peer = new RawPeer(socket);
    t.teardown(() => peer.close());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return peer;
  }

  /** Writes a frame with its 2-byte length. */
  sendFrame(frame: Buffer): void {
    const wire = Buffer.alloc(2 + frame.length);
    wire.writeUInt16BE(frame.length, 0);
    frame.copy(wire, 2);
    this.socket.write(wire);
  }

  async close(): Promise<void> {
    if (this.socket.closed) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.destroy();
    await closed;
  }
}

/** Resolves with `promise`, or rejects after `timeoutMs` naming `what`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
