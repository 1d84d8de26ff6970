/*
 * The group table (OFPT_GROUP_MOD, group stats, desc and features). Groups of type ALL,
 * SELECT, INDIRECT and FAST_FAILOVER. A group may chain to other groups (even ones not yet
 * added, as in Open vSwitch); a change that would make the chain a loop is refused with
 * OFPGMFC_LOOP, and a select bucket without weight with OFPGMFC_INVALID_GROUP, as the
 * specification asks (Open vSwitch accepts both). Deleting a group removes the flows that
 * use it (reason OFPRR_GROUP_DELETE).
 */
import {
  type Bucket, type GroupDesc, type GroupMod, type GroupStats, OFPET_GROUP_MOD_FAILED, OfpError, OFPG_ALL, OFPG_ANY,
  OFPG_MAX, OFPGC_ADD, OFPGC_DELETE, OFPGC_MODIFY, OFPGFC_CHAINING, OFPGFC_SELECT_LIVENESS, OFPGFC_SELECT_WEIGHT,
  OFPGMFC_BAD_COMMAND, OFPGMFC_BAD_TYPE, OFPGMFC_BAD_WATCH, OFPGMFC_GROUP_EXISTS, OFPGMFC_WATCH_UNSUPPORTED,
  OFPGMFC_INVALID_GROUP, OFPGMFC_LOOP, OFPGMFC_UNKNOWN_GROUP, OFPGT_ALL, OFPGT_FF, OFPGT_INDIRECT, OFPGT_SELECT, OFPP_ANY,
} from '../../protocol/index.ts';
import { type ActionContext, checkActionList, MAX_PORTS } from './action-check.ts';
import { duration } from './rule.ts';
import { dealHashValues } from './select-group.ts';
import type { Transaction } from './transaction.ts';

export interface Group {
  groupId: number;
  groupType: number;
  buckets: Bucket[];
  createdMs: number;
  packetCount: bigint;
  byteCount: bigint;
  bucketCounts: Array<{ packetCount: bigint; byteCount: bigint }>;
  /** A select group's hash values dealt out to its buckets (see select-group.ts). */
  selectTable: number[] | undefined;
}

export interface GroupTableContext extends ActionContext {
  now(): number;
  /** Removes every flow whose actions use `groupId` (reason OFPRR_GROUP_DELETE). */
  removeFlowsUsingGroup(groupId: number, txn: Transaction): void;
  /** Whether some flow uses `groupId`, for the reference count in group stats. */
  flowsUsingGroup(groupId: number): number;
}

/** Groups per type this switch offers (reported in group features). */
export const MAX_GROUPS = 0xffffff00;
/** Action types usable in buckets (bitmap by OFPAT_* number): all 16 standard actions. */
const BUCKET_ACTIONS = [0, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27].reduce((bits, t) => (bits | (1 << t)) >>> 0, 0);

function fail(code: number, detail: string): never {
  throw new OfpError(OFPET_GROUP_MOD_FAILED, code, detail);
}

export class GroupTable {
  readonly groups = new Map<number, Group>();

  constructor(private readonly ctx: GroupTableContext) {}

  exists(groupId: number): boolean {
    return this.groups.has(groupId);
  }

  /**
   * Applies a GROUP_MOD inside `txn`, with Open vSwitch's checks in its order: buckets as
   * decoded (actions, watch ports), a delete that carries buckets, the type, the bucket count
   * of an indirect group, the command, each bucket's weight and watch, then existence. Two
   * checks are the specification's own: a select bucket needs a weight, and a group may not
   * reach itself through its buckets.
   */
  apply(gm: GroupMod, txn: Transaction): void {
    for (const bucket of gm.buckets) {
      checkActionList(bucket.actions);
      if (bucket.watchPort >= MAX_PORTS && bucket.watchPort < 0xffffff00) fail(OFPGMFC_BAD_WATCH, `watch port 0x${bucket.watchPort.toString(16)}`);
    }
    if (gm.command === OFPGC_DELETE && gm.buckets.length) fail(OFPGMFC_INVALID_GROUP, 'a delete carries no buckets');
    if (gm.groupType > OFPGT_FF) fail(OFPGMFC_BAD_TYPE, `group type ${gm.groupType}`);
    if (gm.command !== OFPGC_DELETE && gm.groupType === OFPGT_INDIRECT && gm.buckets.length !== 1) {
      fail(OFPGMFC_INVALID_GROUP, 'an indirect group has exactly one bucket');
    }
    if (gm.command > OFPGC_DELETE) fail(OFPGMFC_BAD_COMMAND, `group command ${gm.command}`);
    if (gm.command === OFPGC_DELETE) {
      this.delete(gm.groupId, txn);
      return;
    }
    this.checkBuckets(gm);
    const old = this.groups.get(gm.groupId);
    if (gm.command === OFPGC_ADD && old) fail(OFPGMFC_GROUP_EXISTS, `group ${gm.groupId} exists`);
    if (gm.groupId > OFPG_MAX) fail(OFPGMFC_INVALID_GROUP, `group id 0x${gm.groupId.toString(16)} is reserved`);
    if (gm.command === OFPGC_MODIFY && !old) fail(OFPGMFC_UNKNOWN_GROUP, `group ${gm.groupId} does not exist`);
    const group: Group = {
      groupId: gm.groupId, groupType: gm.groupType, buckets: gm.buckets, createdMs: old?.createdMs ?? this.ctx.now(),
      packetCount: 0n, byteCount: 0n, bucketCounts: gm.buckets.map(() => ({ packetCount: 0n, byteCount: 0n })),
      selectTable: gm.groupType === OFPGT_SELECT ? dealHashValues(gm.buckets.map((b) => b.weight)) : undefined,
    };
    if (this.formsLoop(group)) fail(OFPGMFC_LOOP, `group ${gm.groupId} would chain to itself`);
    this.groups.set(gm.groupId, group);
    txn.undo(() => (old ? this.groups.set(gm.groupId, old) : this.groups.delete(gm.groupId)));
  }

  private checkBuckets(gm: GroupMod): void {
    for (const bucket of gm.buckets) {
      const watches = bucket.watchPort !== OFPP_ANY || bucket.watchGroup !== OFPG_ANY;
      if (gm.groupType === OFPGT_SELECT) {
        if (bucket.weight === 0) fail(OFPGMFC_INVALID_GROUP, 'a select bucket needs a weight');
      } else if (bucket.weight !== 0) {
        fail(OFPGMFC_INVALID_GROUP, 'only select buckets have weights');
      }
      if ((gm.groupType === OFPGT_ALL || gm.groupType === OFPGT_INDIRECT) && watches) fail(OFPGMFC_WATCH_UNSUPPORTED, 'only fast-failover and select buckets watch');
      if (gm.groupType === OFPGT_FF && !watches) fail(OFPGMFC_INVALID_GROUP, 'a fast-failover bucket needs a watch port or group');
    }
  }

  /** Whether `group` (not yet installed) would reach itself through group actions or watches. */
  private formsLoop(group: Group): boolean {
    const seen = new Set<number>();
    const visit = (g: Group | undefined): boolean => {
      if (!g || seen.has(g.groupId)) return false;
      seen.add(g.groupId);
      for (const bucket of g.buckets) {
        for (const a of bucket.actions) {
          if (a.type !== 'group') continue;
          if (a.groupId === group.groupId) return true;
          if (visit(this.groups.get(a.groupId))) return true;
        }
      }
      return false;
    };
    return visit(group);
  }

  private delete(groupId: number, txn: Transaction): void {
    // Deleting never fails: a missing group is no error, and groups that chain to a deleted
    // one keep their (now dangling) group action, as in Open vSwitch.
    const ids = groupId === OFPG_ALL ? [...this.groups.keys()] : this.groups.has(groupId) ? [groupId] : [];
    for (const id of ids) {
      const old = this.groups.get(id)!;
      this.ctx.removeFlowsUsingGroup(id, txn);
      this.groups.delete(id);
      txn.undo(() => this.groups.set(id, old));
    }
  }

  desc(): GroupDesc[] {
    return [...this.groups.values()].sort((a, b) => a.groupId - b.groupId)
      .map((g) => ({ groupType: g.groupType, groupId: g.groupId, buckets: g.buckets }));
  }

  stats(groupId: number, nowMs: number): GroupStats[] {
    const groups = groupId === OFPG_ALL ? [...this.groups.values()].sort((a, b) => a.groupId - b.groupId)
      : this.groups.has(groupId) ? [this.groups.get(groupId)!] : [];
    return groups.map((g) => ({
      groupId: g.groupId, refCount: this.ctx.flowsUsingGroup(g.groupId), packetCount: g.packetCount, byteCount: g.byteCount,
      ...duration(g.createdMs, nowMs), buckets: g.bucketCounts,
    }));
  }

  features(): { types: number; capabilities: number; maxGroups: number[]; actions: number[] } {
    return {
      types: (1 << OFPGT_ALL) | (1 << OFPGT_SELECT) | (1 << OFPGT_INDIRECT) | (1 << OFPGT_FF),
      capabilities: OFPGFC_SELECT_WEIGHT | OFPGFC_SELECT_LIVENESS | OFPGFC_CHAINING,
      maxGroups: [MAX_GROUPS, MAX_GROUPS, MAX_GROUPS, MAX_GROUPS],
      actions: [BUCKET_ACTIONS, BUCKET_ACTIONS, BUCKET_ACTIONS, BUCKET_ACTIONS],
    };
  }
}
