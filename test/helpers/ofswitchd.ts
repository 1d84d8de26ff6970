/*
 * Starts bin/ofswitchd in a private run directory for a test and stops it by pid.
 * Every daemon a test starts is stopped in the test's teardown, even when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OFSWITCHD = fileURLToPath(new URL('../../bin/ofswitchd', import.meta.url));

export interface Daemon {
  rundir: string;
  process: ChildProcess;
  mgmt: string;
  /** stderr so far, for diagnostics. */
  output(): string;
  stop(): Promise<number | null>;
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startOfswitchd(args: string[] = [], bridge = 'br0'): Promise<Daemon> {
  const rundir = mkdtempSync(join(tmpdir(), 'ofswitchd-'));
  const child = spawn(OFSWITCHD, [`--rundir=${rundir}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const mgmt = join(rundir, `${bridge}.mgmt`);
  const daemon: Daemon = {
    rundir, process: child, mgmt, output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        rmSync(rundir, { recursive: true, force: true });
        return code;
      }
      rmSync(rundir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
  try {
    // The daemon logs "ready" once every socket listens (the socket file alone can appear
    // a moment before it accepts connections).
    await waitFor(() => (existsSync(mgmt) && / ready/.test(output)) || child.exitCode !== null, 15_000, `${mgmt}`);
    if (child.exitCode !== null) throw new Error(`ofswitchd exited with ${child.exitCode}: ${output}`);
  } catch (e) {
    await daemon.stop();
    throw e;
  }
  return daemon;
}
