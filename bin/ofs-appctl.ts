/*
 * ofs-appctl: runs a management command in a running ofswitchd (Open vSwitch's ovs-appctl).
 *
 *   ofs-appctl [-t TARGET] [--format=text|json] COMMAND [ARG...]
 *
 * TARGET is the daemon's control socket: a path (anything with a `/`), or a daemon name whose
 * socket is <rundir>/<name>.ctl (default: ofswitchd). The run directory is --rundir, else
 * $OFSWITCH_RUNDIR, else the project's var/run, as for ofswitchd. Options end at COMMAND;
 * what follows is the command's arguments.
 *
 * Output is the command's text, or with --format=json its data as JSON (--pretty indents it).
 * Exit status: 0 on success; 1 for a bad option or when the daemon cannot be reached; 2 when
 * the daemon refuses the command (as ovs-appctl). Every error is one line on stderr.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnixctlClient, UnixctlCommandError } from '../lib/unixctl/client.ts';

const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `ofs-appctl: run a management command in ofswitchd
usage: ofs-appctl [OPTIONS] COMMAND [ARG...]
  ofs-appctl list-commands        the commands the daemon accepts
  ofs-appctl help COMMAND         what one command does
options:
  -t, --target=TARGET   the daemon's control socket: a path, or NAME for <rundir>/NAME.ctl (default: ofswitchd)
  --rundir=DIR          run directory (default: $OFSWITCH_RUNDIR or ${join(PROJECT_DIR, 'var', 'run')})
  -f, --format=FORMAT   output format: text (default) or json
  --pretty              indent JSON output
  -T, --timeout=SECS    give up after SECS seconds (default: wait)
  -h, --help            show this help
  -V, --version         show the version`;

class UsageError extends Error {}

interface Options {
  target: string;
  rundir: string;
  format: 'text' | 'json';
  pretty: boolean;
  timeoutSec?: number;
  command: string;
  args: string[];
}

function parseArgs(argv: string[]): Options | 'help' | 'version' {
  let target = 'ofswitchd';
  let rundir = process.env.OFSWITCH_RUNDIR || join(PROJECT_DIR, 'var', 'run');
  let format: Options['format'] = 'text';
  let pretty = false;
  let timeoutSec: number | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg === '--') { i++; break; }
    const long = arg.startsWith('--') && arg.includes('=');
    const name = long ? arg.slice(0, arg.indexOf('=')) : arg;
    const inline = long ? arg.slice(arg.indexOf('=') + 1) : undefined;
    const need = (): string => {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`option '${name}' requires an argument`);
      return value;
    };
    switch (name) {
      case '-h': case '--help': return 'help';
      case '-V': case '--version': return 'version';
      case '-t': case '--target': target = need(); break;
      case '--rundir': rundir = need(); break;
      case '-f': case '--format': {
        const value = need();
        if (value !== 'text' && value !== 'json') throw new UsageError(`unknown format '${value}' (text or json)`);
        format = value;
        break;
      }
      case '--pretty': pretty = true; break;
      case '-T': case '--timeout': {
        const value = need();
        if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) throw new UsageError(`invalid timeout '${value}' (seconds)`);
        timeoutSec = Number(value);
        break;
      }
      default:
        throw new UsageError(`unrecognized option '${arg}' (use --help for help)`);
    }
  }
  const command = argv[i];
  if (command === undefined) throw new UsageError('at least one non-option argument is required (use --help for help)');
  return {
    target: target.includes('/') ? resolve(target) : join(resolve(rundir), `${target}.ctl`),
    rundir, format, pretty, ...(timeoutSec !== undefined ? { timeoutSec } : {}), command, args: argv.slice(i + 1),
  };
}

function fail(message: string, status: number): never {
  process.stderr.write(`ofs-appctl: ${message.replace(/\n+$/, '').replace(/\n/g, ' ')}\n`);
  process.exit(status);
}

async function main(): Promise<void> {
  let options: Options | 'help' | 'version';
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(e.message, 1);
    throw e;
  }
  if (options === 'help') { process.stdout.write(`${USAGE}\n`); return; }
  if (options === 'version') {
    const { version } = JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`ofs-appctl (ofswitch) ${version}\n`);
    return;
  }
  const { target, timeoutSec, command, args, format, pretty } = options;
  if (timeoutSec !== undefined) {
    setTimeout(() => fail(`${target}: no answer within ${timeoutSec} s`, 1), timeoutSec * 1000).unref();
  }

  let client: UnixctlClient;
  try {
    client = await UnixctlClient.connect(target);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'no such socket; is ofswitchd running?' : err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
    fail(`cannot connect to "${target}" (${reason})`, 1);
  }
  try {
    if (format === 'json') await client.setFormat('json');
    const result = await client.run(command, args);
    if (format === 'json') process.stdout.write(`${JSON.stringify(result, null, pretty ? 2 : undefined)}\n`);
    else process.stdout.write(typeof result === 'string' ? result : `${JSON.stringify(result)}\n`);
  } catch (e) {
    if (e instanceof UnixctlCommandError) fail(e.message, 2);
    fail(`${target}: ${(e as Error).message}`, 1);
  } finally {
    client.close();
  }
}

main().catch((e: unknown) => fail((e as Error).message, 1));
