/*
 * Passive OpenFlow endpoints (Open vSwitch's pvconn): a listening unix or TCP socket that
 * hands each accepted connection to a callback. A stale unix socket file left by a process
 * that died is removed before listening, as ovs-vswitchd does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Target } from '../util/target.ts';
import { type TlsSettings, tlsContext } from './vconn.ts';

export class PassiveListener {
  private constructor(readonly name: string, private readonly server: Server, private readonly unixPath?: string) {}

  static async listen(target: Extract<Target, { kind: 'punix' | 'ptcp' | 'pssl' }>, accept: (socket: Socket) => void, tls?: TlsSettings): Promise<PassiveListener> {
    // A TLS listener requires a client certificate signed by the CA, as Open vSwitch's pssl does.
    const server: Server = target.kind === 'pssl'
      ? createTlsServer({ ...tlsContext(tls, `pssl:${target.port}`), requestCert: true, rejectUnauthorized: true }, accept)
      : createServer({ noDelay: true }, accept);
    if (target.kind === 'punix') {
      mkdirSync(dirname(target.path), { recursive: true });
      if (existsSync(target.path)) unlinkSync(target.path);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(target.path, () => resolve());
      });
      return new PassiveListener(`punix:${target.path}`, server, target.path);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(target.port, target.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : target.port;
    return new PassiveListener(`${target.kind}:${port}:${target.host}`, server);
  }

  /** The TCP port actually bound (useful with ptcp:0), or undefined for unix sockets. */
  get port(): number | undefined {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.unixPath && existsSync(this.unixPath)) unlinkSync(this.unixPath);
  }
}
