/*
 * An OpenFlow rule (flow entry) and a table of them (Open vSwitch's struct rule and
 * struct oftable). Times are milliseconds on the monotonic clock (performance.now());
 * timeouts are in seconds, as on the wire.
 */
import { Classifier, type ClassifierRule, type MaskedKey, maskedKeyToWireMatch, valueFromBucketKey, wireMatchOfBucket } from '../classifier/index.ts';
import type { Instruction, Match } from '../../protocol/index.ts';

/**
 * A flow entry. Its match is (value, mask) over the flow-key layout; once in its table the
 * rule keeps only the masked bytes (the classifier's bucket key) and the mask its subtable
 * shares, and rebuilds the value array when asked (stats, filters), to save memory.
 */
export class Rule implements ClassifierRule {
  mask: Uint8Array;
  private key: string | undefined;
  private initialValue: Uint8Array | undefined;
  /** Last time the rule was added or modified: the hard timeout's origin, as in Open vSwitch. */
  modifiedMs: number;
  /** Last time a packet hit the rule (or it was created): the idle timeout's origin. */
  usedMs: number;
  /** Counters as numbers (exact to 2^53, far beyond any real count); 64-bit on the wire. */
  packetCount = 0;
  byteCount = 0;

  constructor(
    readonly tableId: number,
    key: MaskedKey,
    readonly priority: number,
    public cookie: bigint,
    public idleTimeout: number,
    public hardTimeout: number,
    public flags: number,
    public instructions: Instruction[],
    readonly createdMs: number,
  ) {
    this.initialValue = key.value;
    this.mask = key.mask;
    this.modifiedMs = createdMs;
    this.usedMs = createdMs;
  }

  get bucketKey(): string | undefined {
    return this.key;
  }

  /** Set by the classifier on insert: from then on the value is rebuilt from it. */
  set bucketKey(key: string | undefined) {
    this.key = key;
    if (key !== undefined) this.initialValue = undefined;
  }

  get value(): Uint8Array {
    return this.key === undefined ? this.initialValue! : valueFromBucketKey(this.key, this.mask);
  }
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

/** Duration since `sinceMs` as OpenFlow's (seconds, nanoseconds). */
export function duration(sinceMs: number, nowMs: number): { durationSec: number; durationNsec: number } {
  const elapsed = Math.max(0, nowMs - sinceMs);
  const durationSec = Math.floor(elapsed / 1000);
  return { durationSec, durationNsec: Math.floor((elapsed - durationSec * 1000) * 1e6) };
}

/** The rule's match in canonical OXM form (entries in wire form), as reported in stats and flow-removed. */
export function ruleMatch(rule: Rule): Match {
  return rule.bucketKey === undefined ? maskedKeyToWireMatch(rule) : wireMatchOfBucket(rule.bucketKey, rule.mask);
}
