/*
 * The connection manager of one bridge (Open vSwitch's connmgr): every OpenFlow connection of
 * the bridge and the policies between them.
 *
 *  - Controllers: active targets (tcp:, unix:, ssl:) each kept connected by an Rconn, and
 *    passive ones (ptcp:, punix:, pssl:) whose accepted connections are controllers too.
 *  - Services: the management socket <rundir>/<bridge>.mgmt (ovs-ofctl), whose connections
 *    get no asynchronous messages unless they ask, and the snoop socket <rundir>/<bridge>.snoop,
 *    whose connections get a copy of every message to and from the most important controller
 *    (the master, else an equal one, else a slave).
 *  - Roles: EQUAL, MASTER, SLAVE with generation ids (a stale one is refused), one master at a
 *    time (the previous one becomes a slave and is told with ONF's role-status message), and
 *    slaves refused every request that changes the switch (OFPBRC_IS_SLAVE).
 *  - Packet-ins: each connection has a bounded queue and an optional rate limit; what does not
 *    fit is dropped and counted, so one stuck controller never holds others or the datapath up.
 *  - Fail mode: `standalone` switches to fail-open (NORMAL forwarding) once every controller has
 *    been unreachable for three inactivity probe intervals, and back when one returns;
 *    `secure` never forwards on its own.
 *
 * Times are milliseconds on the monotonic clock.
 */
import type { Socket } from 'node:net';
import {
  OFPBRC_IS_SLAVE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE, OFPET_BAD_REQUEST,
  OFPET_ROLE_REQUEST_FAILED, OfpError, type OfpMessage, OFPRRFC_BAD_ROLE, OFPRRFC_STALE, ONF_EXPERIMENTER_ID,
  type RoleRequest,
} from '../../protocol/index.ts';
import { type AsyncKind, Ofconn, type OfconnHandler, type OfconnType, type PacketInLimit } from './ofconn.ts';
import { PassiveListener } from './pvconn.ts';
import { ADMISSION_GRACE_MS, DEFAULT_MAX_BACKOFF_MS, DEFAULT_PROBE_INTERVAL_MS, Rconn, type RconnStatus } from './rconn.ts';
import { parseTarget, type Target } from '../util/target.ts';
import { openActive, type TlsSettings } from './vconn.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('connmgr');

export type FailMode = 'secure' | 'standalone';

export interface ControllerConfig {
  target: string;
  maxBackoffMs?: number;
  probeIntervalMs?: number;
}

/** What the bridge's switch provides to the connection manager. */
export interface ConnmgrHandler {
  handleMessage(conn: Ofconn, message: OfpMessage, raw: Buffer): void;
  connectionClosed?(conn: Ofconn): void;
  /** Fail-open starts (true) or ends (false). */
  setFailOpen?(on: boolean): void;
  /**
   * Every flow must go (controllers came or all went, or the fail mode changed without any);
   * with `addNormal`, a standalone bridge without controllers, a NORMAL flow replaces them.
   */
  flushFlows?(addNormal: boolean): void;
}

export interface ConnmgrOptions {
  tls?: TlsSettings;
  failMode?: FailMode;
  packetInLimit?: PacketInLimit;
  now?: () => number;
}

/** Requests a slave may not make (Open vSwitch's reject_secondary_controller). */
const SLAVE_REFUSED = new Set<OfpMessage['type']>([
  'packet_out', 'flow_mod', 'group_mod', 'meter_mod', 'port_mod', 'table_mod', 'bundle_control', 'bundle_add',
]);
/** ONF's OpenFlow 1.3 role-status message (an OpenFlow 1.4 message, carried as an experimenter). */
const ONFT_ROLE_STATUS = 1911;
const OFPCRR_MASTER_REQUEST = 0;
/** How often fail-open is reconsidered. */
const FAIL_OPEN_CHECK_MS = 500;

const SNOOP_PREFERENCE: Record<number, number> = { [OFPCR_ROLE_MASTER]: 3, [OFPCR_ROLE_EQUAL]: 2, [OFPCR_ROLE_SLAVE]: 1 };

export interface ControllerStatus extends Partial<RconnStatus> {
  target: string;
  role: 'equal' | 'master' | 'slave' | 'other';
  isConnected: boolean;
  packetInDrops: number;
  packetInsSent: number;
}

export class ConnectionManager {
  private readonly listeners: PassiveListener[] = [];
  readonly connections = new Set<Ofconn>();
  /** Active controllers by target. */
  readonly rconns = new Map<string, Rconn>();
  /** Passive controller listeners by target. */
  private readonly controllerListeners = new Map<string, PassiveListener>();
  private readonly rconnOf = new Map<Ofconn, Rconn>();
  /** Snoop connections by what they watch: an Rconn (surviving its reconnections) or a connection. */
  private readonly monitors = new Map<Rconn | Ofconn, Set<Ofconn>>();
  private connectionCount = 0;
  private generationId: bigint | undefined;
  private failMode: FailMode;
  private failOpen = false;
  /** Controllers that connected to our listeners: when each became active, and which admitted us. */
  private readonly passiveSince = new Map<Ofconn, number>();
  private readonly passiveAdmitted = new Set<Ofconn>();
  private failTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /**
   * The control set-up the flows were last flushed for. Open vSwitch's connection manager
   * starts in secure mode with no controllers, so a standalone bridge without any gets its
   * NORMAL flow on the first configuration.
   */
  private flushedFor: { controllers: boolean; failMode: FailMode } = { controllers: false, failMode: 'secure' };

  constructor(readonly bridgeName: string, private readonly handler: ConnmgrHandler, private readonly options: ConnmgrOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.failMode = options.failMode ?? 'secure';
  }

  // ---- services and controllers ----

  /** Starts listening on a passive target (`punix:`, `ptcp:`, `pssl:`); resolves once it is bound. */
  async addService(targetText: string, type: OfconnType): Promise<PassiveListener> {
    const target = parseTarget(targetText);
    if (target.kind !== 'punix' && target.kind !== 'ptcp' && target.kind !== 'pssl') {
      throw new Error(`${targetText}: a service needs a passive target (punix:, ptcp: or pssl:)`);
    }
    const listener = await PassiveListener.listen(target, (socket) => this.accept(listener.name, socket, type), this.options.tls);
    this.listeners.push(listener);
    log.info(`${this.bridgeName}: listening on ${listener.name}`);
    return listener;
  }

  /** Sets the bridge's controllers (Open vSwitch's connmgr_set_controllers): new ones start, gone ones stop. */
  async setControllers(configs: ControllerConfig[]): Promise<void> {
    const wanted = new Map(configs.map((c) => [c.target, c]));
    for (const [target, rconn] of this.rconns) {
      if (!wanted.has(target)) {
        rconn.stop();
        this.rconns.delete(target);
        this.monitors.delete(rconn);
      }
    }
    for (const [target, listener] of this.controllerListeners) {
      if (!wanted.has(target)) {
        await listener.close();
        this.controllerListeners.delete(target);
      }
    }
    for (const config of configs) {
      const target = parseTarget(config.target);
      const settings = {
        maxBackoffMs: config.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, probeIntervalMs: config.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
      };
      if (target.kind === 'punix' || target.kind === 'ptcp' || target.kind === 'pssl') {
        if (!this.controllerListeners.has(config.target)) {
          const listener = await PassiveListener.listen(target, (socket) => this.accept(listener.name, socket, 'primary'), this.options.tls);
          this.controllerListeners.set(config.target, listener);
          log.info(`${this.bridgeName}: listening for controllers on ${listener.name}`);
        }
        continue;
      }
      const existing = this.rconns.get(config.target);
      if (existing) {
        existing.settings = settings;
        continue;
      }
      const rconn: Rconn = new Rconn(config.target, settings, {
        now: this.now,
        open: () => openActive(target as Extract<Target, { kind: 'tcp' | 'unix' | 'ssl' }>, config.target, this.options.tls),
        attach: (socket): Ofconn => this.newConnection(`${this.bridgeName}<->${config.target}`, socket, 'primary', rconn),
      });
      this.rconns.set(config.target, rconn);
      rconn.start();
    }
    this.flushIfControlChanged();
    this.probeFailOpen();
  }

  setFailMode(mode: FailMode): void {
    this.failMode = mode;
    this.flushIfControlChanged();
    this.probeFailOpen();
  }

  /**
   * As Open vSwitch: the flows are flushed when the bridge gains its first controller or loses
   * its last, or when its fail mode changes while it has none; then a standalone bridge without
   * controllers forwards by a visible NORMAL flow (connmgr_set_controllers, connmgr_flushed).
   */
  private flushIfControlChanged(): void {
    const now = { controllers: this.controllersConfigured(), failMode: this.failMode };
    const before = this.flushedFor;
    this.flushedFor = now;
    const changed = now.controllers !== before.controllers || (!now.controllers && now.failMode !== before.failMode);
    if (changed) this.handler.flushFlows?.(!now.controllers && now.failMode === 'standalone');
  }

  setPacketInLimit(limit: PacketInLimit | undefined): void {
    this.options.packetInLimit = limit;
    for (const conn of this.connections) if (conn.type === 'primary') conn.setPacketInLimit(limit);
  }

  private accept(listenerName: string, socket: Socket, type: OfconnType): void {
    this.newConnection(`${this.bridgeName}<->${listenerName}#${++this.connectionCount}`, socket, type, undefined);
  }

  private newConnection(name: string, socket: Socket, type: OfconnType, rconn: Rconn | undefined): Ofconn {
    const conn = new Ofconn(name, type, socket, this.connectionHandler());
    if (type === 'primary') conn.setPacketInLimit(this.options.packetInLimit);
    if (rconn) this.rconnOf.set(conn, rconn);
    this.connections.add(conn);
    return conn;
  }

  private connectionHandler(): OfconnHandler {
    return {
      handleMessage: (conn, message, raw) => this.handleMessage(conn, message, raw),
      connectionActive: (conn) => {
        this.rconnOf.get(conn)?.connected(conn);
        if (conn.type === 'snoop') this.attachSnoop(conn);
        if (conn.type === 'primary' && !this.rconnOf.has(conn)) this.passiveSince.set(conn, this.now());
        this.probeFailOpen();
      },
      activity: (conn) => {
        this.rconnOf.get(conn)?.noteActivity();
        this.noteAdmission(conn, false);
      },
      traffic: (conn, raw) => this.copyToMonitors(conn, raw),
      connectionClosed: (conn) => {
        this.connections.delete(conn);
        this.rconnOf.get(conn)?.closed(conn);
        this.rconnOf.delete(conn);
        this.monitors.delete(conn);
        this.passiveSince.delete(conn);
        this.passiveAdmitted.delete(conn);
        for (const set of this.monitors.values()) set.delete(conn);
        this.handler.connectionClosed?.(conn);
        this.probeFailOpen();
      },
    };
  }

  // ---- roles ----

  private handleMessage(conn: Ofconn, message: OfpMessage, raw: Buffer): void {
    if (isAdmissionMessage(message)) this.noteAdmission(conn, true);
    if (message.type === 'role_request') {
      this.handleRoleRequest(conn, message);
      return;
    }
    if (conn.role === OFPCR_ROLE_SLAVE && SLAVE_REFUSED.has(message.type)) {
      throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_IS_SLAVE, `${message.type} from a slave`);
    }
    this.handler.handleMessage(conn, message, raw);
  }

  private handleRoleRequest(conn: Ofconn, m: RoleRequest): void {
    if (m.role > OFPCR_ROLE_SLAVE) throw new OfpError(OFPET_ROLE_REQUEST_FAILED, OFPRRFC_BAD_ROLE, `role ${m.role}`);
    if (m.role !== OFPCR_ROLE_NOCHANGE) {
      if (m.role !== OFPCR_ROLE_EQUAL) {
        // Generation ids compare as a signed 64-bit difference, so they may wrap.
        if (this.generationId !== undefined && BigInt.asIntN(64, m.generationId - this.generationId) < 0n) {
          throw new OfpError(OFPET_ROLE_REQUEST_FAILED, OFPRRFC_STALE, `generation id ${m.generationId} is stale`);
        }
        this.generationId = m.generationId;
      }
      this.setRole(conn, m.role);
    }
    conn.sendMessage({
      type: 'role_reply', xid: m.xid, role: conn.role, generationId: this.generationId ?? 0xffffffffffffffffn,
    });
  }

  private setRole(conn: Ofconn, role: number): void {
    if (role === OFPCR_ROLE_MASTER && conn.role !== OFPCR_ROLE_MASTER) {
      for (const other of this.connections) {
        if (other !== conn && other.role === OFPCR_ROLE_MASTER) {
          other.role = OFPCR_ROLE_SLAVE;
          other.sendMessage(roleStatus(OFPCR_ROLE_SLAVE, this.generationId));
        }
      }
    }
    conn.role = role;
  }

  // ---- snoops ----

  /** A snoop client watches the most important controller: master, else equal, else slave. */
  private attachSnoop(snoop: Ofconn): void {
    let best: Ofconn | undefined;
    for (const conn of this.connections) {
      if (conn.type !== 'primary' || conn.state !== 'active') continue;
      if (!best || (SNOOP_PREFERENCE[conn.role] ?? 0) > (SNOOP_PREFERENCE[best.role] ?? 0)) best = conn;
    }
    if (!best) {
      log.info(`${this.bridgeName}: no controller connection to snoop`);
      snoop.close();
      return;
    }
    const key = this.rconnOf.get(best) ?? best;
    let set = this.monitors.get(key);
    if (!set) {
      set = new Set();
      this.monitors.set(key, set);
    }
    set.add(snoop);
  }

  private copyToMonitors(conn: Ofconn, raw: Buffer): void {
    if (this.monitors.size === 0) return;
    const set = this.monitors.get(this.rconnOf.get(conn) ?? conn);
    if (set) for (const snoop of set) snoop.sendCopy(raw);
  }

  // ---- asynchronous messages ----

  /** Sends an asynchronous message to every connection that wants it (Open vSwitch's connmgr_send_*). */
  sendAsync(kind: AsyncKind, reason: number, message: OfpMessage | ((conn: Ofconn) => OfpMessage), exclude?: unknown): void {
    for (const conn of this.connections) {
      if (conn === exclude || conn.type === 'snoop' || !conn.receivesAsync(kind, reason)) continue;
      const m = { ...(typeof message === 'function' ? message(conn) : message), xid: 0 };
      if (kind === 'packet_in') conn.sendPacketIn(m);
      else conn.sendMessage(m);
    }
  }

  // ---- fail-open ----

  private controllersConfigured(): boolean {
    return this.rconns.size > 0 || this.controllerListeners.size > 0;
  }

  /** A message from a controller, which may show that it admitted this switch (see Rconn.noteReceived). */
  private noteAdmission(conn: Ofconn, admission: boolean): void {
    if (conn.type !== 'primary') return;
    const rconn = this.rconnOf.get(conn);
    if (rconn) {
      rconn.noteReceived(admission);
    } else if (admission || this.now() - (this.passiveSince.get(conn) ?? Infinity) >= ADMISSION_GRACE_MS) {
      this.passiveAdmitted.add(conn);
    }
    if (this.failOpen) this.probeFailOpen();
  }

  private anyControllerAdmitted(): boolean {
    if (this.passiveAdmitted.size) return true;
    for (const rconn of this.rconns.values()) if (rconn.isAdmitted) return true;
    return false;
  }

  /** How long controllers must fail before fail-open: three of the longest inactivity probe
   *  interval (time to probe, to wait for the answer, and to reconnect), as Open vSwitch does. */
  private failOpenDelaySeconds(): number {
    let probe = this.controllerListeners.size ? DEFAULT_PROBE_INTERVAL_MS : 0;
    for (const rconn of this.rconns.values()) probe = Math.max(probe, rconn.settings.probeIntervalMs);
    return 3 * Math.floor(probe / 1000);
  }

  /** Whole seconds for which every controller we dial has failed to admit us (0 if one has, or
   *  if we dial none: controllers on our listeners come when they please). */
  private failureSeconds(): number {
    if (this.rconns.size === 0) return 0;
    let least = Infinity;
    for (const rconn of this.rconns.values()) least = Math.min(least, rconn.failureDurationMs());
    return Math.floor(least / 1000);
  }

  private probeFailOpen(): void {
    let want = false;
    // Without controllers there is no fail-open: the NORMAL flow does its work (see flushIfControlChanged).
    if (this.failMode === 'standalone' && this.controllersConfigured()) {
      if (this.failOpen) {
        want = !this.anyControllerAdmitted();
      } else {
        const failed = this.failureSeconds();
        want = failed > 0 && failed >= this.failOpenDelaySeconds();
      }
    }
    if (want !== this.failOpen) {
      this.failOpen = want;
      log.info(`${this.bridgeName}: ${want ? 'fail-open: no controller, forwarding as a learning switch' : 'controller back, leaving fail-open'}`);
      this.handler.setFailOpen?.(want);
    }
    if (this.failMode === 'standalone' && !this.failTimer) {
      this.failTimer = setInterval(() => this.probeFailOpen(), FAIL_OPEN_CHECK_MS);
      this.failTimer.unref();
    } else if (this.failMode !== 'standalone' && this.failTimer) {
      clearInterval(this.failTimer);
      this.failTimer = undefined;
    }
  }

  get isFailOpen(): boolean {
    return this.failOpen;
  }

  // ---- status ----

  controllerStatus(): ControllerStatus[] {
    const roleName = (role: number): ControllerStatus['role'] =>
      role === OFPCR_ROLE_MASTER ? 'master' : role === OFPCR_ROLE_SLAVE ? 'slave' : role === OFPCR_ROLE_EQUAL ? 'equal' : 'other';
    const list: ControllerStatus[] = [];
    for (const [target, rconn] of this.rconns) {
      const conn = rconn.conn;
      list.push({
        ...rconn.status(), target, role: roleName(conn?.role ?? OFPCR_ROLE_EQUAL), isConnected: rconn.isConnected,
        packetInDrops: conn?.packetInDrops ?? 0, packetInsSent: conn?.packetInsSent ?? 0,
      });
    }
    for (const conn of this.connections) {
      if (conn.type !== 'primary' || this.rconnOf.has(conn)) continue;
      list.push({ target: conn.name, role: roleName(conn.role), isConnected: conn.state === 'active', packetInDrops: conn.packetInDrops, packetInsSent: conn.packetInsSent });
    }
    return list;
  }

  async close(): Promise<void> {
    if (this.failTimer) clearInterval(this.failTimer);
    for (const rconn of this.rconns.values()) rconn.stop();
    this.rconns.clear();
    for (const conn of this.connections) conn.close();
    await Promise.all([...this.listeners, ...this.controllerListeners.values()].map((l) => l.close()));
    this.listeners.length = 0;
    this.controllerListeners.clear();
  }
}

/** ONF's role-status message telling a connection its role changed because another became master. */
function roleStatus(role: number, generationId: bigint | undefined): OfpMessage {
  const data = Buffer.alloc(16);
  data.writeUInt32BE(role, 0);
  data[4] = OFPCRR_MASTER_REQUEST;
  data.writeBigUInt64BE(generationId ?? 0xffffffffffffffffn, 8);
  return { type: 'experimenter', xid: 0, experimenter: ONF_EXPERIMENTER_ID, expType: ONFT_ROLE_STATUS, data };
}

/**
 * Messages a controller sends while deciding whether to accept a switch (handshake, inspection,
 * configuration); anything else shows it has accepted it (Open vSwitch's is_admitted_msg).
 */
const INSPECTION_TYPES = new Set<OfpMessage['type']>([
  'hello', 'error', 'echo_request', 'echo_reply', 'features_request', 'features_reply', 'get_config_request',
  'get_config_reply', 'set_config', 'queue_get_config_request', 'queue_get_config_reply', 'get_async_request', 'get_async_reply',
]);
const INSPECTION_MULTIPARTS = new Set(['group', 'group_desc', 'group_features', 'table_features']);

function isAdmissionMessage(message: OfpMessage): boolean {
  if (INSPECTION_TYPES.has(message.type)) return false;
  return !(message.type === 'multipart_request' && INSPECTION_MULTIPARTS.has(message.body.mpType));
}
