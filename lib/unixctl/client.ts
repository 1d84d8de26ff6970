/*
 * The client side of the management socket (Open vSwitch's unixctl_client): connects to a
 * daemon's `.ctl` socket and runs commands on it, one request at a time. Used by
 * `ofs-appctl` and by tests.
 */
import { createConnection, type Socket } from 'node:net';
import { isReply, JsonStreamError, JsonStreamParser, type UnixctlReply } from './jsonrpc.ts';
import type { OutputFormat } from './server.ts';

/** The daemon answered with an error (`ofs-appctl` exits with status 2, as ovs-appctl does). */
export class UnixctlCommandError extends Error {}

export class UnixctlClient {
  private nextId = 0;
  private readonly parser = new JsonStreamParser();
  private readonly waiting = new Map<unknown, (reply: UnixctlReply) => void>();
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      try {
        for (const message of this.parser.feed(text)) {
          if (!isReply(message)) continue;
          const resolve = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          resolve?.(message);
        }
      } catch (e) {
        if (!(e instanceof JsonStreamError)) throw e;
        this.fail(new Error(`bad reply from the daemon: ${e.message}`));
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('connection closed by the daemon')));
  }

  /** Connects to the socket at `path`; rejects with the system error (ENOENT, ECONNREFUSED, ...). */
  static connect(path: string): Promise<UnixctlClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new UnixctlClient(socket));
      });
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const resolve of this.waiting.values()) resolve({ result: null, error: undefined, id: undefined });
    this.waiting.clear();
  }

  /** Sends one request and waits for its reply. */
  async transact(method: string, params: string[]): Promise<UnixctlReply> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const reply = new Promise<UnixctlReply>((resolve) => this.waiting.set(id, resolve));
    this.socket.write(JSON.stringify({ method, params, id }));
    const answer = await reply;
    if (answer.id !== id) throw this.failure ?? new Error('no reply from the daemon');
    return answer;
  }

  /**
   * Runs a command: its result (text, or data in JSON format), or UnixctlCommandError with the
   * daemon's message.
   */
  async run(method: string, params: string[] = []): Promise<unknown> {
    const reply = await this.transact(method, params);
    if (reply.error !== null && reply.error !== undefined) {
      throw new UnixctlCommandError(typeof reply.error === 'string' ? reply.error : JSON.stringify(reply.error));
    }
    return reply.result;
  }

  /** Asks for results as text (the default) or as structured data. */
  async setFormat(format: OutputFormat): Promise<void> {
    await this.run('set-options', ['--format', format]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Connects, runs one command, disconnects. */
export async function unixctlCommand(path: string, method: string, params: string[] = [], format: OutputFormat = 'text'): Promise<unknown> {
  const client = await UnixctlClient.connect(path);
  try {
    if (format !== 'text') await client.setFormat(format);
    return await client.run(method, params);
  } finally {
    client.close();
  }
}
