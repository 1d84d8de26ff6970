/*
 * The group table (OFPT_GROUP_MOD, group stats, desc and features). Groups of type ALL,
 * SELECT, INDIRECT and FAST_FAILOVER; buckets are checked like flow actions (against a
 * match that establishes nothing). A group may chain to other groups; a change that would
 * make the chain a loop is refused with OFPGMFC_LOOP, and a select bucket without weight with
 * OFPGMFC_INVALID_GROUP, as the specification asks (Open vSwitch accepts both). Deleting a
 * group removes the flows that use it (reason OFPRR_GROUP_DELETE).
 */
import {
  type Bucket, type GroupDesc, type GroupMod, type GroupStats, OFPET_GROUP_MOD_FAILED, OfpError, OFPG_ALL, OFPG_ANY,
  OFPG_MAX, OFPGC_ADD, OFPGC_DELETE, OFPGC_MODIFY, OFPGFC_CHAINING, OFPGFC_SELECT_LIVENESS, OFPGFC_SELECT_WEIGHT,
  OFPGMFC_BAD_COMMAND, OFPGMFC_BAD_TYPE, OFPGMFC_BAD_WATCH, OFPGMFC_CHAINED_GROUP, OFPGMFC_GROUP_EXISTS,
  OFPGMFC_INVALID_GROUP, OFPGMFC_LOOP, OFPGMFC_UNKNOWN_GROUP, OFPGT_ALL, OFPGT_FF, OFPGT_INDIRECT, OFPGT_SELECT, OFPP_ANY,
} from '../../protocol/index.ts';
import { FLOW_KEY_BYTES } from '../classifier/index.ts';
import { type ActionContext, validateInstructions } from './action-check.ts';
import { duration } from './rule.ts';
import type { Transaction } from './transaction.ts';

export interface Group {
  groupId: number;
  groupType: number;
  buckets: Bucket[];
  createdMs: number;
  packetCount: bigint;
  byteCount: bigint;
  bucketCounts: Array<{ packetCount: bigint; byteCount: bigint }>;
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
const EMPTY_MATCH = { value: new Uint8Array(FLOW_KEY_BYTES), mask: new Uint8Array(FLOW_KEY_BYTES) };

function fail(code: number, detail: string): never {
  throw new OfpError(OFPET_GROUP_MOD_FAILED, code, detail);
}

export class GroupTable {
  readonly groups = new Map<number, Group>();

  constructor(private readonly ctx: GroupTableContext) {}

  exists(groupId: number): boolean {
    return this.groups.has(groupId);
  }

  apply(gm: GroupMod, txn: Transaction): void {
    if (gm.command > OFPGC_DELETE) fail(OFPGMFC_BAD_COMMAND, `group command ${gm.command}`);
    if (gm.command === OFPGC_DELETE) {
      this.delete(gm.groupId, txn);
      return;
    }
    if (gm.groupType > OFPGT_FF) fail(OFPGMFC_BAD_TYPE, `group type ${gm.groupType}`);
    if (gm.groupId > OFPG_MAX) fail(OFPGMFC_INVALID_GROUP, `group id 0x${gm.groupId.toString(16)} is reserved`);
    const old = this.groups.get(gm.groupId);
    if (gm.command === OFPGC_ADD && old) fail(OFPGMFC_GROUP_EXISTS, `group ${gm.groupId} exists`);
    if (gm.command === OFPGC_MODIFY && !old) fail(OFPGMFC_UNKNOWN_GROUP, `group ${gm.groupId} does not exist`);
    this.checkBuckets(gm);
    const group: Group = {
      groupId: gm.groupId, groupType: gm.groupType, buckets: gm.buckets, createdMs: old?.createdMs ?? this.ctx.now(),
      packetCount: old?.packetCount ?? 0n, byteCount: old?.byteCount ?? 0n,
      bucketCounts: gm.buckets.map(() => ({ packetCount: 0n, byteCount: 0n })),
    };
    if (this.formsLoop(group)) fail(OFPGMFC_LOOP, `group ${gm.groupId} would chain to itself`);
    this.groups.set(gm.groupId, group);
    txn.undo(() => (old ? this.groups.set(gm.groupId, old) : this.groups.delete(gm.groupId)));
  }

  private checkBuckets(gm: GroupMod): void {
    if (gm.groupType === OFPGT_INDIRECT && gm.buckets.length !== 1) fail(OFPGMFC_INVALID_GROUP, 'an indirect group has exactly one bucket');
    for (const bucket of gm.buckets) {
      if (gm.groupType === OFPGT_SELECT && bucket.weight === 0) fail(OFPGMFC_INVALID_GROUP, 'a select bucket needs a weight');
      if (gm.groupType === OFPGT_FF && bucket.watchPort === OFPP_ANY && bucket.watchGroup === OFPG_ANY) {
        fail(OFPGMFC_BAD_WATCH, 'a fast-failover bucket needs a watch port or group');
      }
      validateInstructions(this.ctx, 0, EMPTY_MATCH, [{ type: 'write_actions', actions: bucket.actions }]);
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

  private referencedByOtherGroup(groupId: number): boolean {
    for (const g of this.groups.values()) {
      if (g.groupId !== groupId && g.buckets.some((b) => b.actions.some((a) => a.type === 'group' && a.groupId === groupId))) return true;
    }
    return false;
  }

  private delete(groupId: number, txn: Transaction): void {
    const ids = groupId === OFPG_ALL ? [...this.groups.keys()] : this.groups.has(groupId) ? [groupId] : [];
    if (groupId !== OFPG_ALL) {
      for (const id of ids) if (this.referencedByOtherGroup(id)) fail(OFPGMFC_CHAINED_GROUP, `group ${id} is used by another group`);
    }
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
