/*
 * Fail modes, as Open vSwitch's fail-open (ofproto/fail-open.c) behaves; the Open vSwitch
 * side was checked against a userspace Open vSwitch 3.1 with the same settings
 * (fail_mode=standalone, a controller where nothing listens, inactivity_probe 1 s):
 *  - it fails open once every controller has been unreachable for 3 probe intervals, and at
 *    that moment flushes every OpenFlow flow (dump-flows is empty; its fail-open flow,
 *    NORMAL at a priority above OpenFlow's, is hidden);
 *  - a controller that connects is not enough: fail-open ends once the controller is
 *    "admitted", i.e. sends something other than HELLO, ECHO, FEATURES or (GET/SET_)CONFIG
 *    (a BARRIER_REQUEST will do); only the handshake leaves the switch failing open;
 *  - when it ends, the OpenFlow tables are what the controller installed since: here
 *    nothing, so hosts can no longer ping.
 *
 * What it shows with ofswitchd and two hosts on stream ports:
 *  - `--fail-mode=standalone --controller=tcp:127.0.0.1:<nothing listens> --inactivity-probe=1000`:
 *    the hosts cannot ping at first (connmgr/show: fail-open inactive); fail-open starts 3 s
 *    (3 probe intervals) after start, within tolerance, and connmgr/show reports it; the
 *    hosts then ping (NORMAL learning switch); the flow installed before is gone (flushed);
 *  - a raw controller appears on that port (installing nothing): after its handshake alone
 *    the switch still fails open; once it sends a BARRIER_REQUEST, fail-open ends
 *    (connmgr/show), and the hosts can no longer ping;
 *  - the controller goes away: fail-open resumes 3 probe intervals later;
 *  - `--fail-mode=secure` with the same unreachable controller: the hosts never ping, before
 *    or after 3 probe intervals, and connmgr/show never reports fail-open.
 *
 * Bounded: the file has a time limit and every wait has its own; ofswitchd is stopped by pid,
 * every socket closed in teardown. Times are milliseconds (performance.now()).
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connmgrShow, connmgrShowText, dumpFlows, OVS_OFCTL, run } from '../helpers/appctl.ts';
import { FakeController, freePort } from '../helpers/controller.ts';
import { SimHost } from '../helpers/host.ts';
import { startOfswitchd, type Daemon } from '../helpers/ofswitchd.ts';

const PROBE_MS = 1000;
const FAIL_OPEN_MS = 3 * PROBE_MS;
/** ofswitchd reconsiders fail-open every 500 ms; allow that and a loaded machine. */
const LATE_MS = 1200;

t.setTimeout(90_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function pings(from: SimHost, to: SimHost, timeoutMs = 1000): Promise<boolean> {
  try {
    await from.ping(to.ip, { timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** Polls connmgr/show until fail-open is `want`; resolves with the time it was first seen so, or undefined. */
async function failOpenBecomes(daemon: Daemon, want: boolean, timeoutMs: number): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await connmgrShow(daemon.rundir)).failOpen === want) return performance.now();
    await sleep(20);
  }
  return undefined;
}

async function setup(t: Test, failMode: string, port: number): Promise<{ daemon: Daemon; h1: SimHost; h2: SimHost; spawnedAt: number; readyAt: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-failmode-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spawnedAt = performance.now();
  const daemon = await startOfswitchd([`--fail-mode=${failMode}`, `--controller=tcp:127.0.0.1:${port}`, `--inactivity-probe=${PROBE_MS}`,
    '--max-backoff=2000', ...[1, 2].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`)]);
  const readyAt = performance.now();
  t.teardown(() => daemon.stop());
  const h1 = await SimHost.connect(join(dir, 'p1.sock'), { mac: '02:00:00:00:00:01', ip: '10.0.0.1', name: 'h1' });
  const h2 = await SimHost.connect(join(dir, 'p2.sock'), { mac: '02:00:00:00:00:02', ip: '10.0.0.2', name: 'h2' });
  t.teardown(() => Promise.all([h1.close(), h2.close()]));
  return { daemon, h1, h2, spawnedAt, readyAt };
}

t.test('standalone: fail-open after 3 probe intervals without a controller, and back when one is admitted', async (t) => {
  const port = await freePort();
  const { daemon, h1, h2, spawnedAt, readyAt } = await setup(t, 'standalone', port);
  const added = await run(OVS_OFCTL, ['-O', 'OpenFlow13', 'add-flow', `unix:${daemon.mgmt}`, 'priority=100,udp,tp_dst=9,actions=drop']);
  t.equal(added.status, 0, 'a flow installed before fail-open (priority=100,udp,tp_dst=9,actions=drop)');

  t.notOk(await pings(h1, h2), 'at first (secure tables, no flow forwards) h1 cannot ping h2');
  const early = await connmgrShow(daemon.rundir);
  const earlyAt = performance.now() - readyAt;
  t.ok(earlyAt < FAIL_OPEN_MS, `(checked ${Math.round(earlyAt)} ms after start, before 3 probe intervals)`);
  t.equal(early.failOpen, false, 'connmgr/show: fail-open inactive');
  t.match(early.controllers, [{ isConnected: false }], 'connmgr/show: the controller is not connected');

  const openedAt = await failOpenBecomes(daemon, true, FAIL_OPEN_MS + 5000);
  t.ok(openedAt !== undefined, 'connmgr/show: fail-open becomes active');
  if (openedAt === undefined) return;
  const sinceSpawn = Math.round(openedAt - spawnedAt);
  const sinceReady = Math.round(openedAt - readyAt);
  t.comment(`fail-open seen ${sinceReady} ms after the daemon was ready (${sinceSpawn} ms after it was spawned)`);
  t.ok(sinceSpawn >= FAIL_OPEN_MS && sinceReady <= FAIL_OPEN_MS + LATE_MS, `fail-open after 3 probe intervals (${FAIL_OPEN_MS} ms, +${LATE_MS})`);
  t.match(await connmgrShowText(daemon.rundir), /^br0: fail-open: active$/m, 'connmgr/show (text): "fail-open: active"');
  t.ok(await pings(h1, h2, 2000), 'fail-open: h1 pings h2 (NORMAL)');
  t.ok(await pings(h2, h1, 2000), 'fail-open: h2 pings h1');
  t.same(await dumpFlows(daemon.mgmt), [], 'failing open flushed the OpenFlow flows, as Open vSwitch does (dump-flows is empty)');

  // A controller appears where the switch has been dialling.
  const controller = await FakeController.listen({ port });
  t.teardown(() => controller.close());
  const peer = await controller.peer(1, 5000);
  await peer.handshake();
  await sleep(1000);
  t.equal((await connmgrShow(daemon.rundir)).failOpen, true,
    'after HELLO and FEATURES only the controller is not yet "admitted": still fail-open, as Open vSwitch');
  await peer.barrier();
  const closedAt = await failOpenBecomes(daemon, false, 3000);
  t.ok(closedAt !== undefined, 'once the controller sent a BARRIER_REQUEST (admitted), fail-open ends');
  const after = await connmgrShow(daemon.rundir);
  t.match(after.controllers, [{ isConnected: true }], 'connmgr/show: the controller is connected');
  t.notOk(await pings(h1, h2), 'fail-open over, nothing installed by the controller: h1 can no longer ping h2');
  t.notOk(await pings(h2, h1), 'nor h2 h1');
  t.equal(peer.count('error'), 0, 'the controller got no error');

  // The controller goes away: fail-open again, 3 probe intervals later.
  peer.close();
  await controller.close();
  const goneAt = performance.now();
  const reopenedAt = await failOpenBecomes(daemon, true, FAIL_OPEN_MS + 5000);
  t.ok(reopenedAt !== undefined, 'the controller gone, fail-open resumes');
  if (reopenedAt !== undefined) {
    const ms = Math.round(reopenedAt - goneAt);
    t.ok(ms >= FAIL_OPEN_MS - 600 && ms <= FAIL_OPEN_MS + LATE_MS, `${ms} ms after the controller went away (3 probe intervals)`);
    t.ok(await pings(h1, h2, 2000), 'and h1 pings h2 again');
  }
});

t.test('secure: never forwards on its own', async (t) => {
  const port = await freePort();
  const { daemon, h1, h2 } = await setup(t, 'secure', port);
  t.notOk(await pings(h1, h2), 'at first h1 cannot ping h2');
  await sleep(FAIL_OPEN_MS + 600);
  const info = await connmgrShow(daemon.rundir);
  t.equal(info.failOpen, false, 'after 3 probe intervals without a controller: connmgr/show says fail-open inactive');
  t.match(await connmgrShowText(daemon.rundir), /^br0: fail-open: inactive$/m, 'connmgr/show (text): "fail-open: inactive"');
  t.match(info.controllers, [{ isConnected: false }], 'the controller is not connected');
  t.notOk(await pings(h1, h2), 'h1 still cannot ping h2');
  t.notOk(await pings(h2, h1), 'nor h2 h1');
});
