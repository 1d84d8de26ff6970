/*
 * Wire compatibility of ofswitch stream netdevs with REAL Open vSwitch 3.1 `dummy` ports
 * (a private userspace ovs-vswitchd from test/helpers/ovs.ts, ports p1..p4 = OpenFlow 1..4):
 *
 * - our netdevs connect to OVS's `options:pstream=punix:...` sockets, and OVS connects to ours
 *   (`options:stream=unix:...`), in both directions frames cross OVS byte-identical, in order;
 * - Open vSwitch does not pad: with pad=false a short frame comes out exactly as sent, with our
 *   default pad=true it comes out as the 60 bytes we put on the wire;
 * - a frame OVS outputs on a pstream port goes to every connected peer;
 * - OVS drops a connection whose length prefix is below 14, as our decoder does;
 * - OVS reports an unconnected dummy port `state: LIVE` (no LINK_DOWN), which is why our
 *   default carrier is always up;
 * - OVS reconnects to our listening port after we restart it;
 * - two simulated hosts (test/helpers/host.ts) ping each other through OVS, with explicit
 *   flows and with actions=NORMAL.
 *
 * Skipped, with the reason printed, when Open vSwitch is not installed.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetdevRegistry, StreamNetdev, type Netdev } from '../../lib/netdev/index.ts';
import { ICMP_ECHO_REPLY, parseFrame, SimHost } from '../helpers/host.ts';
import { OVS_APPCTL, OVS_OFCTL, OVS_VSCTL, ovsMissing, startOvs, type OvsSwitch } from '../helpers/ovs.ts';
import { RawPeer, sleep, tempDir, testFrame, waitFor } from './util.ts';

function run(ovs: OvsSwitch, command: string, args: string[]): string {
  const result = spawnSync(command, args, { env: ovs.env, encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}${result.error ? String(result.error) : ''}`);
  return result.stdout;
}

function vsctl(ovs: OvsSwitch, ...args: string[]): string {
  return run(ovs, OVS_VSCTL, [`--db=unix:${join(ovs.rundir, 'db.sock')}`, '--timeout=10', ...args]);
}

function ofctl(ovs: OvsSwitch, command: string, ...args: string[]): string {
  return run(ovs, OVS_OFCTL, ['-O', 'OpenFlow13', command, ovs.target, ...args]);
}

function appctl(ovs: OvsSwitch, ...args: string[]): string {
  const pid = readFileSync(join(ovs.rundir, 'vs.pid'), 'utf8').trim();
  return run(ovs, OVS_APPCTL, ['-t', join(ovs.rundir, `ovs-vswitchd.${pid}.ctl`), ...args]);
}

function collect(netdev: Netdev): Buffer[] {
  const frames: Buffer[] = [];
  netdev.onReceive = (frame) => { frames.push(frame); };
  return frames;
}

function registry(t: Test): NetdevRegistry {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  return reg;
}

async function connectTo(reg: NetdevRegistry, name: string, socket: string, options: Record<string, string> = {}): Promise<StreamNetdev> {
  const netdev = await reg.open('stream', name, { stream: `unix:${socket}`, ...options }) as StreamNetdev;
  await waitFor(() => netdev.connectionState === 'ACTIVE', 5000, `${name} to connect to ${socket}`);
  return netdev;
}

t.test('against Open vSwitch 3.1 dummy ports', { skip: ovsMissing() ?? false, timeout: 120_000 }, async (t) => {
  const ovs = await startOvs();
  t.teardown(() => ovs.stop());
  const sock = (port: string): string => join(ovs.rundir, `${port}.sock`);
  const ours = tempDir(t, 'netdev-ovs-');
  // p1, p2, p4 listen; p3 is set up by its own test to connect to us.
  vsctl(ovs, 'set', 'interface', 'p1', `options:pstream=punix:${sock('p1')}`, '--',
    'set', 'interface', 'p2', `options:pstream=punix:${sock('p2')}`, '--',
    'set', 'interface', 'p4', `options:pstream=punix:${sock('p4')}`);
  await waitFor(() => ['p1', 'p2', 'p4'].every((p) => existsSync(sock(p))), 10_000, 'the OVS port sockets');

  t.test('an unconnected dummy port is LIVE (carrier up) in Open vSwitch, as in ofswitch by default', async (t) => {
    const show = ofctl(ovs, 'show');
    const p1 = /\n 1\(p1\): addr:(\S+)\n\s+config:\s+(\S+)\n\s+state:\s+(\S+)/.exec(show);
    t.ok(p1, 'ovs-ofctl show lists p1');
    t.equal(p1?.[3], 'LIVE', 'p1, listening with no peer: state LIVE, no LINK_DOWN');
    t.match(p1?.[1], /^aa:55:/, 'Open vSwitch dummy addresses start aa:55 too');
    const reg = registry(t);
    const netdev = await reg.open('stream', 'lonely', { pstream: `punix:${join(ours, 'lonely.sock')}` });
    t.equal(netdev.carrier, true, 'our stream netdev with no peer: carrier up');
  });

  t.test('frames cross OVS byte-identical, both ways, in order; OVS does not pad', async (t) => {
    ofctl(ovs, 'del-flows');
    ofctl(ovs, 'add-flow', 'in_port=1,actions=output:2');
    ofctl(ovs, 'add-flow', 'in_port=2,actions=output:1');
    const reg = registry(t);
    const raw1 = await connectTo(reg, 'raw1', sock('p1'), { pad: 'false' });
    const raw2 = await connectTo(reg, 'raw2', sock('p2'), { pad: 'false' });
    const padded1 = await connectTo(reg, 'pad1', sock('p1'));
    const at1 = collect(raw1);
    const at1padded = collect(padded1);
    const at2 = collect(raw2);
    await sleep(100); // let OVS accept all three

    const sizes = [14, 15, 42, 59, 60, 61, 64, 100, 1000, 1514];
    const frames = sizes.map((n, i) => testFrame(n, i, '02:00:00:00:00:01', '02:00:00:00:00:02'));
    for (const frame of frames) raw1.send(frame);
    await waitFor(() => at2.length === frames.length, 5000, `frames at p2 (have ${at2.length})`);
    t.same(at2.map((f) => f.toString('hex')), frames.map((f) => f.toString('hex')),
      'pad=false on p1 -> p2: every frame byte-identical, short ones unpadded (Open vSwitch adds no padding)');

    const short = testFrame(42, 100);
    padded1.send(short);
    await waitFor(() => at2.length === frames.length + 1, 5000, 'the padded frame');
    t.same(at2.at(-1)!.toString('hex'), Buffer.concat([short, Buffer.alloc(18)]).toString('hex'), 'pad=true on p1 -> p2: the 60 bytes we put on the wire');

    const back = sizes.map((n, i) => testFrame(n, 200 + i, '02:00:00:00:00:02', '02:00:00:00:00:01'));
    for (const frame of back) raw2.send(frame);
    await waitFor(() => at1.length === back.length && at1padded.length === back.length, 5000, 'frames at p1');
    t.same(at1.map((f) => f.toString('hex')), back.map((f) => f.toString('hex')), 'p2 -> p1: byte-identical');
    t.same(at1padded.map((f) => f.toString('hex')), back.map((f) => f.toString('hex')), 'OVS sends each frame to every peer of the port');

    const burst = Array.from({ length: 300 }, (_, i) => testFrame(60 + (i % 200), 1000 + i));
    for (const frame of burst) raw1.send(frame);
    const before = frames.length + 1;
    await waitFor(() => at2.length === before + burst.length, 10_000, `the burst (have ${at2.length - before})`);
    t.ok(at2.slice(before).every((f, i) => f.equals(burst[i]!)), 'a burst of 300 frames: intact and in order');
    t.same([raw1.stats.txPackets, raw2.stats.rxPackets], [frames.length + burst.length, frames.length + 1 + burst.length], 'counters');

    const ports = ofctl(ovs, 'dump-ports', '2');
    const tx = /tx pkts=(\d+), bytes=(\d+)/.exec(ports);
    t.equal(Number(tx?.[1]), raw2.stats.rxPackets, 'OVS counted as many frames out of p2 as we received');
    t.equal(Number(tx?.[2]), raw2.stats.rxBytes, 'and as many bytes');
  });

  t.test('OVS connects to our listening port (options:stream), and again after we restart it', async (t) => {
    ofctl(ovs, 'del-flows');
    ofctl(ovs, 'add-flow', 'in_port=3,actions=output:4');
    ofctl(ovs, 'add-flow', 'in_port=4,actions=output:3');
    const reg = registry(t);
    const path = join(ours, 'p3.sock');
    let n3 = await reg.open('stream', 'n3', { pstream: `punix:${path}`, carrier: 'connected' }) as StreamNetdev;
    vsctl(ovs, 'set', 'interface', 'p3', `options:stream=unix:${path}`);
    t.teardown(() => { try { vsctl(ovs, 'remove', 'interface', 'p3', 'options', 'stream'); } catch { /* OVS stopped */ } });
    await waitFor(() => n3.carrier, 10_000, 'OVS to connect to us');
    t.match(appctl(ovs, 'netdev-dummy/conn-state', 'p3'), /connected/, 'netdev-dummy/conn-state p3: connected');
    const n4 = await connectTo(reg, 'n4', sock('p4'), { pad: 'false' });
    const at3 = collect(n3);
    const at4 = collect(n4);
    await sleep(100);
    n3.send(testFrame(1514, 1));
    n4.send(testFrame(42, 2));
    await waitFor(() => at3.length === 1 && at4.length === 1, 5000, 'frames through OVS');
    t.ok(at4[0]!.equals(testFrame(1514, 1)), 'ours (listening) -> OVS p3 -> p4');
    t.ok(at3[0]!.equals(testFrame(42, 2)), 'p4 -> OVS p3 -> ours (listening), unpadded');

    await n3.close();
    await sleep(200);
    const restartedAt = Date.now();
    n3 = await reg.open('stream', 'n3', { pstream: `punix:${path}`, carrier: 'connected' }) as StreamNetdev;
    await waitFor(() => n3.carrier, 10_000, 'OVS to reconnect');
    t.pass(`OVS reconnected ${Date.now() - restartedAt} ms after the restart`);
    const again = collect(n3);
    n4.send(testFrame(80, 3));
    await waitFor(() => again.length === 1, 5000, 'a frame after the reconnection');
    t.ok(again[0]!.equals(testFrame(80, 3)), 'frames flow again');
  });

  t.test('OVS drops a connection whose frame length is below 14, like our decoder', async (t) => {
    const good = await RawPeer.connect({ path: sock('p4') }, t);
    const bad = await RawPeer.connect({ path: sock('p4') }, t);
    good.sendFrame(testFrame(14, 1));
    bad.socket.write(Buffer.from([0x00, 0x0d, ...Buffer.alloc(13)]));
    await waitFor(() => bad.closed, 5000, 'OVS to close the connection');
    t.pass('length 13: connection closed by Open vSwitch (EPROTO)');
    await sleep(200);
    t.equal(good.closed, false, 'length 14: accepted, connection kept');
  });

  for (const mode of ['explicit', 'NORMAL'] as const) {
    t.test(`two hosts ping each other through OVS (${mode} flows)`, async (t) => {
      ofctl(ovs, 'del-flows');
      if (mode === 'explicit') {
        ofctl(ovs, 'add-flow', 'in_port=1,actions=output:2');
        ofctl(ovs, 'add-flow', 'in_port=2,actions=output:1');
      } else {
        ofctl(ovs, 'add-flow', 'actions=NORMAL');
      }
      const suffix = mode === 'explicit' ? 1 : 2;
      const h1 = await SimHost.connect(sock('p1'), { mac: `02:00:00:00:${suffix}0:01`, ip: `10.${suffix}.0.1` });
      t.teardown(() => h1.close());
      const h2 = await SimHost.connect(sock('p2'), { mac: `02:00:00:00:${suffix}0:02`, ip: `10.${suffix}.0.2` });
      t.teardown(() => h2.close());
      await sleep(100);
      const rtt = await h1.ping(h2.ip, { timeoutMs: 5000 });
      t.ok(rtt < 5000, `h1 -> h2: ${rtt.toFixed(2)} ms`);
      const back = await h2.ping(h1.ip, { timeoutMs: 5000 });
      t.ok(back < 5000, `h2 -> h1: ${back.toFixed(2)} ms`);
      t.same(h2.answered, { arp: 1, echo: 1 }, 'h2 answered ARP and echo');
      t.same(h1.answered, { arp: 0, echo: 1 }, 'h1 answered the echo (it had learned h2 from the ARP)');
      const echoReply = h1.received.find((f) => parseFrame(f)?.icmp?.type === ICMP_ECHO_REPLY);
      t.equal(echoReply?.length, 98, 'the echo reply arrives as h2 sent it: 14 + 20 + 8 + 56 bytes');
      t.equal(h1.received.filter((f) => f.length === 42).length, 1, 'the 42-byte ARP reply arrives unpadded through OVS');
    });
  }
});
