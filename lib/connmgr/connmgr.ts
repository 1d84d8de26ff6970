/*
 * The connection manager of one bridge (Open vSwitch's connmgr): it owns the bridge's
 * OpenFlow services — the management socket `<rundir>/<bridge>.mgmt` that ovs-ofctl uses,
 * and any configured passive controllers — and every connection accepted on them. Each
 * connection's messages go to the bridge's handler (its ofproto) in arrival order.
 *
 * Active controllers with reconnection (rconn), snoops, roles and packet-in scheduling are
 * added by the connection-manager work (see the project's issues); this is the part the
 * first switch needs.
 */
import type { Socket } from 'node:net';
import type { OfpMessage } from '../../protocol/index.ts';
import { type AsyncKind, Ofconn, type OfconnHandler, type OfconnType } from './ofconn.ts';
import { PassiveListener } from './pvconn.ts';
import { parseTarget } from './target.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('connmgr');

export class ConnectionManager {
  private readonly listeners: PassiveListener[] = [];
  readonly connections = new Set<Ofconn>();
  private connectionCount = 0;

  constructor(readonly bridgeName: string, private readonly handler: OfconnHandler) {}

  /** Starts listening on a passive target (`punix:` or `ptcp:`); resolves once it is bound. */
  async addService(targetText: string, type: OfconnType): Promise<PassiveListener> {
    const target = parseTarget(targetText);
    if (target.kind !== 'punix' && target.kind !== 'ptcp') {
      throw new Error(`${targetText}: a service needs a passive target (punix: or ptcp:)`);
    }
    const listener = await PassiveListener.listen(target, (socket) => this.accept(listener.name, socket, type));
    this.listeners.push(listener);
    log.info(`${this.bridgeName}: listening on ${listener.name}`);
    return listener;
  }

  private accept(listenerName: string, socket: Socket, type: OfconnType): void {
    const name = `${this.bridgeName}<->${listenerName}#${++this.connectionCount}`;
    const conn = new Ofconn(name, type, socket, {
      handleMessage: (c, message, raw) => this.handler.handleMessage(c, message, raw),
      connectionClosed: (c) => {
        this.connections.delete(c);
        this.handler.connectionClosed?.(c);
      },
    });
    this.connections.add(conn);
  }

  /** Sends an asynchronous message to every connection that wants it (Open vSwitch's connmgr_send_*). */
  sendAsync(kind: AsyncKind, reason: number, message: OfpMessage | ((conn: Ofconn) => OfpMessage), exclude?: unknown): void {
    for (const conn of this.connections) {
      if (conn !== exclude && conn.receivesAsync(kind, reason)) {
        conn.sendMessage({ ...(typeof message === 'function' ? message(conn) : message), xid: 0 });
      }
    }
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.close();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners.length = 0;
  }
}
