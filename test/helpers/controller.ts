/*
 * A raw OpenFlow 1.3 controller for tests, built on the project's codec: ofswitchd dials it
 * (`--controller=tcp:127.0.0.1:PORT` or `ssl:`), it accepts, and each accepted connection is an
 * OfPeer that sends and receives typed messages and can wait for them with a timeout.
 *
 * FakeController options:
 *  - `hello` (default true): send HELLO (OpenFlow 1.3 only) as soon as a connection is accepted;
 *  - `answerEcho` (default true): answer ECHO_REQUEST with ECHO_REPLY; false makes a controller
 *    that stops answering (for inactivity probes);
 *  - `closeOnAccept`: accept and close at once, only recording when (to watch reconnection
 *    backoff);
 *  - `tls`: listen with TLS (node:tls) instead of plain TCP.
 *
 * Every accept is timestamped (performance.now(), milliseconds) in `accepts`; every message an
 * OfPeer receives is counted by type in `counts` and, unless `keep` says otherwise, kept with
 * its arrival time in `received`. `close()` closes the server and every connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { decodeMessage, encodeMessage, OfpFramer, type OfpMessage } from '../../protocol/index.ts';

export const HELLO_13: OfpMessage = { type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', bitmaps: [0x10] }] };

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Received {
  message: OfpMessage;
  /** performance.now() when it was decoded. */
  at: number;
}

export interface PeerOptions {
  answerEcho?: boolean;
  /** Which messages to keep in `received` (all by default); every message is counted anyway. */
  keep?: (m: OfpMessage) => boolean;
}

/** One OpenFlow connection seen from the controller's side. */
export class OfPeer {
  readonly received: Received[] = [];
  readonly counts = new Map<string, number>();
  closed = false;
  closedAt: number | undefined;
  undecodable = 0;
  /** Called for every decoded message (after counting). */
  onMessage: ((m: OfpMessage) => void) | undefined;
  private waiters: Array<() => void> = [];
  private readonly framer = new OfpFramer();
  private nextXid = 1000;

  constructor(readonly socket: Socket, readonly options: PeerOptions = {}) {
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = performance.now();
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private feed(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch {
      this.undecodable++;
      this.socket.destroy();
      return;
    }
    const at = performance.now();
    for (const raw of frames) {
      const decoded = decodeMessage(raw);
      if (!decoded.ok) {
        this.undecodable++;
        continue;
      }
      const m = decoded.message;
      this.counts.set(m.type, (this.counts.get(m.type) ?? 0) + 1);
      if (m.type === 'echo_request' && this.options.answerEcho !== false) this.send({ type: 'echo_reply', xid: m.xid, data: m.data });
      if (!this.options.keep || this.options.keep(m)) this.received.push({ message: m, at });
      this.onMessage?.(m);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  xid(): number {
    return ++this.nextXid;
  }

  send(message: OfpMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(message));
  }

  /** Resolves once `check()` holds (checked on every arrival and every 50 ms). */
  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Waits for (and removes) the first kept message that satisfies `match`. */
  async nextEntry(match: (m: OfpMessage) => boolean, timeoutMs = 5000): Promise<Received> {
    let index = -1;
    try {
      await this.until(() => (index = this.received.findIndex((r) => match(r.message))) >= 0 || this.closed, timeoutMs, 'a message');
    } catch {
      throw new Error(`no matching message within ${timeoutMs} ms (got ${this.received.map((r) => r.message.type).join(', ') || 'nothing'})`);
    }
    if (index < 0) throw new Error(`connection closed while waiting (got ${this.received.map((r) => r.message.type).join(', ') || 'nothing'})`);
    return this.received.splice(index, 1)[0]!;
  }

  async next(match: (m: OfpMessage) => boolean, timeoutMs = 5000): Promise<OfpMessage> {
    return (await this.nextEntry(match, timeoutMs)).message;
  }

  /** Sends a request and waits for the message that answers its xid (a reply or an error). */
  async request(message: OfpMessage, timeoutMs = 5000): Promise<OfpMessage> {
    this.send(message);
    return this.next((m) => m.xid === message.xid && m.type !== 'hello' && m.type !== 'echo_request', timeoutMs);
  }

  /** Waits for the switch's HELLO, then asks for its features. */
  async handshake(timeoutMs = 5000): Promise<OfpMessage> {
    await this.next((m) => m.type === 'hello', timeoutMs);
    return this.request({ type: 'features_request', xid: this.xid() }, timeoutMs);
  }

  /** Sends a barrier and waits for its reply (errors for earlier requests arrive before it). */
  async barrier(timeoutMs = 5000): Promise<void> {
    const reply = await this.request({ type: 'barrier_request', xid: this.xid() }, timeoutMs);
    if (reply.type !== 'barrier_reply') throw new Error(`barrier answered with ${reply.type}`);
  }

  async waitClosed(timeoutMs: number): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface FakeControllerOptions extends PeerOptions {
  port?: number;
  hello?: boolean;
  closeOnAccept?: boolean;
  tls?: TlsOptions;
}

export class FakeController {
  readonly peers: OfPeer[] = [];
  /** performance.now() of every accepted connection. */
  readonly accepts: number[] = [];
  /** TLS handshakes that failed (their errors' messages). */
  readonly tlsErrors: string[] = [];
  private waiters: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async listen(options: FakeControllerOptions = {}): Promise<FakeController> {
    let controller: FakeController | undefined;
    const onSocket = (socket: Socket): void => {
      const c = controller!;
      c.accepts.push(performance.now());
      c.sockets.add(socket);
      socket.once('close', () => c.sockets.delete(socket));
      if (options.closeOnAccept) {
        socket.on('error', () => undefined);
        socket.destroy();
      } else {
        const peer = new OfPeer(socket, options);
        c.peers.push(peer);
        if (options.hello !== false) peer.send(HELLO_13);
      }
      for (const w of c.waiters.splice(0)) w();
    };
    const server: Server = options.tls
      ? createTlsServer(options.tls, onSocket)
      : createServer({ noDelay: true }, onSocket);
    if (options.tls) server.on('tlsClientError', (e: Error) => { controller?.tlsErrors.push(e.message); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    controller = new FakeController(server, address.port);
    return controller;
  }

  get target(): string {
    return `tcp:127.0.0.1:${this.port}`;
  }

  /** Waits for the `n`th accepted connection (1-based) and returns it. */
  async peer(n: number, timeoutMs: number): Promise<OfPeer> {
    const deadline = performance.now() + timeoutMs;
    while (this.peers.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no connection #${n} within ${timeoutMs} ms (${this.peers.length} so far)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.peers[n - 1]!;
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
