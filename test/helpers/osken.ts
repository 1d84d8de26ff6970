/*
 * Runs a real os-ken controller (Debian's python3-os-ken: `/usr/bin/python3
 * /usr/bin/osken-manager`) with one of the apps in test/oracles/, for tests, and stops it by pid.
 *
 * `startOsken({ app, port })` listens on 127.0.0.1:PORT (TCP, or TLS with `ssl`); the app's
 * stdout is split into lines (`lines`), which the apps keep one event per line, flushed at once.
 * `waitListening()` watches /proc/net/tcp for the listening socket, so nothing connects to
 * os-ken to find out. `kill()` sends SIGKILL to the pid; `stop()` SIGTERM then SIGKILL.
 * Times are milliseconds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from './ofswitchd.ts';

export const PYTHON = '/usr/bin/python3';
export const OSKEN_MANAGER = '/usr/bin/osken-manager';

/** Why os-ken cannot run here, or false. */
export function oskenMissing(): string | false {
  if (!existsSync(OSKEN_MANAGER)) return `${OSKEN_MANAGER} not found (install python3-os-ken)`;
  const probe = spawnSync(PYTHON, ['-c', 'import os_ken.cmd.manager'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) return `${PYTHON} cannot import os_ken: ${(probe.stderr ?? '').trim().split('\n').pop()}`;
  return false;
}

/** True when something listens on 127.0.0.1:port (or 0.0.0.0:port), from /proc/net/tcp. */
export function tcpListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  try {
    const table = readFileSync('/proc/net/tcp', 'utf8');
    return table.split('\n').some((line) => {
      const cols = line.trim().split(/\s+/);
      return (cols[1] === `0100007F:${hex}` || cols[1] === `00000000:${hex}`) && cols[3] === '0A';
    });
  } catch {
    return false;
  }
}

export interface OskenOptions {
  app: string;
  port: number;
  /** TLS: os-ken's --ctl-privkey, --ctl-cert, --ca-certs (then it listens with --ofp-ssl-listen-port). */
  ssl?: { privateKey: string; certificate: string; caCerts: string };
  env?: NodeJS.ProcessEnv;
}

export interface Osken {
  process: ChildProcess;
  lines: string[];
  /** Everything printed, stdout and stderr. */
  output(): string;
  /** Resolves with the first line (from index `since`) matching `re`. */
  waitLine(re: RegExp, timeoutMs: number, since?: number): Promise<string>;
  waitListening(timeoutMs: number): Promise<void>;
  /** stdin, for apps that take commands. */
  command(line: string): void;
  exited(): boolean;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function startOsken(options: OskenOptions): Osken {
  const args = [OSKEN_MANAGER, '--ofp-listen-host', '127.0.0.1'];
  if (options.ssl) {
    args.push('--ofp-ssl-listen-port', String(options.port), '--ctl-privkey', options.ssl.privateKey,
      '--ctl-cert', options.ssl.certificate, '--ca-certs', options.ssl.caCerts);
  } else {
    args.push('--ofp-tcp-listen-port', String(options.port));
  }
  args.push(options.app);
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', ...options.env } });
  const lines: string[] = [];
  let partial = '';
  let all = '';
  child.stdout!.on('data', (d: Buffer) => {
    all += d.toString();
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => { all += d.toString(); });
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const osken: Osken = {
    process: child, lines, output: () => all,
    async waitLine(re, timeoutMs, since = 0) {
      let found: string | undefined;
      try {
        await waitFor(() => (found = lines.slice(since).find((l) => re.test(l))) !== undefined || isExited(), timeoutMs, `os-ken to print ${re}`);
      } catch (e) {
        throw new Error(`${(e as Error).message}; os-ken printed:\n${all.split('\n').slice(-30).join('\n')}`);
      }
      if (found === undefined) throw new Error(`os-ken exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${all}`);
      return found;
    },
    async waitListening(timeoutMs) {
      await waitFor(() => tcpListening(options.port) || isExited(), timeoutMs, `os-ken to listen on port ${options.port}`);
      if (isExited()) throw new Error(`os-ken exited (${child.exitCode ?? child.signalCode}):\n${all}`);
    },
    command(line) {
      child.stdin!.write(`${line}\n`);
    },
    exited: isExited,
    async kill() {
      if (isExited()) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (isExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
  return osken;
}
