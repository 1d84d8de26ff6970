/*
 * ofs-vsctl: configures ofswitchd through its configuration database (Open vSwitch's
 * ovs-vsctl, with the same commands, options, output and messages).
 *
 *   ofs-vsctl [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...
 *
 * The database is the daemon's socket `--db=unix:PATH`, by default unix:<rundir>/db.sock
 * where the run directory is --rundir, else $OFSWITCH_RUNDIR, else the project's var/run,
 * as for ofswitchd. All commands of one invocation form one transaction; unless --no-wait,
 * ofs-vsctl returns once the daemon has applied it.
 *
 * Exit status: 0 on success; 1 on any error (one line on stderr, nothing committed); 2 when
 * br-exists finds no such bridge; 142 when -t/--timeout expires.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVsctl } from '../lib/vsctl/index.ts';

const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = (JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string }).version;

let stdout = '';
// A reader that went away (`ofs-vsctl list interface | head -1`) is no error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
runVsctl({
  argv: process.argv.slice(2),
  env: process.env,
  defaultRundir: join(PROJECT_DIR, 'var', 'run'),
  version: VERSION,
  stdout: (text) => { stdout += text; },
  stderr: (text) => { process.stderr.write(text); },
}).then((status) => {
  // Output goes out in one write, then the process exits once it is flushed.
  process.stdout.write(stdout, () => process.exit(status));
}, (e: unknown) => {
  process.stderr.write(`ofs-vsctl: ${(e as Error).message.split('\n')[0]}\n`);
  process.exit(1);
});
