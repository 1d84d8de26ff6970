/*
 * The embedded datapath (Open vSwitch's dpif-netdev), one per process, one DpBridge per
 * bridge. A frame a port receives is parsed into a flow key and looked up first in an
 * exact-match cache, then in the megaflow classifier; on a miss it goes up to the bridge's
 * ofproto (an upcall), whose translation is installed as a megaflow — value and mask as
 * translation found them — unless it cannot be cached, and the actions run.
 *
 * Any change to what a translation reads drops the megaflows it may affect before the change
 * is acknowledged, so no packet ever follows a stale rule: the bridge's ofproto picks them
 * (invalidate) for a change of a few flows or a learned address, and flushes them all for
 * anything else. Megaflows idle for 10 s expire. Times are milliseconds on the monotonic
 * clock.
 */
import { Classifier, type ClassifierRule } from '../classifier/index.ts';
import type { Netdev } from '../netdev/index.ts';
import { FLOW_KEY_BYTES, type Packet, parsePacket } from '../packet/index.ts';
import type { DpAction, PacketInSpec } from './actions.ts';
import { executeActions } from './execute.ts';
import { coverageInc } from '../util/coverage.ts';

export const MEGAFLOW_IDLE_MS = 10_000;
const EMC_SIZE = 8192;

/** A translation as the datapath caches it. `credits` are opaque to the datapath. */
export interface DpTranslation {
  key: Uint8Array;
  mask: Uint8Array;
  actions: DpAction[];
  cacheable: boolean;
  credits: unknown;
}

/** What the datapath asks of the bridge it serves (its ofproto). */
export interface UpcallHandler {
  translate(frame: Buffer, inPort: number): DpTranslation;
  /** Counts one packet of `bytes` against what a translation traversed. */
  credit(credits: unknown, bytes: number): void;
  /** Whether packets received on `port` enter the pipeline (not OFPPC_NO_RECV). */
  receives(port: number): boolean;
  packetIn(spec: PacketInSpec, frame: Buffer, inPort: number): void;
  meter(meterId: number, packet: Packet, bytes: number): boolean;
  learn(mac: string, vlan: number, port: number): void;
}

export class Megaflow implements ClassifierRule {
  readonly priority = 0;
  bucketKey?: string;
  packets = 0;
  bytes = 0;
  alive = true;

  constructor(
    public value: Uint8Array,
    public mask: Uint8Array,
    readonly actions: DpAction[],
    readonly credits: unknown,
    public usedMs: number,
  ) {}
}

export interface DpStats {
  /** Packets that hit the exact-match cache, the megaflow classifier, or neither (upcalls). */
  emcHits: number;
  megaflowHits: number;
  upcalls: number;
  /** Upcalls whose translation could not be cached. */
  uncached: number;
}

function hashKey(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h >>> 0;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class DpBridge {
  readonly ports = new Map<number, Netdev>();
  readonly megaflows = new Classifier<Megaflow>();
  readonly stats: DpStats = { emcHits: 0, megaflowHits: 0, upcalls: 0, uncached: 0 };
  /** The exact-match cache: direct-mapped by key hash; a megaflow that died no longer counts. */
  private readonly emcKeys: Array<Uint8Array | undefined> = new Array(EMC_SIZE);
  private readonly emcFlows: Array<Megaflow | undefined> = new Array(EMC_SIZE);
  private readonly key = new Uint8Array(FLOW_KEY_BYTES);

  constructor(readonly name: string, private readonly handler: UpcallHandler, private readonly now: () => number) {}

  addPort(portNo: number, netdev: Netdev): void {
    this.ports.set(portNo, netdev);
    netdev.onReceive = (frame) => this.receive(portNo, frame);
    // Cached floods and outputs to ALL were translated without it.
    this.flush();
  }

  removePort(portNo: number): void {
    const netdev = this.ports.get(portNo);
    if (netdev) netdev.onReceive = undefined;
    this.ports.delete(portNo);
    this.flush();
  }

  /**
   * Drops every cached translation: the next packet of each flow is translated afresh. Cheap
   * when nothing is cached, since every change of the switch's state calls it. Exact-match
   * entries are left to fail their `alive` check.
   */
  flush(): void {
    if (this.megaflows.count === 0) return;
    coverageInc('dpif_flush');
    for (const flow of this.megaflows) flow.alive = false;
    this.megaflows.clear();
  }

  /** Drops the megaflows whose translation `stale` says (by its credits) may have changed. */
  invalidate(stale: (credits: unknown) => boolean): void {
    if (this.megaflows.count === 0) return;
    coverageInc('dpif_invalidate');
    const dead = [...this.megaflows].filter((f) => stale(f.credits));
    for (const flow of dead) {
      flow.alive = false;
      this.megaflows.remove(flow);
    }
  }

  /** Removes megaflows unused for MEGAFLOW_IDLE_MS; returns how many. */
  expire(): number {
    const now = this.now();
    const idle = [...this.megaflows].filter((f) => now - f.usedMs > MEGAFLOW_IDLE_MS);
    for (const flow of idle) {
      flow.alive = false;
      this.megaflows.remove(flow);
    }
    return idle.length;
  }

  receive(inPort: number, frame: Buffer): void {
    if (!this.handler.receives(inPort)) return;
    const key = this.key;
    const layout = parsePacket(frame, key, inPort);
    const slot = hashKey(key) & (EMC_SIZE - 1);
    let flow = this.emcFlows[slot];
    if (flow && flow.alive && sameKey(this.emcKeys[slot]!, key)) {
      this.stats.emcHits++;
    } else {
      flow = this.megaflows.lookup(key);
      if (flow) {
        this.stats.megaflowHits++;
        this.emcKeys[slot] = new Uint8Array(key);
        this.emcFlows[slot] = flow;
      }
    }
    if (!flow) {
      this.upcall(inPort, frame);
      return;
    }
    flow.usedMs = this.now();
    flow.packets++;
    flow.bytes += frame.length;
    this.handler.credit(flow.credits, frame.length);
    this.run({ data: Buffer.from(frame), layout }, inPort, flow.actions);
  }

  private upcall(inPort: number, frame: Buffer): void {
    this.stats.upcalls++;
    coverageInc('dpif_upcall');
    const t = this.handler.translate(frame, inPort);
    this.handler.credit(t.credits, frame.length);
    if (t.cacheable) {
      const value = new Uint8Array(FLOW_KEY_BYTES);
      for (let i = 0; i < FLOW_KEY_BYTES; i++) value[i] = t.key[i]! & t.mask[i]!;
      const flow = new Megaflow(value, t.mask, t.actions, t.credits, this.now());
      flow.packets = 1;
      flow.bytes = frame.length;
      if (!this.megaflows.findExact(flow, 0)) this.megaflows.insert(flow);
    } else {
      this.stats.uncached++;
    }
    const data = Buffer.from(frame);
    this.run({ data, layout: parsePacket(data, new Uint8Array(FLOW_KEY_BYTES), inPort) }, inPort, t.actions);
  }

  /** Runs actions on a packet that is not cached (packet-out), or was looked up above. */
  run(packet: Packet, inPort: number, actions: readonly DpAction[]): void {
    const bytes = packet.data.length;
    executeActions(packet, actions, {
      output: (port, data) => this.ports.get(port)?.send(Buffer.from(data)),
      packetIn: (spec, data) => this.handler.packetIn(spec, Buffer.from(data), inPort),
      meter: (meterId, p) => this.handler.meter(meterId, p, bytes),
      learn: (mac, vlan, port) => this.handler.learn(mac, vlan, port),
    });
  }
}

/** The process's datapath: its bridges. */
export class Datapath {
  readonly bridges = new Map<string, DpBridge>();
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  addBridge(name: string, handler: UpcallHandler): DpBridge {
    const bridge = new DpBridge(name, handler, this.now);
    this.bridges.set(name, bridge);
    this.expiryTimer ??= setInterval(() => { for (const b of this.bridges.values()) b.expire(); }, 1000);
    this.expiryTimer.unref();
    return bridge;
  }

  removeBridge(name: string): void {
    this.bridges.get(name)?.flush();
    this.bridges.delete(name);
    if (this.bridges.size === 0 && this.expiryTimer) {
      clearInterval(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }
}
