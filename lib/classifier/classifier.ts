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
import type { Match } from '../../protocol/index.ts';
import { FLOW_KEY_BYTES, type MaskedKey, wireMatch } from './flow-key.ts';

export interface ClassifierRule extends MaskedKey {
  readonly priority: number;
  /** Replaced on insert by the subtable's own copy, so that rules with one mask share it. */
  mask: Uint8Array;
  /**
   * Set on insert: the rule's masked bytes as a string (its bucket's key). A rule may then
   * drop its own value array and rebuild it with valueFromBucketKey(), to save memory.
   */
  bucketKey?: string;
}

const indicesByMask = new WeakMap<Uint8Array, Uint16Array>();
const idByMask = new WeakMap<Uint8Array, string>();

/** Offsets where `mask` is not zero (cached per mask array: rules of a subtable share one). */
export function maskIndices(mask: Uint8Array): Uint16Array {
  let indices = indicesByMask.get(mask);
  if (!indices) {
    const list: number[] = [];
    for (let i = 0; i < FLOW_KEY_BYTES; i++) if (mask[i] !== 0) list.push(i);
    indices = Uint16Array.from(list);
    indicesByMask.set(mask, indices);
  }
  return indices;
}

function maskId(mask: Uint8Array): string {
  let id = idByMask.get(mask);
  if (id === undefined) {
    id = Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength).toString('latin1');
    idByMask.set(mask, id);
  }
  return id;
}

const positionsByMask = new WeakMap<Uint8Array, Int16Array>();

/** For each offset of the layout, its position in a bucket key of `mask` (-1: not matched). */
function bucketPositions(mask: Uint8Array): Int16Array {
  let positions = positionsByMask.get(mask);
  if (!positions) {
    positions = new Int16Array(FLOW_KEY_BYTES).fill(-1);
    maskIndices(mask).forEach((offset, i) => { positions![offset] = i; });
    positionsByMask.set(mask, positions);
  }
  return positions;
}

/** A rule's canonical OXM match straight from its bucket key, without rebuilding its value. */
export function wireMatchOfBucket(bucketKey: string, mask: Uint8Array): Match {
  const positions = bucketPositions(mask);
  return wireMatch(mask, (offset) => (positions[offset]! < 0 ? 0 : bucketKey.charCodeAt(positions[offset]!)));
}

/** The full value array of a rule from its bucket key and mask. */
export function valueFromBucketKey(bucketKey: string, mask: Uint8Array): Uint8Array {
  const value = new Uint8Array(FLOW_KEY_BYTES);
  const indices = maskIndices(mask);
  for (let i = 0; i < indices.length; i++) value[indices[i]!] = bucketKey.charCodeAt(i);
  return value;
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
    this.indices = maskIndices(mask);
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
    const id = maskId(rule.mask);
    let st = this.subtables.get(id);
    if (!st) {
      st = new Subtable<R>(rule.mask, id);
      this.subtables.set(id, st);
    }
    const key = rule.bucketKey ?? st.keyOf(rule.value);
    rule.bucketKey = key;
    rule.mask = st.mask;
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
    const id = maskId(rule.mask);
    const st = this.subtables.get(id);
    if (!st) return false;
    const key = rule.bucketKey ?? st.keyOf(rule.value);
    const bucket = st.buckets.get(key);
    const at = bucket ? bucket.indexOf(rule) : -1;
    if (!bucket || at < 0) return false;
    if (bucket.length === 1) st.buckets.delete(key);
    else bucket.splice(at, 1);
    const maxChanged = st.removePriority(rule.priority);
    this.size--;
    if (st.count === 0) {
      this.subtables.delete(id);
      this.reorder();
    } else if (maxChanged) {
      this.reorder();
    }
    return true;
  }

  /** Removes every rule at once. */
  clear(): void {
    this.subtables.clear();
    this.ordered = [];
    this.size = 0;
  }

  /** The rule with exactly this match and priority (OpenFlow's "identical" flow), if any. */
  findExact(key: MaskedKey, priority: number): R | undefined {
    const st = this.subtables.get(maskId(key.mask));
    return st?.buckets.get(st.keyOf(key.value))?.find((r) => r.priority === priority);
  }

  /**
   * The highest-priority rule matching a packet's flow key. When `consulted` is given, the
   * mask of every subtable the lookup examined is OR-ed into it: the fields the result
   * depends on, which a megaflow must match exactly (Open vSwitch's wildcard tracking).
   */
  lookup(flowKey: Uint8Array, consulted?: Uint8Array): R | undefined {
    let best: R | undefined;
    for (const st of this.ordered) {
      if (best && st.maxPriority <= best.priority) break;
      this.subtablesVisited++;
      if (consulted) for (const i of st.indices) consulted[i]! |= st.mask[i]!;
      const bucket = st.buckets.get(st.keyOf(flowKey));
      if (bucket && (!best || bucket[0]!.priority > best.priority)) best = bucket[0];
    }
    return best;
  }

  *[Symbol.iterator](): IterableIterator<R> {
    for (const st of this.subtables.values()) for (const bucket of st.buckets.values()) yield* bucket;
  }
}
