/*
 * A translation that changes nothing (for `ofs-appctl ofproto/trace`): the bridge's pipeline
 * run on a packet exactly as an upcall would run it, with the MAC learning table behind a
 * read-only view (xlate's NORMAL only reads it today; should a translation ever learn, what it
 * learns stays within that translation), and without crediting rules, tables or groups
 * (xlate() itself counts nothing; Ofproto.credit() does, and is not called). The datapath is
 * not involved: no megaflow is installed and no action runs. (The classifier's diagnostic
 * count of subtables visited does move, as for any lookup.)
 */
import { type MacAddress, MacLearning } from './mac-learning.ts';
import type { Ofproto } from './ofproto.ts';
import { type Translation, xlate, type XlateBridge, type XlateInput } from './xlate.ts';

/**
 * A MAC table that answers lookups from `table` and keeps what NORMAL learns during this one
 * translation to itself, so the translation behaves as the real one would without changing
 * the bridge's table.
 */
class ReadOnlyMacLearning extends MacLearning {
  private readonly learned = new Map<string, number>();

  constructor(private readonly table: MacLearning) {
    super(() => 0);
  }

  override lookup(mac: string, vlan: number): number | undefined {
    return this.learned.get(`${vlan}/${mac}`) ?? this.table.lookup(mac, vlan);
  }

  override learn(mac: string, vlan: number, port: number): readonly MacAddress[] {
    const moved = this.lookup(mac, vlan) !== port;
    this.learned.set(`${vlan}/${mac}`, port);
    return moved ? [{ mac, vlan }] : [];
  }

  override expire(): MacAddress[] {
    return [];
  }

  override flush(): void {}

  override list(): ReturnType<MacLearning['list']> {
    return this.table.list();
  }
}

/** What `ofproto`'s upcalls translate against, with its MAC table read-only. */
export function readOnlyXlateBridge(ofproto: Ofproto): XlateBridge {
  return { ...ofproto.xlateBridge(), macLearning: new ReadOnlyMacLearning(ofproto.macLearning) };
}

/** Translates one packet through the bridge's pipeline without any side effect. */
export function xlateDryRun(ofproto: Ofproto, input: XlateInput): Translation & { key: Uint8Array } {
  return xlate(readOnlyXlateBridge(ofproto), input);
}
