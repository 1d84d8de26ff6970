/* A client of the daemon's configuration socket (see server.ts): transact and dump. */
import { createConnection, type Socket } from 'node:net';
import { JsonStreamParser } from '../unixctl/jsonrpc.ts';
import type { Operation, TransactResult } from './db.ts';
import type { Json } from './datum.ts';

export interface DbDump {
  seq: number;
  tables: Record<string, Record<string, Record<string, Json>>>;
}

export class DbClientError extends Error {
  override readonly name = 'DbClientError';
}

export class DbClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: { result: unknown; error: string | null }) => void>();

  private constructor(private readonly socket: Socket) {
    const parser = new JsonStreamParser();
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      for (const m of parser.feed(text) as Array<{ result: unknown; error: string | null; id: number }>) {
        this.waiting.get(m.id)?.(m);
        this.waiting.delete(m.id);
      }
    });
    socket.on('close', () => {
      for (const resolve of this.waiting.values()) resolve({ result: null, error: 'connection closed by the daemon' });
      this.waiting.clear();
    });
  }

  static connect(path: string): Promise<DbClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('error', (e) => reject(new DbClientError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'database connection failed (No such file or directory)' : e.message}`)));
      socket.once('connect', () => resolve(new DbClient(socket)));
    });
  }

  private call(method: string, params: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.error ? reject(new DbClientError(reply.error)) : resolve(reply.result)));
      this.socket.write(JSON.stringify({ method, params, id }));
    });
  }

  dump(): Promise<DbDump> {
    return this.call('dump', []) as Promise<DbDump>;
  }

  transact(ops: Operation[], wait: boolean): Promise<TransactResult> {
    return this.call('transact', [{ ops, wait }]) as Promise<TransactResult>;
  }

  close(): void {
    this.socket.destroy();
  }
}
