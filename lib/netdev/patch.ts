/*
 * Patch netdevs: two ports in one process joined back to back (Open vSwitch's `patch`
 * interface type, lib/netdev-vport.c + ofproto-dpif's patch peers), typically connecting two
 * bridges. Each side names the other with `options:peer=NAME`; the pair works only when both
 * are open in the same registry and each names the other.
 *
 * Delivery is asynchronous: a frame sent on one side is copied into the other side's receive
 * queue and handed to its onReceive from a setImmediate callback, one batch per turn of the
 * event loop. A forwarding loop between bridges therefore never recurses on the stack and never
 * starves timers or sockets; each receive queue holds at most PATCH_QUEUE_FRAMES frames and
 * PATCH_QUEUE_BYTES bytes, beyond which the sender counts txDropped. (Open vSwitch executes a
 * patch port's peer pipeline inline during translation, bounded by its recursion limits.)
 *
 * Carrier is up while the peer is open and names this port back; onCarrierChange fires when
 * the peer opens or closes. Open vSwitch reports carrier up on a patch port regardless (the
 * patch netdev has no get_carrier) and records "No usable peer" as the interface's error
 * instead; ofswitch reports the missing peer as link down.
 */
import { Vlog } from '../util/vlog.ts';
import {
  checkOptionKeys, hwAddrForName, newNetdevStats, NetdevError,
  type Netdev, type NetdevContext, type NetdevProvider, type NetdevStats,
} from './provider.ts';

const log = new Vlog('netdev_patch');

/** Frames waiting for one patch port's onReceive, at most. */
export const PATCH_QUEUE_FRAMES = 1024;
/** Bytes waiting for one patch port's onReceive, at most. */
export const PATCH_QUEUE_BYTES = 4 * 1024 * 1024;

export class PatchNetdev implements Netdev {
  readonly type = 'patch';
  readonly hwAddr: string;
  readonly stats: NetdevStats = newNetdevStats();
  onReceive: ((frame: Buffer) => void) | undefined = undefined;
  onCarrierChange: ((up: boolean) => void) | undefined = undefined;

  private queue: Buffer[] = [];
  private queueBytes = 0;
  private flushScheduled: NodeJS.Immediate | undefined;
  private readonly unwatch: () => void;
  private lastCarrier: boolean;
  private closed = false;

  private constructor(readonly name: string, readonly peerName: string, private readonly context: NetdevContext) {
    this.hwAddr = hwAddrForName(name);
    this.lastCarrier = this.carrier;
    this.unwatch = context.watch((changed) => {
      if (changed === this.peerName) this.updateCarrier();
    });
  }

  static async open(name: string, options: Record<string, string>, context: NetdevContext): Promise<PatchNetdev> {
    const peer = options.peer;
    if (peer === undefined || peer === '') throw new NetdevError('BAD_OPTIONS', name, "patch type requires valid 'peer' argument");
    checkOptionKeys(name, 'patch', options, ['peer']);
    if (peer === name) throw new NetdevError('BAD_OPTIONS', name, 'patch peer must not be self');
    return new PatchNetdev(name, peer, context);
  }

  get carrier(): boolean {
    return this.usablePeer() !== undefined;
  }

  /** Frames waiting for this port's onReceive. */
  get queuedFrames(): number { return this.queue.length; }

  send(frame: Buffer): void {
    const peer = this.usablePeer();
    if (peer && peer.enqueue(frame)) {
      this.stats.txPackets++;
      this.stats.txBytes += frame.length;
    } else {
      this.stats.txDropped++;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.context.release(this);
    this.unwatch();
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    this.queue = [];
    this.queueBytes = 0;
  }

  /** The peer, when it is open and names this port back. */
  private usablePeer(): PatchNetdev | undefined {
    if (this.closed) return undefined;
    const peer = this.context.lookup(this.peerName);
    return peer instanceof PatchNetdev && !peer.closed && peer.peerName === this.name ? peer : undefined;
  }

  /** Takes a copy of `frame` for delivery on a later turn; false when the queue is full. */
  private enqueue(frame: Buffer): boolean {
    if (this.queue.length >= PATCH_QUEUE_FRAMES || this.queueBytes + frame.length > PATCH_QUEUE_BYTES) {
      log.warnRl(`${this.name}: receive queue full (${this.queue.length} frames, ${this.queueBytes} bytes), dropping frame from ${this.peerName}`);
      return false;
    }
    this.queue.push(Buffer.from(frame));
    this.queueBytes += frame.length;
    this.flushScheduled ??= setImmediate(() => this.flush());
    return true;
  }

  private flush(): void {
    this.flushScheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    for (const frame of batch) {
      if (this.closed) return;
      const onReceive = this.onReceive;
      if (!onReceive) {
        this.stats.rxDropped++;
        continue;
      }
      this.stats.rxPackets++;
      this.stats.rxBytes += frame.length;
      try {
        onReceive(frame);
      } catch (e) {
        log.warnRl(`${this.name}: onReceive threw: ${(e as Error).stack ?? String(e)}`);
      }
    }
  }

  private updateCarrier(): void {
    if (this.closed) return;
    const carrier = this.carrier;
    if (carrier === this.lastCarrier) return;
    this.lastCarrier = carrier;
    log.info(`${this.name}: carrier ${carrier ? 'up' : 'down'} (peer ${this.peerName} ${carrier ? 'connected' : 'gone'})`);
    this.onCarrierChange?.(carrier);
  }
}

export const patchProvider: NetdevProvider = {
  type: 'patch',
  open: (name, options, context) => PatchNetdev.open(name, options, context),
};
