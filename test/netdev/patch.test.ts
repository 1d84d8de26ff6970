/*
 * Patch netdevs: delivery both ways (asynchronous, copied), carrier with the peer, counters,
 * and forwarding loops that neither recurse on the stack nor starve the event loop nor grow
 * memory without bound.
 */
import t, { type Test } from 'tap';
import { NetdevRegistry, PatchNetdev, type Netdev } from '../../lib/netdev/index.ts';
import { PATCH_QUEUE_FRAMES } from '../../lib/netdev/patch.ts';
import { sleep, testFrame, waitFor } from './util.ts';

function registry(t: Test): NetdevRegistry {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  return reg;
}

function collect(netdev: Netdev): Buffer[] {
  const frames: Buffer[] = [];
  netdev.onReceive = (frame) => { frames.push(frame); };
  return frames;
}

t.test('patch ports deliver both ways, asynchronously, a copy of the frame', async (t) => {
  const reg = registry(t);
  const a = await reg.open('patch', 'patch-ab', { peer: 'patch-ba' });
  const b = await reg.open('patch', 'patch-ba', { peer: 'patch-ab' });
  t.ok(a instanceof PatchNetdev && a.peerName === 'patch-ba');
  t.equal(a.type, 'patch');
  t.ok(a.carrier && b.carrier, 'carrier up on both once each names the other');
  const atA = collect(a);
  const atB = collect(b);
  const frame = testFrame(42, 1);
  a.send(frame);
  t.equal(atB.length, 0, 'not delivered synchronously');
  frame.fill(0xee); // the sender may reuse its buffer at once
  b.send(testFrame(100, 2));
  await waitFor(() => atA.length === 1 && atB.length === 1, 1000, 'delivery');
  t.ok(atB[0]!.equals(testFrame(42, 1)), 'a -> b: the frame as it was when sent, unpadded');
  t.ok(atA[0]!.equals(testFrame(100, 2)), 'b -> a');
  t.same(a.stats, { rxPackets: 1, rxBytes: 100, txPackets: 1, txBytes: 42, rxDropped: 0, txDropped: 0 });
  t.same(b.stats, { rxPackets: 1, rxBytes: 42, txPackets: 1, txBytes: 100, rxDropped: 0, txDropped: 0 });
  const many = Array.from({ length: 500 }, (_, i) => testFrame(60 + (i % 7), i));
  for (const f of many) a.send(f);
  await waitFor(() => atB.length === 501, 1000, 'a batch');
  t.ok(atB.slice(1).every((f, i) => f.equals(many[i]!)), '500 frames in order');
});

t.test('carrier follows the peer, with onCarrierChange', async (t) => {
  const reg = registry(t);
  const a = await reg.open('patch', 'a', { peer: 'b' });
  const events: boolean[] = [];
  a.onCarrierChange = (up) => events.push(up);
  t.equal(a.carrier, false, 'no peer: link down');
  a.send(testFrame(60, 1));
  t.equal(a.stats.txDropped, 1, 'sending with no peer drops');

  const wrong = await reg.open('patch', 'b', { peer: 'c' });
  t.equal(a.carrier, false, 'a peer that names someone else does not count (as in ofproto-dpif)');
  await wrong.close();
  const notPatch = await reg.open('internal', 'b', {});
  t.equal(a.carrier, false, 'a peer that is not a patch port does not count');
  await notPatch.close();
  t.same(events, [], 'no changes yet');

  const b = await reg.open('patch', 'b', { peer: 'a' });
  t.same(events, [true], 'up when the peer opens');
  t.equal(b.carrier, true, 'and the peer is up from the start');
  b.onReceive = () => {};
  a.send(testFrame(60, 2));
  await b.close();
  t.same(events, [true, false], 'down when the peer closes');
  await sleep(10);
  t.equal(b.stats.rxPackets, 0, 'frames queued for a closed port are discarded');
  await reg.open('patch', 'b', { peer: 'a' });
  t.same(events, [true, false, true], 'up again');
});

t.test('received with no onReceive: rxDropped', async (t) => {
  const reg = registry(t);
  const a = await reg.open('patch', 'a', { peer: 'b' });
  const b = await reg.open('patch', 'b', { peer: 'a' });
  a.send(testFrame(60, 1));
  await waitFor(() => b.stats.rxDropped === 1, 1000, 'the drop');
  t.equal(a.stats.txPackets, 1);
});

t.test('a patch loop does not blow the stack or starve the event loop', async (t) => {
  const reg = registry(t);
  const a = await reg.open('patch', 'a', { peer: 'b' });
  const b = await reg.open('patch', 'b', { peer: 'a' });
  // Two bridges that each send back whatever they receive: an endless ping-pong.
  a.onReceive = (frame) => a.send(frame);
  b.onReceive = (frame) => b.send(frame);
  let timers = 0;
  const ticker = setInterval(() => { timers++; }, 5);
  t.teardown(() => clearInterval(ticker));
  a.send(testFrame(60, 1));
  await sleep(300);
  t.ok(a.stats.rxPackets + b.stats.rxPackets > 1000, `the frame went round ${a.stats.rxPackets + b.stats.rxPackets} times`);
  t.ok(timers >= 10, `timers kept firing meanwhile (${timers} ticks)`);
  await a.close();
  await b.close();
  const after = a.stats.rxPackets + b.stats.rxPackets;
  await sleep(20);
  t.equal(a.stats.rxPackets + b.stats.rxPackets, after, 'closing stops the loop');
});

t.test('a loop that multiplies frames is bounded by the receive queue', async (t) => {
  const reg = registry(t);
  const a = await reg.open('patch', 'a', { peer: 'b' });
  const b = await reg.open('patch', 'b', { peer: 'a' });
  // A broadcast storm: each bridge floods every frame back twice.
  let maxQueued = 0;
  const flood = (port: Netdev, peer: PatchNetdev) => (frame: Buffer): void => {
    port.send(frame);
    port.send(frame);
    maxQueued = Math.max(maxQueued, peer.queuedFrames);
  };
  a.onReceive = flood(a, b as PatchNetdev);
  b.onReceive = flood(b, a as PatchNetdev);
  a.send(testFrame(60, 1));
  await sleep(300);
  t.ok(a.stats.txDropped + b.stats.txDropped > 0, `frames dropped at the full queue (${a.stats.txDropped + b.stats.txDropped})`);
  t.equal(maxQueued, PATCH_QUEUE_FRAMES, `the receive queue filled up to its bound of ${PATCH_QUEUE_FRAMES} frames and no further`);
  const heap = process.memoryUsage().heapUsed;
  t.ok(heap < 1024 * 1024 * 1024, `memory stays bounded (${Math.round(heap / 1e6)} MB heap)`);
});
