/*
 * The daemon's bridges as the configuration database describes them (Open vSwitch's
 * vswitchd/bridge.c). Whenever the database changes, reconfigure() brings the running
 * bridges in line: bridges are added and deleted (a name with `/` or `\` is refused with a
 * warning), ports whose interfaces changed are re-added (ports that request a number first),
 * controllers and fail modes set. A port whose device cannot be opened gets an `error` in its
 * Interface row and ofport -1, and the rest of the bridge works.
 *
 * Runtime state goes back into the database: Interface ofport, link_state, mac_in_use, error,
 * statistics (every 5 s);
 * Bridge datapath_id; Controller is_connected, role, status; Open_vSwitch cur_cfg. Those
 * write-backs do not trigger another reconfiguration.
 */
import { type Atom, type ConfigDb, type Datum, isUuid, type Json, type Operation, type Row } from '../config/index.ts';
import type { ControllerConfig, TlsSettings } from '../connmgr/index.ts';
import type { Datapath } from '../datapath/index.ts';
import { OFPPS_LINK_DOWN } from '../../protocol/index.ts';
import { Bridge, defaultDatapath, isValidBridgeName } from './bridge.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('bridge');
const STATUS_REFRESH_MS = 1000;
/** Interface statistics are refreshed less often, as Open vSwitch's stats-update-interval (5 s). */
const STATISTICS_REFRESH_MS = 5000;

export interface VswitchOptions {
  rundir: string;
  softwareVersion: string;
  buffering: boolean;
  tls?: TlsSettings;
  datapath?: Datapath;
}

interface WantedInterface {
  name: string;
  type: string;
  options: Record<string, string>;
  ofportRequest?: number;
}

const scalar = (d: Datum | undefined): Atom | undefined => (d as Atom[] | undefined)?.[0];
const uuids = (d: Datum | undefined): string[] => ((d ?? []) as Atom[]).filter(isUuid).map((a) => a.uuid);
const smap = (d: Datum | undefined): Record<string, string> => Object.fromEntries(((d ?? []) as Array<[Atom, Atom]>).map(([k, v]) => [String(k), String(v)]));

export class Vswitch {
  readonly bridges = new Map<string, Bridge>();
  /** Interface runtime state to write back: name -> ofport / error. */
  private readonly interfaceState = new Map<string, { ofport: number; error?: string }>();
  private appliedSeq = 0;
  private running: Promise<void> = Promise.resolve();
  private readonly waiters: Array<{ seq: number; resolve: () => void }> = [];
  private writingBack = false;
  private statisticsWrittenMs = -Infinity;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly datapath: Datapath;

  constructor(readonly db: ConfigDb, private readonly options: VswitchOptions) {
    this.datapath = options.datapath ?? defaultDatapath();
    db.onChange((seq) => {
      if (!this.writingBack) void this.reconfigure(seq);
    });
    this.statusTimer = setInterval(() => this.writeBackStatus(), STATUS_REFRESH_MS);
    this.statusTimer.unref();
  }

  /** Resolves once the configuration with change counter `seq` (or later) is in effect. */
  applied(seq: number): Promise<void> {
    if (this.appliedSeq >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Applies the database (runs one at a time, in order). */
  reconfigure(seq = this.db.seq): Promise<void> {
    this.running = this.running.then(() => this.apply(seq)).catch((e: unknown) => {
      log.err(`reconfiguration failed: ${(e as Error).stack}`);
    });
    return this.running;
  }

  private async apply(seq: number): Promise<void> {
    const root = [...this.db.rows('Open_vSwitch').values()][0];
    const wanted = new Map<string, Row>();
    for (const uuid of uuids(root?.bridges)) {
      const row = this.db.get('Bridge', uuid);
      if (!row) continue;
      const name = String(scalar(row.name));
      if (!isValidBridgeName(name)) {
        log.warn(`${name}: not a usable bridge name (at most 15 characters, not "." or "..", no "/" or "\\"), ignoring`);
        continue;
      }
      wanted.set(name, row);
    }
    for (const [name, bridge] of this.bridges) {
      if (!wanted.has(name)) {
        log.info(`deleting bridge ${name}`);
        this.bridges.delete(name);
        await bridge.close();
      }
    }
    for (const [name, row] of wanted) await this.applyBridge(name, row);
    this.appliedSeq = Math.max(this.appliedSeq, seq);
    this.writeBackStatus();
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.seq <= this.appliedSeq) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }

  private wantedInterfaces(row: Row, bridgeName: string): WantedInterface[] {
    const list: WantedInterface[] = [];
    for (const portUuid of uuids(row.ports)) {
      const port = this.db.get('Port', portUuid);
      for (const ifaceUuid of uuids(port?.interfaces)) {
        const iface = this.db.get('Interface', ifaceUuid);
        if (!iface) continue;
        const name = String(scalar(iface.name));
        // The interface named like its bridge is the bridge's own LOCAL port.
        if (name === bridgeName) continue;
        const request = scalar(iface.ofport_request);
        list.push({ name, type: String(scalar(iface.type) ?? ''), options: smap(iface.options), ...(typeof request === 'number' ? { ofportRequest: request } : {}) });
      }
    }
    // Ports that request a number first, then the rest, as Open vSwitch's bridge does.
    return list.sort((a, b) => (a.ofportRequest === undefined ? 1 : 0) - (b.ofportRequest === undefined ? 1 : 0));
  }

  private async applyBridge(name: string, row: Row): Promise<void> {
    const otherConfig = smap(row.other_config);
    const dpid = otherConfig['datapath-id'];
    let bridge = this.bridges.get(name);
    if (!bridge) {
      log.info(`adding bridge ${name}`);
      bridge = await Bridge.create(name, this.options.rundir, {
        ...(dpid && /^[0-9a-fA-F]{16}$/.test(dpid) ? { datapathId: BigInt(`0x${dpid}`) } : {}),
        softwareVersion: this.options.softwareVersion, buffering: this.options.buffering,
      }, [], this.datapath, { ...(this.options.tls ? { tls: this.options.tls } : {}) });
      this.bridges.set(name, bridge);
    }
    // Ports: remove what is gone or changed, add what is new.
    const wanted = this.wantedInterfaces(row, name);
    const signature = (w: WantedInterface): string => JSON.stringify([w.type, w.options, w.ofportRequest]);
    const wantedByName = new Map(wanted.map((w) => [w.name, w]));
    const current = bridge.portSignatures;
    for (const [portName, sig] of current) {
      const w = wantedByName.get(portName);
      if (!w || signature(w) !== sig) {
        await bridge.removePort(portName);
        current.delete(portName);
        this.interfaceState.delete(portName);
      }
    }
    for (const w of wanted) {
      if (current.has(w.name)) continue;
      const type = w.type === '' ? 'system' : w.type;
      const result = await bridge.addPort({ name: w.name, ...(w.ofportRequest !== undefined ? { ofport: w.ofportRequest } : {}), type, options: w.options }, true);
      current.set(w.name, signature(w));
      this.interfaceState.set(w.name, result.portNo !== undefined ? { ofport: result.portNo } : { ofport: -1, error: result.error ?? 'could not open network device' });
    }
    // Controllers and fail mode.
    const controllers: ControllerConfig[] = uuids(row.controller).map((uuid) => this.db.get('Controller', uuid)).filter((c): c is Row => !!c)
      .map((c) => {
        const maxBackoff = scalar(c.max_backoff);
        const probe = scalar(c.inactivity_probe);
        return {
          target: String(scalar(c.target)), ...(typeof maxBackoff === 'number' ? { maxBackoffMs: maxBackoff } : {}),
          ...(typeof probe === 'number' ? { probeIntervalMs: probe } : {}),
        };
      });
    await bridge.connmgr.setControllers(controllers);
    const failMode = scalar(row.fail_mode);
    bridge.connmgr.setFailMode(failMode === 'secure' ? 'secure' : 'standalone');
    const firstController = uuids(row.controller).map((u) => this.db.get('Controller', u))[0];
    const rate = scalar(firstController?.controller_rate_limit);
    const burst = scalar(firstController?.controller_burst_limit);
    bridge.connmgr.setPacketInLimit(typeof rate === 'number' ? { rate, burst: typeof burst === 'number' ? burst : Math.max(25, Math.floor(rate / 4)) } : undefined);
  }

  /** Writes runtime state back into the database, only where it changed. */
  writeBackStatus(): void {
    const ops: Operation[] = [];
    const now = performance.now();
    const withStatistics = now - this.statisticsWrittenMs >= STATISTICS_REFRESH_MS;
    if (withStatistics) this.statisticsWrittenMs = now;
    const update = (table: string, where: Array<[string, string, Json]>, current: Row | undefined, values: Record<string, Json>, datums: Record<string, Datum>): void => {
      if (!current) return;
      const changed = Object.keys(datums).some((k) => JSON.stringify(current[k]) !== JSON.stringify(datums[k]));
      if (changed) ops.push({ op: 'update', table, where, row: values });
    };
    for (const [uuid, row] of this.db.rows('Interface')) {
      const name = String(scalar(row.name));
      const bridge = this.bridges.get(name);
      const state = this.interfaceState.get(name);
      let ofport: number | undefined;
      let linkUp: boolean | undefined;
      let mac: string | undefined;
      let statistics: Array<[string, number]> | undefined;
      if (bridge) {
        ofport = 0xfffe;
        linkUp = true;
        mac = bridge.ofproto.hwAddr;
      } else if (state) {
        ofport = state.ofport;
        for (const b of this.bridges.values()) {
          const port = b.ofproto.ports.get(state.ofport);
          if (port && port.name === name) {
            linkUp = !(port.state & OFPPS_LINK_DOWN);
            mac = port.hwAddr;
            const s = b.netdevs.get(state.ofport)?.stats;
            if (s) {
              statistics = [['rx_bytes', s.rxBytes], ['rx_dropped', s.rxDropped], ['rx_packets', s.rxPackets],
                ['tx_bytes', s.txBytes], ['tx_dropped', s.txDropped], ['tx_packets', s.txPackets]];
            }
          }
        }
      }
      if (ofport === undefined) continue;
      const values: Record<string, Json> = {
        ofport: ['set', [ofport]], link_state: ['set', linkUp === undefined ? [] : [linkUp ? 'up' : 'down']],
        mac_in_use: ['set', mac ? [mac] : []], error: ['set', state?.error ? [state.error] : []],
      };
      const datums: Record<string, Datum> = {
        ofport: [ofport], link_state: linkUp === undefined ? [] : [linkUp ? 'up' : 'down'], mac_in_use: mac ? [mac] : [], error: state?.error ? [state.error] : [],
      };
      if (withStatistics && statistics) {
        values.statistics = ['map', statistics];
        datums.statistics = statistics as unknown as Datum;
      }
      update('Interface', [['_uuid', '==', ['uuid', uuid]]], row, values, datums);
    }
    for (const [uuid, row] of this.db.rows('Bridge')) {
      const bridge = this.bridges.get(String(scalar(row.name)));
      if (!bridge) continue;
      const dpid = bridge.ofproto.datapathId.toString(16).padStart(16, '0');
      update('Bridge', [['_uuid', '==', ['uuid', uuid]]], row, { datapath_id: ['set', [dpid]] }, { datapath_id: [dpid] });
      for (const ctlUuid of uuids(row.controller)) {
        const ctl = this.db.get('Controller', ctlUuid);
        const status = bridge.connmgr.controllerStatus().find((c) => c.target === String(scalar(ctl?.target)));
        if (!ctl || !status) continue;
        const role = status.role === 'equal' ? 'other' : status.role;
        const statusMap: Array<[string, string]> = [['state', status.state ?? (status.isConnected ? 'ACTIVE' : 'BACKOFF')]];
        if (status.lastError) statusMap.unshift(['last_error', status.lastError]);
        statusMap.sort((a, b) => (a[0] < b[0] ? -1 : 1));
        update('Controller', [['_uuid', '==', ['uuid', ctlUuid]]], ctl,
          { is_connected: status.isConnected, role: ['set', status.isConnected ? [role] : []], status: ['map', statusMap] },
          { is_connected: [status.isConnected], role: status.isConnected ? [role] : [], status: statusMap });
      }
    }
    const root = [...this.db.rows('Open_vSwitch')][0];
    if (root) {
      const next = scalar(root[1].next_cfg);
      update('Open_vSwitch', [], root[1], { cur_cfg: next as Json }, { cur_cfg: [next as Atom] });
    }
    if (!ops.length) return;
    this.writingBack = true;
    try {
      this.db.transact(ops);
    } catch (e) {
      log.warn(`could not record runtime state: ${(e as Error).message}`);
    } finally {
      this.writingBack = false;
    }
  }

  async close(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.running;
    await Promise.all([...this.bridges.values()].map((b) => b.close()));
    this.bridges.clear();
  }
}
