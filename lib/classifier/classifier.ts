/*
 * A tuple-space-search classifier (Open vSwitch's lib/classifier.c, simplified): rules are
 * grouped into one subtable per distinct mask; within a subtable, rules are found by hashing
 * the masked key. A lookup visits subtables in order of their highest priority and stops as
 * soon as no remaining subtable can hold a better rule, so its cost grows with the number of
 * distinct masks, not with the number of rules.
 *
 * Rules with the same mask and value but different priorities share a bucket, kept sorted
 * with the highest priority first. Identical (mask, value, priority) rules are the caller's
 * business: OpenFlow replaces them, see findExact().
 */
import { FLOW_KEY_BYTES, type MaskedKey } from './flow-key.ts';

export interface ClassifierRule extends MaskedKey {
  readonly priority: number;
  /** Replaced on insert by the subtable's own copy, so that rules with one mask share it. */
  mask: Uint8Array;
}

/** Latin-1 string of the masked bytes at `indices`: a compact, exact hash-map key. */
function bucketKey(bytes: Uint8Array, mask: Uint8Array, indices: Uint16Array): string {
  let s = '';
  for (let i = 0; i < indices.length; i++) {
    const at = indices[i]!;
    s += String.fromCharCode(bytes[at]! & mask[at]!);
  }
  return s;
}

class Subtable<R extends ClassifierRule> {
  /** Offsets where the mask is not zero: the only bytes that take part in the hash. */
  readonly indices: Uint16Array;
  readonly buckets = new Map<string, R[]>();
  /** How many rules have each priority, so that the maximum survives removals cheaply. */
  private readonly priorities = new Map<number, number>();
  maxPriority = -1;
  count = 0;

  addPriority(p: number): void {
    this.priorities.set(p, (this.priorities.get(p) ?? 0) + 1);
    this.count++;
    if (p > this.maxPriority) this.maxPriority = p;
  }

  /** Returns whether the maximum priority changed. */
  removePriority(p: number): boolean {
    const left = this.priorities.get(p)! - 1;
    this.count--;
    if (left > 0) {
      this.priorities.set(p, left);
      return false;
    }
    this.priorities.delete(p);
    if (p !== this.maxPriority) return false;
    let max = -1;
    for (const q of this.priorities.keys()) if (q > max) max = q;
    this.maxPriority = max;
    return true;
  }

  constructor(readonly mask: Uint8Array, readonly maskId: string) {
    const indices: number[] = [];
    for (let i = 0; i < FLOW_KEY_BYTES; i++) if (mask[i] !== 0) indices.push(i);
    this.indices = Uint16Array.from(indices);
  }

  keyOf(bytes: Uint8Array): string {
    return bucketKey(bytes, this.mask, this.indices);
  }
}

export class Classifier<R extends ClassifierRule> {
  private readonly subtables = new Map<string, Subtable<R>>();
  /** Subtables by descending maxPriority, for early exit in lookups. */
  private ordered: Subtable<R>[] = [];
  private size = 0;
  /** Subtables visited by lookups so far: the work a lookup does (a coverage-style counter). */
  subtablesVisited = 0;

  get count(): number {
    return this.size;
  }

  /** Number of distinct masks: the cost driver of a lookup. */
  get subtableCount(): number {
    return this.subtables.size;
  }

  private reorder(): void {
    this.ordered = [...this.subtables.values()].sort((a, b) => b.maxPriority - a.maxPriority);
  }

  insert(rule: R): void {
    const maskId = Buffer.from(rule.mask.buffer, rule.mask.byteOffset, rule.mask.byteLength).toString('latin1');
    let st = this.subtables.get(maskId);
    if (!st) {
      st = new Subtable<R>(rule.mask, maskId);
      this.subtables.set(maskId, st);
    }
    rule.mask = st.mask;
    const key = st.keyOf(rule.value);
    const bucket = st.buckets.get(key);
    if (!bucket) {
      st.buckets.set(key, [rule]);
    } else {
      let at = bucket.length;
      while (at > 0 && bucket[at - 1]!.priority < rule.priority) at--;
      bucket.splice(at, 0, rule);
    }
    const before = st.maxPriority;
    st.addPriority(rule.priority);
    this.size++;
    if (st.count === 1 || st.maxPriority !== before) this.reorder();
  }

  remove(rule: R): boolean {
    const maskId = Buffer.from(rule.mask.buffer, rule.mask.byteOffset, rule.mask.byteLength).toString('latin1');
    const st = this.subtables.get(maskId);
    if (!st) return false;
    const key = st.keyOf(rule.value);
    const bucket = st.buckets.get(key);
    const at = bucket ? bucket.indexOf(rule) : -1;
    if (!bucket || at < 0) return false;
    if (bucket.length === 1) st.buckets.delete(key);
    else bucket.splice(at, 1);
    const maxChanged = st.removePriority(rule.priority);
    this.size--;
    if (st.count === 0) {
      this.subtables.delete(maskId);
      this.reorder();
    } else if (maxChanged) {
      this.reorder();
    }
    return true;
  }

  /** The rule with exactly this match and priority (OpenFlow's "identical" flow), if any. */
  findExact(key: MaskedKey, priority: number): R | undefined {
    const maskId = Buffer.from(key.mask.buffer, key.mask.byteOffset, key.mask.byteLength).toString('latin1');
    const st = this.subtables.get(maskId);
    return st?.buckets.get(st.keyOf(key.value))?.find((r) => r.priority === priority);
  }

  /** The highest-priority rule matching a packet's flow key. */
  lookup(flowKey: Uint8Array): R | undefined {
    let best: R | undefined;
    for (const st of this.ordered) {
      if (best && st.maxPriority <= best.priority) break;
      this.subtablesVisited++;
      const bucket = st.buckets.get(st.keyOf(flowKey));
      if (bucket && (!best || bucket[0]!.priority > best.priority)) best = bucket[0];
    }
    return best;
  }

  *[Symbol.iterator](): IterableIterator<R> {
    for (const st of this.subtables.values()) for (const bucket of st.buckets.values()) yield* bucket;
  }
}
