/*
 * Flow, aggregate and table statistics (OFPMP_FLOW, OFPMP_AGGREGATE, OFPMP_TABLE) built from
 * the switch's tables. Flow stats list rules by table, then by descending priority.
 */
import type { FlowStats, MultipartRequestBody, TableStats } from '../../protocol/index.ts';
import { matchToMaskedKey } from '../classifier/index.ts';
import { checkOutPort } from './action-check.ts';
import { type FlowTableContext, selectRules } from './flow-mod.ts';
import { duration, type OfTable, type Rule, ruleMatch } from './rule.ts';

type FlowRequest = Extract<MultipartRequestBody, { mpType: 'flow' | 'aggregate' }>;

export function selectForStats(ctx: FlowTableContext, request: FlowRequest): Rule[] {
  checkOutPort(request.outPort);
  if (request.tableId !== 0xff && request.tableId >= ctx.tables.length) return [];
  const rules = [...selectRules(ctx, request.tableId, {
    key: matchToMaskedKey(request.match), cookie: request.cookie, cookieMask: request.cookieMask,
    outPort: request.outPort, outGroup: request.outGroup,
  })];
  return rules.sort((a, b) => a.tableId - b.tableId || b.priority - a.priority);
}

export function flowStats(rule: Rule, nowMs: number): FlowStats {
  return {
    tableId: rule.tableId, ...duration(rule.createdMs, nowMs), priority: rule.priority, idleTimeout: rule.idleTimeout,
    hardTimeout: rule.hardTimeout, flags: rule.flags, cookie: rule.cookie, packetCount: BigInt(rule.packetCount),
    byteCount: BigInt(rule.byteCount), match: ruleMatch(rule), instructions: rule.instructions,
  };
}

export function aggregateStats(rules: Rule[]): { packetCount: bigint; byteCount: bigint; flowCount: number } {
  let packetCount = 0;
  let byteCount = 0;
  for (const r of rules) {
    packetCount += r.packetCount;
    byteCount += r.byteCount;
  }
  return { packetCount: BigInt(packetCount), byteCount: BigInt(byteCount), flowCount: rules.length };
}

export function tableStats(tables: OfTable[]): TableStats[] {
  return tables.map((t) => ({ tableId: t.id, activeCount: t.rules.count, lookupCount: t.lookupCount, matchedCount: t.matchedCount }));
}
