/*
 * Opt-in determinism check for the OFTest fixture replay: replays every fixture (or those whose
 * name contains one of the arguments) N times in a row and reports any fixture whose report
 * (outcome, first difference and both sides of it) is not the same every time.
 *
 *   npx tsx test/conformance/determinism.ts [--runs=10] [--jobs=2] [FILTER...]
 *
 * Exit status 0 when every fixture gave one report, 1 otherwise.
 */
import { carriedState, fixturesMissing, type FixtureReport, outcomeCounts, readManifest, runFixtures } from './fixtures.ts';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const arg = args.find((a) => a.startsWith(`--${name}=`));
    return arg ? Number(arg.slice(name.length + 3)) : fallback;
  };
  const runs = option('runs', 10);
  const jobs = option('jobs', 2);
  const filters = args.filter((a) => !a.startsWith('--'));
  const missing = fixturesMissing();
  if (missing) {
    console.log(`skipped: ${missing}`);
    return 0;
  }
  const all = readManifest();
  const carried = carriedState(all);
  const rows = all.filter((r) => filters.length === 0 || filters.some((f) => r.test.includes(f)));
  const seen = new Map<string, Map<string, number>>();
  const key = (r: FixtureReport): string => [r.line, ...r.detail.filter((d) => !d.startsWith('timed out') && !d.startsWith('…'))].join('\n');
  for (let run = 1; run <= runs; run++) {
    const started = performance.now();
    const reports = await runFixtures(rows, carried, jobs);
    for (const r of reports) {
      const variants = seen.get(r.test) ?? new Map<string, number>();
      variants.set(key(r), (variants.get(key(r)) ?? 0) + 1);
      seen.set(r.test, variants);
    }
    const counts = outcomeCounts(reports);
    console.log(`run ${run}/${runs}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  let unstable = 0;
  for (const [test, variants] of seen) {
    if (variants.size === 1) continue;
    unstable++;
    console.log(`NOT DETERMINISTIC: ${test}`);
    for (const [report, n] of variants) console.log(`  ${n}x: ${report.split('\n')[0]}`);
  }
  console.log(unstable === 0 ? `deterministic: ${rows.length} fixtures, ${runs} runs each` : `${unstable} fixtures gave different reports`);
  return unstable === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e);
  process.exit(2);
});
