/*
 * End to end with a real controller: os-ken (Debian's python3-os-ken) running our learning
 * switch app, test/oracles/learning_switch.py, and ofswitchd with four stream ports and four
 * simulated hosts (10.0.0.1-4 on p1-p4). ofswitchd dials os-ken itself:
 * `--controller=tcp:127.0.0.1:<ephemeral port>`, a primary connection, which gets packet-ins
 * by default (the app still sends OFPT_SET_CONFIG miss_send_len 128, as real controllers do;
 * it is harmless).
 *
 * What it shows:
 *  - the handshake (os-ken sees 256 packet buffers), the flush and the table-miss flow
 *    (output CONTROLLER:128) from os-ken work, its barrier is answered;
 *  - round 1: every host pings every other host (12 pings), all succeed: ARP broadcasts are
 *    flooded by buffered packet-ins answered with buffered packet-outs, and the controller
 *    installs one exact flow (in_port, eth_dst, eth_src) per direction: exactly 18
 *    packet-ins (3 per pair of hosts: ARP request, ARP reply, first echo request), all
 *    buffered with the first 128 bytes, each answered with a packet-out naming its buffer,
 *    and 12 flows;
 *  - round 2: the same 12 pings again all succeed with ZERO new packet-ins (counted both by
 *    the switch, `ofs-appctl connmgr/show`, and by the app's own log): every packet hits the
 *    learned rules;
 *  - `ovs-ofctl -O OpenFlow13 dump-flows` lists the 12 learned flows with the right ports and
 *    addresses, and each one's n_packets grew by exactly 2 in round 2 (one echo request or
 *    reply per ping in each direction).
 *
 * Bounded: the whole file has a time limit; os-ken, ofswitchd and every socket are stopped in
 * teardown, by pid for the processes.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connmgrShow } from '../helpers/appctl.ts';
import { freePort } from '../helpers/controller.ts';
import { SimHost } from '../helpers/host.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { oskenMissing, startOsken } from '../helpers/osken.ts';

const OVS_OFCTL = '/usr/bin/ovs-ofctl';
const APP = fileURLToPath(new URL('../oracles/learning_switch.py', import.meta.url));
const N_HOSTS = 4;
const PING_TIMEOUT_MS = 3000;
const OFP_NO_BUFFER = 0xffffffff;

t.setTimeout(120_000);

function missing(): string | false {
  if (!existsSync(OVS_OFCTL)) return `${OVS_OFCTL} not found (install openvswitch-common)`;
  return oskenMissing();
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

  const controllerPort = await freePort();
  const osken = startOsken({ app: APP, port: controllerPort });
  t.teardown(() => osken.stop());
  await osken.waitListening(20_000);
  const daemon = await startOfswitchd([`--controller=tcp:127.0.0.1:${controllerPort}`,
    ...ports.map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`)]);
  t.teardown(() => daemon.stop());

  // The app's configuration ends with a barrier: once answered, the table-miss flow is in.
  try {
    await osken.waitLine(/^BARRIER_REPLY /, 20_000);
  } catch (e) {
    t.fail(`os-ken did not configure the switch: ${(e as Error).message}`, { ofswitchd: daemon.output() });
    return;
  }
  t.ok(osken.lines.some((l) => /^FEATURES dpid=[0-9a-f]{16} n_buffers=256$/.test(l)), 'os-ken saw the switch: features reply with 256 packet buffers');
  const connected = (await connmgrShow(daemon.rundir)).controllers.find((c) => c.target === `tcp:127.0.0.1:${controllerPort}`);
  t.match(connected, { isConnected: true, role: 'equal' }, 'connmgr/show: ofswitchd is connected to os-ken');

  const hosts: SimHost[] = [];
  t.teardown(() => Promise.all(hosts.map((h) => h.close())));
  for (const n of ports) {
    hosts.push(await SimHost.connect(join(dir, `p${n}.sock`), { mac: `02:00:00:00:00:0${n}`, ip: `10.0.0.${n}`, name: `h${n}` }));
  }

  const target = `tcp:127.0.0.1:${controllerPort}`;
  /** Packet-ins sent, as the switch counts them (connmgr/show). */
  const switchPacketIns = async (): Promise<number> => (await connmgrShow(daemon.rundir)).controllers.find((c) => c.target === target)?.packetInsSent ?? NaN;
  const appPacketIns = (): string[] => osken.lines.filter((l) => l.startsWith('PACKET_IN '));
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
  const afterRound1 = appPacketIns();
  t.equal(afterRound1.length, 18, 'round 1: os-ken got 18 packet-ins (ARP request, ARP reply, first echo request for each of 6 pairs)');
  t.equal(await switchPacketIns(), 18, 'round 1: and the switch counts 18 sent (connmgr/show)');
  t.ok(afterRound1.every((l) => {
    const m = /buffer_id=(\d+) total_len=(\d+) data_len=(\d+) reason=0$/.exec(l);
    return m !== null && Number(m[1]) !== OFP_NO_BUFFER && Number(m[3]) === Math.min(128, Number(m[2]));
  }), 'every packet-in is buffered with the first 128 bytes, reason NO_MATCH');
  t.equal(osken.lines.filter((l) => l.startsWith('PACKET_OUT ') && l.endsWith(' buffered=1')).length, 18, 'os-ken answered each with a packet-out naming the buffer');

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
  const before = { switch: await switchPacketIns(), app: appPacketIns().length };
  const round2 = await pingAll('round 2');
  t.equal(round2, 12, 'round 2: all 12 pings succeed');
  // Let anything in flight reach the controller before counting.
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await switchPacketIns() - before.switch, 0, 'round 2: no packet-in sent by the switch (connmgr/show)');
  t.equal(appPacketIns().length - before.app, 0, 'round 2: no packet-in seen by os-ken');
  t.equal(hosts.reduce((n, h) => n + h.sent.filter((f) => f.readUInt16BE(12) === 0x0806).length, 0), 12, 'round 2 sent no ARP (12 ARP frames in all: 6 requests, 6 replies, all in round 1)');

  const counted = dumpLearnedFlows(daemon.mgmt);
  for (const [key, flow] of learned) {
    const now = counted.get(key);
    t.equal(now ? now.packets - flow.packets : NaN, 2, `flow ${key}: n_packets ${flow.packets} -> ${now?.packets} (+2 in round 2)`);
  }
  t.notOk(osken.lines.some((l) => l.startsWith('ERROR ')), 'the switch sent os-ken no error (os-ken logged none)');
  const drops = (await connmgrShow(daemon.rundir)).controllers.find((c) => c.target === target)?.packetInDrops;
  t.equal(drops, 0, 'connmgr/show: no packet-in dropped');
});
