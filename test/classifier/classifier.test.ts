/*
 * The tuple-space-search classifier against a brute-force reference: random rules over a
 * few masks, random packets; the classifier must pick a rule of the highest matching
 * priority. And its cost: a lookup visits subtables (one per distinct mask), never rules.
 */
import t from 'tap';
import {
  Classifier, type ClassifierRule, fieldSlot, FLOW_KEY_BYTES, keyMatches, matchToMaskedKey, maskedKeyToMatch,
} from '../../lib/classifier/index.ts';
import type { Match } from '../../protocol/index.ts';
import { prng } from '../helpers/prng.ts';

interface TestRule extends ClassifierRule { id: number }

const rand = prng(7);
const int = (n: number): number => Math.floor(rand() * n);
/** A few match shapes (masks), with values drawn from small ranges so that packets hit them. */
const SHAPES: Array<() => Match> = [
  () => [{ field: 'in_port', value: 1 + int(4) }],
  () => [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.0.${int(4)}.0`, mask: '255.255.255.0' }],
  () => [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 + int(3) }],
  () => [{ field: 'eth_dst', value: `00:00:00:00:00:0${int(8)}` }],
  () => [],
  () => [{ field: 'in_port', value: 1 + int(4) }, { field: 'vlan_vid', value: 0x1000 | int(3) }],
];

function packet(): Uint8Array {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  const put = (name: Parameters<typeof fieldSlot>[0], bytes: number[]): void => {
    const slot = fieldSlot(name);
    bytes.forEach((b, i) => { key[slot.offset + slot.bytes - bytes.length + i] = b; });
  };
  put('in_port', [1 + int(5)]);
  put('eth_dst', [0, 0, 0, 0, 0, int(10)]);
  put('eth_type', rand() < 0.8 ? [0x08, 0x00] : [0x86, 0xdd]);
  put('ip_proto', [rand() < 0.7 ? 6 : 17]);
  put('ipv4_dst', [10, 0, int(5), int(256)]);
  put('tcp_dst', [0, 79 + int(5)]);
  if (rand() < 0.5) put('vlan_vid', [0x10, int(4)]);
  return key;
}

t.test('lookup agrees with brute force', async (t) => {
  const cls = new Classifier<TestRule>();
  const rules: TestRule[] = [];
  for (let id = 0; id < 400; id++) {
    const key = matchToMaskedKey(SHAPES[int(SHAPES.length)]!());
    const priority = int(50);
    if (cls.findExact(key, priority)) continue;
    const rule = { ...key, priority, id };
    cls.insert(rule);
    rules.push(rule);
  }
  t.equal(cls.count, rules.length, 'every rule inserted');
  t.ok(cls.subtableCount <= SHAPES.length, `${cls.subtableCount} subtables for ${SHAPES.length} shapes`);
  let mismatches = 0;
  let hits = 0;
  for (let i = 0; i < 5000; i++) {
    // Remove and re-add some rules as we go, so that the structure changes under the lookups.
    if (i % 50 === 0) {
      const victim = rules.splice(int(rules.length), 1)[0]!;
      t.ok(cls.remove(victim), 'remove finds the rule');
    }
    const key = packet();
    const expected = Math.max(-1, ...rules.filter((r) => keyMatches(key, r)).map((r) => r.priority));
    const got = cls.lookup(key);
    if ((got?.priority ?? -1) !== expected || (got && !keyMatches(key, got))) mismatches++;
    if (got) hits++;
  }
  t.equal(mismatches, 0, 'the highest matching priority every time');
  t.ok(hits > 1000, `${hits} of 5000 packets hit a rule`);
});

t.test('lookup cost grows with masks, not rules', async (t) => {
  const cls = new Classifier<TestRule>();
  let id = 0;
  // 10,000 rules over 10 masks: 1,000 distinct networks for each prefix length /15 .. /24.
  const dotted = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  for (let prefix = 15; prefix < 25; prefix++) {
    const mask = dotted((0xffffffff << (32 - prefix)) >>> 0);
    for (let i = 0; i < 1000; i++) {
      const key = matchToMaskedKey([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: dotted((i << (32 - prefix)) >>> 0), mask }]);
      cls.insert({ ...key, priority: prefix, id: id++ });
    }
  }
  t.equal(cls.subtableCount, 10, '10 distinct masks');
  t.equal(cls.count, 10_000, '10,000 rules');
  const before = cls.subtablesVisited;
  for (let i = 0; i < 1000; i++) cls.lookup(packet());
  const perLookup = (cls.subtablesVisited - before) / 1000;
  t.ok(perLookup <= 10, `a lookup visits ${perLookup} subtables on average, at most one per mask`);
});

t.test('canonical match: wildcards dropped, full masks exact, field order', async (t) => {
  const key = matchToMaskedKey([
    { field: 'ipv4_dst', value: '10.0.0.1', mask: '255.255.255.255' },
    { field: 'eth_type', value: 0x0800 },
    { field: 'eth_src', value: '00:00:00:00:00:00', mask: '00:00:00:00:00:00' },
    { field: 'vlan_vid', value: 0x1000, mask: 0x1000 },
    { field: 'vlan_pcp', value: 3, mask: 0xff },
  ]);
  t.same(maskedKeyToMatch(key), [
    { field: 'eth_type', value: 0x0800 },
    { field: 'vlan_vid', value: 0x1000, mask: 0x1000 },
    { field: 'vlan_pcp', value: 3 },
    { field: 'ipv4_dst', value: '10.0.0.1' },
  ]);
});
