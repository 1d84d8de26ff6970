/*
 * ofs-vsctl against a running ofswitchd (its database on <rundir>/db.sock), without
 * --no-wait: each command returns once the daemon has applied it, so what ovs-ofctl sees
 * right after is the new configuration. The seed's story, end to end:
 *
 *  - `add-port br0 eth0` succeeds in the database, but the daemon cannot open a device eth0,
 *    so the port gets ofport -1 and an error, and ofs-vsctl says so on stderr as ovs-vsctl
 *    does ("Error detected while setting up 'eth0'"), still exiting 0; ovs-ofctl does not
 *    list it;
 *  - `add-port br0 p0 -- set interface p0 type=internal` then `ofport_request=100`: p0 is
 *    OpenFlow port 100 at once;
 *  - with --no-wait, the daemon still reflects a new port within 100 ms;
 *  - protocols, controller and fail mode reach the bridge; del-br removes it; a bridge
 *    named ../../etc is refused before the daemon sees it.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startOfswitchd } from '../helpers/ofswitchd.ts';
import { OFS_VSCTL } from './harness.ts';

const OVS_OFCTL = '/usr/bin/ovs-ofctl';

t.test('ofs-vsctl drives ofswitchd', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  const daemon = await startOfswitchd();
  t.teardown(() => daemon.stop());
  t.ok(existsSync(join(daemon.rundir, 'db.sock')), 'the daemon serves <rundir>/db.sock');
  const vsctl = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(OFS_VSCTL, [`--rundir=${daemon.rundir}`, '--timeout=20', ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (...args: string[]): string => {
    const r = vsctl(...args);
    t.same([r.status, r.stderr], [0, ''], `ofs-vsctl ${args.join(' ')}`);
    return r.stdout;
  };
  const ofctl = (command: string): string => spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', command, `unix:${daemon.mgmt}`], { encoding: 'utf8', timeout: 10_000 }).stdout;

  // Start from the seed's empty switch.
  ok('--if-exists', 'del-br', 'br0');
  t.equal(ok('list-br'), '');
  ok('add-br', 'br0');
  t.equal(ok('get', 'interface', 'br0', 'ofport'), '65534\n', 'the local port is OpenFlow port LOCAL (65534)');

  const eth0 = vsctl('add-port', 'br0', 'eth0');
  t.equal(eth0.status, 0, 'add-port br0 eth0 succeeds in the database');
  t.match(eth0.stderr, /^ofs-vsctl: Error detected while setting up 'eth0': could not open network device eth0.*\.  See ofswitchd log for details\.\n$/,
    'and reports that the daemon could not set it up');
  t.equal(ok('get', 'interface', 'eth0', 'ofport'), '-1\n', 'eth0 has ofport -1');
  t.match(ok('get', 'interface', 'eth0', 'error'), /could not open network device eth0/);

  ok('set', 'bridge', 'br0', 'protocols=OpenFlow13');
  ok('set-controller', 'br0', 'tcp:127.0.0.1:6633');
  ok('add-port', 'br0', 'p0', '--', 'set', 'interface', 'p0', 'type=internal');
  ok('set', 'Interface', 'p0', 'ofport_request=100');
  t.equal(ok('get', 'interface', 'p0', 'ofport'), '100\n', 'p0 is OpenFlow port 100');
  const ports = ofctl('dump-ports-desc');
  t.match(ports, / 100\(p0\): /, 'ovs-ofctl sees p0 as port 100 as soon as ofs-vsctl returns');
  t.match(ports, / LOCAL\(br0\): /);
  t.notMatch(ports, /eth0/, 'eth0 is not an OpenFlow port');
  t.match(ok('get', 'bridge', 'br0', 'datapath_id'), /^"[0-9a-f]{16}"\n$/, 'the daemon records the datapath id');
  t.match(ok('show'), /\n {4}Bridge br0\n {8}Controller "tcp:127.0.0.1:6633"\n/);
  const next = ok('get', 'open_vswitch', '.', 'next_cfg');
  t.equal(ok('get', 'open_vswitch', '.', 'cur_cfg'), next, 'cur_cfg caught up with next_cfg');

  // With --no-wait ofs-vsctl returns at commit; the daemon follows the database on its own.
  ok('--no-wait', 'add-port', 'br0', 'q1', '--', 'set', 'interface', 'q1', 'type=internal', 'ofport_request=7');
  const committed = performance.now();
  while (!/ 7\(q1\): /.test(ofctl('dump-ports-desc')) && performance.now() - committed < 5000) { /* poll */ }
  const lag = performance.now() - committed;
  t.ok(lag < 100, `--no-wait: ovs-ofctl sees q1 as port 7 ${lag.toFixed(0)} ms after ofs-vsctl returned (within 100 ms)`);

  const refused = vsctl('add-br', '../../etc');
  t.same([refused.status, refused.stderr], [1, 'ofs-vsctl: cannot create a bridge named ../../etc because bridge names may not contain "/" or "\\"\n']);

  ok('del-port', 'br0', 'p0');
  t.notMatch(ofctl('dump-ports-desc'), /p0/, 'p0 is gone from the switch');
  ok('del-br', 'br0');
  t.equal(ok('list-br'), '');
  t.notOk(existsSync(daemon.mgmt), "the bridge's management socket is gone");
});
