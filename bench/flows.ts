/*
 * Flow-table benchmark, side by side with Open vSwitch 3.1 (userspace) in one run: the time
 * the real `ovs-ofctl -O OpenFlow13` takes to add 10k and 100k flows (plain and --bundle),
 * dump them and delete them, and each switch's resident memory per flow after the add and
 * after the delete. Reported as seconds, bytes, and ofswitch/OVS ratios (below 1 is better
 * for ofswitch). Not a test: nothing here asserts a time.
 *
 *   npx tsx bench/flows.ts [--sizes=10000,100000] [--json]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOfswitchd } from '../test/helpers/ofswitchd.ts';
import { ovsMissing, startOvs } from '../test/helpers/ovs.ts';

const args = process.argv.slice(2);
const sizes = (args.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '10000,100000').split(',').map(Number);
const asJson = args.includes('--json');

interface Subject {
  name: string;
  target: string;
  env: NodeJS.ProcessEnv;
  pid(): number;
  stop(): Promise<unknown>;
}

type Row = Record<string, number>;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function ofctl(subject: Subject, ...command: string[]): { seconds: number; stdout: string } {
  const started = performance.now();
  const run = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', ...command], { env: subject.env, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 30 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${subject.name}: ovs-ofctl ${command.join(' ')}: ${run.stderr}`);
  return { seconds, stdout: run.stdout };
}

/** n distinct flows over a few masks, in tables 0-3, with a few actions each. */
function writeFlows(path: string, n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(`table=${i % 4},priority=${(i % 100) + 1},tcp,nw_dst=${ip},tp_dst=${80 + (i % 5)},actions=set_field:00:00:00:00:00:01->eth_dst,output:${1 + (i % 4)}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function measure(subject: Subject, flowsFile: string, n: number): Promise<Row> {
  const row: Row = {};
  const pid = subject.pid();
  await sleep(500);
  const rss0 = rssBytes(pid);
  row.add = ofctl(subject, 'add-flows', subject.target, flowsFile).seconds;
  await sleep(500);
  row.bytesPerFlow = (rssBytes(pid) - rss0) / n;
  const dump = ofctl(subject, 'dump-flows', subject.target);
  row.dump = dump.seconds;
  const dumped = dump.stdout.split('\n').filter((l) => l.includes('cookie=')).length;
  if (dumped !== n) throw new Error(`${subject.name}: dumped ${dumped} of ${n} flows`);
  row.delete = ofctl(subject, 'del-flows', subject.target).seconds;
  await sleep(1500);
  row.bytesPerFlowAfterDelete = (rssBytes(pid) - rss0) / n;
  row.bundleAdd = ofctl(subject, '--bundle', 'add-flows', subject.target, flowsFile).seconds;
  ofctl(subject, 'del-flows', subject.target);
  return row;
}

async function subjects(): Promise<Subject[]> {
  const ports = ['--datapath-id=0000000000000001', '--port=p1:1', '--port=p2:2', '--port=p3:3', '--port=p4:4'];
  const ofs = await startOfswitchd(ports);
  const list: Subject[] = [{
    name: 'ofswitch', target: `unix:${ofs.mgmt}`, env: process.env, pid: () => ofs.process.pid!, stop: () => ofs.stop(),
  }];
  const missing = ovsMissing();
  if (missing) {
    process.stderr.write(`Open vSwitch not measured: ${missing}\n`);
    return list;
  }
  const ovs = await startOvs();
  list.push({
    name: 'ovs', target: ovs.target, env: ovs.env, stop: () => ovs.stop(),
    pid: () => Number(readFileSync(join(ovs.rundir, 'vs.pid'), 'utf8').trim()),
  });
  return list;
}

const fmt = (v: number | undefined, unit: 's' | 'B'): string => v === undefined ? 'n/a' : unit === 's' ? `${v.toFixed(2)} s` : `${Math.round(v)} B`;

async function main(): Promise<void> {
  const list = await subjects();
  const results: Record<string, Record<number, Row>> = {};
  try {
    for (const n of sizes) {
      const file = join(process.env.TMPDIR ?? '/tmp', `ofswitch-bench-flows-${n}.txt`);
      writeFlows(file, n);
      for (const s of list) {
        process.stderr.write(`${s.name}: ${n} flows...\n`);
        (results[s.name] ??= {})[n] = await measure(s, file, n);
      }
    }
  } finally {
    await Promise.all(list.map((s) => s.stop()));
  }
  if (asJson) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const lines = [`Node ${process.version}, ${cpu}, ${new Date().toISOString().slice(0, 16)}Z`, '',
    '| flows | measure | ofswitch | Open vSwitch | ratio |', '|--:|---|--:|--:|--:|'];
  const measures: Array<[string, string, 's' | 'B']> = [
    ['add', 'add-flows', 's'], ['bundleAdd', 'add-flows --bundle', 's'], ['dump', 'dump-flows', 's'], ['delete', 'del-flows', 's'],
    ['bytesPerFlow', 'memory per flow', 'B'], ['bytesPerFlowAfterDelete', 'memory per flow after delete', 'B'],
  ];
  for (const n of sizes) {
    for (const [key, label, unit] of measures) {
      const ours = results.ofswitch?.[n]?.[key];
      const theirs = results.ovs?.[n]?.[key];
      const ratio = ours !== undefined && theirs !== undefined && theirs > 0 ? `${(ours / theirs).toFixed(2)}` : 'n/a';
      lines.push(`| ${n.toLocaleString('en')} | ${label} | ${fmt(ours, unit)} | ${fmt(theirs, unit)} | ${ratio} |`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
