/*
 * A byte relay between a switch's OpenFlow socket and a controller that listens, for tests.
 *
 * Until ofswitchd connects to controllers itself (the connection-manager issue), the only way
 * to put a real listening controller (os-ken, Ryu) in front of it is to connect to both and
 * copy bytes both ways: `Relay.start({ switchPath, controllerPort })` connects to the
 * switch's unix socket (its `br0.mgmt` service) and to the controller's TCP port on
 * 127.0.0.1, and pipes everything through unchanged.
 *
 * On the way it frames and decodes every message with the project's codec (a copy, for
 * inspection only; the bytes relayed are the bytes received), so that a test can count what
 * each side sent: `fromSwitch` and `fromController` hold the decoded messages in order;
 * messages the codec refuses are counted in `undecodable`.
 *
 * `close()` destroys both sockets. Times are milliseconds.
 */
import { createConnection, type Socket } from 'node:net';
import { decodeMessage, OfpFramer, type OfpMessage } from '../../protocol/index.ts';

export interface RelayOptions {
  /** The switch's OpenFlow unix socket (e.g. `<rundir>/br0.mgmt`). */
  switchPath: string;
  /** The controller's TCP port on `controllerHost`. */
  controllerPort: number;
  controllerHost?: string;
  /** How long to keep retrying the controller's port while it is not listening yet. */
  connectTimeoutMs?: number;
}

function connectOnce(open: () => Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = open();
    socket.once('connect', () => { socket.removeAllListeners('error'); resolve(socket); });
    socket.once('error', (e) => { socket.destroy(); reject(e); });
  });
}

async function connectRetrying(open: () => Socket, timeoutMs: number, what: string): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await connectOnce(open);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (Date.now() > deadline || (code !== 'ECONNREFUSED' && code !== 'ENOENT')) {
        throw new Error(`relay: connecting to ${what}: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class Relay {
  readonly fromSwitch: OfpMessage[] = [];
  readonly fromController: OfpMessage[] = [];
  undecodable = 0;
  /** Set once either side closed (the relay then closes the other). */
  closed = false;
  private readonly listeners: Array<() => void> = [];

  private constructor(private readonly switchSocket: Socket, private readonly controllerSocket: Socket) {
    this.pipe(switchSocket, controllerSocket, this.fromSwitch);
    this.pipe(controllerSocket, switchSocket, this.fromController);
  }

  static async start(options: RelayOptions): Promise<Relay> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const host = options.controllerHost ?? '127.0.0.1';
    // The controller first: the switch greets as soon as a connection is accepted, and its
    // HELLO must have somewhere to go. Bytes are read only once both are connected.
    const controller = await connectRetrying(() => createConnection({ host, port: options.controllerPort }), timeoutMs, `${host}:${options.controllerPort}`);
    let sw: Socket;
    try {
      sw = await connectRetrying(() => createConnection({ path: options.switchPath }), timeoutMs, options.switchPath);
    } catch (e) {
      controller.destroy();
      throw e;
    }
    return new Relay(sw, controller);
  }

  private pipe(from: Socket, to: Socket, log: OfpMessage[]): void {
    const framer = new OfpFramer();
    from.on('data', (chunk: Buffer) => {
      if (!to.destroyed) to.write(chunk);
      let frames: Buffer[] = [];
      try {
        frames = framer.push(chunk);
      } catch {
        this.undecodable++;
      }
      for (const raw of frames) {
        const decoded = decodeMessage(raw);
        if (decoded.ok) log.push(decoded.message);
        else this.undecodable++;
      }
      if (frames.length) for (const l of this.listeners.splice(0)) l();
    });
    from.on('error', () => undefined);
    from.on('close', () => {
      this.closed = true;
      to.destroy();
      for (const l of this.listeners.splice(0)) l();
    });
  }

  /** Resolves once `check()` holds (checked after every relayed message); rejects after `timeoutMs`. */
  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`relay: timed out after ${timeoutMs} ms waiting for ${what}`);
      if (this.closed) throw new Error(`relay: closed while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.listeners.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  close(): void {
    this.closed = true;
    this.switchSocket.destroy();
    this.controllerSocket.destroy();
  }
}
