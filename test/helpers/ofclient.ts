/*
 * A raw OpenFlow 1.3 client for tests: connects to a unix socket, sends and receives typed
 * messages through the project's codec, and waits for replies with a timeout.
 */
import { createConnection, type Socket } from 'node:net';
import { decodeMessage, encodeMessage, OfpFramer, type OfpMessage } from '../../protocol/index.ts';

export class OfClient {
  readonly received: OfpMessage[] = [];
  closed = false;
  private waiters: Array<() => void> = [];
  private readonly framer = new OfpFramer();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const raw of this.framer.push(chunk)) {
        const decoded = decodeMessage(raw);
        if (!decoded.ok) throw new Error(`switch sent an undecodable message: ${decoded.error.message}`);
        this.received.push(decoded.message);
      }
      this.wake();
    });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  static async connect(path: string, hello: OfpMessage | null = { type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', bitmaps: [0x10] }] }): Promise<OfClient> {
    const socket = createConnection(path);
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const client = new OfClient(socket);
    if (hello) client.send(hello);
    return client;
  }

  send(message: OfpMessage): void {
    this.socket.write(encodeMessage(message));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for (and removes) the first received message that satisfies `match`. */
  async next(match: (m: OfpMessage) => boolean, timeoutMs = 5000): Promise<OfpMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(match);
      if (index >= 0) return this.received.splice(index, 1)[0]!;
      if (this.closed) throw new Error('connection closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms (got ${this.received.map((m) => m.type).join(', ')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Sends a request and waits for the message that answers its xid. */
  async request(message: OfpMessage, timeoutMs = 5000): Promise<OfpMessage> {
    this.send(message);
    return this.next((m) => m.xid === message.xid && m.type !== 'hello', timeoutMs);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((resolve) => { const timer = setTimeout(resolve, 50); this.waiters.push(() => { clearTimeout(timer); resolve(); }); });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
