/*
 * An OpenFlow rule (flow entry) and a table of them (Open vSwitch's struct rule and
 * struct oftable). Times are milliseconds on the monotonic clock (performance.now());
 * timeouts are in seconds, as on the wire.
 */
import { Classifier, type ClassifierRule, type MaskedKey } from '../classifier/index.ts';
import type { Instruction, Match } from '../../protocol/index.ts';

export interface Rule extends ClassifierRule {
  readonly tableId: number;
  readonly value: Uint8Array;
  readonly mask: Uint8Array;
  readonly priority: number;
  /** The canonical OXM form of (value, mask), as reported in stats and flow-removed. */
  readonly match: Match;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  instructions: Instruction[];
  createdMs: number;
  /** Last time the rule was added or modified: the hard timeout's origin, as in Open vSwitch. */
  modifiedMs: number;
  /** Last time a packet hit the rule (or it was created/modified): the idle timeout's origin. */
  usedMs: number;
  packetCount: bigint;
  byteCount: bigint;
}

export interface OfTable {
  readonly id: number;
  name: string;
  config: number;
  readonly rules: Classifier<Rule>;
  lookupCount: bigint;
  matchedCount: bigint;
}

export function newTable(id: number): OfTable {
  return { id, name: '', config: 0, rules: new Classifier<Rule>(), lookupCount: 0n, matchedCount: 0n };
}

export function ruleKey(rule: Rule): MaskedKey {
  return rule;
}

/** Duration since `sinceMs` as OpenFlow's (seconds, nanoseconds). */
export function duration(sinceMs: number, nowMs: number): { durationSec: number; durationNsec: number } {
  const elapsed = Math.max(0, nowMs - sinceMs);
  const durationSec = Math.floor(elapsed / 1000);
  return { durationSec, durationNsec: Math.floor((elapsed - durationSec * 1000) * 1e6) };
}
