/*
 * Crash safety of the configuration database: 200 times, a process commits transactions and
 * is killed with SIGKILL at a random moment (often mid-write or mid-compaction). After each
 * kill the database must open, hold the state of some prefix of the transactions (every
 * bridge br1..brN present, none beyond, and external_ids:count=N agreeing), and include every
 * transaction the process had reported as committed (transact() had returned).
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigDb } from '../../lib/config/index.ts';
import { prng } from '../helpers/prng.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = 200;

t.test(`${ROUNDS} kills at random moments leave a committed prefix`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ofsdb-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const writer = join(dir, 'writer.mjs');
  const build = spawnSync(join(ROOT, 'node_modules/.bin/esbuild'), [join(ROOT, 'test/config/db-writer.ts'), '--bundle', '--platform=node', '--format=esm', `--outfile=${writer}`, '--log-level=warning'], { encoding: 'utf8' });
  t.equal(build.status, 0, `writer built ${build.stderr}`);
  const path = join(dir, 'conf.db');
  const rand = prng(20261121);
  let acknowledged = 0;
  const problems: string[] = [];
  let maxCount = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(process.execPath, [writer, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Kill after the first commit plus a random delay, so kills land everywhere in the cycle.
    await new Promise<void>((resolve) => {
      const started = Date.now();
      const check = setInterval(() => {
        if (out.includes('committed') || Date.now() - started > 5000) { clearInterval(check); resolve(); }
      }, 2);
    });
    await new Promise((r) => setTimeout(r, rand() * 30));
    child.kill('SIGKILL');
    await exited;
    const committed = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
    if (committed.length) acknowledged = Math.max(acknowledged, committed[committed.length - 1]!);
    if (err.trim()) problems.push(`round ${round}: writer failed: ${err.trim().split('\n')[0]}`);
    let db: ConfigDb;
    try {
      db = ConfigDb.open(path, { readOnly: true });
    } catch (e) {
      problems.push(`round ${round}: database does not open: ${(e as Error).message}`);
      break;
    }
    const root = [...db.rows('Open_vSwitch').values()][0];
    const count = Number((root?.external_ids as Array<[string, string]> | undefined)?.find(([k]) => k === 'count')?.[1] ?? 0);
    const names = new Set([...db.rows('Bridge').values()].map((b) => String(b.name[0])));
    const expected = new Set(Array.from({ length: count }, (_, i) => `br${i + 1}`));
    if (count < acknowledged) problems.push(`round ${round}: ${acknowledged} acknowledged but only ${count} present`);
    if (names.size !== expected.size || [...expected].some((n) => !names.has(n))) problems.push(`round ${round}: bridges do not match count ${count}`);
    if (db.rows('Port').size !== count || db.rows('Interface').size !== count) problems.push(`round ${round}: ports/interfaces do not match count ${count}`);
    maxCount = Math.max(maxCount, count);
    db.close();
    // Whatever survived is now the state the next round starts from.
    acknowledged = count;
  }
  t.same(problems, [], 'every kill left an openable database holding a committed prefix');
  t.ok(maxCount > ROUNDS, `${maxCount} transactions committed over ${ROUNDS} kills`);
});
