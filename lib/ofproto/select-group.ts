/*
 * How a SELECT group picks its bucket, as Open vSwitch 3.1 does for a group whose controller
 * named no selection method (ofproto-dpif.c group_setup_dp_hash_table and
 * ofproto-dpif-xlate.c pick_dp_hash_select_group / pick_default_select_group), so that a flow
 * leaves by the same bucket on both switches:
 *
 *  - normally a table of 16 to 256 hash values (a power of two) is dealt out to the buckets in
 *    proportion to their weights by Webster's method; a packet's symmetric L3/L4 hash indexes
 *    it, and the first live bucket from there on is taken;
 *  - when the weights need more than 256 values, every live bucket gets a score from the
 *    symmetric L4 hash and its bucket id, scaled by its weight, and the best score wins.
 */
import { hashInt, symmetricL3L4Hash, symmetricL4Hash } from '../packet/index.ts';

/** The most hash values Open vSwitch deals out to a select group's buckets by default. */
const MAX_HASH_VALUES = 256;

/**
 * The bucket index for each hash value, or undefined when the weights (all above zero) need
 * more than MAX_HASH_VALUES values.
 */
export function dealHashValues(weights: readonly number[]): number[] | undefined {
  if (weights.length === 0) return undefined;
  const total = weights.reduce((n, w) => n + w, 0);
  const minWeight = Math.min(...weights);
  const slots = 2 ** Math.ceil(Math.log2(Math.ceil(total / minWeight)));
  const nHash = Math.max(16, slots);
  if (nHash > MAX_HASH_VALUES) return undefined;
  const divisor = weights.map(() => 1);
  const value = [...weights];
  const table: number[] = [];
  for (let hash = 0; hash < nHash; hash++) {
    let winner = 0;
    for (let i = 1; i < weights.length; i++) if (value[i]! > value[winner]!) winner = i;
    divisor[winner]! += 2;
    value[winner] = weights[winner]! / divisor[winner]!;
    table.push(winner);
  }
  return table;
}

/**
 * The bucket a packet with flow `key` takes, or -1 when none is live. `table` is the group's
 * dealHashValues() of the buckets' weights; `mask` collects the fields the choice depended on.
 */
export function pickSelectBucket(
  buckets: ReadonlyArray<{ weight: number }>, table: readonly number[] | undefined, key: Uint8Array, mask: Uint8Array,
  isLive: (bucket: number) => boolean,
): number {
  if (table) {
    const hash = symmetricL3L4Hash(key, 0, mask);
    const hashMask = table.length - 1;
    for (let i = 0; i <= hashMask; i++) {
      const bucket = table[(hash + i) & hashMask]!;
      if (isLive(bucket)) return bucket;
    }
    return -1;
  }
  const basis = symmetricL4Hash(key, 0, mask);
  let best = -1;
  let bestScore = 0;
  buckets.forEach(({ weight }, bucket) => {
    if (!isLive(bucket)) return;
    // Open vSwitch numbers an OpenFlow 1.3 group's buckets from 0 in order.
    const score = (hashInt(bucket, basis) & 0xffff) * weight;
    if (score >= bestScore) {
      best = bucket;
      bestScore = score;
    }
  });
  return best;
}
