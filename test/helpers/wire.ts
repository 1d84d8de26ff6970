/*
 * A "wire" for tests: the far end of one switch port that carries frames over a stream socket
 * in Open vSwitch's `dummy` netdev framing (lib/netdev-dummy.c): a 2-byte big-endian length,
 * then that many bytes of Ethernet frame, no FCS. It works against an Open vSwitch dummy port
 * with `options:pstream=punix:PATH` and against an ofswitch stream port with
 * `pstream=punix:PATH` alike. Written independently of lib/netdev, so that it is a second
 * opinion on the framing.
 *
 * A Wire sends frames as given (never pads) and records every frame it receives, with the
 * time it arrived (performance.now(), milliseconds) and a global arrival sequence number, so
 * that the frames of several wires can be put in one order. `waitQuiet(wires, ...)` waits until
 * none of the wires has received anything for a while.
 */
import { createConnection, type Socket } from 'node:net';

export interface WireFrame {
  frame: Buffer;
  /** performance.now() when the frame was complete. */
  at: number;
  /** Arrival order across every Wire of the process. */
  seq: number;
}

let arrivals = 0;
let lastArrival = 0;

export class Wire {
  readonly received: WireFrame[] = [];
  closed = false;
  /** Set when the peer sent a length below 14 or the socket failed. */
  error: string | undefined;
  private partial = Buffer.alloc(0);

  private constructor(readonly name: string, private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', (e) => { this.error = e.message; });
  }

  /** Connects to a port's listening socket, retrying for `timeoutMs` while nobody listens yet. */
  static async connect(path: string, name = path, timeoutMs = 5000): Promise<Wire> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = createConnection(path);
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('error', reject);
        });
        return new Wire(name, socket);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (Date.now() > deadline || (code !== 'ENOENT' && code !== 'ECONNREFUSED')) throw e;
        await sleep(25);
      }
    }
  }

  private feed(chunk: Buffer): void {
    const data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    let offset = 0;
    while (data.length - offset >= 2) {
      const length = data.readUInt16BE(offset);
      if (length < 14) {
        this.error = `bad frame length ${length}`;
        this.socket.destroy();
        return;
      }
      if (data.length - offset - 2 < length) break;
      const at = performance.now();
      lastArrival = at;
      this.received.push({ frame: Buffer.from(data.subarray(offset + 2, offset + 2 + length)), at, seq: arrivals++ });
      offset += 2 + length;
    }
    this.partial = Buffer.from(data.subarray(offset));
  }

  /** Sends one frame, exactly as given. */
  send(frame: Uint8Array): void {
    if (frame.length < 14 || frame.length > 0xffff) throw new Error(`frame of ${frame.length} bytes cannot be framed`);
    const out = Buffer.allocUnsafe(2 + frame.length);
    out.writeUInt16BE(frame.length, 0);
    Buffer.from(frame.buffer, frame.byteOffset, frame.length).copy(out, 2);
    this.socket.write(out);
  }

  /** Removes and returns everything received so far. */
  take(): WireFrame[] {
    return this.received.splice(0, this.received.length);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Connects to a port's stream socket as its peer would, writes `frames` in the dummy framing
 * and closes: for a test that only feeds a port and reads the result elsewhere.
 */
export async function sendFrames(socketPath: string, frames: Buffer[]): Promise<void> {
  const socket = createConnection(socketPath);
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  for (const frame of frames) {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(frame.length);
    socket.write(Buffer.concat([length, frame]));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until no wire has received a frame for `quietMs` (and at least `quietMs` have passed
 * since the call), or until `maxMs` have passed. Returns the milliseconds waited.
 */
export async function waitQuiet(quietMs: number, maxMs = 2000): Promise<number> {
  const start = performance.now();
  const since = start;
  for (;;) {
    const now = performance.now();
    const last = Math.max(lastArrival, since);
    if (now - last >= quietMs || now - start >= maxMs) return now - start;
    await sleep(Math.max(1, Math.min(quietMs - (now - last), 5)));
  }
}

/** A hex dump of `bytes`, 16 bytes a line, with offsets; `mark` brackets the byte at that offset. */
export function hexdump(bytes: Uint8Array, mark = -1, from = 0, to = bytes.length): string[] {
  const lines: string[] = [];
  const start = from - (from % 16);
  for (let o = start; o < Math.min(to, bytes.length); o += 16) {
    const cells: string[] = [];
    for (let i = o; i < Math.min(o + 16, bytes.length); i++) {
      const hex = bytes[i]!.toString(16).padStart(2, '0');
      cells.push(i === mark ? `[${hex}]` : ` ${hex} `);
    }
    lines.push(`${o.toString(16).padStart(4, '0')}:${cells.join('')}`);
  }
  return lines;
}
