/*
 * ofswitchd keeps its controller connection up as Open vSwitch's rconn does: it reconnects
 * with a doubling backoff, keeps its flows while the controller is away (fail-mode secure),
 * and drops a controller that stops answering its inactivity probes.
 *
 * What it shows:
 *  - a real os-ken (test/oracles/learning_switch.py) that ofswitchd dials with
 *    `--controller=tcp:127.0.0.1:PORT --fail-mode=secure --max-backoff=4000` configures the
 *    switch and learns: h1 pings h2 through the flows it installs;
 *  - os-ken is killed (SIGKILL by pid); a plain TCP listener put on the same port records
 *    every connection attempt (accepting and closing at once, so that none completes): the
 *    attempts come 1, 2, 4, 4 s apart (the first 1 s after the loss), as OVS's backoff with
 *    max_backoff 4 s, within tolerance; `ofs-appctl connmgr/show` reports the backoff going
 *    1, 2, 4 s, never connected meanwhile;
 *  - while the controller is away the installed flows are still there (`ovs-ofctl
 *    dump-flows`) and still forward (h1 pings h2 again);
 *  - os-ken restarted on the same port is reconnected within max backoff + 1 s of listening,
 *    reconfigures the switch and gets packet-ins again: a new pair, h3 and h4, pings;
 *    connmgr/show counts two connections;
 *  - a raw controller that completes the handshake and then never answers ECHO_REQUEST, with
 *    `--inactivity-probe=1000`: the switch sends an echo request 1 s after the last message it
 *    received, and closes the connection 1 s later (each within tolerance); connmgr/show
 *    reports "no response to inactivity probe"; a controller that answers stays connected;
 *  - a controller that accepts the TCP connection but never sends HELLO: each attempt is given
 *    up after max(1 s, backoff) ("connection timed out") and the backoff still grows: attempts
 *    2 s then 3 s apart, each closed 1 s after it connected.
 *
 * Bounded: the file has a time limit and every wait has its own; os-ken and ofswitchd are
 * stopped by pid, every socket closed in teardown. Times are milliseconds (performance.now()).
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connmgrShow, connmgrShowText, dumpFlows, type ConnmgrInfo } from '../helpers/appctl.ts';
import { FakeController, freePort } from '../helpers/controller.ts';
import { SimHost } from '../helpers/host.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { oskenMissing, startOsken, type Osken } from '../helpers/osken.ts';

const APP = fileURLToPath(new URL('../oracles/learning_switch.py', import.meta.url));
const MAX_BACKOFF_MS = 4000;
/** OVS's backoff from the loss of a long-lived connection, with max_backoff 4 s. */
const EXPECTED_INTERVALS = [1000, 2000, 4000, 4000];
/** A timer never fires early; it may fire late on a loaded machine. */
const EARLY_MS = 100;
const LATE_MS = 450;

t.setTimeout(120_000);

const skip = oskenMissing();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('os-ken killed and restarted: backoff 1, 2, 4, 4 s; flows kept and forwarding; reconnect and packet-ins again', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-reconnect-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const oskens: Osken[] = [];
  t.teardown(() => Promise.all(oskens.map((o) => o.stop())));
  const first = startOsken({ app: APP, port });
  oskens.push(first);
  await first.waitListening(20_000);

  const daemon = await startOfswitchd([
    `--controller=tcp:127.0.0.1:${port}`, '--fail-mode=secure', `--max-backoff=${MAX_BACKOFF_MS}`,
    ...[1, 2, 3, 4].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`),
  ]);
  t.teardown(() => daemon.stop());
  const hosts: SimHost[] = [];
  t.teardown(() => Promise.all(hosts.map((h) => h.close())));
  for (const n of [1, 2, 3, 4]) {
    hosts.push(await SimHost.connect(join(dir, `p${n}.sock`), { mac: `02:00:00:00:00:0${n}`, ip: `10.0.0.${n}`, name: `h${n}` }));
  }
  const [h1, h2, h3, h4] = hosts as [SimHost, SimHost, SimHost, SimHost];

  try {
    await first.waitLine(/^FEATURES dpid=/, 15_000);
    await first.waitLine(/^BARRIER_REPLY /, 10_000);
  } catch (e) {
    t.fail(`os-ken did not configure the switch: ${(e as Error).message}`, { ofswitchd: daemon.output() });
    return;
  }
  t.pass('ofswitchd dialled os-ken, which configured it (table-miss to CONTROLLER, barrier answered)');
  await t.resolves(h1.ping(h2.ip, { timeoutMs: 3000 }), 'h1 pings h2 through os-ken');
  const learned = (await dumpFlows(daemon.mgmt)).filter((l) => /priority=100\b/.test(l));
  t.equal(learned.length, 2, 'dump-flows: os-ken installed one flow per direction of h1-h2');
  const before = await connmgrShow(daemon.rundir);
  t.match(before.controllers, [{ target: `tcp:127.0.0.1:${port}`, isConnected: true, state: 'ACTIVE', connections: 1 }], 'connmgr/show: connected');

  // The controller dies. Whoever listens on its port next sees every attempt ofswitchd makes.
  await first.kill();
  const lostAt = performance.now();
  let observer: FakeController;
  try {
    observer = await FakeController.listen({ port, closeOnAccept: true });
  } catch (e) {
    t.fail(`could not listen on port ${port} after os-ken died: ${(e as Error).message}`);
    return;
  }
  let observerClosed = false;
  const closeObserver = async (): Promise<void> => {
    if (observerClosed) return;
    observerClosed = true;
    await observer.close();
  };
  t.teardown(closeObserver);

  // Meanwhile: connmgr/show sampled, flows dumped, the old pair pinged.
  const backoffs: number[] = [];
  const samples: ConnmgrInfo[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const info = await connmgrShow(daemon.rundir).catch(() => undefined);
      if (info) {
        samples.push(info);
        const b = info.controllers[0]?.backoffMs;
        if (b !== undefined && backoffs[backoffs.length - 1] !== b) backoffs.push(b);
      }
      await sleep(200);
    }
  })();

  await sleep(300);
  const away = await dumpFlows(daemon.mgmt);
  t.equal(away.filter((l) => /priority=100\b/.test(l)).length, 2, 'controller away (secure mode): the learned flows are still installed');
  t.ok(away.some((l) => /priority=0\b.*actions=CONTROLLER:128/.test(l)), 'and so is the table-miss flow');
  await t.resolves(h1.ping(h2.ip, { timeoutMs: 2000 }), 'controller away: h1 still pings h2 over the installed flows');
  await t.resolves(h2.ping(h1.ip, { timeoutMs: 2000 }), 'and h2 pings h1');

  try {
    await waitFor(() => observer.accepts.length >= EXPECTED_INTERVALS.length, 20_000, `${EXPECTED_INTERVALS.length} connection attempts`);
  } catch (e) {
    t.fail((e as Error).message, { accepts: observer.accepts.map((a) => Math.round(a - lostAt)) });
  }
  sampling = false;
  await sampler;
  const times = [lostAt, ...observer.accepts.slice(0, EXPECTED_INTERVALS.length)];
  const intervals = times.slice(1).map((at, i) => Math.round(at - times[i]!));
  t.comment(`connection attempts after the loss, ms apart: ${intervals.join(', ')} (expected ${EXPECTED_INTERVALS.join(', ')})`);
  EXPECTED_INTERVALS.forEach((expected, i) => {
    const got = intervals[i];
    t.ok(got !== undefined && got >= expected - EARLY_MS && got <= expected + LATE_MS,
      `attempt ${i + 1} came ${got} ms after the ${i === 0 ? 'loss' : 'previous one'} (expected ${expected} ms, -${EARLY_MS}/+${LATE_MS})`);
  });
  t.same(backoffs, [1000, 2000, 4000], 'connmgr/show: backoff 1 s, then 2 s, then 4 s (max-backoff)');
  t.ok(samples.length > 10 && samples.every((s) => s.controllers[0]?.isConnected === false), `connmgr/show: not connected in any of ${samples.length} samples meanwhile`);
  const last = samples[samples.length - 1]?.controllers[0];
  t.match(last, { state: 'BACKOFF', backoffMs: MAX_BACKOFF_MS, lastError: String }, 'connmgr/show: in BACKOFF at max-backoff, with the last error');

  // os-ken comes back on the same port.
  await closeObserver();
  const second = startOsken({ app: APP, port });
  oskens.push(second);
  await second.waitListening(20_000);
  const listeningAt = performance.now();
  try {
    await second.waitLine(/^FEATURES dpid=/, MAX_BACKOFF_MS + 5000);
  } catch (e) {
    t.fail(`ofswitchd did not reconnect: ${(e as Error).message}`);
    return;
  }
  const reconnectMs = Math.round(performance.now() - listeningAt);
  t.ok(reconnectMs <= MAX_BACKOFF_MS + 1000, `reconnected ${reconnectMs} ms after os-ken listened again (at most max-backoff + 1 s)`);
  await t.resolves(second.waitLine(/^BARRIER_REPLY /, 10_000), 'the new os-ken configured the switch');
  await t.resolves(h3.ping(h4.ip, { timeoutMs: 3000 }), 'a new pair, h3 and h4, pings: packet-ins reach os-ken again');
  t.ok(second.lines.some((l) => l.startsWith('PACKET_IN ') && l.includes(`src=${h3.mac}`)), 'os-ken logged packet-ins from h3');
  t.notOk(second.lines.some((l) => l.startsWith('ERROR ')), 'os-ken logged no error');
  const after = await connmgrShow(daemon.rundir);
  t.match(after.controllers, [{ isConnected: true, connections: 2 }], 'connmgr/show: connected again, two connections in all');
});

t.test('a controller that stops answering echo requests is dropped on time', async (t) => {
  const PROBE_MS = 1000;
  const silent = await FakeController.listen({ answerEcho: false });
  t.teardown(() => silent.close());
  const daemon = await startOfswitchd([`--controller=${silent.target}`, `--inactivity-probe=${PROBE_MS}`]);
  t.teardown(() => daemon.stop());

  const peer = await silent.peer(1, 5000);
  // Our HELLO went out on accept: it is the last message the switch receives from us.
  const lastSentAt = silent.accepts[0]!;
  await peer.next((m) => m.type === 'hello', 3000);
  const echo = await peer.nextEntry((m) => m.type === 'echo_request', 3 * PROBE_MS);
  const echoAfter = Math.round(echo.at - lastSentAt);
  t.ok(echoAfter >= PROBE_MS - EARLY_MS && echoAfter <= PROBE_MS + LATE_MS, `echo request ${echoAfter} ms after our last message (expected ${PROBE_MS})`);
  await peer.waitClosed(3 * PROBE_MS);
  const closeAfter = Math.round(peer.closedAt! - echo.at);
  t.ok(closeAfter >= PROBE_MS - EARLY_MS && closeAfter <= PROBE_MS + LATE_MS, `connection closed ${closeAfter} ms after the unanswered echo request (expected ${PROBE_MS})`);
  const info = await connmgrShow(daemon.rundir);
  t.match(info.controllers, [{ target: silent.target, isConnected: false, lastError: 'no response to inactivity probe' }], 'connmgr/show: not connected, last error "no response to inactivity probe"');
  t.match(await connmgrShowText(daemon.rundir), /last error: no response to inactivity probe/, 'and so says the text form');
});

t.test('a controller that answers echo requests stays connected', async (t) => {
  const PROBE_MS = 1000;
  const alive = await FakeController.listen();
  t.teardown(() => alive.close());
  const daemon = await startOfswitchd([`--controller=${alive.target}`, `--inactivity-probe=${PROBE_MS}`]);
  t.teardown(() => daemon.stop());
  const peer = await alive.peer(1, 5000);
  await peer.handshake();
  await sleep(3.5 * PROBE_MS);
  t.notOk(peer.closed, 'still connected after 3.5 probe intervals');
  t.ok(peer.count('echo_request') >= 2, `the switch probed ${peer.count('echo_request')} times, each answered`);
  const info = await connmgrShow(daemon.rundir);
  t.match(info.controllers, [{ isConnected: true, connections: 1 }], 'connmgr/show: connected, one connection');
});

t.test('a controller that accepts but never says HELLO: the attempt times out after max(1 s, backoff)', async (t) => {
  const mute = await FakeController.listen({ hello: false });
  t.teardown(() => mute.close());
  const daemon = await startOfswitchd([`--controller=${mute.target}`]);
  t.teardown(() => daemon.stop());
  // OVS's rconn: attempt at 0 s, timed out at 1 s (backoff 0 -> 1 s), attempt at 2 s, timed
  // out at 3 s (max(1 s, 1 s); backoff -> 2 s), attempt at 5 s.
  await mute.peer(3, 9000).catch((e: Error) => t.fail(e.message));
  const accepts = mute.accepts.slice(0, 3);
  const intervals = accepts.slice(1).map((at, i) => Math.round(at - accepts[i]!));
  const timeouts = mute.peers.slice(0, 2).map((p, i) => Math.round((p.closedAt ?? Infinity) - accepts[i]!));
  t.comment(`attempts ${intervals.join(', ')} ms apart; the first two closed by the switch after ${timeouts.join(', ')} ms`);
  // The switch's timeout runs from its dial, a little before our accept: allow more early here.
  const EARLY_MS = 250;
  [1000, 1000].forEach((expected, i) => {
    const got = timeouts[i]!;
    t.ok(got >= expected - EARLY_MS && got <= expected + LATE_MS, `attempt ${i + 1}: given up ${got} ms after connecting (expected ${expected})`);
  });
  [2000, 3000].forEach((expected, i) => {
    const got = intervals[i];
    t.ok(got !== undefined && got >= expected - EARLY_MS && got <= expected + LATE_MS, `attempt ${i + 2} came ${got} ms after the previous one (expected ${expected}: timeout + backoff)`);
  });
  t.ok(mute.peers.slice(0, 2).every((p) => p.count('hello') === 1), 'the switch sent its HELLO each time');
  const info = await connmgrShow(daemon.rundir);
  t.match(info.controllers, [{ isConnected: false, lastError: 'connection timed out', connections: 0 }], 'connmgr/show: last error "connection timed out", never connected');
});
