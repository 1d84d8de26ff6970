/*
 * OFPT_FLOW_MOD semantics (Open vSwitch's add_flow / modify_flows / delete_flows), with the
 * checks Open vSwitch 3.1 makes for OpenFlow 1.3, in its order: table, out_port, command,
 * instructions, flags, consistency with the match, read-only table, buffer id, then groups,
 * meters and overlap.
 *
 *  - ADD installs a rule. An identical rule (same match and priority) is replaced: the new
 *    cookie, timeouts and flags win, the duration restarts, the counters are carried over
 *    unless RESET_COUNTS, and no flow-removed is sent. CHECK_OVERLAP refuses a rule that
 *    some packet could match together with another rule of the same priority.
 *  - MODIFY / MODIFY_STRICT replace only the instructions of the rules they select (by match,
 *    cookie/cookie_mask, and for strict also priority); the hard timeout restarts. They never
 *    add a rule in 1.3, and check the new actions only if some rule was selected.
 *  - DELETE / DELETE_STRICT remove the rules they select, also filtered by out_port and
 *    out_group (looking into apply and write actions); table OFPTT_ALL means every table.
 */
import {
  type FlowMod, type Instruction, OFP_NO_BUFFER, OFPBRC_BAD_TABLE_ID, OFPBRC_BUFFER_UNKNOWN, OFPBRC_EPERM,
  OFPET_BAD_REQUEST,
  OFPET_FLOW_MOD_FAILED, OfpError, OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT,
  OFPFF_CHECK_OVERLAP, OFPFF_RESET_COUNTS, OFPFMFC_BAD_COMMAND, OFPFMFC_BAD_FLAGS, OFPFMFC_BAD_TABLE_ID,
  OFPFMFC_OVERLAP, OFPFMFC_TABLE_FULL, OFPG_ANY, OFPP_ANY, OFPRR_DELETE, OFPTT_ALL,
} from '../../protocol/index.ts';
import { coversFilter, type MaskedKey, maskedKeyFromWire, matchToMaskedKey, overlaps } from '../classifier/index.ts';
import { checkInstructionList, checkOutPort, type ActionContext, validateInstructions, validateReferences } from './action-check.ts';
import { type OfTable, Rule } from './rule.ts';
import type { Transaction } from './transaction.ts';

/** Flow-mod flags OpenFlow 1.3 defines. */
const OFPFF13_ALL = 0x1f;
/** Where ofp_match starts in an OFPT_FLOW_MOD. */
const FLOW_MOD_MATCH_OFFSET = 48;
/** Open vSwitch's hidden, read-only internal table. */
export const TABLE_INTERNAL = 254;
/** Rules per table before OFPFMFC_TABLE_FULL (the max_entries table features report). */
export const MAX_ENTRIES = 1_000_000;

export interface FlowTableContext extends ActionContext {
  readonly tables: OfTable[];
  /** Whether buffered packets exist; without buffers any buffer id is unknown (Open vSwitch 3.x). */
  readonly buffering: boolean;
  now(): number;
  /** Removes a rule for `reason`, telling controllers if the rule asked for it (after the commit). */
  removeRule(rule: Rule, reason: number, txn: Transaction): void;
  /** Inserts a rule (undone on rollback). */
  insertRule(rule: Rule, txn: Transaction): void;
  /** Takes out a rule that an identical ADD replaces: no flow-removed (undone on rollback). */
  replaceRule(rule: Rule, txn: Transaction): void;
  /** Notes that a rule's instructions changed (cached translations through it are stale). */
  ruleModified(rule: Rule): void;
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
  const matchesAll = filter.key.mask.every((b) => b === 0);
  for (const table of tables) {
    for (const rule of table.rules) {
      if (ruleMatchesFilter(rule, filter) && (matchesAll || coversFilter(rule, filter.key))) yield rule;
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

function isDelete(fm: FlowMod): boolean {
  return fm.command === OFPFC_DELETE || fm.command === OFPFC_DELETE_STRICT;
}

/**
 * The checks that need no table state, in Open vSwitch's order (also run when a flow-mod is
 * bundled): table 255 only for deletes, out_port, command, instruction list, flags,
 * instructions against the match, the read-only table, buffer id.
 */
export function checkFlowModHeader(ctx: FlowTableContext, fm: FlowMod, key: MaskedKey = matchToMaskedKey(fm.match)): void {
  if (fm.tableId === OFPTT_ALL && !isDelete(fm)) {
    throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_TABLE_ID, 'table 255 (all) is only for deletes');
  }
  checkOutPort(fm.outPort);
  if (fm.command > OFPFC_DELETE_STRICT) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_COMMAND, `command ${fm.command}`);
  if (!isDelete(fm)) checkInstructionList(fm.instructions);
  if (fm.flags & ~OFPFF13_ALL) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_FLAGS, `flags 0x${fm.flags.toString(16)}`);
  if (!isDelete(fm)) validateInstructions(ctx, fm.tableId, key, fm.instructions);
  if (fm.tableId === TABLE_INTERNAL) throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_EPERM, 'table 254 is read-only');
  if (fm.tableId !== OFPTT_ALL && fm.tableId >= ctx.tables.length) {
    throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_BAD_TABLE_ID, `table ${fm.tableId} does not exist`);
  }
  if (!ctx.buffering && !isDelete(fm) && fm.bufferId !== OFP_NO_BUFFER) {
    throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_BUFFER_UNKNOWN, `no buffered packet ${fm.bufferId}`);
  }
}

/** A flow-mod's match as a flow key, read from the message's bytes when at hand. */
export function flowModKey(fm: FlowMod, raw?: Buffer): MaskedKey {
  return raw ? maskedKeyFromWire(raw, FLOW_MOD_MATCH_OFFSET) : matchToMaskedKey(fm.match);
}

/**
 * Applies one flow-mod inside `txn`; throws OfpError (and changes nothing) when refused.
 * `raw`, the message's own bytes when at hand, lets the match be read without conversion.
 */
export function applyFlowMod(ctx: FlowTableContext, fm: FlowMod, txn: Transaction, raw?: Buffer, key = flowModKey(fm, raw)): void {
  checkFlowModHeader(ctx, fm, key);
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
  validateReferences(ctx, fm.instructions);
  const table = ctx.tables[fm.tableId]!;
  const old = table.rules.findExact(key, fm.priority);
  if (!old && fm.flags & OFPFF_CHECK_OVERLAP) {
    for (const other of table.rules) {
      if (other.priority === fm.priority && overlaps(other, key)) {
        throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_OVERLAP, 'overlaps a rule of the same priority');
      }
    }
  }
  if (!old && table.rules.count >= MAX_ENTRIES) throw new OfpError(OFPET_FLOW_MOD_FAILED, OFPFMFC_TABLE_FULL, `table ${table.id} is full`);
  const rule = new Rule(fm.tableId, key, fm.priority, fm.cookie, fm.idleTimeout, fm.hardTimeout, fm.flags, fm.instructions, ctx.now());
  if (old) {
    // The replaced rule's counters and idle time carry over unless the new one says RESET_COUNTS.
    if (!(fm.flags & OFPFF_RESET_COUNTS)) {
      rule.packetCount = old.packetCount;
      rule.byteCount = old.byteCount;
      rule.usedMs = old.usedMs;
    }
    ctx.replaceRule(old, txn);
  }
  ctx.insertRule(rule, txn);
}

function modifyFlows(ctx: FlowTableContext, fm: FlowMod, key: MaskedKey, txn: Transaction): void {
  const filter: RuleFilter = { key, cookie: fm.cookie, cookieMask: fm.cookieMask, outPort: OFPP_ANY, outGroup: OFPG_ANY };
  const selected = fm.command === OFPFC_MODIFY_STRICT
    ? strictRule(ctx, fm, key, filter)
    : [...selectRules(ctx, fm.tableId, filter)];
  if (selected.length === 0) return;
  validateReferences(ctx, fm.instructions);
  const now = ctx.now();
  for (const rule of selected) {
    const before = { instructions: rule.instructions, packetCount: rule.packetCount, byteCount: rule.byteCount, modifiedMs: rule.modifiedMs };
    rule.instructions = fm.instructions;
    rule.modifiedMs = now;
    ctx.ruleModified(rule);
    if (fm.flags & OFPFF_RESET_COUNTS) {
      rule.packetCount = 0;
      rule.byteCount = 0;
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

