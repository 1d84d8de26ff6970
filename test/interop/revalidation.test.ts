/*
 * Revalidation: a change to the switch's tables, groups, ports or learned addresses, or a
 * flow's expiry, takes effect on the very next packet, even for a flow whose translation the
 * datapath has cached (megaflow and exact-match cache). ofswitchd with stream ports p1..p4,
 * a wire client on each (the Open vSwitch `dummy` framing), and a raw OpenFlow client on the
 * management socket.
 *
 * Every step is tightly sequenced: the change, a BARRIER_REQUEST, and as soon as the barrier
 * reply is in, a frame. Each case is repeated 50 times, alternating, so that a cache that
 * survives a change (or a race between the control and data paths) shows up. (Open vSwitch
 * itself does not pass this: its revalidators update cached datapath flows asynchronously,
 * after the barrier reply; ofswitch drops cached translations before it acknowledges a
 * change, see lib/datapath/datapath.ts.)
 *
 * Knowing that a frame did NOT come out of a port without sleeping: every test frame is
 * followed by a marker frame from the same port, which a priority-1000 flow sends to every
 * other port. The switch handles the frames of one port in order and writes each port's
 * frames in order, so once the marker has arrived at a port, everything the test frame
 * produced for that port has arrived before it. Test frames carry a sequence number, so each
 * is found wherever it went. (With p2 administratively down no marker reaches p2 either: that
 * case looks at p2 after bringing it back up, behind a later marker.)
 *
 * The cases:
 *  - modify: p1 -> p2 flow, cached; MODIFY_STRICT to output:p3 -> the next frame goes to p3
 *    only (and the one after, now cached, too); back to p2 likewise;
 *  - delete: DELETE_STRICT -> the next frame goes nowhere (no table-miss flow);
 *  - a higher-priority drop for a subset (udp_dst=5000): the next matching frame is dropped
 *    while non-matching frames are still forwarded; removing the drop restores forwarding;
 *  - group: a flow to an ALL group; GROUP_MOD MODIFY changes its buckets between {p2} and
 *    {p3, p4} -> the next frame follows the new buckets;
 *  - port down: PORT_MOD p2 PORT_DOWN -> neither output:2 nor FLOOD sends to p2 any more
 *    (FLOOD still reaches p3 and p4), and a frame received on p2 goes nowhere; port up ->
 *    p2 sends and receives again;
 *  - MAC learning: with actions=NORMAL, an address that moves between p1 and p2 (a broadcast
 *    from its new port) gets the next frame sent to it from p4 on its new port;
 *  - timeouts: steady traffic through a cached flow keeps its idle_timeout=1 from firing;
 *    once an idle_timeout or hard_timeout flow's FLOW_REMOVED is in, the next frame goes
 *    nowhere.
 *
 * Bounded: the file has a time limit, each wait has one; daemons are stopped by pid and
 * sockets closed in teardown. Times are milliseconds.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Action, type Bucket, type Instruction, type Match, OFP_NO_BUFFER, OFPFC_ADD, OFPFC_DELETE_STRICT, OFPFC_MODIFY_STRICT,
  OFPG_ANY, OFPGC_ADD, OFPGC_MODIFY, OFPGT_ALL, OFPP_ANY, OFPP_FLOOD, OFPP_NORMAL, OFPPC_PORT_DOWN, type OfpMessage,
} from '../../protocol/index.ts';
import { BROADCAST_MAC, ethernetFrame, ipv4Packet, SimHost } from '../helpers/host.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { startOfswitchd } from '../helpers/ofswitchd.ts';

t.setTimeout(120_000);

const ROUNDS = 50;
const WAIT_MS = 3000;
const MARKER_SRC = '02:00:00:00:ff:ff';
const MARKER_ETH_TYPE = 0x88b5;
const ALL_PORTS = [1, 2, 3, 4] as const;

function output(port: number): Action {
  return { type: 'output', port, maxLen: 0 };
}

function apply(...actions: Action[]): Instruction[] {
  return [{ type: 'apply_actions', actions }];
}

function flowMod(xid: number, command: number, priority: number, match: Match, instructions: Instruction[], cookie = 0x1n): OfpMessage {
  return {
    type: 'flow_mod', xid, cookie, cookieMask: 0n, tableId: 0, command, idleTimeout: 0, hardTimeout: 0, priority,
    bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0, match, instructions,
  };
}

function bucket(...ports: number[]): Bucket {
  return { weight: 0, watchPort: OFPP_ANY, watchGroup: OFPG_ANY, actions: ports.map(output) };
}

/** A 100-byte UDP frame from the host on port `from` (h1 to h2, else to h1, or to `dstMac`) carrying `seq`. */
function testFrame(seq: number, udpDst: number, from = 1, dstMac?: string): Buffer {
  const udp = Buffer.alloc(100 - 14 - 20);
  udp.writeUInt16BE(4000, 0);
  udp.writeUInt16BE(udpDst, 2);
  udp.writeUInt16BE(udp.length, 4);
  udp.writeUInt32BE(seq, 8);
  const [src, dst] = from === 1 ? [1, 2] : [from, 1];
  return ethernetFrame(dstMac ?? `02:00:00:00:00:0${dst}`, `02:00:00:00:00:0${src}`, 0x0800, ipv4Packet(`10.0.0.${src}`, `10.0.0.${dst}`, 17, udp, { id: seq & 0xffff }));
}

function testSeq(frame: Buffer): number | undefined {
  if (frame.length < 14 + 20 + 12 || frame.readUInt16BE(12) !== 0x0800 || frame[14 + 9] !== 17) return undefined;
  return frame.readUInt32BE(14 + 20 + 8);
}

function markerFrame(seq: number): Buffer {
  const body = Buffer.alloc(60 - 14);
  body.writeUInt32BE(seq, 0);
  return ethernetFrame('02:00:00:00:ff:fe', MARKER_SRC, MARKER_ETH_TYPE, body);
}

function isMarker(frame: Buffer, seq: number): boolean {
  return frame.length >= 18 && frame.readUInt16BE(12) === MARKER_ETH_TYPE && frame.readUInt32BE(14) === seq;
}

interface Rig {
  client: OfClient;
  hosts: Map<number, SimHost>;
  xid(): number;
  /** Sends `messages`, then a barrier; resolves on its reply; fails the test on any error reply. */
  change(...messages: OfpMessage[]): Promise<void>;
  /**
   * Sends a test frame (udp_dst `udpDst`) and a marker from port `from` (default p1); waits
   * for the marker at `markerPorts` (default: every other port); returns the ports among
   * those that the test frame reached, and its seq.
   */
  probe(udpDst: number, markerPorts?: readonly number[], from?: number, dstMac?: string): Promise<{ seq: number; ports: number[] }>;
  /** Sends `frame` and a marker from port `from`, and waits for the marker at every other port. */
  sendAndSettle(frame: Buffer, from: number): Promise<void>;
  /** Sends a test frame from port `from` without waiting for anything; returns its seq. */
  send(udpDst: number, from: number): number;
  /** Every port that has received the test frame `seq` so far. */
  reached(seq: number): number[];
}

async function rig(t: Test): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-reval-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = await startOfswitchd([1, 2, 3, 4].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`));
  t.teardown(() => daemon.stop());
  const client = await OfClient.connect(daemon.mgmt);
  t.teardown(() => client.close());
  await client.next((m) => m.type === 'hello');
  const hosts = new Map<number, SimHost>();
  t.teardown(() => Promise.all([...hosts.values()].map((h) => h.close())));
  for (const n of [1, 2, 3, 4]) hosts.set(n, await SimHost.connect(join(dir, `p${n}.sock`), { mac: `02:00:00:00:00:0${n}`, ip: `10.0.0.${n}`, name: `p${n}` }));
  let xid = 1000;
  let seq = 0;
  const r: Rig = {
    client, hosts,
    xid: () => ++xid,
    async change(...messages) {
      for (const m of messages) client.send(m);
      const barrier = await client.request({ type: 'barrier_request', xid: ++xid }, WAIT_MS);
      const errors = client.received.filter((m) => m.type === 'error');
      if (barrier.type !== 'barrier_reply' || errors.length) {
        throw new Error(`change refused: ${JSON.stringify(errors.map((e) => e.type === 'error' && [e.errType, e.code]))}`);
      }
    },
    send(udpDst, from) {
      const s = ++seq;
      hosts.get(from)!.send(testFrame(s, udpDst, from));
      return s;
    },
    async sendAndSettle(frame, from) {
      const s = ++seq;
      const marks = new Map<number, number>(ALL_PORTS.map((p) => [p, hosts.get(p)!.mark()]));
      hosts.get(from)!.send(frame);
      hosts.get(from)!.send(markerFrame(s));
      await Promise.all(ALL_PORTS.filter((p) => p !== from).map((p) => hosts.get(p)!.waitFor((f) => isMarker(f, s), WAIT_MS, marks.get(p))));
    },
    async probe(udpDst, markerPorts, from = 1, dstMac) {
      markerPorts ??= ALL_PORTS.filter((p) => p !== from);
      const s = ++seq;
      const marks = new Map<number, number>(ALL_PORTS.map((p) => [p, hosts.get(p)!.mark()]));
      hosts.get(from)!.send(testFrame(s, udpDst, from, dstMac));
      hosts.get(from)!.send(markerFrame(s));
      await Promise.all(markerPorts.map((p) => hosts.get(p)!.waitFor((f) => isMarker(f, s), WAIT_MS, marks.get(p))));
      const ports = markerPorts.filter((p) => hosts.get(p)!.received.slice(marks.get(p)).some((f) => testSeq(f) === s));
      return { seq: s, ports: [...ports] };
    },
    reached(s) {
      return ALL_PORTS.filter((p) => hosts.get(p)!.received.some((f) => testSeq(f) === s));
    },
  };
  // The marker flow: above everything the cases install, never changed by them; from any
  // port it reaches the other three (an output to the input port is skipped).
  await r.change(flowMod(r.xid(), OFPFC_ADD, 1000, [{ field: 'eth_src', value: MARKER_SRC }], apply(...ALL_PORTS.map(output)), 0xffn));
  return r;
}

/** Collects mismatches instead of asserting 50 x N times; reports them once. */
class Tally {
  probes = 0;
  readonly wrong: string[] = [];
  check(what: string, got: readonly number[], want: readonly number[]): void {
    this.probes++;
    const g = [...got].sort().join(',');
    const w = [...want].sort().join(',');
    if (g !== w && this.wrong.length < 20) this.wrong.push(`${what}: reached [${g}], expected [${w}]`);
    else if (g !== w) this.wrong.push('');
  }
  report(t: Test, what: string): void {
    t.same(this.wrong.filter(Boolean).slice(0, 20), [], `${what}: ${this.probes - this.wrong.length}/${this.probes} frames went exactly where the tables said (${this.wrong.length} wrong)`);
  }
}

const FLOW_MATCH: Match = [{ field: 'in_port', value: 1 }];
const UDP_5000: Match = [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 5000 }];
const UDP_6000: Match = [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 6000 }];

t.test('modify: the next frame after the barrier follows the modified flow', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  await r.change(flowMod(r.xid(), OFPFC_ADD, 10, FLOW_MATCH, apply(output(2))));
  tally.check('warm-up', (await r.probe(5000)).ports, [2]);
  tally.check('warm-up, cached', (await r.probe(5000)).ports, [2]);
  for (let i = 0; i < ROUNDS; i++) {
    const target = i % 2 === 0 ? 3 : 2;
    await r.change(flowMod(r.xid(), OFPFC_MODIFY_STRICT, 10, FLOW_MATCH, apply(output(target))));
    tally.check(`round ${i}: first frame after modify to ${target}`, (await r.probe(5000)).ports, [target]);
    tally.check(`round ${i}: second frame after modify to ${target}`, (await r.probe(5000)).ports, [target]);
  }
  tally.report(t, `${ROUNDS} modifications p2 <-> p3`);
});

t.test('delete: the next frame after the barrier goes nowhere', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  for (let i = 0; i < ROUNDS; i++) {
    await r.change(flowMod(r.xid(), OFPFC_ADD, 10, FLOW_MATCH, apply(output(2))));
    tally.check(`round ${i}: after add`, (await r.probe(5000)).ports, [2]);
    tally.check(`round ${i}: after add, cached`, (await r.probe(5000)).ports, [2]);
    await r.change(flowMod(r.xid(), OFPFC_DELETE_STRICT, 10, FLOW_MATCH, []));
    tally.check(`round ${i}: first frame after delete`, (await r.probe(5000)).ports, []);
    tally.check(`round ${i}: second frame after delete`, (await r.probe(5000)).ports, []);
  }
  tally.report(t, `${ROUNDS} add/delete cycles`);
});

t.test('a higher-priority drop for a subset: matching frames dropped at once, others still forwarded', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  await r.change(flowMod(r.xid(), OFPFC_ADD, 10, FLOW_MATCH, apply(output(2))));
  for (let i = 0; i < ROUNDS; i++) {
    tally.check(`round ${i}: udp 5000 before the drop`, (await r.probe(5000)).ports, [2]);
    tally.check(`round ${i}: udp 6000 before the drop`, (await r.probe(6000)).ports, [2]);
    await r.change(flowMod(r.xid(), OFPFC_ADD, 20, UDP_5000, [], 0x2n));
    tally.check(`round ${i}: udp 5000 right after the drop`, (await r.probe(5000)).ports, []);
    tally.check(`round ${i}: udp 6000 right after the drop`, (await r.probe(6000)).ports, [2]);
    tally.check(`round ${i}: udp 5000 again`, (await r.probe(5000)).ports, []);
    await r.change(flowMod(r.xid(), OFPFC_DELETE_STRICT, 20, UDP_5000, []));
    tally.check(`round ${i}: udp 5000 right after removing the drop`, (await r.probe(5000)).ports, [2]);
  }
  tally.report(t, `${ROUNDS} drop/undrop cycles`);
});

t.test('group: a bucket change takes effect on the next frame', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  await r.change(
    { type: 'group_mod', xid: r.xid(), command: OFPGC_ADD, groupType: OFPGT_ALL, groupId: 1, buckets: [bucket(2)] },
    flowMod(r.xid(), OFPFC_ADD, 10, FLOW_MATCH, apply({ type: 'group', groupId: 1 })),
  );
  tally.check('warm-up', (await r.probe(5000)).ports, [2]);
  tally.check('warm-up, cached', (await r.probe(5000)).ports, [2]);
  for (let i = 0; i < ROUNDS; i++) {
    const targets = i % 2 === 0 ? [3, 4] : [2];
    await r.change({ type: 'group_mod', xid: r.xid(), command: OFPGC_MODIFY, groupType: OFPGT_ALL, groupId: 1, buckets: targets.map((p) => bucket(p)) });
    tally.check(`round ${i}: first frame after buckets -> {${targets}}`, (await r.probe(5000)).ports, targets);
    tally.check(`round ${i}: second frame after buckets -> {${targets}}`, (await r.probe(5000)).ports, targets);
  }
  tally.report(t, `${ROUNDS} group modifications {p2} <-> {p3,p4}`);
});

t.test('port down: the port neither sends nor receives from the next frame on, and resumes when it comes up', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  const desc = await r.client.request({ type: 'multipart_request', xid: r.xid(), flags: 0, body: { mpType: 'port_desc' } });
  const p2 = desc.type === 'multipart_reply' && desc.body.mpType === 'port_desc' ? desc.body.ports.find((p) => p.portNo === 2) : undefined;
  if (!p2) {
    t.fail('port 2 in the port description');
    return;
  }
  const portMod = (down: boolean): OfpMessage => ({
    type: 'port_mod', xid: r.xid(), portNo: 2, hwAddr: p2.hwAddr, config: down ? OFPPC_PORT_DOWN : 0, mask: OFPPC_PORT_DOWN, advertise: 0,
  });
  /** Frames p2's device has taken in (received or dropped), from the port counters. */
  const p2Taken = async (): Promise<number> => {
    const reply = await r.client.request({ type: 'multipart_request', xid: r.xid(), flags: 0, body: { mpType: 'port_stats', portNo: 2 } });
    const stats = reply.type === 'multipart_reply' && reply.body.mpType === 'port_stats' ? reply.body.ports[0] : undefined;
    const known = (n: bigint | undefined): number => (n === undefined || n === 0xffffffffffffffffn ? 0 : Number(n));
    return known(stats?.rxPackets) + known(stats?.rxDropped);
  };
  const h2 = r.hosts.get(2)!;
  await r.change(
    flowMod(r.xid(), OFPFC_ADD, 10, FLOW_MATCH, apply(output(2))),
    flowMod(r.xid(), OFPFC_ADD, 20, UDP_6000, apply(output(OFPP_FLOOD))),
    flowMod(r.xid(), OFPFC_ADD, 10, [{ field: 'in_port', value: 2 }], apply(output(1))),
  );
  for (let i = 0; i < ROUNDS; i++) {
    tally.check(`round ${i}: output:2 while up`, (await r.probe(5000)).ports, [2]);
    tally.check(`round ${i}: FLOOD while up`, (await r.probe(6000)).ports, [2, 3, 4]);
    tally.check(`round ${i}: received on p2 while up`, (await r.probe(5000, undefined, 2)).ports, [1]);
    await r.change(portMod(true));
    // The marker cannot reach p2 now: p2 is checked below, once it is up again.
    const direct = await r.probe(5000, [3, 4]);
    const flood = await r.probe(6000, [3, 4]);
    tally.check(`round ${i}: output:2 right after p2 went down (p3, p4)`, direct.ports, []);
    tally.check(`round ${i}: FLOOD right after p2 went down (p3, p4)`, flood.ports, [3, 4]);
    // A frame arriving on p2 while it is down: nothing can be seen of it but p2's counters;
    // once they show it taken in, it has been through the switch.
    const incoming = r.send(5000, 2);
    await waitFor(async () => (await p2Taken()) >= h2.sent.length, WAIT_MS, 'p2 to take in the frame');
    await r.change(portMod(false));
    tally.check(`round ${i}: output:2 right after p2 came up`, (await r.probe(5000)).ports, [2]);
    tally.check(`round ${i}: received on p2 right after it came up`, (await r.probe(5000, undefined, 2)).ports, [1]);
    // Everything sent to p2 (or sent on from p2) while it was down would have arrived by now.
    tally.check(`round ${i}: output:2 while p2 was down, seen anywhere`, r.reached(direct.seq), []);
    tally.check(`round ${i}: FLOOD while p2 was down, seen anywhere`, r.reached(flood.seq), [3, 4]);
    tally.check(`round ${i}: received on p2 while it was down, seen anywhere`, r.reached(incoming), []);
  }
  tally.report(t, `${ROUNDS} port down/up cycles`);
});

t.test('MAC learning (NORMAL): traffic to an address that moved follows it on the next frame', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  const moving = '02:00:00:00:aa:01';
  await r.change(flowMod(r.xid(), OFPFC_ADD, 0, [], apply(output(OFPP_NORMAL))));
  for (let i = 0; i < ROUNDS; i++) {
    const at = i % 2 === 0 ? 1 : 2;
    // The address shows up on port `at` (a broadcast from it, flooded by NORMAL), and the
    // switch has handled that frame before anything else is sent.
    await r.sendAndSettle(ethernetFrame(BROADCAST_MAC, moving, 0x88b6, Buffer.alloc(46, i)), at);
    tally.check(`round ${i}: p4 -> the address, first frame after it moved to p${at}`, (await r.probe(5000, undefined, 4, moving)).ports, [at]);
    tally.check(`round ${i}: p4 -> the address, second frame after it moved to p${at}`, (await r.probe(5000, undefined, 4, moving)).ports, [at]);
  }
  tally.report(t, `${ROUNDS} moves of one address between p1 and p2`);
});

t.test('idle and hard timeouts: traffic keeps an idle flow alive; once a flow expires the next frame goes nowhere', async (t) => {
  const r = await rig(t);
  const tally = new Tally();
  // A service connection hears FLOW_REMOVED once it asks (as `ovs-ofctl monitor` would).
  r.client.send({ type: 'set_async', xid: r.xid(), packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [0x3, 0] });
  const sendFlowRem = 1; // OFPFF_SEND_FLOW_REM
  for (const [name, idle, hard] of [['idle_timeout=1', 1, 0], ['hard_timeout=1', 0, 1]] as const) {
    const add = flowMod(r.xid(), OFPFC_ADD, 10, FLOW_MATCH, apply(output(2)), 0x77n);
    await r.change({ ...add, idleTimeout: idle, hardTimeout: hard, flags: sendFlowRem } as OfpMessage);
    const added = Date.now();
    // Frames every 200 ms for 1.6 s: an idle timeout never fires while the (cached) flow is used.
    let forwarded = 0;
    let sent = 0;
    while (Date.now() - added < 1600 && !r.client.received.some((m) => m.type === 'flow_removed')) {
      sent++;
      if ((await r.probe(5000)).ports.join() === '2') forwarded++;
      await new Promise((res) => setTimeout(res, 200));
    }
    if (idle) {
      t.equal(forwarded, sent, `${name}: all ${sent} frames in 1.6 s of steady traffic forwarded`);
      t.notOk(r.client.received.some((m) => m.type === 'flow_removed'), `${name}: the flow did not expire while used`);
    }
    const removed = await r.client.next((m) => m.type === 'flow_removed', 3000).catch(() => undefined);
    t.ok(removed, `${name}: FLOW_REMOVED once the flow ${idle ? 'is idle' : 'is 1 s old'}`);
    tally.check(`${name}: first frame after FLOW_REMOVED`, (await r.probe(5000)).ports, []);
    tally.check(`${name}: second frame after FLOW_REMOVED`, (await r.probe(5000)).ports, []);
  }
  tally.report(t, 'expired flows');
});

/** Polls an asynchronous condition every 10 ms; rejects after `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
