/*
 * An OpenFlow rule (flow entry) and a table of them (Open vSwitch's struct rule and
 * struct oftable). Times are milliseconds on the monotonic clock (performance.now());
 * timeouts are in seconds, as on the wire.
 */
import { Classifier, type ClassifierRule, type MaskedKey, maskedKeyToMatch } from '../classifier/index.ts';
import type { Instruction, Match } from '../../protocol/index.ts';

export interface Rule extends ClassifierRule {
  readonly tableId: number;
  readonly value: Uint8Array;
  mask: Uint8Array;
  readonly priority: number;
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
  /** Counters as numbers (exact to 2^53, far beyond any real count); 64-bit on the wire. */
  packetCount: number;
  byteCount: number;
}

/** The rule's match in canonical OXM form, as reported in stats and flow-removed. */
export function ruleMatch(rule: Rule): Match {
  return maskedKeyToMatch(rule);
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
