/*
 * The netdev provider interface (Open vSwitch's lib/netdev-provider.h).
 *
 * A netdev is one network device that the datapath attaches to a port: it receives frames
 * from the outside world and hands them to `onReceive`, and transmits the frames the datapath
 * gives to `send()`. Each back end (a "provider": `stream`, `internal`, `patch`, later
 * `system`, `vxlan`) implements the `Netdev` interface and is registered by its type name;
 * nothing above lib/netdev looks behind the interface.
 *
 * Frames are Ethernet frames without FCS, in Buffers. `send()` never keeps the caller's
 * Buffer (it copies or writes it out before returning), so the datapath may reuse or rewrite
 * it afterwards; a Buffer passed to `onReceive` belongs to the receiver.
 *
 * Counters only grow. A frame is either transmitted (txPackets/txBytes) or dropped
 * (txDropped); a received frame is either handed to `onReceive` (rxPackets/rxBytes) or dropped
 * (rxDropped, e.g. no `onReceive` set yet). Byte counts are frame lengths as handed to `send()`
 * or as they arrived, like Open vSwitch's dummy netdev.
 */
import { createHash } from 'node:crypto';

export interface NetdevStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
}

export interface Netdev {
  readonly name: string;
  /** 'stream' | 'internal' | 'patch' (later 'system', 'vxlan'). */
  readonly type: string;
  /** "aa:55:xx:xx:xx:xx", derived from the name, so stable across restarts. */
  readonly hwAddr: string;
  /** Counters the netdev keeps itself. */
  readonly stats: NetdevStats;
  /** Link up. */
  readonly carrier: boolean;
  /** Frames received from the outside world; set by the datapath. */
  onReceive: ((frame: Buffer) => void) | undefined;
  /** Carrier changes (link up/down), for PORT_STATUS. */
  onCarrierChange: ((up: boolean) => void) | undefined;
  /** Transmits a frame (Ethernet, no FCS). Never throws for a frame it cannot send: it drops and counts. */
  send(frame: Buffer): void;
  /** Stops all I/O, frees the name. Idempotent. */
  close(): Promise<void>;
}

export type NetdevErrorCode =
  /** No provider registered for the type. */
  | 'UNKNOWN_TYPE'
  /** Missing, unknown, conflicting or malformed options. */
  | 'BAD_OPTIONS'
  /** A netdev with this name is already open in the registry. */
  | 'NAME_IN_USE'
  /** The options were fine but the device could not be opened (e.g. the listening address is taken). */
  | 'OPEN_FAILED';

/** Why a netdev could not be opened. `code` is stable; `message` names the device and the cause. */
export class NetdevError extends Error {
  override readonly name = 'NetdevError';

  constructor(readonly code: NetdevErrorCode, readonly netdev: string, message: string, options?: { cause?: unknown }) {
    super(`${netdev}: ${message}`, options);
  }
}

/** What a provider may ask of the registry that opens it (the other netdevs of the same namespace). */
export interface NetdevContext {
  /** The open netdev with this name, if any. */
  lookup(name: string): Netdev | undefined;
  /**
   * Calls `listener` after a netdev of this registry has opened (with it) or begun closing
   * (with undefined). Returns the function that unsubscribes.
   */
  watch(listener: (name: string, netdev: Netdev | undefined) => void): () => void;
  /** Tells the registry that `netdev` is closing: its name is free again. Providers call it first thing in close(). */
  release(netdev: Netdev): void;
}

/** One back end, registered by type name (netdev_class in Open vSwitch). */
export interface NetdevProvider {
  readonly type: string;
  open(name: string, options: Record<string, string>, context: NetdevContext): Promise<Netdev>;
}

/** Fresh zero counters. */
export function newNetdevStats(): NetdevStats {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
}

/**
 * The Ethernet address of a netdev: aa:55 (Open vSwitch's dummy prefix, a locally administered
 * unicast address) followed by four bytes of the SHA-256 of the name. Open vSwitch numbers its
 * dummies in creation order instead; a hash keeps the address stable across restarts.
 */
export function hwAddrForName(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  return [0xaa, 0x55, digest[0]!, digest[1]!, digest[2]!, digest[3]!].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Throws BAD_OPTIONS if `options` has a key not in `allowed`. */
export function checkOptionKeys(name: string, type: string, options: Record<string, string>, allowed: readonly string[]): void {
  const unknown = Object.keys(options).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const accepted = allowed.length > 0 ? `accepted: ${allowed.join(', ')}` : 'it takes no options';
    throw new NetdevError('BAD_OPTIONS', name, `${type} netdev: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (${accepted})`);
  }
}
