/*
 * `ofswitchd` with no arguments in a fresh checkout: it creates its database and run directory
 * inside the checkout (var/conf.db, var/run), comes up with bridge br0 and the default
 * controller, and `ofs-vsctl show` (no options either) shows them; ovs-ofctl reaches
 * var/run/br0.mgmt. The checkout is a copy of this one's sources (bin, lib, protocol,
 * package.json; node_modules linked), so the real one's var/ is never touched. The daemon is
 * stopped by pid.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/ofswitchd.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OVS_OFCTL = '/usr/bin/ovs-ofctl';

t.test('ofswitchd with no arguments, then ofs-vsctl show', async (t) => {
  const checkout = mkdtempSync(join(tmpdir(), 'ofs-checkout-'));
  t.teardown(() => rmSync(checkout, { recursive: true, force: true }));
  for (const part of ['bin', 'lib', 'protocol', 'package.json']) cpSync(join(ROOT, part), join(checkout, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const env = { ...process.env };
  delete env.OFSWITCH_RUNDIR;

  const daemon = spawn(join(checkout, 'bin', 'ofswitchd'), [], { cwd: checkout, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  t.teardown(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  });
  await waitFor(() => / ready/.test(log) || daemon.exitCode !== null, 30_000, 'ofswitchd ready');
  t.equal(daemon.exitCode, null, 'ofswitchd is running');
  t.match(log, /ready, bridges: br0/, 'it serves br0');
  t.ok(existsSync(join(checkout, 'var', 'conf.db')), 'its database is var/conf.db in the checkout');

  const show = spawnSync(join(checkout, 'bin', 'ofs-vsctl'), ['show'], { cwd: checkout, env, encoding: 'utf8', timeout: 30_000 });
  t.equal(show.status, 0, 'ofs-vsctl show exits 0');
  t.match(show.stdout, /^[0-9a-f-]{36}\n {4}Bridge br0\n {8}Controller "tcp:127\.0\.0\.1:6633"\n/, 'shows br0 and its controller');
  t.match(show.stdout, / {8}Port br0\n {12}Interface br0\n {16}type: internal\n/, 'and its internal port');
  if (existsSync(OVS_OFCTL)) {
    const ofctl = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', 'show', `unix:${join(checkout, 'var', 'run', 'br0.mgmt')}`], { encoding: 'utf8', timeout: 10_000 });
    t.match(ofctl.stdout, /LOCAL\(br0\)/, 'ovs-ofctl show on var/run/br0.mgmt lists LOCAL(br0)');
  }
});
