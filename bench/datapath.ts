/*
 * Datapath benchmark, side by side with Open vSwitch 3.1's userspace datapath in one run,
 * through stream ports (the dummy-netdev framing both speak): frames go in on port 1 and are
 * counted where they come out.
 *
 *  - forwarding rate with 1 rule (in_port=1 -> output:2);
 *  - forwarding rate with 10,000 rules over 10 masks (ipv4_dst prefixes /15../24), frames
 *    spread over 1,000 destinations;
 *  - the same while a controller adds a flow every 10 ms for destinations the traffic does not
 *    use (routes elsewhere): how much each change costs the traffic already flowing;
 *  - forwarding rate through NORMAL to a destination not learned (flooded; the source is
 *    learned again with every frame);
 *  - forwarding rate when table 0 pushes a VLAN tag (push_vlan, set_field vlan_vid) and table 1
 *    outputs (Faucet's pattern for an untagged port);
 *  - packet-in rate and latency to a controller (table-miss -> CONTROLLER; the controller is
 *    a raw OpenFlow client on the management socket that asked for packet-ins).
 *
 * Traffic keeps a fixed window of frames in flight (closed loop), so neither switch is
 * flooded past what it can take. Reported as rates and ofswitch/OVS ratios. Not a test.
 *
 *   npx tsx bench/datapath.ts [--seconds=3] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetdevRegistry, type Netdev } from '../lib/netdev/index.ts';
import { buildFrame } from '../lib/packet/index.ts';
import { type FlowMod, OFPFC_ADD } from '../protocol/index.ts';
import { OfClient } from '../test/helpers/ofclient.ts';
import { startOfswitchd } from '../test/helpers/ofswitchd.ts';
import { ovsMissing, startOvs } from '../test/helpers/ovs.ts';

const args = process.argv.slice(2);
const SECONDS = Number(args.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 3);
const asJson = args.includes('--json');
const WINDOW = 64;

interface Subject {
  name: string;
  target: string;
  mgmt: string;
  env: NodeJS.ProcessEnv;
  portSocket(n: number): string;
  stop(): Promise<unknown>;
}

function ofctl(s: Subject, ...command: string[]): void {
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', ...command], { env: s.env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${s.name}: ovs-ofctl ${command.join(' ')}: ${r.stderr}`);
}

function frame(i: number, destinations: number): Buffer {
  const d = i % destinations;
  return buildFrame({
    ethSrc: '02:00:00:00:00:01', ethDst: '02:00:00:00:00:02',
    ipv4: { src: '192.168.0.1', dst: `10.${(d >> 8) & 255}.${d & 255}.1` },
    udp: { src: 1000 + (i % 50), dst: 2000 }, payload: Buffer.alloc(64),
  });
}

/** Frames per second from port 1 to port 2 with a window of frames in flight. */
async function forwardingRate(registry: NetdevRegistry, s: Subject, destinations: number): Promise<number> {
  const tx = await registry.open('stream', `${s.name}-tx`, { stream: `unix:${s.portSocket(1)}`, pad: 'false' });
  const rx = await registry.open('stream', `${s.name}-rx`, { stream: `unix:${s.portSocket(2)}`, pad: 'false' });
  try {
    await waitConnected([tx, rx]);
    const frames = Array.from({ length: 4096 }, (_, i) => frame(i, destinations));
    let sent = 0;
    let received = 0;
    let counting = false;
    let counted = 0;
    const pump = (): void => { while (sent - received < WINDOW) tx.send(frames[sent++ % frames.length]!); };
    rx.onReceive = () => { received++; if (counting) counted++; pump(); };
    pump();
    await sleep(1000); // warm-up: caches filled
    counting = true;
    const started = performance.now();
    await sleep(SECONDS * 1000);
    counting = false;
    const elapsed = (performance.now() - started) / 1000;
    rx.onReceive = undefined;
    return counted / elapsed;
  } finally {
    await Promise.all([tx.close(), rx.close()]);
  }
}

/** Adds a flow for 11.<n>.0.0/16 every `everyMs` on the management socket until stopped. */
async function addFlowsMeanwhile(s: Subject, everyMs: number): Promise<() => Promise<number>> {
  const controller = await OfClient.connect(s.mgmt);
  let n = 0;
  const timer = setInterval(() => {
    n++;
    controller.send({
      type: 'flow_mod', xid: 1000 + n, cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
      priority: 30, bufferId: 0xffffffff, outPort: 0, outGroup: 0, flags: 0,
      match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `11.${(n >> 8) & 255}.${n & 255}.0`, mask: '255.255.255.0' }],
      instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }],
    } satisfies FlowMod);
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await controller.request({ type: 'barrier_request', xid: 999 });
    controller.close();
    return n;
  };
}

/** Packet-ins per second, and the median and 99th-percentile latency from frame to packet-in. */
async function packetIn(registry: NetdevRegistry, s: Subject): Promise<{ rate: number; p50: number; p99: number }> {
  const tx = await registry.open('stream', `${s.name}-pin`, { stream: `unix:${s.portSocket(1)}`, pad: 'false' });
  const controller = await OfClient.connect(s.mgmt);
  try {
    await waitConnected([tx]);
    controller.send({ type: 'set_config', xid: 2, flags: 0, missSendLen: 128 });
    await controller.request({ type: 'barrier_request', xid: 3 });
    const frames = Array.from({ length: 1024 }, (_, i) => frame(i, 1000));
    // Latency: one frame at a time.
    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const started = performance.now();
      tx.send(frames[i % frames.length]!);
      await controller.next((m) => m.type === 'packet_in', 2000);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    // Rate: a window of frames in flight.
    let sent = 0;
    let got = 0;
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) {
      while (sent - got < WINDOW) tx.send(frames[sent++ % frames.length]!);
      await controller.next((m) => m.type === 'packet_in', 2000);
      got++;
      controller.received.length = 0;
    }
    return { rate: got / SECONDS, p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.floor(latencies.length * 0.99)]! };
  } finally {
    controller.close();
    await tx.close();
  }
}

async function waitConnected(netdevs: Netdev[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (netdevs.some((n) => (n as unknown as { peerCount: number }).peerCount === 0)) {
    if (Date.now() > deadline) throw new Error('stream ports did not connect');
    await sleep(20);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function subjects(dir: string): Promise<Subject[]> {
  const ports = [1, 2, 3, 4].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `ofs-p${n}.sock`)}`);
  const ofs = await startOfswitchd(['--datapath-id=0000000000000001', ...ports]);
  const list: Subject[] = [{
    name: 'ofswitch', target: `unix:${ofs.mgmt}`, mgmt: ofs.mgmt, env: process.env, stop: () => ofs.stop(),
    portSocket: (n) => join(dir, `ofs-p${n}.sock`),
  }];
  const missing = ovsMissing();
  if (missing) {
    process.stderr.write(`Open vSwitch not measured: ${missing}\n`);
    return list;
  }
  const ovs = await startOvs();
  for (const n of [1, 2, 3, 4]) {
    const r = spawnSync('ovs-vsctl', [`--db=unix:${join(ovs.rundir, 'db.sock')}`, 'set', 'interface', `p${n}`, `options:pstream=punix:${join(dir, `ovs-p${n}.sock`)}`], { env: ovs.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  list.push({ name: 'ovs', target: ovs.target, mgmt: ovs.mgmt, env: ovs.env, stop: () => ovs.stop(), portSocket: (n) => join(dir, `ovs-p${n}.sock`) });
  return list;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ofswitch-bench-dp-'));
  const list = await subjects(dir);
  const registry = new NetdevRegistry();
  const results: Record<string, Record<string, number>> = {};
  try {
    for (const s of list) {
      process.stderr.write(`${s.name}: 1 rule...\n`);
      ofctl(s, 'del-flows', s.target);
      ofctl(s, 'add-flow', s.target, 'in_port=1,actions=output:2');
      const oneRule = await forwardingRate(registry, s, 1000);
      process.stderr.write(`${s.name}: 10k rules...\n`);
      ofctl(s, 'del-flows', s.target);
      const lines: string[] = [];
      for (let prefix = 15; prefix < 25; prefix++) {
        for (let i = 0; i < 1000; i++) {
          const net = ((10 << 24) | (i << (32 - prefix))) >>> 0;
          lines.push(`priority=${prefix},ip,nw_dst=${[24, 16, 8, 0].map((b) => (net >>> b) & 255).join('.')}/${prefix},actions=output:2`);
        }
      }
      lines.push('priority=1,actions=output:2');
      writeFileSync(join(dir, 'flows'), [...new Set(lines)].join('\n') + '\n');
      ofctl(s, 'add-flows', s.target, join(dir, 'flows'));
      const manyRules = await forwardingRate(registry, s, 1000);
      process.stderr.write(`${s.name}: 10k rules, flows added meanwhile...\n`);
      const stopAdding = await addFlowsMeanwhile(s, 10);
      const churn = await forwardingRate(registry, s, 1000);
      process.stderr.write(`${s.name}: ${await stopAdding()} flows added\n`);
      process.stderr.write(`${s.name}: NORMAL...\n`);
      ofctl(s, 'del-flows', s.target);
      ofctl(s, 'add-flow', s.target, 'actions=NORMAL');
      const normal = await forwardingRate(registry, s, 1000);
      process.stderr.write(`${s.name}: push_vlan...\n`);
      ofctl(s, 'del-flows', s.target);
      ofctl(s, 'add-flow', s.target, 'table=0,in_port=1,actions=push_vlan:0x8100,set_field:4196->vlan_vid,goto_table:1');
      ofctl(s, 'add-flow', s.target, 'table=1,dl_vlan=100,actions=output:2');
      const pushVlan = await forwardingRate(registry, s, 1000);
      process.stderr.write(`${s.name}: packet-in...\n`);
      ofctl(s, 'del-flows', s.target);
      ofctl(s, 'add-flow', s.target, 'priority=0,actions=CONTROLLER:128');
      const pin = await packetIn(registry, s);
      results[s.name] = { oneRule, manyRules, churn, normal, pushVlan, pinRate: pin.rate, pinP50: pin.p50, pinP99: pin.p99 };
    }
  } finally {
    await Promise.all(list.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  if (asJson) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  const rows: Array<[string, string, (v: number) => string, boolean]> = [
    ['oneRule', 'forwarding, 1 rule (frames/s)', (v) => Math.round(v).toLocaleString('en'), true],
    ['manyRules', 'forwarding, 10k rules over 10 masks (frames/s)', (v) => Math.round(v).toLocaleString('en'), true],
    ['churn', 'forwarding, 10k rules, a flow added every 10 ms meanwhile (frames/s)', (v) => Math.round(v).toLocaleString('en'), true],
    ['normal', 'forwarding, NORMAL to an unknown destination (frames/s)', (v) => Math.round(v).toLocaleString('en'), true],
    ['pushVlan', 'forwarding, push_vlan then goto_table (frames/s)', (v) => Math.round(v).toLocaleString('en'), true],
    ['pinRate', 'packet-in rate (msgs/s)', (v) => Math.round(v).toLocaleString('en'), true],
    ['pinP50', 'packet-in latency, median (ms)', (v) => v.toFixed(3), false],
    ['pinP99', 'packet-in latency, 99th percentile (ms)', (v) => v.toFixed(3), false],
  ];
  const out = [`Node ${process.version}, ${SECONDS} s per measure, window ${WINDOW} frames`, '',
    '| measure | ofswitch | Open vSwitch | ratio |', '|---|--:|--:|--:|'];
  for (const [key, label, fmt, higherIsBetter] of rows) {
    const ours = results.ofswitch?.[key];
    const theirs = results.ovs?.[key];
    const ratio = ours !== undefined && theirs ? `${(ours / theirs).toFixed(2)}${higherIsBetter ? '' : ' (lower is better)'}` : 'n/a';
    out.push(`| ${label} | ${ours === undefined ? 'n/a' : fmt(ours)} | ${theirs === undefined ? 'n/a' : fmt(theirs)} | ${ratio} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
