/*
 * The MAC learning table behind the NORMAL action (Open vSwitch's lib/mac-learning.c): which
 * port each (VLAN, Ethernet address) was last seen on. Entries age out after 300 s without
 * traffic (OVS's default mac-aging-time) and the table holds at most 8192 entries, the
 * least recently used going first. Times are milliseconds on the monotonic clock.
 */
export const MAC_ENTRY_IDLE_MS = 300_000;
export const MAC_TABLE_MAX = 8192;

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

  /** Records `mac` on `port`; returns whether this changed where the address lives. */
  learn(mac: string, vlan: number, port: number): boolean {
    const key = MacLearning.key(mac, vlan);
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry) {
      this.entries.delete(key);
      const moved = entry.port !== port || now - entry.usedMs > MAC_ENTRY_IDLE_MS;
      entry.port = port;
      entry.usedMs = now;
      this.entries.set(key, entry);
      return moved;
    }
    if (this.entries.size >= MAC_TABLE_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { mac, vlan, port, usedMs: now });
    return true;
  }

  /** Drops aged entries; returns how many. */
  expire(): number {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (now - entry.usedMs > MAC_ENTRY_IDLE_MS) {
        this.entries.delete(key);
        removed++;
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
