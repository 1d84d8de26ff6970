/*
 * The configuration database served on a unix socket (where ovsdb-server would listen:
 * <rundir>/db.sock), speaking JSON-RPC 1.0 with two methods:
 *
 *  - `transact` [{ ops: Operation[], wait?: boolean }] -> { uuids, seq }: runs the operations as
 *    one transaction; with `wait` the reply comes only once the daemon has applied the new
 *    configuration (what `ofs-vsctl` waits for unless --no-wait);
 *  - `dump` [] -> { seq, tables: { Table: { uuid: row } } }: every row, runtime columns included.
 *
 * An error reply's `error` is a one-line message.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { JsonStreamParser } from '../unixctl/jsonrpc.ts';
import type { ConfigDb, Operation } from './db.ts';
import type { Json } from './datum.ts';

export interface DbServerHooks {
  /** Resolves once the configuration with change counter `seq` is in effect. */
  applied(seq: number): Promise<void>;
}

export class DbServer {
  private constructor(private readonly server: Server, readonly path: string) {}

  static async listen(path: string, db: ConfigDb, hooks: DbServerHooks): Promise<DbServer> {
    if (existsSync(path)) unlinkSync(path);
    const server = createServer((socket) => serve(socket, db, hooks));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return new DbServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (existsSync(this.path)) unlinkSync(this.path);
  }
}

function serve(socket: Socket, db: ConfigDb, hooks: DbServerHooks): void {
  const parser = new JsonStreamParser();
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  socket.on('data', (text: string) => {
    let messages: unknown[];
    try {
      messages = parser.feed(text);
    } catch {
      socket.destroy();
      return;
    }
    for (const m of messages) void answer(m as { method?: string; params?: unknown[]; id?: unknown }, socket, db, hooks);
  });
}

async function answer(m: { method?: string; params?: unknown[]; id?: unknown }, socket: Socket, db: ConfigDb, hooks: DbServerHooks): Promise<void> {
  const reply = (result: unknown, error: string | null): void => {
    if (!socket.destroyed) socket.write(JSON.stringify({ result, error, id: m.id ?? null }));
  };
  try {
    if (m.method === 'dump') {
      const tables: Record<string, Record<string, Json>> = {};
      for (const table of ['Open_vSwitch', 'Bridge', 'Port', 'Interface', 'Controller']) {
        tables[table] = Object.fromEntries([...db.rows(table)].map(([uuid, row]) => [uuid, db.rowToJson(table, row)]));
      }
      reply({ seq: db.seq, tables }, null);
    } else if (m.method === 'transact') {
      const params = (m.params?.[0] ?? {}) as { ops?: Operation[]; wait?: boolean };
      if (!Array.isArray(params.ops)) throw new Error('transact needs a list of operations');
      const result = db.transact(params.ops);
      if (params.wait) await hooks.applied(result.seq);
      reply(result, null);
    } else {
      reply(null, `unknown method "${String(m.method)}"`);
    }
  } catch (e) {
    reply(null, (e as Error).message.split('\n')[0]!);
  }
}
