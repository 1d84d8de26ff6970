/*
 * A standalone bridge without controllers, side by side with Open vSwitch 3.1: both forward
 * through a visible `priority=0 actions=NORMAL` flow (Open vSwitch's connmgr_flushed), added
 * when the flows are flushed: when the fail mode changes while there is no controller, and when
 * the last controller goes. Gaining a first controller flushes every flow too (fail-open, with
 * its hidden flow, is then the controller's business: see fail-mode.test.ts).
 *
 * The same ovs-vsctl / ofs-vsctl commands run against each switch's database, and after each
 * one `ovs-ofctl dump-flows` must print the same flows (durations aside). Skipped, with the
 * reason printed, when Open vSwitch is not installed.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../helpers/controller.ts';
import { startOfswitchd } from '../helpers/ofswitchd.ts';
import { OVS_OFCTL, OVS_VSCTL, ovsMissing, startOvs } from '../helpers/ovs.ts';
import { OFS_VSCTL } from '../vsctl/harness.ts';

function flows(mgmt: string, env?: NodeJS.ProcessEnv): string[] {
  const r = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', 'dump-flows', `unix:${mgmt}`], { env, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`dump-flows: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => /cookie=/.test(l)).map((l) => l.trim().replace(/duration=[\d.]+s, /, ''));
}

t.test('standalone without controllers: the NORMAL flow, as Open vSwitch adds and flushes it', { skip: ovsMissing() ?? false, timeout: 90_000 }, async (t) => {
  const ovs = await startOvs();
  t.teardown(() => ovs.stop());
  const ofs = await startOfswitchd(['--fail-mode=secure']);
  t.teardown(() => ofs.stop());
  const controllerPort = await freePort();
  const sides = {
    ovs: { mgmt: ovs.mgmt, env: ovs.env, vsctl: (args: string[]) => spawnSync(OVS_VSCTL, [`--db=unix:${join(ovs.rundir, 'db.sock')}`, '--timeout=20', ...args], { env: ovs.env, encoding: 'utf8', timeout: 30_000 }) },
    ofswitch: { mgmt: ofs.mgmt, env: undefined, vsctl: (args: string[]) => spawnSync(OFS_VSCTL, [`--rundir=${ofs.rundir}`, '--timeout=20', ...args], { encoding: 'utf8', timeout: 30_000 }) },
  };
  /** A vsctl command (after adding `addFlow` with ovs-ofctl, if given), and the flows after it. */
  const steps: Array<{ args: string[]; addFlow?: string; want: string[] }> = [
    { args: [], want: [] },
    { args: ['set-fail-mode', 'br0', 'standalone'], want: ['cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL'] },
    { args: ['set-controller', 'br0', `tcp:127.0.0.1:${controllerPort}`], addFlow: 'priority=5,udp,actions=drop', want: [] },
    { args: ['del-controller', 'br0'], want: ['cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL'] },
    { args: ['set-fail-mode', 'br0', 'secure'], want: [] },
    { args: ['del-fail-mode', 'br0'], want: ['cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL'] },
  ];
  for (const step of steps) {
    const label = step.args.length ? step.args.join(' ') : 'at start (fail_mode=secure)';
    const seen: Record<string, string[]> = {};
    for (const [name, side] of Object.entries(sides)) {
      if (step.addFlow) {
        const r = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', 'add-flow', `unix:${side.mgmt}`, step.addFlow], { env: side.env, encoding: 'utf8', timeout: 10_000 });
        t.equal(r.status, 0, `${name}: add-flow ${step.addFlow}`);
      }
      if (step.args.length) {
        const r = side.vsctl(step.args);
        t.equal(r.status, 0, `${name}: vsctl ${label}${r.stderr ? `: ${r.stderr}` : ''}`);
      }
      seen[name] = flows(side.mgmt, side.env);
    }
    t.same(seen.ofswitch, seen.ovs, `${label}: ofswitch's flows are Open vSwitch's (${JSON.stringify(seen.ovs)})`);
    t.same(seen.ofswitch, step.want, `${label}: ${step.want.length ? 'the NORMAL flow' : 'no flow'}`);
  }
});
