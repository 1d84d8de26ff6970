/*
 * Starts a private, userspace Open vSwitch (ovsdb-server + ovs-vswitchd) in a temporary run
 * directory, for tests that compare ofswitch with the real thing, and stops it by pid.
 *
 * The switch has one bridge, br0: datapath_type=netdev (no kernel module), OpenFlow 1.3 only,
 * fail_mode=secure (no NORMAL flow added behind our back), datapath id 0000000000000001 and
 * four `dummy` ports p1..p4 numbered 1..4 — the same shape as
 * `ofswitchd --datapath-id=0000000000000001 --port=p1:1 ... --port=p4:4`.
 * `other_config:flow-limit` is left alone, but the datapath never sees traffic here.
 *
 * Every child runs with OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR pointing at the private directory, so
 * nothing touches the system's Open vSwitch. The daemons detach; `stop()` asks each to exit
 * through its unixctl socket, falls back to SIGTERM and then SIGKILL on the pid from its
 * pidfile, waits for it to be gone, and removes the directory. Times are in milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './ofswitchd.ts';

export const OVSDB_SERVER = '/usr/sbin/ovsdb-server';
export const OVS_VSWITCHD = '/usr/sbin/ovs-vswitchd';
export const OVS_VSCTL = '/usr/bin/ovs-vsctl';
export const OVSDB_TOOL = '/usr/bin/ovsdb-tool';
export const OVS_APPCTL = '/usr/bin/ovs-appctl';
export const OVS_OFCTL = '/usr/bin/ovs-ofctl';
export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** The datapath id and ports both switches are given in the interop tests. */
export const BRIDGE_DATAPATH_ID = '0000000000000001';
export const BRIDGE_PORTS = [['p1', 1], ['p2', 2], ['p3', 3], ['p4', 4]] as const;

/** Why Open vSwitch cannot be started here, or null when everything it needs is installed. */
export function ovsMissing(): string | null {
  const missing = [OVSDB_SERVER, OVS_VSWITCHD, OVS_VSCTL, OVSDB_TOOL, OVS_APPCTL, OVS_OFCTL, VSWITCH_SCHEMA].filter((f) => !existsSync(f));
  return missing.length === 0 ? null : `Open vSwitch not installed (missing ${missing.join(', ')})`;
}

export interface OvsSwitch {
  rundir: string;
  /** The bridge's management socket, `<rundir>/br0.mgmt`. */
  mgmt: string;
  /** What ovs-ofctl takes: `unix:<rundir>/br0.mgmt`. */
  target: string;
  /** The environment every Open vSwitch tool must run with to talk to this instance. */
  env: NodeJS.ProcessEnv;
  /** ovs-vswitchd's log so far, for diagnostics. */
  log(): string;
  stop(): Promise<void>;
}

/** True while `pid` runs; a zombie (exited, not yet reaped by init) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self'); // no procfs: trust kill(pid, 0)
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Stops one detached daemon: unixctl `exit`, then SIGTERM, then SIGKILL, by its pid. */
async function stopDaemon(pid: number | null, ctl: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (pid === null || !pidAlive(pid)) return;
  spawnSync(OVS_APPCTL, ['-t', ctl, 'exit'], { env, timeout: 3000, stdio: 'ignore' });
  for (const signal of [null, 'SIGTERM', 'SIGKILL'] as const) {
    if (signal !== null && pidAlive(pid)) {
      try { process.kill(pid, signal); } catch { /* already gone */ }
    }
    try {
      await waitFor(() => !pidAlive(pid), 3000, `pid ${pid} to exit`);
      return;
    } catch { /* escalate */ }
  }
}

export async function startOvs(bridge = 'br0'): Promise<OvsSwitch> {
  const missing = ovsMissing();
  if (missing) throw new Error(missing);
  const rundir = mkdtempSync(join(tmpdir(), 'ovs-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OVS_RUNDIR: rundir, OVS_LOGDIR: rundir, OVS_DBDIR: rundir, OVS_SYSCONFDIR: rundir, OVS_PKGDATADIR: '/usr/share/openvswitch' };
  const db = `unix:${join(rundir, 'db.sock')}`;
  const dbPidfile = join(rundir, 'db.pid');
  const vsPidfile = join(rundir, 'vs.pid');
  const mgmt = join(rundir, `${bridge}.mgmt`);

  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.error ? String(r.error) : ''}`);
  };
  const readLog = (name: string): string => {
    try { return readFileSync(join(rundir, name), 'utf8'); } catch { return ''; }
  };

  let stopped = false;
  const ovs: OvsSwitch = {
    rundir, mgmt, target: `unix:${mgmt}`, env,
    log: () => readLog('ovs-vswitchd.log'),
    async stop() {
      if (stopped) return;
      stopped = true;
      const vsPid = readPid(vsPidfile);
      await stopDaemon(vsPid, join(rundir, `ovs-vswitchd.${vsPid}.ctl`), env);
      const dbPid = readPid(dbPidfile);
      await stopDaemon(dbPid, join(rundir, `ovsdb-server.${dbPid}.ctl`), env);
      rmSync(rundir, { recursive: true, force: true });
    },
  };

  try {
    run(OVSDB_TOOL, ['create', join(rundir, 'conf.db'), VSWITCH_SCHEMA]);
    run(OVSDB_SERVER, [`--remote=punix:${join(rundir, 'db.sock')}`, `--pidfile=${dbPidfile}`, '--detach',
      `--log-file=${join(rundir, 'ovsdb-server.log')}`, join(rundir, 'conf.db')]);
    run(OVS_VSCTL, [`--db=${db}`, '--no-wait', 'init']);
    run(OVS_VSWITCHD, [db, `--pidfile=${vsPidfile}`, '--detach', '--enable-dummy=override', '--disable-system',
      `--log-file=${join(rundir, 'ovs-vswitchd.log')}`]);
    const ports = BRIDGE_PORTS.flatMap(([name, ofport]) => ['--', 'add-port', bridge, name, '--', 'set', 'interface', name, 'type=dummy', `ofport_request=${ofport}`]);
    run(OVS_VSCTL, [`--db=${db}`, '--timeout=15', 'add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev',
      'protocols=OpenFlow13', 'fail_mode=secure', `other_config:datapath-id=${BRIDGE_DATAPATH_ID}`, ...ports]);
    await waitFor(() => existsSync(mgmt), 15_000, mgmt);
    // The bridge answers once its ports carry their requested numbers.
    await waitFor(() => {
      const show = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', 'show', `unix:${mgmt}`], { env, encoding: 'utf8', timeout: 5000 });
      return show.status === 0 && BRIDGE_PORTS.every(([name, ofport]) => show.stdout.includes(` ${ofport}(${name}): `));
    }, 15_000, `ovs-ofctl show ${mgmt} to list the ports`);
  } catch (e) {
    const log = readLog('ovs-vswitchd.log') + readLog('ovsdb-server.log');
    await ovs.stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return ovs;
}
