/*
 * What the ofs-vsctl tests share: a configuration database to talk to (ours, served by
 * db-server.ts as ofswitchd serves it, or a private ovsdb-server for the real ovs-vsctl),
 * running either tool, and the normalisation that makes their transcripts comparable.
 *
 * Both servers run in temporary directories and are stopped by the pid they were started
 * with (SIGTERM, then SIGKILL). Times are in milliseconds.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DbClient, type DbDump } from '../../lib/config/index.ts';
import { pidAlive } from '../helpers/ovs.ts';
import { waitFor } from '../helpers/ofswitchd.ts';

export const OFS_VSCTL = fileURLToPath(new URL('../../bin/ofs-vsctl', import.meta.url));
const DB_SERVER = fileURLToPath(new URL('./db-server.ts', import.meta.url));
export const OVS_VSCTL = '/usr/bin/ovs-vsctl';
const OVSDB_SERVER = '/usr/sbin/ovsdb-server';
const OVSDB_TOOL = '/usr/bin/ovsdb-tool';
const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface Run { status: number | null; stdout: string; stderr: string }

export interface Server {
  dir: string;
  /** What --db takes. */
  db: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export function ovsdbMissing(): string | null {
  const missing = [OVSDB_SERVER, OVSDB_TOOL, OVS_VSCTL, VSWITCH_SCHEMA].filter((f) => !existsSync(f));
  return missing.length ? `Open vSwitch not installed (missing ${missing.join(', ')})` : null;
}

async function stopPid(pid: number | null): Promise<void> {
  if (pid === null) return;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!pidAlive(pid)) return;
    try { process.kill(pid, signal); } catch { return; }
    try {
      await waitFor(() => !pidAlive(pid), 3000, `pid ${pid} to exit`);
      return;
    } catch { /* escalate */ }
  }
}

/** Our configuration database, served on <dir>/db.sock as ofswitchd serves it. */
export async function startDbServer(): Promise<Server & { dump(): Promise<DbDump> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-vsctl-'));
  const socket = join(dir, 'db.sock');
  const child = spawn(process.execPath, ['--import', 'tsx', DB_SERVER, socket, join(dir, 'conf.db')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const stop = async (): Promise<void> => {
    await stopPid(child.pid ?? null);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => /ready/.test(output) || child.exitCode !== null, 20_000, 'the database server');
    if (child.exitCode !== null) throw new Error(`db-server exited with ${child.exitCode}: ${output}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir, db: `unix:${socket}`, env: { ...process.env }, stop,
    async dump() {
      const client = await DbClient.connect(socket);
      try {
        return await client.dump();
      } finally {
        client.close();
      }
    },
  };
}

/** A private ovsdb-server with an empty vswitch database (no ovs-vswitchd: use --no-wait). */
export async function startOvsdb(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'ovsdb-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir };
  const pidfile = join(dir, 'db.pid');
  const stop = async (): Promise<void> => {
    let pid: number | null = null;
    try { pid = Number(readFileSync(pidfile, 'utf8').trim()) || null; } catch { /* never started */ }
    await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
  };
  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  };
  try {
    run(OVSDB_TOOL, ['create', join(dir, 'conf.db'), VSWITCH_SCHEMA]);
    run(OVSDB_SERVER, [`--remote=punix:${join(dir, 'db.sock')}`, `--pidfile=${pidfile}`, '--detach', `--log-file=${join(dir, 'ovsdb-server.log')}`, join(dir, 'conf.db')]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, db: `unix:${join(dir, 'db.sock')}`, env, stop };
}

export function vsctl(program: string, server: Server, args: string[], options: { wait?: boolean } = {}): Run {
  const r = spawnSync(program, [`--db=${server.db}`, ...(options.wait ? [] : ['--no-wait']), ...args], { env: server.env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As vsctl(), without blocking (so that two tools can run their sequences side by side). */
export function vsctlAsync(program: string, server: Server, args: string[], options: { wait?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [`--db=${server.db}`, ...(options.wait ? [] : ['--no-wait']), ...args], { env: server.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/* ---- normalisation ---- */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const MULTI_UUID_SET = /\[[0-9a-f-]{36}(?:, [0-9a-f-]{36})+\]/g;

/**
 * Rewrites a tool's stderr so that the two tools' can be compared: the program name becomes
 * PROG; a log line's time and sequence number are dropped; ovsdb-idl's own log line for a
 * failed transaction (ovs-vsctl logs the error it then prints) is dropped.
 */
export function normaliseStderr(text: string): string {
  return text.split('\n')
    .filter((line) => !/\|ovsdb_idl\|WARN\|transaction error: /.test(line))
    .map((line) => line
      .replace(/^(\/usr\/bin\/)?(ovs|ofs)-vsctl: /, 'PROG: ')
      .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d+\|/, 'LOG|'))
    .join('\n');
}

/**
 * Puts output whose order Open vSwitch leaves to chance (rows of a whole table, the ports of
 * a bridge in `show`: hash or UUID order) into a canonical order: records of `list`/`find`
 * by their text with UUIDs masked, `show` siblings by their text.
 */
export function canonicalOrder(stdout: string, kind: 'records' | 'show' | 'none'): string {
  const masked = (s: string): string => s.replace(UUID, '<uuid>');
  if (kind === 'records') {
    const records = stdout.replace(/\n$/, '').split('\n\n');
    if (!stdout) return stdout;
    return `${records.sort((a, b) => (masked(a) < masked(b) ? -1 : masked(a) > masked(b) ? 1 : 0)).join('\n\n')}\n`;
  }
  if (kind === 'show') {
    interface Node { line: string; children: Node[] }
    const root: Node = { line: '', children: [] };
    const stack: Array<{ node: Node; indent: number }> = [{ node: root, indent: -1 }];
    for (const line of stdout.replace(/\n$/, '').split('\n')) {
      if (!stdout) break;
      const indent = line.length - line.trimStart().length;
      while (stack.at(-1)!.indent >= indent) stack.pop();
      const node: Node = { line, children: [] };
      stack.at(-1)!.node.children.push(node);
      stack.push({ node, indent });
    }
    const render = (n: Node): string[] => {
      const kids = [...n.children].sort((a, b) => {
        // Attribute lines ("key: value") keep their place; sub-records are sorted.
        const ka = /^\s*\w+: /.test(a.line) ? 0 : 1;
        const kb = /^\s*\w+: /.test(b.line) ? 0 : 1;
        if (ka !== kb || ka === 0) return 0;
        return masked(render(a).join('\n')) < masked(render(b).join('\n')) ? -1 : 1;
      });
      return [...(n.line ? [n.line] : []), ...kids.flatMap(render)];
    };
    return stdout ? `${render(root).join('\n')}\n` : stdout;
  }
  return stdout;
}

/**
 * Replaces UUIDs by <0>, <1>, ... across a whole transcript, in order of appearance, so that
 * both tools' transcripts number the same rows alike. A UUID is numbered where it first
 * appears on its own, not inside a set of several (whose order is the UUIDs' own, different
 * in each database); the elements of such a set are then sorted by their numbers.
 */
export function normaliseUuids(texts: string[]): string[] {
  const numbers = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.replace(MULTI_UUID_SET, '').matchAll(UUID)) if (!numbers.has(m[0])) numbers.set(m[0], numbers.size);
  }
  for (const text of texts) for (const m of text.matchAll(UUID)) if (!numbers.has(m[0])) numbers.set(m[0], numbers.size);
  return texts.map((text) => text
    .replace(UUID, (u) => `<${numbers.get(u)}>`)
    .replace(/\[<\d+>(?:, <\d+>)+\]/g, (set) => `[${set.slice(1, -1).split(', ').sort((a, b) => Number(a.slice(1, -1)) - Number(b.slice(1, -1))).join(', ')}]`));
}

/** Drops the lines of `list`/`find` output (list format) for columns `keep` does not name. */
export function restrictColumns(stdout: string, keep: Set<string>): string {
  return stdout.split('\n').filter((line) => {
    const m = /^(\S+?)\s*: /.exec(line);
    return !m || keep.has(m[1]!);
  }).join('\n');
}
