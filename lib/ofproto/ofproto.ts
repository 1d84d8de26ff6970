/*
 * One OpenFlow switch per bridge (Open vSwitch's ofproto): identity (datapath id,
 * description), ports, 254 flow tables, the group and meter tables, and the handling of
 * every request a controller or ovs-ofctl sends.
 *
 * Requests are handled to completion in arrival order, each change inside a Transaction, so
 * a barrier reply always follows the effects of everything before it. Asynchronous messages
 * (flow-removed, port-status) go out through the AsyncSink the bridge provides, after the
 * change that caused them has committed. Times are milliseconds on the monotonic clock.
 */
import {
  type Action, type AsyncConfig, encodeMessage, type MultipartReplyBody, OFP_NO_BUFFER, OFPFC_DELETE, OFPFC_DELETE_STRICT,
  OFPP_NORMAL, OFPP_TABLE, OFPPC_NO_RECV, OFPPC_PORT_DOWN, type MultipartRequest, OFPBRC_BAD_EXPERIMENTER, OFPBRC_BAD_MULTIPART,
  OFPBRC_BAD_TYPE, OFPC_FLOW_STATS, OFPC_FRAG_MASK, OFPC_GROUP_STATS, OFPC_PORT_STATS, OFPC_QUEUE_STATS,
  OFPC_FRAG_REASM, OFPC_TABLE_STATS, OFPET_BAD_REQUEST, OFPET_TABLE_MOD_FAILED, OfpError, type OfpMessage, OFPFF_SEND_FLOW_REM,
  OFPTMFC_BAD_TABLE, OFPPR_MODIFY, OFPPR_ADD, OFPPR_DELETE, OFPP_LOCAL,
  OFPRR_DELETE, OFPRR_GROUP_DELETE, OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT, OFPRR_METER_DELETE, encodeFlowStats, encodeMultipartReply,
  MultipartReplyWriter,
  OFPET_TABLE_FEATURES_FAILED, OFPTFFC_EPERM, OFPTMFC_EPERM, OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, OFPM_ALL,
  type FlowMod, OFPFC_ADD, OFPG_ANY, OFPP_ANY,
} from '../../protocol/index.ts';
import { BundleCommitError, type BundledMessage, BundleSet } from './bundles.ts';
import { applyFlowMod, checkFlowModHeader, flowModKey, type FlowTableContext, TABLE_INTERNAL } from './flow-mod.ts';
import { aggregateStats, flowStats, selectForStats, tableStats } from './flow-stats.ts';
import { GroupTable } from './group-table.ts';
import { MeterTable } from './meter-table.ts';
import { applyPortMod, linkState, portStats, queueConfig, queueStats } from './port-mod.ts';
import { devicelessPort, localPort, macFromName, type OfPort } from './port.ts';
import { duration, newTable, type OfTable, type Rule, ruleMatch } from './rule.ts';
import { tableFeatures } from './table-features.ts';
import { atomically, type Transaction } from './transaction.ts';
import { MemoryReclaimer } from '../util/reclaim.ts';
import { Vlog } from '../util/vlog.ts';
import type { DpBridge, DpTranslation, PacketInSpec, UpcallHandler } from '../datapath/index.ts';
import type { NetdevStats } from '../netdev/index.ts';
import { FLOW_KEY_BYTES, type Packet, parsePacket } from '../packet/index.ts';
import { checkActionList } from './action-check.ts';
import { type MacAddress, MacLearning } from './mac-learning.ts';
import { buildPacketIn, checkPacketOutInPort, raiseDropPrecedence } from './packet-io.ts';
import { PacketBuffer } from './pktbuf.ts';
import { type Credits, regionsOverlap, xlate, type XlateBridge } from './xlate.ts';

const log = new Vlog('ofproto');

/** Packet-in buffers the switch offers (the seeds' pktbuf: 256 slots). */
export const PKTBUF_CNT = 256;
/** Flow tables: 0..253, as Open vSwitch reports (table 254 is reserved, 255 means "all"). */
export const N_TABLES = 254;
/**
 * A change of more flows than this drops every megaflow: checking each against each rule
 * would cost more than translating the traffic again.
 */
const MAX_RULES_REVALIDATED = 64;
const CAPABILITIES = OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_GROUP_STATS | OFPC_QUEUE_STATS;
/** How often rule timeouts are checked: well within the 1 s the issue allows. */
const EXPIRY_INTERVAL_MS = 100;

/**
 * What ofproto needs of a connection (lib/connmgr's Ofconn provides it): a way to answer,
 * and the connection's own settings. Keeping it an interface keeps ofproto below connmgr.
 */
export interface OfprotoClient {
  readonly name: string;
  /** 'service' for management clients such as ovs-ofctl (see lib/connmgr's OfconnType). */
  readonly type?: 'primary' | 'service' | 'snoop';
  missSendLen: number;
  asyncConfig: AsyncConfig;
  sendMessage(message: OfpMessage): void;
  /** Sends bytes that already are whole OpenFlow messages. */
  sendRaw(bytes: Buffer): void;
  /** Answers `raw` (a request this connection sent) with an OpenFlow error. */
  sendError(error: OfpError, raw: Buffer, xid: number): void;
}

/** The flow a standalone bridge without controllers forwards with (Open vSwitch's connmgr_flushed). */
const NORMAL_FLOW: FlowMod = {
  type: 'flow_mod', xid: 0, cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
  priority: 0, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0, match: [],
  instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP_NORMAL, maxLen: 0 }] }],
};

/**
 * The reasons a SET_ASYNC mask may name, as Open vSwitch allows them over OpenFlow 1.3: other
 * bits are dropped without an error (and GET_ASYNC does not show them). Flow removal also
 * counts METER_DELETE and EVICTION.
 */
const ASYNC_REASONS = { packetIn: 0x07, portStatus: 0x07, flowRemoved: 0x3f };

function onlyReasons(masks: [number, number], allowed: number): [number, number] {
  return [(masks[0] & allowed) >>> 0, (masks[1] & allowed) >>> 0];
}

export type AsyncKind = 'packet_in' | 'port_status' | 'flow_removed';
/**
 * Delivers an asynchronous message to every connection whose async config wants it, except
 * `exclude` (OpenFlow 1.3 does not echo a port-mod's PORT_STATUS to the connection that sent it).
 */
export type AsyncSink = (
  kind: AsyncKind, reason: number, message: OfpMessage | ((client: OfprotoClient) => OfpMessage), exclude?: OfprotoClient,
) => void;

export interface SwitchDescription {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export interface OfprotoOptions {
  /** 64-bit datapath id; by default derived from the bridge's Ethernet address, as OVS does. */
  datapathId?: bigint;
  description?: Partial<SwitchDescription>;
  softwareVersion?: string;
  /** The monotonic clock in milliseconds (tests may substitute one). */
  now?: () => number;
  /**
   * Packet-in buffering (the seeds' pktbuf: 256 buffers per connection, 5 s). Off, the switch
   * behaves as Open vSwitch 3.x: no buffers, whole packets, buffer ids refused.
   */
  buffering?: boolean;
}

function refuse(code: number, detail: string): never {
  throw new OfpError(OFPET_BAD_REQUEST, code, detail);
}

function usesGroup(rule: Rule, groupId: number): boolean {
  return rule.instructions.some((i) => (i.type === 'apply_actions' || i.type === 'write_actions') &&
    i.actions.some((a) => a.type === 'group' && a.groupId === groupId));
}

function usesMeter(rule: Rule, meterId: number): boolean {
  return rule.instructions.some((i) => i.type === 'meter' && i.meterId === meterId);
}

export class Ofproto implements FlowTableContext, UpcallHandler {
  readonly hwAddr: string;
  readonly datapathId: bigint;
  readonly description: SwitchDescription;
  /** Switch-wide IP fragment handling (OFPC_FRAG_*), set by OFPT_SET_CONFIG. */
  fragHandling = 0;
  readonly ports = new Map<number, OfPort>();
  readonly portCreatedMs = new Map<number, number>();
  readonly tables: OfTable[] = Array.from({ length: N_TABLES }, (_, id) => newTable(id));
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  /** Rules with an idle or hard timeout, checked by the expiry timer. */
  private readonly timedRules = new Set<Rule>();
  /** The rules the change in progress added, removed or modified (see change()). */
  private changedRules: Rule[] | undefined;
  private asyncSink: AsyncSink = () => undefined;
  private readonly bundleSets = new WeakMap<OfprotoClient, BundleSet>();
  private readonly reclaimer = new MemoryReclaimer();
  readonly macLearning: MacLearning;
  readonly buffering: boolean;
  private readonly pktbufs = new WeakMap<OfprotoClient, PacketBuffer>();
  private failOpen = false;
  /** The bridge's part of the datapath, once attached. */
  private dp: DpBridge | undefined;
  /** Devices behind ports, for their counters. */
  readonly portDevices = new Map<number, { stats: NetdevStats }>();
  /** Each port's device carrier, as last reported (a port without a report has link). */
  private readonly carriers = new Map<number, boolean>();
  private expiryTimer: NodeJS.Timeout | undefined;
  readonly now: () => number;

  constructor(readonly name: string, options: OfprotoOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.buffering = options.buffering ?? true;
    this.macLearning = new MacLearning(this.now);
    this.hwAddr = macFromName(name);
    this.datapathId = options.datapathId ?? BigInt(`0x${this.hwAddr.replaceAll(':', '')}`);
    this.description = {
      mfrDesc: 'ofswitch project', hwDesc: 'ofswitch', swDesc: options.softwareVersion ?? '0.0.0',
      serialNum: 'None', dpDesc: 'None', ...options.description,
    };
    this.addPortRecord(localPort(name, this.hwAddr));
    this.groups = new GroupTable({
      tables: this.tables, now: this.now, groupExists: (id) => this.groups.exists(id), meterExists: (id) => this.meters.exists(id),
      removeFlowsUsingGroup: (id, txn) => this.removeRulesWhere((r) => usesGroup(r, id), OFPRR_GROUP_DELETE, txn),
      flowsUsingGroup: (id) => this.countRulesWhere((r) => usesGroup(r, id)),
    });
    this.meters = new MeterTable({
      now: this.now,
      removeFlowsUsingMeter: (id, txn) => this.removeRulesWhere((r) => usesMeter(r, id), OFPRR_METER_DELETE, txn),
      flowsUsingMeter: (id) => this.countRulesWhere((r) => usesMeter(r, id)),
    });
  }

  /** Connects the bridge's datapath: packets that miss its cache come to translate(). */
  attachDatapath(dp: DpBridge): void {
    this.dp = dp;
  }

  /** Starts timeouts and connects asynchronous messages to the bridge's connections. */
  start(sink: AsyncSink): void {
    this.asyncSink = sink;
    this.expiryTimer ??= setInterval(() => this.expireRules(), EXPIRY_INTERVAL_MS);
    this.expiryTimer.unref();
  }

  stop(): void {
    this.reclaimer.stop();
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private addPortRecord(port: OfPort): void {
    this.ports.set(port.portNo, port);
    this.portCreatedMs.set(port.portNo, this.now());
  }

  /**
   * Adds a port, numbered `requested` when that number is free, otherwise with the lowest
   * free number, as Open vSwitch honours ofport_request.
   */
  addPort(name: string, requested?: number, hwAddr?: string): OfPort {
    for (const p of this.ports.values()) if (p.name === name) throw new Error(`port ${name} already exists`);
    let portNo = requested !== undefined && requested >= 1 && requested < 0xff00 && !this.ports.has(requested) ? requested : 1;
    while (this.ports.has(portNo)) portNo++;
    const port = { ...devicelessPort(name, portNo), ...(hwAddr ? { hwAddr } : {}) };
    this.addPortRecord(port);
    return port;
  }

  /** Removes a port; controllers are told (PORT_STATUS DELETE). Flows that name it stay, as in OVS. */
  removePort(portNo: number): void {
    const port = this.ports.get(portNo);
    if (!port || portNo === OFPP_LOCAL) return;
    this.ports.delete(portNo);
    this.portCreatedMs.delete(portNo);
    this.portDevices.delete(portNo);
    this.carriers.delete(portNo);
    this.dp?.flush();
    this.asyncSink('port_status', OFPPR_DELETE, { type: 'port_status', xid: 0, reason: OFPPR_DELETE, port });
  }

  /** Tells controllers about a port added while the bridge runs (PORT_STATUS ADD). */
  announcePort(portNo: number): void {
    const port = this.ports.get(portNo);
    if (port) this.asyncSink('port_status', OFPPR_ADD, { type: 'port_status', xid: 0, reason: OFPPR_ADD, port });
  }

  // ---- the flow table context (used by flow-mod.ts, groups and meters) ----

  groupExists(groupId: number): boolean {
    return this.groups.exists(groupId);
  }

  meterExists(meterId: number): boolean {
    return this.meters.exists(meterId);
  }

  insertRule(rule: Rule, txn: Transaction): void {
    this.tables[rule.tableId]!.rules.insert(rule);
    this.ruleModified(rule);
    if (rule.idleTimeout || rule.hardTimeout) this.timedRules.add(rule);
    txn.undo(() => {
      this.tables[rule.tableId]!.rules.remove(rule);
      this.timedRules.delete(rule);
    });
  }

  replaceRule(rule: Rule, txn: Transaction): void {
    this.tables[rule.tableId]!.rules.remove(rule);
    this.ruleModified(rule);
    this.timedRules.delete(rule);
    txn.undo(() => {
      this.tables[rule.tableId]!.rules.insert(rule);
      if (rule.idleTimeout || rule.hardTimeout) this.timedRules.add(rule);
    });
  }

  removeRule(rule: Rule, reason: number, txn: Transaction): void {
    if (!this.tables[rule.tableId]!.rules.remove(rule)) return;
    this.ruleModified(rule);
    this.timedRules.delete(rule);
    txn.afterCommit(() => this.reclaimer.churn(1));
    txn.undo(() => {
      this.tables[rule.tableId]!.rules.insert(rule);
      if (rule.idleTimeout || rule.hardTimeout) this.timedRules.add(rule);
    });
    if (rule.flags & OFPFF_SEND_FLOW_REM) txn.afterCommit(() => this.sendFlowRemoved(rule, reason));
  }

  private removeRulesWhere(test: (r: Rule) => boolean, reason: number, txn: Transaction): void {
    for (const table of this.tables) for (const rule of [...table.rules]) if (test(rule)) this.removeRule(rule, reason, txn);
  }

  private countRulesWhere(test: (r: Rule) => boolean): number {
    let n = 0;
    for (const table of this.tables) for (const rule of table.rules) if (test(rule)) n++;
    return n;
  }

  private sendFlowRemoved(rule: Rule, reason: number): void {
    // OpenFlow 1.3 has no METER_DELETE reason: it is enabled by its own async bit (4) but
    // reported as DELETE, as Open vSwitch does.
    this.asyncSink('flow_removed', reason, {
      type: 'flow_removed', xid: 0, cookie: rule.cookie, priority: rule.priority,
      reason: reason === OFPRR_METER_DELETE ? OFPRR_DELETE : reason, tableId: rule.tableId,
      ...duration(rule.createdMs, this.now()), idleTimeout: rule.idleTimeout, hardTimeout: rule.hardTimeout,
      packetCount: BigInt(rule.packetCount), byteCount: BigInt(rule.byteCount), match: ruleMatch(rule),
    });
  }

  ruleModified(rule: Rule): void {
    this.changedRules?.push(rule);
  }

  /**
   * Applies a change atomically; then drops the cached translations it may affect. For a
   * change of flows only (`flowsOnly`) and not too many of them, those are the megaflows
   * whose lookups in a changed rule's table covered keys the rule matches; otherwise all.
   */
  private change<T>(apply: (txn: Transaction) => T, flowsOnly = false): T {
    const changed: Rule[] = [];
    this.changedRules = changed;
    try {
      return atomically(apply);
    } finally {
      this.changedRules = undefined;
      if (flowsOnly && changed.length <= MAX_RULES_REVALIDATED) this.invalidateFor(changed);
      else this.dp?.flush();
    }
  }

  /** Drops the megaflows a change of `rules` may affect (see LookupRegion in xlate.ts). */
  private invalidateFor(rules: Rule[]): void {
    if (rules.length === 0) return;
    const changed = rules.map((r) => ({ tableId: r.tableId, value: r.value, mask: r.mask }));
    this.dp?.invalidate((credits) => (credits as Credits).regions.some((region) => changed.some((rule) => rule.tableId === region.tableId
      && regionsOverlap(region.value, region.mask, rule.value, rule.mask))));
  }

  /** Removes rules whose hard or idle timeout has passed (hard first, as Open vSwitch checks). */
  expireRules(): void {
    const now = this.now();
    const expired: Array<[Rule, number]> = [];
    for (const rule of this.timedRules) {
      if (rule.hardTimeout && now - rule.modifiedMs >= rule.hardTimeout * 1000) expired.push([rule, OFPRR_HARD_TIMEOUT]);
      else if (rule.idleTimeout && now - rule.usedMs >= rule.idleTimeout * 1000) expired.push([rule, OFPRR_IDLE_TIMEOUT]);
    }
    if (expired.length) this.change((txn) => { for (const [rule, reason] of expired) this.removeRule(rule, reason, txn); }, true);
    this.invalidateMacLookups(this.macLearning.expire());
  }

  // ---- requests ----

  /** Handles one request; `raw`, its bytes when at hand, spares re-reading the flow-mod match. */
  handleMessage(conn: OfprotoClient, m: OfpMessage, raw?: Buffer): void {
    switch (m.type) {
      case 'echo_request':
        conn.sendMessage({ type: 'echo_reply', xid: m.xid, data: m.data });
        return;
      case 'features_request':
        conn.sendMessage({
          type: 'features_reply', xid: m.xid, datapathId: this.datapathId, nBuffers: this.buffering ? PKTBUF_CNT : 0, nTables: N_TABLES,
          auxiliaryId: 0, capabilities: CAPABILITIES, reserved: 0,
        });
        return;
      case 'get_config_request':
        conn.sendMessage({ type: 'get_config_reply', xid: m.xid, flags: this.fragHandling, missSendLen: conn.missSendLen });
        return;
      case 'set_config':
        // Fragments are handled normally or dropped; reassembly is not offered (as in Open
        // vSwitch), so asking for it leaves the mode unchanged and `ovs-ofctl set-frags` says so.
        if ((m.flags & OFPC_FRAG_MASK) !== OFPC_FRAG_REASM && (m.flags & OFPC_FRAG_MASK) !== this.fragHandling) {
          this.fragHandling = m.flags & OFPC_FRAG_MASK;
          this.dp?.flush();
        }
        conn.missSendLen = m.missSendLen;
        return;
      case 'barrier_request':
        // Requests are handled to completion in arrival order, so every earlier one is done.
        conn.sendMessage({ type: 'barrier_reply', xid: m.xid });
        return;
      case 'flow_mod':
        this.reclaimer.churn(1);
        this.change((txn) => applyFlowMod(this, m, txn, raw), true);
        // A buffered packet goes through the tables as they now are.
        if (this.buffering && m.bufferId !== OFP_NO_BUFFER && m.command !== OFPFC_DELETE && m.command !== OFPFC_DELETE_STRICT) {
          const packet = this.pktbuf(conn).retrieve(m.bufferId);
          this.packetOut(packet.data, packet.inPort, [{ type: 'output', port: OFPP_TABLE, maxLen: 0 }]);
        }
        return;
      case 'group_mod':
        this.change((txn) => this.groups.apply(m, txn));
        return;
      case 'meter_mod':
        this.change((txn) => this.meters.apply(m, txn));
        return;
      case 'port_mod':
        this.change((txn) => this.portMod(m, txn, conn));
        return;
      case 'packet_out': {
        checkPacketOutInPort(m.inPort);
        for (const a of m.actions) if (a.type !== 'output' || a.port !== OFPP_TABLE) checkActionList([a]);
        const packet = m.bufferId === OFP_NO_BUFFER ? { data: m.data, inPort: m.inPort } : this.pktbuf(conn).retrieve(m.bufferId);
        this.packetOut(packet.data, m.inPort, m.actions);
        return;
      }
      case 'table_mod':
        // OpenFlow 1.3 defines no table configuration bits (the 1.1 miss bits are deprecated):
        // the config is accepted and ignored, as Open vSwitch does; table 254 is its read-only one.
        if (m.tableId === TABLE_INTERNAL) throw new OfpError(OFPET_TABLE_MOD_FAILED, OFPTMFC_EPERM, 'table 254 is read-only');
        if (m.tableId !== 0xff && m.tableId >= N_TABLES) throw new OfpError(OFPET_TABLE_MOD_FAILED, OFPTMFC_BAD_TABLE, `table ${m.tableId}`);
        return;
      case 'multipart_request':
        this.handleMultipart(conn, m);
        return;
      case 'queue_get_config_request':
        conn.sendMessage({ type: 'queue_get_config_reply', xid: m.xid, port: m.port, queues: queueConfig(this.ports, m.port) });
        return;
      case 'get_async_request':
        conn.sendMessage({ type: 'get_async_reply', xid: m.xid, ...conn.asyncConfig });
        return;
      case 'set_async':
        conn.asyncConfig = {
          packetInMask: onlyReasons(m.packetInMask, ASYNC_REASONS.packetIn), portStatusMask: onlyReasons(m.portStatusMask, ASYNC_REASONS.portStatus),
          flowRemovedMask: onlyReasons(m.flowRemovedMask, ASYNC_REASONS.flowRemoved),
        };
        // Asking for asynchronous messages is enough for a service connection (ovs-ofctl
        // monitor) to get packet-ins; a controller's own miss_send_len 0 stays as it set it.
        if (conn.type === 'service' && conn.missSendLen === 0) conn.missSendLen = 128;
        return;
      case 'echo_reply':
        return;
      case 'error':
        log.info(`${conn.name}: controller reported error type ${m.errType} code ${m.code}`);
        return;
      case 'bundle_control':
        this.bundles(conn).control(m, {
          commitBundle: (messages) => this.commitBundle(messages),
          sendError: (error, raw, xid) => conn.sendError(error, raw, xid),
          reply: (message) => conn.sendMessage(message),
        });
        return;
      case 'bundle_add':
        this.bundles(conn).add(m, raw ?? encodeMessage(m), (inner, innerRaw) => {
          if (inner.type === 'packet_out') refuse(OFPBRC_BAD_TYPE, 'packet_out is not supported yet');
          if (inner.type !== 'flow_mod') return undefined;
          const key = flowModKey(inner, innerRaw);
          checkFlowModHeader(this, inner, key);
          return key;
        });
        return;
      case 'experimenter':
        refuse(OFPBRC_BAD_EXPERIMENTER, `experimenter 0x${m.experimenter.toString(16)} is not supported`);
        break;
      default:
        refuse(OFPBRC_BAD_TYPE, `${m.type} is not supported`);
    }
  }

  // ---- the datapath's upcalls ----

  /** What a translation reads of this bridge (an upcall's, a packet-out's, a trace's). */
  xlateBridge(): XlateBridge {
    return {
      tables: this.tables, groups: this.groups.groups, ports: this.ports, macLearning: this.macLearning,
      fragHandling: this.fragHandling,
    };
  }

  translate(frame: Buffer, inPort: number): DpTranslation {
    // In fail-open a hidden rule above all others sends everything to NORMAL (Open vSwitch's
    // fail-open flow), so flows added meanwhile wait unused until the controller returns.
    if (this.failOpen) return xlate(this.xlateBridge(), { frame, inPort, packetOutActions: [{ type: 'output', port: OFPP_NORMAL, maxLen: 0 }] });
    return xlate(this.xlateBridge(), { frame, inPort });
  }

  /** Enters or leaves fail-open (the connection manager decides when). */
  setFailOpen(on: boolean): void {
    if (this.failOpen === on) return;
    this.failOpen = on;
    // Failing open starts from a clean slate, as Open vSwitch's does: the controller's flows
    // were for a network it managed and are dropped (groups and meters stay); the controller
    // reinstalls what it wants once it is back.
    if (on) this.change((txn) => this.removeRulesWhere((r) => r.tableId !== TABLE_INTERNAL, OFPRR_DELETE, txn));
    this.dp?.flush();
  }

  /**
   * Open vSwitch's ofproto_flush_flows: every OpenFlow flow goes (FLOW_REMOVED where asked);
   * with `addNormal` (standalone, no controller configured) a visible `priority=0
   * actions=NORMAL` flow takes their place, so the bridge is a learning switch.
   */
  flushFlows(addNormal: boolean): void {
    this.change((txn) => {
      this.removeRulesWhere((r) => r.tableId !== TABLE_INTERNAL, OFPRR_DELETE, txn);
      if (addNormal) applyFlowMod(this, NORMAL_FLOW, txn);
    });
  }

  credit(credits: unknown, bytes: number): void {
    const c = credits as Credits;
    const now = this.now();
    for (const rule of c.rules) {
      rule.packetCount++;
      rule.byteCount += bytes;
      rule.usedMs = now;
    }
    for (const table of c.lookups) table.lookupCount++;
    for (const table of c.matches) table.matchedCount++;
    for (const group of c.groups) {
      group.packetCount++;
      group.byteCount += BigInt(bytes);
    }
    for (const { group, bucket } of c.buckets) {
      const counts = group.bucketCounts[bucket];
      if (counts) {
        counts.packetCount++;
        counts.byteCount += BigInt(bytes);
      }
    }
  }

  /** A port that is down, or configured not to receive, lets no packet into the pipeline. */
  receives(port: number): boolean {
    const p = this.ports.get(port);
    return !!p && !(p.config & (OFPPC_NO_RECV | OFPPC_PORT_DOWN));
  }

  packetIn(spec: PacketInSpec, frame: Buffer, inPort: number): void {
    this.asyncSink('packet_in', spec.reason, (client) => buildPacketIn(spec, frame, inPort, this.buffering ? this.pktbuf(client) : undefined));
  }

  meter(meterId: number, packet: Packet, bytes: number): boolean {
    const verdict = this.meters.meterPacket(meterId, bytes);
    if (verdict.pass && verdict.dscpRaise) raiseDropPrecedence(packet, verdict.dscpRaise);
    return verdict.pass;
  }

  learn(mac: string, vlan: number, port: number): void {
    // An address learned or moved changes what NORMAL does for frames sent to it.
    this.invalidateMacLookups(this.macLearning.learn(mac, vlan, port));
  }

  /** Drops the megaflows whose NORMAL looked up one of `addresses`. */
  private invalidateMacLookups(addresses: readonly MacAddress[]): void {
    if (addresses.length === 0) return;
    this.dp?.invalidate((credits) => (credits as Credits).macLookups.some((looked) => addresses.some((a) => a.mac === looked.mac && a.vlan === looked.vlan)));
  }

  private pktbuf(client: OfprotoClient): PacketBuffer {
    let buf = this.pktbufs.get(client);
    if (!buf) {
      buf = new PacketBuffer(this.now);
      this.pktbufs.set(client, buf);
    }
    return buf;
  }

  /** Runs a packet through an action list (a packet-out), without caching. */
  private packetOut(frame: Buffer, inPort: number, actions: Action[]): void {
    const t = xlate(this.xlateBridge(), { frame, inPort, packetOutActions: actions });
    this.credit(t.credits, frame.length);
    const data = Buffer.from(frame);
    this.dp?.run({ data, layout: parsePacket(data, new Uint8Array(FLOW_KEY_BYTES), inPort) }, inPort, t.actions);
  }

  /** A device's carrier came or went: the port's state follows, controllers are told. */
  setPortCarrier(portNo: number, up: boolean): void {
    this.carriers.set(portNo, up);
    this.refreshLinkState(portNo);
  }

  /**
   * Brings a port's state bits in line with its carrier and config; a change is announced to
   * every controller (the requester of a PORT_MOD included: it is the device that changed).
   */
  private refreshLinkState(portNo: number): void {
    const port = this.ports.get(portNo);
    if (!port) return;
    const state = linkState(port, this.carriers.get(portNo) ?? true);
    if (state === port.state) return;
    const updated = { ...port, state };
    this.ports.set(portNo, updated);
    this.dp?.flush();
    this.asyncSink('port_status', OFPPR_MODIFY, { type: 'port_status', xid: 0, reason: OFPPR_MODIFY, port: updated });
  }

  private checkMeterRequest(meterId: number): void {
    if (meterId !== OFPM_ALL && !this.meters.exists(meterId)) {
      throw new OfpError(OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, `meter ${meterId} does not exist`);
    }
  }

  /**
   * A table-features request that carries tables sets them. As in Open vSwitch, it must
   * describe every table, may not ask for more than the switch has, and changes only names.
   */
  private setTableFeatures(requested: Array<{ tableId: number; name: string }>): void {
    const ids = new Set(requested.map((t) => t.tableId));
    if (ids.size !== N_TABLES || requested.length !== N_TABLES || [...ids].some((id) => id >= N_TABLES)) {
      throw new OfpError(OFPET_TABLE_FEATURES_FAILED, OFPTFFC_EPERM, 'a table-features request must list every table once');
    }
    for (const t of requested) this.tables[t.tableId]!.name = t.name;
  }

  private bundles(conn: OfprotoClient): BundleSet {
    let set = this.bundleSets.get(conn);
    if (!set) {
      set = new BundleSet();
      this.bundleSets.set(conn, set);
    }
    return set;
  }

  /** Applies bundled modifications all together, or none of them. */
  private commitBundle(messages: BundledMessage[]): void {
    const flowsOnly = messages.every(({ message }) => message.type === 'flow_mod');
    this.change((txn) => {
      messages.forEach(({ message: m, raw, key }, index) => {
        try {
          if (m.type === 'flow_mod') applyFlowMod(this, m, txn, raw, key);
          else if (m.type === 'group_mod') this.groups.apply(m, txn);
          else if (m.type === 'port_mod') this.portMod(m, txn, undefined);
        } catch (e) {
          if (e instanceof OfpError) throw new BundleCommitError(index, e);
          throw e;
        }
      });
    }, flowsOnly);
  }

  /**
   * A PORT_MOD changes the config; as in Open vSwitch, the config change is told to every
   * controller but the requester (OpenFlow 1.3 does not echo it), then the link state that
   * follows from it (a port brought down loses its link) to every controller.
   */
  private portMod(m: Extract<OfpMessage, { type: 'port_mod' }>, txn: Transaction, requester: OfprotoClient | undefined): void {
    const change = applyPortMod(this.ports, m);
    if (!change) return;
    const { before, after } = change;
    this.ports.set(after.portNo, after);
    txn.undo(() => this.ports.set(before.portNo, before));
    txn.afterCommit(() => {
      this.asyncSink('port_status', OFPPR_MODIFY, { type: 'port_status', xid: 0, reason: OFPPR_MODIFY, port: after }, requester);
      this.refreshLinkState(after.portNo);
    });
  }

  private handleMultipart(conn: OfprotoClient, request: MultipartRequest): void {
    const now = this.now();
    const body = request.body;
    let reply: MultipartReplyBody;
    switch (body.mpType) {
      case 'desc':
        reply = { mpType: 'desc', ...this.description };
        break;
      case 'flow': {
        // Streamed: a dump of many flows starts leaving before the last ones are encoded.
        const writer = new MultipartReplyWriter({ xid: request.xid, flags: 0, mpType: 'flow' }, (part) => conn.sendRaw(part));
        for (const rule of selectForStats(this, body)) {
          encodeFlowStats(writer.w, flowStats(rule, now));
          writer.mark();
        }
        writer.end();
        return;
      }
      case 'aggregate':
        reply = { mpType: 'aggregate', ...aggregateStats(selectForStats(this, body)) };
        break;
      case 'table':
        reply = { mpType: 'table', tables: tableStats(this.tables) };
        break;
      case 'port_stats':
        reply = { mpType: 'port_stats', ports: portStats(this.ports, this.portCreatedMs, body.portNo, now, this.portDevices) };
        break;
      case 'port_desc':
        reply = { mpType: 'port_desc', ports: [...this.ports.values()].sort((a, b) => a.portNo - b.portNo) };
        break;
      case 'queue':
        reply = { mpType: 'queue', queues: queueStats(this.ports, body.portNo, body.queueId) };
        break;
      case 'group':
        reply = { mpType: 'group', groups: this.groups.stats(body.groupId, now) };
        break;
      case 'group_desc':
        reply = { mpType: 'group_desc', groups: this.groups.desc() };
        break;
      case 'group_features':
        reply = { mpType: 'group_features', ...this.groups.features() };
        break;
      case 'meter':
        this.checkMeterRequest(body.meterId);
        reply = { mpType: 'meter', meters: this.meters.stats(body.meterId, now) };
        break;
      case 'meter_config':
        this.checkMeterRequest(body.meterId);
        reply = { mpType: 'meter_config', meters: this.meters.config(body.meterId) };
        break;
      case 'meter_features':
        reply = { mpType: 'meter_features', ...this.meters.features() };
        break;
      case 'table_features':
        if (body.tables.length) this.setTableFeatures(body.tables);
        reply = { mpType: 'table_features', tables: tableFeatures(this.tables) };
        break;
      default:
        refuse(OFPBRC_BAD_MULTIPART, `multipart ${body.mpType} is not supported`);
    }
    for (const part of encodeMultipartReply({ type: 'multipart_reply', xid: request.xid, flags: 0, body: reply })) conn.sendRaw(part);
  }
}

