/*
 * Stream netdevs between themselves and against raw sockets: the exact framing on the wire
 * (2-byte big-endian length + frame), padding to 60 bytes on send, counters, carrier, the
 * transmit bound, malformed framing, reconnect with backoff, stale socket files, and bursts that
 * TCP/unix segmentation splits anywhere, over unix sockets and TCP on 127.0.0.1.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetdevError, NetdevRegistry, StreamNetdev, type Netdev } from '../../lib/netdev/index.ts';
import { encodeStreamFrame, FrameDecoder, STREAM_TX_QUEUE_BYTES } from '../../lib/netdev/stream.ts';
import { Reconnect } from '../../lib/netdev/reconnect.ts';
import { pad60, RawPeer, sleep, tempDir, testFrame, waitFor, within } from './util.ts';

function registry(t: Test): NetdevRegistry {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  return reg;
}

async function openStream(reg: NetdevRegistry, name: string, options: Record<string, string>, type = 'stream'): Promise<StreamNetdev> {
  const netdev = await reg.open(type, name, options);
  if (!(netdev instanceof StreamNetdev)) throw new Error('not a StreamNetdev');
  return netdev;
}

function collect(netdev: Netdev): Buffer[] {
  const frames: Buffer[] = [];
  netdev.onReceive = (frame) => { frames.push(frame); };
  return frames;
}

type Transport = 'unix' | 'tcp';

/** A listening netdev and a connecting netdev joined over `transport`, connected. */
async function pair(t: Test, transport: Transport, listenOptions: Record<string, string> = {}, connectOptions: Record<string, string> = {}) {
  const reg = registry(t);
  let listener: StreamNetdev;
  let connector: StreamNetdev;
  if (transport === 'unix') {
    const path = join(tempDir(t), 'a.sock');
    listener = await openStream(reg, 'a', { pstream: `punix:${path}`, ...listenOptions });
    connector = await openStream(reg, 'b', { stream: `unix:${path}`, ...connectOptions });
  } else {
    listener = await openStream(reg, 'a', { pstream: 'ptcp:0:127.0.0.1', ...listenOptions });
    t.match(listener.listenName, /^ptcp:\d+:127\.0\.0\.1$/, 'ptcp:0 binds an ephemeral port');
    connector = await openStream(reg, 'b', { stream: `tcp:127.0.0.1:${listener.boundPort}`, ...connectOptions });
  }
  await waitFor(() => listener.peerCount === 1 && connector.connectionState === 'ACTIVE', 5000, 'the connection');
  return { reg, listener, connector };
}

const SIZES = [14, 15, 42, 59, 60, 61, 64, 1514, 1518, 9000, 65535];

t.test('the frame decoder handles every split point of the 2-byte framing', async (t) => {
  const frames = [14, 60, 1, 300].map((n, i) => testFrame(Math.max(n, 14), i));
  const wire = Buffer.concat(frames.map((f) => encodeStreamFrame(f)));
  for (let first = 0; first <= wire.length; first++) {
    for (const step of [1, 2, 3, 7, 1000]) {
      const decoder = new FrameDecoder();
      const got: Buffer[] = [];
      const chunks = [wire.subarray(0, first)];
      for (let i = first; i < wire.length; i += step) chunks.push(wire.subarray(i, i + step));
      for (const chunk of chunks) {
        if (decoder.push(Buffer.from(chunk), (f) => got.push(Buffer.from(f))) !== undefined) throw new Error('unexpected framing error');
      }
      if (got.length !== frames.length || got.some((f, i) => !f.equals(frames[i]!)) || decoder.pendingBytes !== 0) {
        t.fail(`split at ${first}, then every ${step} bytes: got ${got.length} frames`);
        return;
      }
    }
  }
  t.pass(`all ${wire.length + 1} x 5 split patterns decode to the same 4 frames`);
  for (const length of [0, 1, 13]) {
    const bad = Buffer.alloc(2);
    bad.writeUInt16BE(length, 0);
    t.match(new FrameDecoder().push(bad, () => {}), /bad frame length/, `length ${length} is a framing error (Open vSwitch: EPROTO)`);
  }
  t.equal(new FrameDecoder().push(Buffer.from([0x00, 0x0e]), () => {}), undefined, 'length 14 is accepted');
});

t.test('exact wire bytes: 2-byte big-endian length, frame, zero padding to 60', async (t) => {
  const reg = registry(t);
  const path = join(tempDir(t), 'p.sock');
  const port = await openStream(reg, 'p', { pstream: `punix:${path}` });
  const raw = await RawPeer.connect({ path }, t);
  await waitFor(() => port.peerCount === 1, 2000, 'accept');
  const short = testFrame(42, 1);
  const long = testFrame(300, 2);
  port.send(short);
  port.send(long);
  await waitFor(() => raw.raw.length >= 2 + 60 + 2 + 300, 2000, 'the bytes');
  const expected = Buffer.concat([Buffer.from([0x00, 0x3c]), short, Buffer.alloc(18), Buffer.from([0x01, 0x2c]), long]);
  t.same(raw.raw.toString('hex'), expected.toString('hex'), 'length 0x003c + 42 bytes + 18 zeros, then length 0x012c + 300 bytes');

  const unpadded = await openStream(reg, 'q', { pstream: `punix:${path}.q`, pad: 'false' });
  const raw2 = await RawPeer.connect({ path: `${path}.q` }, t);
  await waitFor(() => unpadded.peerCount === 1, 2000, 'accept');
  unpadded.send(short);
  await waitFor(() => raw2.raw.length >= 44, 2000, 'the bytes');
  t.same(raw2.raw.toString('hex'), Buffer.concat([Buffer.from([0x00, 0x2a]), short]).toString('hex'), 'pad=false: length 0x002a + the 42 bytes, as Open vSwitch sends');
});

for (const transport of ['unix', 'tcp'] as const) {
  t.test(`${transport}: frames both ways, padding and counters`, async (t) => {
    const { listener, connector } = await pair(t, transport);
    const atListener = collect(listener);
    const atConnector = collect(connector);
    const frames = SIZES.map((n, i) => testFrame(n, i));
    for (const frame of frames) connector.send(frame);
    for (const frame of frames) listener.send(frame);
    await waitFor(() => atListener.length === frames.length && atConnector.length === frames.length, 5000, 'all frames');
    t.same(atListener.map((f) => f.toString('hex')), frames.map((f) => pad60(f).toString('hex')), 'connector -> listener: in order, short frames padded with zeros to 60');
    t.same(atConnector.map((f) => f.toString('hex')), frames.map((f) => pad60(f).toString('hex')), 'listener -> connector: same');
    const sent = frames.reduce((sum, f) => sum + f.length, 0);
    const wire = frames.reduce((sum, f) => sum + Math.max(60, f.length), 0);
    for (const [who, netdev] of [['listener', listener], ['connector', connector]] as const) {
      t.same(netdev.stats, { rxPackets: frames.length, rxBytes: wire, txPackets: frames.length, txBytes: sent, rxDropped: 0, txDropped: 0 },
        `${who}: tx bytes as handed to send(), rx bytes as arrived`);
    }

    const unpadded = await pair(t, transport, { pad: 'false' }, { pad: 'false' });
    const got = collect(unpadded.listener);
    for (const frame of frames) unpadded.connector.send(frame);
    await waitFor(() => got.length === frames.length, 5000, 'all frames');
    t.same(got.map((f) => f.toString('hex')), frames.map((f) => f.toString('hex')), 'pad=false: frames arrive exactly as sent');
  });

  t.test(`${transport}: a burst of 5000 frames arrives intact and in order`, async (t) => {
    const { listener, connector } = await pair(t, transport, { pad: 'false' }, { pad: 'false' });
    const got = collect(listener);
    const frames: Buffer[] = [];
    for (let seq = 0; seq < 5000; seq++) frames.push(testFrame(18 + ((seq * 37) % 283), seq));
    const bytes = frames.reduce((sum, f) => sum + f.length + 2, 0);
    t.ok(bytes < STREAM_TX_QUEUE_BYTES, `the burst (${bytes} bytes) fits the transmit bound, so nothing may be dropped`);
    for (const frame of frames) connector.send(frame);
    await waitFor(() => got.length === frames.length, 10_000, `5000 frames (have ${got.length})`);
    const bad = got.findIndex((f, i) => !f.equals(frames[i]!));
    t.equal(bad, -1, 'every frame byte-identical, in order');
    t.equal(connector.stats.txDropped, 0, 'no transmit drops');
  });

  t.test(`${transport}: several peers on one listening port`, async (t) => {
    const reg = registry(t);
    const dir = tempDir(t);
    const port = transport === 'unix'
      ? await openStream(reg, 'p', { pstream: `punix:${join(dir, 'p.sock')}` })
      : await openStream(reg, 'p', { pstream: 'ptcp:0:127.0.0.1' });
    const where = transport === 'unix' ? { path: join(dir, 'p.sock') } : { host: '127.0.0.1', port: port.boundPort! };
    const peers = [await RawPeer.connect(where, t), await RawPeer.connect(where, t), await RawPeer.connect(where, t)];
    await waitFor(() => port.peerCount === 3, 2000, 'three peers');
    const got = collect(port);
    port.send(testFrame(100, 7));
    await waitFor(() => peers.every((p) => p.frames.length === 1), 2000, 'the frame at every peer');
    t.ok(peers.every((p) => p.frames[0]!.equals(testFrame(100, 7))), 'a frame sent goes to every connected peer');
    t.equal(port.stats.txPackets, 1, 'counted once');
    peers.forEach((p, i) => p.sendFrame(testFrame(80, 10 + i)));
    await waitFor(() => got.length === 3, 2000, 'frames from every peer');
    t.same(got.map((f) => f.readUInt32BE(14)).sort(), [10, 11, 12], 'frames from any peer are received');
    await peers[0]!.close();
    await waitFor(() => port.peerCount === 2, 2000, 'the peer to go');
    port.send(testFrame(100, 8));
    await waitFor(() => peers[1]!.frames.length === 2 && peers[2]!.frames.length === 2, 2000, 'the second frame');
    t.pass('the remaining peers still get frames');
  });
}

t.test('carrier: always up by default, as Open vSwitch dummy ports report it', async (t) => {
  const reg = registry(t);
  const dir = tempDir(t);
  const lone = await openStream(reg, 'lone', { pstream: `punix:${join(dir, 'lone.sock')}` });
  const dangling = await openStream(reg, 'dangling', { stream: `unix:${join(dir, 'nobody.sock')}` });
  const internal = await reg.open('internal', 'br0', {});
  t.equal(lone.carrier, true, 'listening, no peer: carrier up');
  t.equal(dangling.carrier, true, 'connecting to nobody: carrier up');
  t.equal(internal.carrier, true, 'internal with no options: carrier up');
  for (const netdev of [lone, dangling, internal]) netdev.send(testFrame(60, 1));
  t.same([lone, dangling, internal].map((n) => [n.stats.txPackets, n.stats.txDropped]), [[0, 1], [0, 1], [0, 1]], 'with no peer a frame is dropped and counted');
});

for (const transport of ['unix', 'tcp'] as const) {
  t.test(`${transport}: carrier=connected follows the peers, with onCarrierChange`, async (t) => {
    const reg = registry(t);
    const dir = tempDir(t);
    const listener = transport === 'unix'
      ? await openStream(reg, 'a', { pstream: `punix:${join(dir, 'a.sock')}`, carrier: 'connected' })
      : await openStream(reg, 'a', { pstream: 'ptcp:0:127.0.0.1', carrier: 'connected' });
    const listenerEvents: boolean[] = [];
    listener.onCarrierChange = (up) => listenerEvents.push(up);
    t.equal(listener.carrier, false, 'no peer yet: carrier down');
    const target = transport === 'unix' ? `unix:${join(dir, 'a.sock')}` : `tcp:127.0.0.1:${listener.boundPort}`;
    const connector = await openStream(reg, 'b', { stream: target, carrier: 'connected' });
    const connectorEvents: boolean[] = [];
    connector.onCarrierChange = (up) => connectorEvents.push(up);
    await waitFor(() => listener.carrier && connector.carrier, 5000, 'carrier up on both sides');
    t.same(listenerEvents, [true], 'listener: up');
    t.same(connectorEvents, [true], 'connector: up');
    await listener.close();
    await waitFor(() => !connector.carrier, 5000, 'carrier down at the connector');
    t.same(connectorEvents, [true, false], 'connector: down when the listener goes');
    t.equal(connector.connectionState, 'BACKOFF', 'and backing off');
  });
}

t.test('transmit queue bound: a peer that does not read gets drops, not unbounded memory', async (t) => {
  const reg = registry(t);
  const path = join(tempDir(t), 'p.sock');
  const port = await openStream(reg, 'p', { pstream: `punix:${path}` });
  const slow = await RawPeer.connect({ path }, t);
  slow.socket.pause();
  await waitFor(() => port.peerCount === 1, 2000, 'accept');
  const count = 4000;
  let maxQueued = 0;
  for (let seq = 0; seq < count; seq++) {
    port.send(testFrame(1514, seq));
    maxQueued = Math.max(maxQueued, port.queuedBytes);
  }
  t.ok(port.stats.txDropped > 0, `frames dropped (${port.stats.txDropped})`);
  t.equal(port.stats.txPackets + port.stats.txDropped, count, 'every frame either transmitted or dropped');
  t.equal(port.coverage.peerQueueDrops, port.stats.txDropped, 'counted as queue drops');
  t.ok(maxQueued <= STREAM_TX_QUEUE_BYTES + 1516, `queued bytes stayed bounded (max ${maxQueued})`);
  slow.socket.resume();
  await waitFor(() => slow.frames.length === port.stats.txPackets, 10_000, 'the transmitted frames to drain');
  const seqs = slow.frames.map((f) => f.readUInt32BE(14));
  t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'the frames that went out are intact and in order');
  port.send(testFrame(1514, count));
  await waitFor(() => slow.frames.length === port.stats.txPackets, 2000, 'a frame after draining');
  t.pass('sending resumes once the peer drains');
});

t.test('malformed framing from a peer drops that connection only', async (t) => {
  const reg = registry(t);
  const path = join(tempDir(t), 'p.sock');
  const port = await openStream(reg, 'p', { pstream: `punix:${path}` });
  const got = collect(port);
  const good = await RawPeer.connect({ path }, t);
  for (const [i, length] of [0, 13].entries()) {
    const bad = await RawPeer.connect({ path }, t);
    await waitFor(() => port.peerCount === 2, 2000, 'accept');
    bad.sendFrame(testFrame(60, 1));
    const header = Buffer.alloc(2 + length);
    header.writeUInt16BE(length, 0);
    bad.socket.write(header);
    await waitFor(() => bad.closed, 2000, `the connection sending length ${length} to be dropped`);
    t.equal(port.coverage.framingErrors, i + 1, `length ${length}: framing error counted`);
    await waitFor(() => port.peerCount === 1, 2000, 'the peer to be gone');
  }
  t.equal(got.length, 2, 'the whole frames before the bad length were received');
  good.sendFrame(testFrame(60, 9));
  await waitFor(() => got.length === 3, 2000, 'the good peer\'s frame');
  t.equal(good.closed, false, 'the well-behaved peer stays connected');
});

t.test('reconnect: backoff schedule of the state machine', async (t) => {
  const r = new Reconnect(0);
  const backoffs: number[] = [];
  let clock = 0;
  for (let i = 0; i < 6; i++) {
    r.connecting(clock);
    clock += 10;
    r.disconnected(clock);
    backoffs.push(r.backoffMs);
    clock += r.backoffMs;
  }
  t.same(backoffs, [1000, 2000, 4000, 8000, 8000, 8000], 'failed attempts: 1 s doubling to 8 s');
  r.connecting(clock);
  r.connected(clock);
  r.disconnected(clock + 9000);
  t.equal(r.backoffMs, 1000, 'after a connection that lasted longer than the backoff: 1 s again');
  r.connecting(clock + 10_000);
  r.connected(clock + 10_000);
  r.disconnected(clock + 10_100);
  t.equal(r.backoffMs, 2000, 'after a connection shorter than the backoff: doubles');
  t.equal(r.connectTimeoutMs(), 2000, 'a connection attempt may take max(1 s, backoff)');
  t.equal(r.state, 'backoff');
  t.equal(Reconnect.stateName(r.state), 'BACKOFF');
});

for (const transport of ['unix', 'tcp'] as const) {
  t.test(`${transport}: reconnect after the listening side restarts`, async (t) => {
    const reg = registry(t);
    const dir = tempDir(t);
    const listenOptions = transport === 'unix' ? { pstream: `punix:${join(dir, 'a.sock')}` } : { pstream: 'ptcp:0:127.0.0.1' };
    let listener = await openStream(reg, 'a', listenOptions);
    const fixed = transport === 'unix' ? listenOptions : { pstream: `ptcp:${listener.boundPort}:127.0.0.1` };
    const target = transport === 'unix' ? `unix:${join(dir, 'a.sock')}` : `tcp:127.0.0.1:${listener.boundPort}`;
    const connector = await openStream(reg, 'b', { stream: target, carrier: 'connected' });
    const events: boolean[] = [];
    connector.onCarrierChange = (up) => events.push(up);
    await waitFor(() => listener.peerCount === 1, 5000, 'the first connection');

    await listener.close();
    await waitFor(() => connector.connectionState === 'BACKOFF', 2000, 'the connector to notice');
    t.equal(connector.backoffMs, 1000, 'waits 1 s after losing an established connection');
    await sleep(200);
    const restartedAt = Date.now();
    listener = await openStream(reg, 'a', fixed);
    await waitFor(() => listener.peerCount === 1 && connector.connectionState === 'ACTIVE', 4000, 'the reconnection');
    t.ok(Date.now() - restartedAt < 2000, `reconnected ${Date.now() - restartedAt} ms after the restart`);
    t.same(events, [true, false, true], 'carrier: up, down, up');
    const got = collect(listener);
    const back = collect(connector);
    connector.send(testFrame(100, 1));
    listener.send(testFrame(100, 2));
    await waitFor(() => got.length === 1 && back.length === 1, 2000, 'frames after the reconnection');
    t.ok(got[0]!.equals(testFrame(100, 1)) && back[0]!.equals(testFrame(100, 2)), 'frames flow both ways again');
  });
}

t.test('a connecting port waits for a listener that appears later', async (t) => {
  const reg = registry(t);
  const path = join(tempDir(t), 'late.sock');
  const connector = await openStream(reg, 'b', { stream: `unix:${path}` });
  await waitFor(() => connector.connectionState === 'BACKOFF', 2000, 'the first attempt to fail');
  t.equal(connector.coverage.connectFailures, 1, 'one failed attempt');
  t.equal(connector.backoffMs, 1000, 'next attempt in 1 s');
  await sleep(100);
  const listener = await openStream(reg, 'a', { pstream: `punix:${path}` });
  await within(waitFor(() => listener.peerCount === 1, 3000, 'connection'), 3500, 'connection');
  t.equal(connector.connectionState, 'ACTIVE', 'connected on the next attempt');
});

t.test('stale socket files: removed before listening, ours removed on close', async (t) => {
  const reg = registry(t);
  const dir = tempDir(t);
  const path = join(dir, 'stale.sock');
  // A process that listens and dies with SIGKILL leaves its socket file behind.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], { stdio: 'ignore' });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  await within(new Promise((resolve) => child.once('exit', resolve)), 5000, 'the child to die');
  t.ok(lstatSync(path).isSocket(), 'a stale socket file is left behind');
  const refused = await RawPeer.connect({ path }, t).then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  t.ok(refused, 'nobody listens on it');

  const port = await openStream(reg, 'p', { pstream: `punix:${path}` });
  const peer = await RawPeer.connect({ path }, t);
  await waitFor(() => port.peerCount === 1, 2000, 'accept');
  port.send(testFrame(60, 1));
  await waitFor(() => peer.frames.length === 1, 2000, 'the frame');
  t.pass('listening on the path of the stale socket works');
  await port.close();
  t.notOk(existsSync(path), 'the socket file is removed on close');

  const notASocket = join(dir, 'regular-file');
  writeFileSync(notASocket, 'keep me');
  const error = await reg.open('stream', 'q', { pstream: `punix:${notASocket}` }).catch((e: unknown) => e);
  t.ok(error instanceof NetdevError && error.code === 'OPEN_FAILED', 'a regular file at the path: OPEN_FAILED');
  t.match((error as Error).message, /exists and is not a socket/);
  t.equal(readFileSync(notASocket, 'utf8'), 'keep me', 'and the file is left alone');
  t.equal(reg.get('q'), undefined, 'the name is free again');

  const noDir = await reg.open('stream', 'r', { pstream: `punix:${join(dir, 'missing', 'x.sock')}` }).catch((e: unknown) => e);
  t.ok(noDir instanceof NetdevError && noDir.code === 'OPEN_FAILED', 'a path in a missing directory: OPEN_FAILED');
});

t.test('internal ports: no options needed, or the stream options', async (t) => {
  const reg = registry(t);
  const path = join(tempDir(t), 'br0.sock');
  const local = await openStream(reg, 'br0', { pstream: `punix:${path}` }, 'internal');
  t.equal(local.type, 'internal');
  const peer = await RawPeer.connect({ path }, t);
  await waitFor(() => local.peerCount === 1, 2000, 'accept');
  const got = collect(local);
  peer.sendFrame(testFrame(42, 1));
  local.send(testFrame(42, 2));
  await waitFor(() => got.length === 1 && peer.frames.length === 1, 2000, 'frames');
  t.ok(got[0]!.equals(testFrame(42, 1)), 'received as sent (42 bytes, no padding added on receive)');
  t.ok(peer.frames[0]!.equals(pad60(testFrame(42, 2))), 'sent padded to 60');
});

t.test('frames received with no onReceive are counted as rxDropped; onReceive exceptions are contained', async (t) => {
  const { listener, connector } = await pair(t, 'unix');
  connector.send(testFrame(60, 1));
  await waitFor(() => listener.stats.rxDropped === 1, 2000, 'the drop');
  t.equal(listener.stats.rxPackets, 0);
  let calls = 0;
  listener.onReceive = () => { calls++; throw new Error('datapath bug'); };
  connector.send(testFrame(60, 2));
  connector.send(testFrame(60, 3));
  await waitFor(() => calls === 2, 2000, 'both frames');
  t.equal(listener.coverage.receiveExceptions, 2, 'counted');
  t.equal(listener.peerCount, 1, 'the connection survives');
});

t.test('frames too short or too long to send are dropped and counted', async (t) => {
  const { listener, connector } = await pair(t, 'unix');
  const got = collect(listener);
  connector.send(Buffer.alloc(13));
  connector.send(Buffer.alloc(65536));
  connector.send(testFrame(14, 1));
  await waitFor(() => got.length === 1, 2000, 'the valid frame');
  t.same(connector.stats, { rxPackets: 0, rxBytes: 0, txPackets: 1, txBytes: 14, rxDropped: 0, txDropped: 2 });
});

t.test('close() stops everything and is idempotent', async (t) => {
  const { reg, listener, connector } = await pair(t, 'unix');
  const closing = [listener.close(), listener.close(), connector.close()];
  await within(Promise.all(closing), 3000, 'close');
  t.equal(listener.peerCount, 0);
  t.same(reg.names(), [], 'names released');
  connector.send(testFrame(60, 1));
  t.equal(connector.stats.txDropped, 1, 'sending after close drops');
  await sleep(1200);
  t.equal(connector.connectionState, 'VOID', 'no reconnect attempts after close');
});
