/*
 * Asking a running ofswitchd about itself from a test, without blocking the test's event loop
 * (timestamps taken meanwhile stay true): `ofs-appctl` (its control socket
 * <rundir>/ofswitchd.ctl) and `ovs-ofctl` (its management socket), each run as a child process
 * with a time limit.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OFS_APPCTL = fileURLToPath(new URL('../../bin/ofs-appctl', import.meta.url));
export const OVS_OFCTL = '/usr/bin/ovs-ofctl';

export interface Run { status: number | null; out: string; err: string }

export function run(cmd: string, args: string[], timeoutMs = 15_000, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof (error as NodeJS.ErrnoException).code === 'number' ? (error as unknown as { code: number }).code : null) : 0;
      resolve({ status, out: stdout, err: stderr });
    });
  });
}

/** `ofs-appctl -t <rundir>/ofswitchd.ctl ARGS...`. */
export function appctl(rundir: string, args: string[]): Promise<Run> {
  return run(OFS_APPCTL, ['-t', join(rundir, 'ofswitchd.ctl'), ...args]);
}

/** One controller in `ofs-appctl --format=json connmgr/show`. */
export interface ControllerInfo {
  target: string;
  state?: string;
  isConnected: boolean;
  backoffMs?: number;
  lastError?: string;
  connections?: number;
  role: string;
  packetInDrops: number;
  packetInsSent: number;
}

export interface ConnmgrInfo {
  failOpen: boolean;
  controllers: ControllerInfo[];
}

export async function connmgrShow(rundir: string, bridge = 'br0'): Promise<ConnmgrInfo> {
  const r = await appctl(rundir, ['--format=json', 'connmgr/show', bridge]);
  if (r.status !== 0) throw new Error(`ofs-appctl connmgr/show ${bridge} failed (${r.status}): ${r.err}`);
  return JSON.parse(r.out) as ConnmgrInfo;
}

export async function connmgrShowText(rundir: string, bridge = 'br0'): Promise<string> {
  const r = await appctl(rundir, ['connmgr/show', bridge]);
  if (r.status !== 0) throw new Error(`ofs-appctl connmgr/show ${bridge} failed (${r.status}): ${r.err}`);
  return r.out;
}

/** `ovs-ofctl -O OpenFlow13 dump-flows unix:MGMT`: the flow lines (header dropped). */
export async function dumpFlows(mgmt: string): Promise<string[]> {
  const r = await run(OVS_OFCTL, ['-O', 'OpenFlow13', 'dump-flows', `unix:${mgmt}`]);
  if (r.status !== 0) throw new Error(`ovs-ofctl dump-flows failed (${r.status}): ${r.err}`);
  return r.out.split('\n').filter((l) => /^\s*cookie=/.test(l)).map((l) => l.trim());
}
