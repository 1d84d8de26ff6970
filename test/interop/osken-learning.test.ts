/*
 * End to end with a real controller: os-ken (Debian's python3-os-ken) running our learning
 * switch app, test/oracles/learning_switch.py, in front of ofswitchd with four stream ports
 * and four simulated hosts (10.0.0.1-4 on p1-p4).
 *
 * WORKAROUND, until ofswitchd connects to controllers itself (the connection-manager issue):
 * ofswitchd neither connects to a controller nor offers a passive controller service yet; its
 * only OpenFlow socket is the management service `punix:<rundir>/br0.mgmt`, while os-ken
 * listens for switches. test/helpers/relay.ts connects to both (TCP to os-ken on
 * 127.0.0.1:<ephemeral port>, unix to br0.mgmt) and copies bytes both ways. Because br0.mgmt
 * is a service connection, the switch sends it no packet-ins until the client asks with a
 * nonzero miss_send_len, as in Open vSwitch; the app does, with OFPT_SET_CONFIG
 * (miss_send_len 128), when the switch's features arrive, as a real controller would. Once
 * ofswitchd dials controllers, the relay goes and os-ken is given `tcp:127.0.0.1:<port>`.
 *
 * What it shows:
 *  - the handshake, SET_CONFIG, the table-miss flow (output CONTROLLER:128) from os-ken work;
 *  - round 1: every host pings every other host (12 pings), all succeed: ARP broadcasts are
 *    flooded by buffered packet-ins answered with buffered packet-outs, and the controller
 *    installs one exact flow (in_port, eth_dst, eth_src) per direction: exactly 18
 *    packet-ins (3 per pair of hosts: ARP request, ARP reply, first echo request), all
 *    buffered, and 12 flows;
 *  - round 2: the same 12 pings again all succeed with ZERO new packet-ins (counted both by
 *    decoding in the relay and by the app's own log): every packet hits the learned rules
 *    (the rule counters below show it; how many went through the datapath's megaflow cache
 *    rather than an upcall is not observable from outside until ofs-appctl exists);
 *  - `ovs-ofctl -O OpenFlow13 dump-flows` lists the 12 learned flows with the right ports and
 *    addresses, and each one's n_packets grew by exactly 2 in round 2 (one echo request or
 *    reply per ping in each direction).
 *
 * Bounded: the whole file has a time limit; os-ken, ofswitchd and every socket are stopped in
 * teardown, by pid for the processes.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OFP_NO_BUFFER, type PacketIn } from '../../protocol/index.ts';
import { SimHost } from '../helpers/host.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { Relay } from '../helpers/relay.ts';

const PYTHON = '/usr/bin/python3';
const OSKEN_MANAGER = '/usr/bin/osken-manager';
const OVS_OFCTL = '/usr/bin/ovs-ofctl';
const APP = fileURLToPath(new URL('../oracles/learning_switch.py', import.meta.url));
const N_HOSTS = 4;
const PING_TIMEOUT_MS = 3000;

t.setTimeout(120_000);

function missing(): string | false {
  if (!existsSync(OSKEN_MANAGER)) return `${OSKEN_MANAGER} not found (install python3-os-ken)`;
  if (!existsSync(OVS_OFCTL)) return `${OVS_OFCTL} not found (install openvswitch-common)`;
  const probe = spawnSync(PYTHON, ['-c', 'import os_ken.cmd.manager'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) return `${PYTHON} cannot import os_ken: ${(probe.stderr ?? '').trim().split('\n').pop()}`;
  return false;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve()); });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Controller {
  process: ChildProcess;
  lines: string[];
  output(): string;
  stop(): Promise<void>;
}

function startOsken(port: number): Controller {
  const child = spawn(PYTHON, [OSKEN_MANAGER, '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), APP], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let all = '';
  child.stdout!.on('data', (d: Buffer) => {
    all += d.toString();
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => { all += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child, lines, output: () => all,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface LearnedFlow { inPort: number; src: string; dst: string; output: number; packets: number }

/** The app's flows (priority 100) from `ovs-ofctl dump-flows`, keyed "in_port src dst". */
function dumpLearnedFlows(mgmt: string): Map<string, LearnedFlow> {
  const r = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', 'dump-flows', `unix:${mgmt}`], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ovs-ofctl dump-flows failed: ${r.stderr}`);
  const flows = new Map<string, LearnedFlow>();
  for (const line of r.stdout.split('\n')) {
    if (!/priority=100\b/.test(line)) continue;
    const get = (re: RegExp): string => {
      const m = re.exec(line);
      if (!m) throw new Error(`cannot read ${re} in: ${line}`);
      return m[1]!;
    };
    const flow = {
      inPort: Number(get(/in_port=(\d+)/)), src: get(/dl_src=([0-9a-f:]+)/), dst: get(/dl_dst=([0-9a-f:]+)/),
      output: Number(get(/actions=output:(\d+)/)), packets: Number(get(/n_packets=(\d+)/)),
    };
    flows.set(`${flow.inPort} ${flow.src} ${flow.dst}`, flow);
  }
  return flows;
}

const skip = missing();

t.test('os-ken learning switch through ofswitchd: learns, installs flows, then stays out of the way', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-osken-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ports = Array.from({ length: N_HOSTS }, (_, i) => i + 1);
  const daemon = await startOfswitchd(ports.map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`));
  t.teardown(() => daemon.stop());

  const controllerPort = await freePort();
  const osken = startOsken(controllerPort);
  t.teardown(() => osken.stop());

  let relay: Relay;
  try {
    relay = await Relay.start({ switchPath: daemon.mgmt, controllerPort, connectTimeoutMs: 20_000 });
  } catch (e) {
    t.fail(`os-ken did not accept a connection: ${(e as Error).message}`, { output: osken.output() });
    return;
  }
  t.teardown(() => relay.close());

  // The app's configuration ends with a barrier: once answered, the table-miss flow is in.
  try {
    await relay.until(() => {
      const barrier = relay.fromController.find((m) => m.type === 'barrier_request');
      return !!barrier && relay.fromSwitch.some((m) => m.type === 'barrier_reply' && m.xid === barrier.xid);
    }, 20_000, 'the app to configure the switch');
  } catch (e) {
    t.fail((e as Error).message, { osken: osken.output(), ofswitchd: daemon.output() });
    return;
  }
  const features = relay.fromSwitch.find((m) => m.type === 'features_reply');
  t.ok(features?.type === 'features_reply' && features.nBuffers === 256, 'features reply: 256 packet buffers');
  t.ok(osken.lines.some((l) => /^FEATURES dpid=[0-9a-f]{16} n_buffers=256$/.test(l)), 'os-ken saw the switch');
  t.ok(relay.fromController.some((m) => m.type === 'set_config' && m.missSendLen === 128), 'os-ken sent SET_CONFIG miss_send_len=128');

  const hosts: SimHost[] = [];
  t.teardown(() => Promise.all(hosts.map((h) => h.close())));
  for (const n of ports) {
    hosts.push(await SimHost.connect(join(dir, `p${n}.sock`), { mac: `02:00:00:00:00:0${n}`, ip: `10.0.0.${n}`, name: `h${n}` }));
  }

  const packetIns = (): PacketIn[] => relay.fromSwitch.filter((m): m is PacketIn => m.type === 'packet_in');
  const appPacketIns = (): number => osken.lines.filter((l) => l.startsWith('PACKET_IN ')).length;
  const pingAll = async (round: string): Promise<number> => {
    let ok = 0;
    for (const a of hosts) {
      for (const b of hosts) {
        if (a === b) continue;
        try {
          await a.ping(b.ip, { timeoutMs: PING_TIMEOUT_MS });
          ok++;
        } catch (e) {
          t.fail(`${round}: ${(e as Error).message}`);
        }
      }
    }
    return ok;
  };

  // Round 1: the controller learns.
  const round1 = await pingAll('round 1');
  t.equal(round1, 12, 'round 1: all 12 pings succeed');
  const afterRound1 = packetIns();
  t.equal(afterRound1.length, 18, 'round 1: 18 packet-ins (ARP request, ARP reply, first echo request for each of 6 pairs)');
  t.ok(afterRound1.every((p) => p.bufferId !== OFP_NO_BUFFER && p.data.length === Math.min(128, p.totalLen)), 'every packet-in is buffered with the first 128 bytes');
  t.equal(relay.fromController.filter((m) => m.type === 'packet_out' && m.bufferId !== OFP_NO_BUFFER).length, 18, 'os-ken answered each with a packet-out naming the buffer');

  let learned = new Map<string, LearnedFlow>();
  try {
    await waitFor(() => (learned = dumpLearnedFlows(daemon.mgmt)).size >= 12, 5000, '12 learned flows');
  } catch { /* checked below */ }
  t.equal(learned.size, 12, 'dump-flows: 12 learned flows, one per direction of each pair');
  for (const a of hosts) {
    for (const b of hosts) {
      if (a === b) continue;
      const inPort = hosts.indexOf(a) + 1;
      const outPort = hosts.indexOf(b) + 1;
      const flow = learned.get(`${inPort} ${a.mac} ${b.mac}`);
      t.ok(flow && flow.output === outPort, `flow in_port=${inPort},dl_src=${a.mac},dl_dst=${b.mac} -> output:${outPort}`);
    }
  }

  // Round 2: everything is known; no packet may reach the controller.
  const before = { switch: packetIns().length, app: appPacketIns() };
  const round2 = await pingAll('round 2');
  t.equal(round2, 12, 'round 2: all 12 pings succeed');
  // Let anything in flight reach the controller before counting.
  await new Promise((r) => setTimeout(r, 300));
  t.equal(packetIns().length - before.switch, 0, 'round 2: no packet-in sent by the switch (counted in the relay)');
  t.equal(appPacketIns() - before.app, 0, 'round 2: no packet-in seen by os-ken');
  t.equal(hosts.reduce((n, h) => n + h.sent.filter((f) => f.readUInt16BE(12) === 0x0806).length, 0), 12, 'round 2 sent no ARP (12 ARP frames in all: 6 requests, 6 replies, all in round 1)');

  const counted = dumpLearnedFlows(daemon.mgmt);
  for (const [key, flow] of learned) {
    const now = counted.get(key);
    t.equal(now ? now.packets - flow.packets : NaN, 2, `flow ${key}: n_packets ${flow.packets} -> ${now?.packets} (+2 in round 2)`);
  }
  t.equal(relay.fromSwitch.filter((m) => m.type === 'error').length, 0, 'the switch sent os-ken no error');
  t.equal(relay.undecodable, 0, 'every relayed message decodes');
  t.notOk(osken.lines.some((l) => l.startsWith('ERROR ')), 'os-ken logged no error');
});
