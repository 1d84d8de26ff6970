/*
 * A reliable connection to a controller (Open vSwitch's lib/rconn.c): it keeps dialling the
 * target, backing off between attempts, and watches the connection it has with inactivity
 * probes.
 *
 * States:
 *  - BACKOFF: waiting `backoff` ms before the next attempt;
 *  - CONNECTING: dialling and negotiating the OpenFlow version (a timeout of max(1 s, backoff));
 *  - ACTIVE: connected; after probeInterval ms without receiving anything, an echo request is
 *    sent and the connection becomes IDLE;
 *  - IDLE: waiting for any message; another probeInterval of silence disconnects it;
 *  - VOID: stopped.
 * After a disconnection the backoff doubles from 1 s up to maxBackoff; a connection that lasted
 * longer than its backoff resets it to 1 s. Times are milliseconds on the monotonic clock.
 */
import type { Socket } from 'node:net';
import type { Ofconn } from './ofconn.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('rconn');

export type RconnState = 'VOID' | 'BACKOFF' | 'CONNECTING' | 'ACTIVE' | 'IDLE';

export const DEFAULT_MAX_BACKOFF_MS = 8000;
export const DEFAULT_PROBE_INTERVAL_MS = 5000;
/** A controller connected this long is taken to have admitted the switch (Open vSwitch's rule). */
export const ADMISSION_GRACE_MS = 30_000;
const MIN_BACKOFF_MS = 1000;

export interface RconnSettings {
  maxBackoffMs: number;
  /** 0 disables inactivity probes. */
  probeIntervalMs: number;
}

export interface RconnDeps {
  now(): number;
  /** Opens the transport. */
  open(): Promise<Socket>;
  /** Wraps a fresh transport in an OpenFlow connection (HELLO sent). */
  attach(socket: Socket): Ofconn;
}

export interface RconnStatus {
  target: string;
  state: RconnState;
  isConnected: boolean;
  backoffMs: number;
  lastError: string | undefined;
  secondsSinceConnect: number | undefined;
  secondsSinceDisconnect: number | undefined;
  connections: number;
}

export class Rconn {
  state: RconnState = 'VOID';
  conn: Ofconn | undefined;
  backoffMs = 0;
  lastError: string | undefined;
  connections = 0;
  private backoffDeadline = -Infinity;
  private stateEnteredMs: number;
  private lastActivityMs = -Infinity;
  private lastConnectedMs: number | undefined;
  /** Admission (Open vSwitch's rconn): whether the controller seems to have accepted this switch,
   *  and when it last showed it. It starts at creation, so fail-open counts from start-up. */
  private probablyAdmitted = false;
  private lastAdmittedMs: number;
  private lastDisconnectedMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped on every disconnection, so that a dial that outlived its attempt is discarded. */
  private attempt = 0;

  constructor(readonly target: string, public settings: RconnSettings, private readonly deps: RconnDeps) {
    this.stateEnteredMs = deps.now();
    this.lastAdmittedMs = this.stateEnteredMs;
  }

  start(): void {
    if (this.state !== 'VOID') return;
    this.transition('BACKOFF');
    this.backoffDeadline = -Infinity;
    this.run();
  }

  stop(): void {
    this.attempt++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const conn = this.conn;
    this.conn = undefined;
    this.transition('VOID');
    conn?.close();
  }

  /** Any message received: the peer is alive. */
  noteActivity(): void {
    this.lastActivityMs = this.deps.now();
    if (this.state === 'IDLE') this.transition('ACTIVE');
  }

  /**
   * A message from the controller. A controller has admitted the switch once it sends anything
   * beyond the handshake and inspection messages (`admission`), or once it has stayed connected
   * 30 s; from then on every message renews the admission.
   */
  noteReceived(admission: boolean): void {
    const now = this.deps.now();
    if (this.probablyAdmitted || admission || (this.lastConnectedMs !== undefined && now - this.lastConnectedMs >= ADMISSION_GRACE_MS)) {
      this.probablyAdmitted = true;
      this.lastAdmittedMs = now;
    }
  }

  get isAdmitted(): boolean {
    return this.isConnected && this.probablyAdmitted && this.lastConnectedMs !== undefined && this.lastAdmittedMs >= this.lastConnectedMs;
  }

  /** 0 while admitted, else how long since the controller last was (the fail-open clock). */
  failureDurationMs(): number {
    return this.isAdmitted ? 0 : this.deps.now() - this.lastAdmittedMs;
  }

  /** The OpenFlow handshake completed on the connection being dialled. */
  connected(conn: Ofconn): void {
    if (conn !== this.conn || this.state !== 'CONNECTING') return;
    log.info(`${this.target}: connected`);
    this.connections++;
    this.lastConnectedMs = this.deps.now();
    this.probablyAdmitted = false;
    this.transition('ACTIVE');
    this.schedule();
  }

  /** The connection closed (by the peer, by a protocol error, or by us). */
  closed(conn: Ofconn, reason = 'connection closed by peer'): void {
    if (conn !== this.conn) return;
    this.disconnect(reason);
  }

  status(): RconnStatus {
    const now = this.deps.now();
    return {
      target: this.target, state: this.state, isConnected: this.isConnected, backoffMs: this.backoffMs,
      lastError: this.lastError, connections: this.connections,
      secondsSinceConnect: this.lastConnectedMs === undefined ? undefined : Math.floor((now - this.lastConnectedMs) / 1000),
      secondsSinceDisconnect: this.lastDisconnectedMs === undefined ? undefined : Math.floor((now - this.lastDisconnectedMs) / 1000),
    };
  }

  get isConnected(): boolean {
    return this.state === 'ACTIVE' || this.state === 'IDLE';
  }

  private transition(state: RconnState): void {
    this.state = state;
    this.stateEnteredMs = this.deps.now();
  }

  /** The time, on the monotonic clock, at which the current state times out. */
  private deadline(): number {
    switch (this.state) {
      case 'VOID': return Infinity;
      case 'BACKOFF': return this.stateEnteredMs + this.backoffMs;
      case 'CONNECTING': return this.stateEnteredMs + Math.max(MIN_BACKOFF_MS, this.backoffMs);
      case 'ACTIVE':
        return this.settings.probeIntervalMs ? Math.max(this.lastActivityMs, this.stateEnteredMs) + this.settings.probeIntervalMs : Infinity;
      case 'IDLE': return this.stateEnteredMs + this.settings.probeIntervalMs;
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wait = this.deadline() - this.deps.now();
    if (wait === Infinity) return;
    this.timer = setTimeout(() => this.run(), Math.max(0, wait));
    this.timer.unref();
  }

  /** Acts on the current state if its time has come, then waits for the next deadline. */
  private run(): void {
    if (this.deps.now() >= this.deadline()) {
      switch (this.state) {
        case 'VOID':
          return;
        case 'BACKOFF':
          this.dial();
          break;
        case 'CONNECTING':
          // Keep the backoff growing: a timeout is no proof the peer was ever there.
          this.backoffDeadline = Infinity;
          this.disconnect('connection timed out');
          break;
        case 'ACTIVE':
          this.transition('IDLE');
          this.conn?.sendMessage({ type: 'echo_request', xid: this.conn.allocateXid(), data: Buffer.alloc(0) });
          break;
        case 'IDLE':
          log.err(`${this.target}: no response to inactivity probe after ${Math.round(this.settings.probeIntervalMs / 1000)} seconds, disconnecting`);
          this.disconnect('no response to inactivity probe');
          break;
      }
    }
    this.schedule();
  }

  private dial(): void {
    const attempt = ++this.attempt;
    this.transition('CONNECTING');
    this.backoffDeadline = this.deps.now() + this.backoffMs;
    log.dbg(`${this.target}: connecting...`);
    this.deps.open().then((socket) => {
      if (attempt !== this.attempt || this.state !== 'CONNECTING') {
        socket.destroy();
        return;
      }
      this.conn = this.deps.attach(socket);
    }, (e: Error) => {
      if (attempt !== this.attempt || this.state !== 'CONNECTING') return;
      log.dbg(`${this.target}: connection failed (${e.message})`);
      this.disconnect(e.message);
    });
  }

  private disconnect(reason: string): void {
    if (this.state === 'VOID') return;
    this.attempt++;
    const now = this.deps.now();
    const conn = this.conn;
    this.conn = undefined;
    if (this.isConnected) {
      log.info(`${this.target}: disconnected (${reason})`);
      this.lastDisconnectedMs = now;
    }
    this.lastError = reason;
    if (now >= this.backoffDeadline) this.backoffMs = MIN_BACKOFF_MS;
    else if (this.backoffMs < this.settings.maxBackoffMs / 2) this.backoffMs = Math.max(MIN_BACKOFF_MS, 2 * this.backoffMs);
    else this.backoffMs = this.settings.maxBackoffMs;
    this.backoffDeadline = now + this.backoffMs;
    this.transition('BACKOFF');
    conn?.close();
    this.schedule();
  }
}
