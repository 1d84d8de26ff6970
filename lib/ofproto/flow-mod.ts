/*
 * OFPT_FLOW_MOD semantics (Open vSwitch's add_flow / modify_flows / delete_flows), with the
 * checks and errors Open vSwitch gives for OpenFlow 1.3:
 *
 *  - ADD installs a rule; an identical rule (same match and priority) is replaced, its
 *    counters carried over unless RESET_COUNTS. CHECK_OVERLAP refuses a rule that some
 *    packet could match together with another rule of the same priority.
 *  - MODIFY / MODIFY_STRICT replace the instructions of the rules they select (by match,
 *    cookie/cookie_mask, and for strict also priority); they never add a rule in 1.3.
 *  - DELETE / DELETE_STRICT remove the rules they select, also filtered by out_port and
 *    out_group; table OFPTT_ALL means every table.
 */
import {
  type FlowMod, type Instruction, OFPBRC_BAD_TABLE_ID, OFPET_BAD_REQUEST,
  OFPET_FLOW_MOD_FAILED, OfpError, OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT,
  OFPFF_CHECK_OVERLAP, OFPFF_RESET_COUNTS, OFPFMFC_BAD_COMMAND, OFPFMFC_BAD_FLAGS, OFPFMFC_BAD_TABLE_ID,
  OFPFMFC_OVERLAP, OFPFMFC_TABLE_FULL, OFPG_ANY, OFPP_ANY, OFPRR_DELETE, OFPTT_ALL,
} from '../../protocol/index.ts';
import { coversFilter, type MaskedKey, matchToMaskedKey, maskedKeyToMatch, overlaps } from '../classifier/index.ts';
import { validateInstructions, type ActionContext } from './action-check.ts';
import type { OfTable, Rule } from './rule.ts';
import type { Transaction } from './transaction.ts';

/** Flow-mod flags OpenFlow 1.3 defines. */
const OFPFF13_ALL = 0x1f;
/** Rules per table before OFPFMFC_TABLE_FULL (the max_entries table features report). */
export const MAX_ENTRIES = 1_000_000;

export interface FlowTableContext extends ActionContext {
  readonly tables: OfTable[];
  now(): number;
  /** Removes a rule for `reason`, telling controllers if the rule asked for it (after the commit). */
  removeRule(rule: Rule, reason: number, txn: Transaction): void;
  /** Inserts a rule (undone on rollback). */
  insertRule(rule: Rule, txn: Transaction): void;
}

export interface RuleFilter {
  key: MaskedKey;
  cookie: bigint;
  cookieMask: bigint;
  outPort: number;
  outGroup: number;
}

/** Rules of `tableId` (or every table for OFPTT_ALL) that a non-strict request selects. */
export function* selectRules(ctx: FlowTableContext, tableId: number, filter: RuleFilter): Generator<Rule> {
  const tables = tableId === OFPTT_ALL ? ctx.tables : [ctx.tables[tableId]!];
  for (const table of tables) {
    for (const rule of table.rules) {
      if (ruleMatchesFilter(rule, filter) && coversFilter(rule, filter.key)) yield rule;
    }
  }
}

export function ruleMatchesFilter(rule: Rule, f: RuleFilter): boolean {
  if ((rule.cookie & f.cookieMask) !== (f.cookie & f.cookieMask)) return false;
  if (f.outPort !== OFPP_ANY && !outputsTo(rule.instructions, (a) => a.type === 'output' && a.port === f.outPort)) return false;
  if (f.outGroup !== OFPG_ANY && !outputsTo(rule.instructions, (a) => a.type === 'group' && a.groupId === f.outGroup)) return false;
  return true;
}

function outputsTo(instructions: Instruction[], test: (a: { type: string; port?: number; groupId?: number }) => boolean): boolean {
  for (const ins of instructions) {
    if ((ins.type === 'apply_actions' || ins.type === 'write_actions') && ins.actions.some(test)) return true;
  }
  return false;
}

function checkTable(ctx: FlowTableContext, fm: FlowMod): void {
  const isDelete = fm.command === OFPFC_DELETE || fm.command === OFPFC_DELETE_STRICT;
  if (fm.tableId === OFPTT_ALL) {
    if (!isDelete) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_TABLE_ID, 'table 255 (all) is only for deletes');
  } else if (fm.tableId >= ctx.tables.length) {
    throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_BAD_TABLE_ID, `table ${fm.tableId} does not exist`);
  }
}

/** The checks that need no table state: command, flags, table id (also run when a flow-mod is bundled). */
export function checkFlowModHeader(ctx: FlowTableContext, fm: FlowMod): void {
  if (fm.command > OFPFC_DELETE_STRICT) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_COMMAND, `command ${fm.command}`);
  if (fm.flags & ~OFPFF13_ALL) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_FLAGS, `flags 0x${fm.flags.toString(16)}`);
  checkTable(ctx, fm);
}

/** Applies one flow-mod inside `txn`; throws OfpError (and changes nothing) when refused. */
export function applyFlowMod(ctx: FlowTableContext, fm: FlowMod, txn: Transaction): void {
  checkFlowModHeader(ctx, fm);
  const key = matchToMaskedKey(fm.match);
  switch (fm.command) {
    case OFPFC_ADD:
      addFlow(ctx, fm, key, txn);
      return;
    case OFPFC_MODIFY: case OFPFC_MODIFY_STRICT:
      modifyFlows(ctx, fm, key, txn);
      return;
    default:
      deleteFlows(ctx, fm, key, txn);
  }
}

function addFlow(ctx: FlowTableContext, fm: FlowMod, key: MaskedKey, txn: Transaction): void {
  validateInstructions(ctx, fm.tableId, key, fm.instructions);
  const table = ctx.tables[fm.tableId]!;
  const old = table.rules.findExact(key, fm.priority);
  if (fm.flags & OFPFF_CHECK_OVERLAP) {
    for (const other of table.rules) {
      if (other.priority === fm.priority && overlaps(other, key)) {
        throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_OVERLAP, 'overlaps a rule of the same priority');
      }
    }
  }
  if (!old && table.rules.count >= MAX_ENTRIES) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_TABLE_FULL, `table ${table.id} is full`);
  const now = ctx.now();
  const rule: Rule = {
    tableId: fm.tableId, value: key.value, mask: key.mask, priority: fm.priority, match: maskedKeyToMatch(key),
    cookie: fm.cookie, idleTimeout: fm.idleTimeout, hardTimeout: fm.hardTimeout, flags: fm.flags,
    instructions: fm.instructions, createdMs: now, modifiedMs: now, usedMs: now, packetCount: 0n, byteCount: 0n,
  };
  if (old) {
    // Open vSwitch keeps the replaced rule's cookie (an ADD does not "modify the cookie") and
    // carries its counters over unless the new rule says RESET_COUNTS.
    rule.cookie = old.cookie;
    if (!(fm.flags & OFPFF_RESET_COUNTS)) {
      rule.packetCount = old.packetCount;
      rule.byteCount = old.byteCount;
    }
    table.rules.remove(old);
    txn.undo(() => table.rules.insert(old));
  }
  ctx.insertRule(rule, txn);
}

function modifyFlows(ctx: FlowTableContext, fm: FlowMod, key: MaskedKey, txn: Transaction): void {
  const filter: RuleFilter = { key, cookie: fm.cookie, cookieMask: fm.cookieMask, outPort: OFPP_ANY, outGroup: OFPG_ANY };
  const selected = fm.command === OFPFC_MODIFY_STRICT
    ? strictRule(ctx, fm, key, filter)
    : [...selectRules(ctx, fm.tableId, filter)];
  if (selected.length === 0) return;
  validateInstructions(ctx, fm.tableId, key, fm.instructions);
  for (const rule of selected) {
    // Actions are checked against each rule's own match, which may be more specific.
    if (fm.command === OFPFC_MODIFY) validateInstructions(ctx, rule.tableId, rule, fm.instructions);
  }
  const now = ctx.now();
  for (const rule of selected) {
    const before = { instructions: rule.instructions, packetCount: rule.packetCount, byteCount: rule.byteCount, usedMs: rule.usedMs, modifiedMs: rule.modifiedMs };
    rule.instructions = fm.instructions;
    rule.usedMs = now;
    rule.modifiedMs = now;
    if (fm.flags & OFPFF_RESET_COUNTS) {
      rule.packetCount = 0n;
      rule.byteCount = 0n;
    }
    txn.undo(() => Object.assign(rule, before));
  }
}

function strictRule(ctx: FlowTableContext, fm: FlowMod, key: MaskedKey, filter: RuleFilter): Rule[] {
  const tables = fm.tableId === OFPTT_ALL ? ctx.tables : [ctx.tables[fm.tableId]!];
  const found: Rule[] = [];
  for (const table of tables) {
    const rule = table.rules.findExact(key, fm.priority);
    if (rule && ruleMatchesFilter(rule, filter)) found.push(rule);
  }
  return found;
}

function deleteFlows(ctx: FlowTableContext, fm: FlowMod, key: MaskedKey, txn: Transaction): void {
  const filter: RuleFilter = { key, cookie: fm.cookie, cookieMask: fm.cookieMask, outPort: fm.outPort, outGroup: fm.outGroup };
  const selected = fm.command === OFPFC_DELETE_STRICT ? strictRule(ctx, fm, key, filter) : [...selectRules(ctx, fm.tableId, filter)];
  for (const rule of selected) ctx.removeRule(rule, OFPRR_DELETE, txn);
}

