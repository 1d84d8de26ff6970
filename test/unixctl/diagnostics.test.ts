/*
 * The daemon's field-debugging commands through the real control socket, and how it runs in
 * the background:
 *
 *  - coverage/show counts upcalls and datapath flushes as frames and flow changes happen;
 *  - upcall/show and memory/show report what the bridge holds (datapath flows, rules, ports);
 *  - fdb/flush forgets learned MAC addresses (fdb/show is empty after);
 *  - vlog/list names the modules, vlog/set changes a level at run time (debug lines appear
 *    only after it), and a bad level or module is a one-line error;
 *  - --detach returns once the switch serves (ovs-ofctl works at once), logs go to the log
 *    file, SIGHUP reopens the log file after a rotation, SIGTERM stops it cleanly (pidfile and
 *    sockets removed).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OFSWITCHD, startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { sendFrames } from '../helpers/wire.ts';

const OFS_APPCTL = fileURLToPath(new URL('../../bin/ofs-appctl', import.meta.url));
const OVS_OFCTL = '/usr/bin/ovs-ofctl';

interface Run { status: number | null; out: string; err: string }
const run = (cmd: string, args: string[]): Run => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

const frame = (dst: string, src: string): Buffer => Buffer.concat([
  Buffer.from(dst.replace(/:/g, ''), 'hex'), Buffer.from(src.replace(/:/g, ''), 'hex'), Buffer.from([0x88, 0xb5]), Buffer.alloc(46, 0xab),
]);

const skip = existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed`;

t.test('coverage, upcall, memory, fdb and vlog commands', { skip }, async (t) => {
  const sockets = mkdtempSync(join(tmpdir(), 'ofs-diag-'));
  t.teardown(() => rmSync(sockets, { recursive: true, force: true }));
  const p1 = join(sockets, 'p1.sock');
  const daemon = await startOfswitchd([`--port=p1:1,pstream=punix:${p1}`, '--port=p2:2']);
  t.teardown(() => daemon.stop());
  const ctl = join(daemon.rundir, 'ofswitchd.ctl');
  const appctl = (...args: string[]): Run => run(OFS_APPCTL, ['-t', ctl, ...args]);
  const json = (...args: string[]): Record<string, unknown> => JSON.parse(appctl('--format=json', ...args).out) as Record<string, unknown>;

  t.equal(run(OVS_OFCTL, ['-O', 'OpenFlow13', 'add-flow', daemon.mgmt, 'priority=10,actions=NORMAL']).status, 0, 'a NORMAL flow installed');
  const before = json('coverage/show');
  await sendFrames(p1, [frame('ff:ff:ff:ff:ff:ff', '00:00:00:00:00:01'), frame('ff:ff:ff:ff:ff:ff', '00:00:00:00:00:01'), frame('00:00:00:00:00:09', '00:00:00:00:00:03')]);
  await waitFor(() => /00:00:00:00:00:03/.test(appctl('fdb/show', 'br0').out), 5000, 'both sources learned');

  const after = json('coverage/show');
  t.ok(Number(after.dpif_upcall ?? 0) >= Number(before.dpif_upcall ?? 0) + 2, `coverage/show: upcalls counted (${String(before.dpif_upcall ?? 0)} -> ${String(after.dpif_upcall)})`);
  t.ok(Number(after.dpif_invalidate ?? 0) > 0, 'coverage/show: datapath revalidations (for the addresses learned) counted');
  t.match(appctl('coverage/show').out, /^Event coverage, totals since start:\n(.*total: \d+\n)+$/, 'coverage/show text: one line per counter');

  const upcalls = json('upcall/show') as unknown as Array<{ bridge: string; flows: number; upcalls: number }>;
  t.equal(upcalls[0]?.bridge, 'br0', 'upcall/show: per bridge');
  t.ok((upcalls[0]?.upcalls ?? 0) >= 2, 'upcall/show: the frames made upcalls');
  t.match(appctl('upcall/show').out, /br0:\n {2}flows {9}: \(current \d+\)\n {2}upcalls {7}: \d+/, 'upcall/show text');

  const memory = json('memory/show');
  t.equal(memory.rules, 1, 'memory/show: the one rule');
  t.equal(memory.ports, 3, 'memory/show: p1, p2 and LOCAL');
  t.ok(Number(memory.rssBytes) > 10_000_000, 'memory/show: process memory');

  t.equal(appctl('fdb/flush', 'br0').out, 'table successfully flushed\n', 'fdb/flush');
  t.notMatch(appctl('fdb/show', 'br0').out, /00:00:00:00:00:0[13]/, 'fdb/show: nothing learned is left');
  const unknownBridge = appctl('fdb/flush', 'nobr');
  t.not(unknownBridge.status, 0, 'fdb/flush of an unknown bridge fails');

  const modules = json('vlog/list');
  for (const m of ['ofswitchd', 'connmgr', 'ofconn']) t.ok(m in modules, `vlog/list names ${m}`);
  t.notMatch(daemon.output(), /\|DBG\|/, 'no debug lines at the default level');
  t.equal(appctl('vlog/set', 'ofconn:dbg').status, 0, 'vlog/set ofconn:dbg');
  t.equal(json('vlog/list').ofconn, 'dbg', 'vlog/list shows the new level');
  t.equal(run(OVS_OFCTL, ['-O', 'OpenFlow13', 'dump-flows', daemon.mgmt]).status, 0, 'a new management connection');
  await waitFor(() => /\|ofconn\|DBG\|/.test(daemon.output()), 5000, 'an ofconn debug line');
  t.pass('debug lines from ofconn are logged after vlog/set');
  const badLevel = appctl('vlog/set', 'ofconn:loud');
  t.not(badLevel.status, 0, 'a bad level fails');
  t.match(badLevel.err, /unknown log level "loud"/, 'and says why');
  const badModule = appctl('vlog/set', 'nosuch:dbg');
  t.not(badModule.status, 0, 'an unknown module fails');
  t.match(badModule.err, /no module named "nosuch"/, 'and says why');
});

t.test('--detach, SIGHUP and SIGTERM', async (t) => {
  const rundir = mkdtempSync(join(tmpdir(), 'ofs-detach-'));
  let pid: number | undefined;
  t.teardown(() => {
    if (pid !== undefined) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    rmSync(rundir, { recursive: true, force: true });
  });
  const started = Date.now();
  const r = spawnSync(OFSWITCHD, [`--rundir=${rundir}`, '--detach', '--pidfile', '--port=p1:1'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, `--detach returns 0 once ready (${Date.now() - started} ms)`);
  pid = Number(readFileSync(join(rundir, 'ofswitchd.pid'), 'utf8'));
  t.ok(pid > 0 && pid !== r.pid, 'the pidfile names the background process');
  if (existsSync(OVS_OFCTL)) {
    const show = run(OVS_OFCTL, ['-O', 'OpenFlow13', 'show', `unix:${join(rundir, 'br0.mgmt')}`]);
    t.match(show.out, /1\(p1\)/, 'ovs-ofctl show works as soon as --detach returned');
  }
  t.match(readFileSync(join(rundir, 'ofswitchd.log'), 'utf8'), /\|ofswitchd\|INFO\|.* ready/, 'logs go to <rundir>/ofswitchd.log');
  const logFile = join(rundir, 'ofswitchd.log');
  renameSync(logFile, `${logFile}.1`);
  process.kill(pid, 'SIGHUP');
  await waitFor(() => existsSync(logFile), 5000, 'a new log file');
  t.match(readFileSync(logFile, 'utf8'), /SIGHUP received, log file reopened/, 'SIGHUP reopens the log file (after a rotation)');
  t.equal(run(OFS_APPCTL, ['-t', join(rundir, 'ofswitchd.ctl'), 'list-commands']).status, 0, 'and the daemon keeps running');
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !existsSync(join(rundir, 'ofswitchd.pid')), 5000, 'the pidfile removed');
  await waitFor(() => { try { process.kill(pid!, 0); return false; } catch { return true; } }, 5000, 'the process gone');
  t.pass('SIGTERM: clean exit, pidfile removed');
  t.notOk(existsSync(join(rundir, 'br0.mgmt')), 'the management socket is removed');
  pid = undefined;

  const bad = spawnSync(OFSWITCHD, [`--rundir=${rundir}`, '--detach', '--db=/dev/null/conf.db'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(bad.status, 1, '--detach with a daemon that cannot start: exit status 1');
  t.match(bad.stderr, /^ofswitchd: the background daemon exited with status 1 \(see .*ofswitchd\.log\)\n$/, 'one line that says where to look');
  t.match(readFileSync(join(rundir, 'ofswitchd.log'), 'utf8'), /\|ofswitchd\|ERR\|.*\/dev\/null/, 'the log file has the reason');
});
