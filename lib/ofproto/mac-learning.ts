/*
 * The MAC learning table behind the NORMAL action (Open vSwitch's lib/mac-learning.c): which
 * port each (VLAN, Ethernet address) was last seen on. Entries age out after 300 s without
 * traffic (OVS's default mac-aging-time) and the table holds at most 8192 entries, the
 * least recently used going first. Times are milliseconds on the monotonic clock.
 */
export const MAC_ENTRY_IDLE_MS = 300_000;
export const MAC_TABLE_MAX = 8192;

export interface MacAddress {
  mac: string;
  vlan: number;
}

/** learn()'s usual answer, shared: it runs for every packet NORMAL forwards. */
const NOTHING_CHANGED: readonly MacAddress[] = Object.freeze([]);

export interface MacEntry {
  mac: string;
  vlan: number;
  port: number;
  usedMs: number;
}

export class MacLearning {
  /** Map order is insertion order: re-inserting on use keeps the least recently used first. */
  private readonly entries = new Map<string, MacEntry>();

  constructor(private readonly now: () => number) {}

  private static key(mac: string, vlan: number): string {
    return `${vlan}/${mac}`;
  }

  /** The port `mac` was learned on in `vlan`, if it is fresh. */
  lookup(mac: string, vlan: number): number | undefined {
    const entry = this.entries.get(MacLearning.key(mac, vlan));
    if (!entry || this.now() - entry.usedMs > MAC_ENTRY_IDLE_MS) return undefined;
    return entry.port;
  }

  /**
   * Records `mac` on `port`; returns the addresses whose port this changed (none, this one,
   * or also the least recently used one it pushed out of a full table).
   */
  learn(mac: string, vlan: number, port: number): readonly MacAddress[] {
    const key = MacLearning.key(mac, vlan);
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry) {
      this.entries.delete(key);
      const moved = entry.port !== port || now - entry.usedMs > MAC_ENTRY_IDLE_MS;
      entry.port = port;
      entry.usedMs = now;
      this.entries.set(key, entry);
      return moved ? [{ mac, vlan }] : NOTHING_CHANGED;
    }
    const changed = [{ mac, vlan }];
    if (this.entries.size >= MAC_TABLE_MAX) {
      const [oldest] = this.entries.values();
      this.entries.delete(MacLearning.key(oldest!.mac, oldest!.vlan));
      changed.push({ mac: oldest!.mac, vlan: oldest!.vlan });
    }
    this.entries.set(key, { mac, vlan, port, usedMs: now });
    return changed;
  }

  /** Drops aged entries; returns their addresses. */
  expire(): MacAddress[] {
    const now = this.now();
    const removed: MacAddress[] = [];
    for (const [key, entry] of this.entries) {
      if (now - entry.usedMs > MAC_ENTRY_IDLE_MS) {
        this.entries.delete(key);
        removed.push({ mac: entry.mac, vlan: entry.vlan });
      }
    }
    return removed;
  }

  flush(): void {
    this.entries.clear();
  }

  /** Entries for `fdb/show`, oldest first. */
  list(): MacEntry[] {
    return [...this.entries.values()];
  }
}
