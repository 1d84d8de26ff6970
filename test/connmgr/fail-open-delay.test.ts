/*
 * How long a standalone bridge waits before failing open, with several controllers whose
 * inactivity probe intervals differ: Open vSwitch (ofproto/fail-open.c, trigger_duration)
 * takes the LONGEST probe interval of all controllers, times 3 ("every controller must have a
 * chance to send an inactivity probe and reconnect before we fail open"), whatever the order
 * in which the controllers are configured.
 *
 * The ConnectionManager is driven directly with a fake monotonic clock (`now`), its
 * controllers pointed at TCP ports where nothing listens; it reconsiders fail-open every
 * 500 ms of real time, so each step advances the fake clock and waits 700 ms. Times are
 * milliseconds. Every manager is closed in teardown.
 */
import t, { type Test } from 'tap';
import { ConnectionManager } from '../../lib/connmgr/index.ts';
import { freePort } from '../helpers/controller.ts';

t.setTimeout(30_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function failOpenAfter(t: Test, probes: number[]): Promise<{ at3500: boolean; at15100: boolean }> {
  let now = 0;
  const events: boolean[] = [];
  const cm = new ConnectionManager('br0', { handleMessage: () => undefined, setFailOpen: (on) => events.push(on) }, {
    failMode: 'standalone', now: () => now,
  });
  t.teardown(() => cm.close());
  const targets = await Promise.all(probes.map(async () => `tcp:127.0.0.1:${await freePort()}`));
  await cm.setControllers(probes.map((probeIntervalMs, i) => ({ target: targets[i]!, probeIntervalMs })));
  now = 3500;
  await sleep(700);
  const at3500 = cm.isFailOpen;
  now = 15_100;
  await sleep(700);
  const at15100 = cm.isFailOpen;
  return { at3500, at15100 };
}

for (const probes of [[1000, 5000], [5000, 1000], [2000, 5000, 1000]]) {
  t.test(`probe intervals ${probes.join(', ')} ms: fail-open after 3 x the longest (15 s)`, async (t) => {
    const { at3500, at15100 } = await failOpenAfter(t, probes);
    t.equal(at3500, false, 'not failing open 3.5 s after the controllers became unreachable');
    t.equal(at15100, true, 'failing open 15.1 s after');
  });
}
