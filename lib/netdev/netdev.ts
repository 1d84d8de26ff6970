/*
 * Opening netdevs by type name (Open vSwitch's lib/netdev.c): a registry maps each type
 * (`stream`, `internal`, `patch`, ...) to its provider and keeps the open netdevs by name, one
 * namespace in which names are unique and patch ports find their peers.
 *
 * `openNetdev()` uses the process-wide registry, created on first use: netdev names are
 * process-wide in Open vSwitch too (netdev_shash), and the one datapath of the process owns the
 * netdevs. Code that wants an isolated namespace (a test, a second datapath) creates its own
 * `NetdevRegistry`.
 *
 * The provider interface itself (Netdev, NetdevStats, NetdevError, NetdevProvider) is defined in
 * provider.ts, the counterpart of netdev-provider.h, and re-exported here.
 */
import { patchProvider } from './patch.ts';
import { NetdevError, type Netdev, type NetdevContext, type NetdevProvider } from './provider.ts';
import { internalProvider, streamProvider } from './stream.ts';

export { hwAddrForName, NetdevError } from './provider.ts';
export type { Netdev, NetdevContext, NetdevErrorCode, NetdevProvider, NetdevStats } from './provider.ts';

/** The providers every registry starts with. */
export const BUILTIN_NETDEV_PROVIDERS: readonly NetdevProvider[] = [streamProvider, internalProvider, patchProvider];

export class NetdevRegistry {
  private readonly providers = new Map<string, NetdevProvider>();
  private readonly netdevs = new Map<string, Netdev>();
  /** Names being opened (the provider's open() has not resolved yet). */
  private readonly opening = new Set<string>();
  private readonly listeners = new Set<(name: string, netdev: Netdev | undefined) => void>();
  private readonly context: NetdevContext = {
    lookup: (name) => this.netdevs.get(name),
    watch: (listener) => {
      this.listeners.add(listener);
      return () => { this.listeners.delete(listener); };
    },
    release: (netdev) => {
      if (this.netdevs.get(netdev.name) !== netdev) return;
      this.netdevs.delete(netdev.name);
      this.notify(netdev.name, undefined);
    },
  };

  constructor(providers: readonly NetdevProvider[] = BUILTIN_NETDEV_PROVIDERS) {
    for (const provider of providers) this.register(provider);
  }

  /** Adds a back end; its type name must be new. */
  register(provider: NetdevProvider): void {
    if (this.providers.has(provider.type)) throw new Error(`netdev type "${provider.type}" is already registered`);
    this.providers.set(provider.type, provider);
  }

  /** The registered type names, sorted. */
  types(): string[] {
    return [...this.providers.keys()].sort();
  }

  /** The open netdev called `name`, if any. */
  get(name: string): Netdev | undefined {
    return this.netdevs.get(name);
  }

  /** Names of the open netdevs. */
  names(): string[] {
    return [...this.netdevs.keys()];
  }

  /**
   * Opens a netdev. Rejects with a NetdevError: UNKNOWN_TYPE, BAD_OPTIONS, NAME_IN_USE (a netdev
   * of that name is open or opening; close it first) or OPEN_FAILED.
   */
  async open(type: string, name: string, options: Record<string, string> = {}): Promise<Netdev> {
    const provider = this.providers.get(type);
    if (!provider) throw new NetdevError('UNKNOWN_TYPE', name, `unknown netdev type "${type}" (known: ${this.types().join(', ')})`);
    if (name === '') throw new NetdevError('BAD_OPTIONS', name, 'a netdev needs a name');
    if (this.netdevs.has(name) || this.opening.has(name)) {
      throw new NetdevError('NAME_IN_USE', name, `a netdev named "${name}" is already open (type ${this.netdevs.get(name)?.type ?? 'being opened'})`);
    }
    this.opening.add(name);
    let netdev: Netdev;
    try {
      netdev = await provider.open(name, { ...options }, this.context);
    } finally {
      this.opening.delete(name);
    }
    this.netdevs.set(name, netdev);
    this.notify(name, netdev);
    return netdev;
  }

  /** Closes every open netdev. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.netdevs.values()].map((netdev) => netdev.close()));
  }

  private notify(name: string, netdev: Netdev | undefined): void {
    for (const listener of [...this.listeners]) listener(name, netdev);
  }
}

let processRegistry: NetdevRegistry | undefined;

/** The process-wide registry openNetdev() uses. */
export function netdevRegistry(): NetdevRegistry {
  processRegistry ??= new NetdevRegistry();
  return processRegistry;
}

/**
 * Opens a netdev of `type` called `name` in the process-wide registry. Unknown type, bad
 * options, a name already open, or a device that cannot be opened: rejects with a NetdevError.
 */
export function openNetdev(type: string, name: string, options: Record<string, string>): Promise<Netdev> {
  return netdevRegistry().open(type, name, options);
}
