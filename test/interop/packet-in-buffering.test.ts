/*
 * Packet-in buffering (the seeds' pktbuf, Open vSwitch's before 2.7), seen from outside:
 * ofswitchd with stream ports p1..p3, wire clients on them (the Open vSwitch `dummy` framing:
 * a 2-byte big-endian length, then the frame), and a raw OpenFlow client on the management
 * socket. A service connection gets packet-ins only once it asks, so the client first sends
 * OFPT_SET_CONFIG with miss_send_len 128, then installs the table-miss flow
 * `priority=0,actions=CONTROLLER:128`.
 *
 * What it shows:
 *  - an explicit output to CONTROLLER with max_len OFPCML_NO_BUFFER is never buffered (whole
 *    packet, OFP_NO_BUFFER) and takes no buffer;
 *  - 300 distinct misses within 5 s: exactly the first 256 packet-ins are buffered (distinct
 *    buffer ids, the first 128 bytes, total_len the packet's length), the other 44 carry
 *    OFP_NO_BUFFER and the whole packet;
 *  - PACKET_OUT with a buffer id sends exactly that packet (byte for byte) out of the port its
 *    action names; the same id again is OFPET_BAD_REQUEST/OFPBRC_BUFFER_EMPTY; an id never
 *    given is OFPBRC_BUFFER_UNKNOWN; neither sends anything;
 *  - FLOW_MOD with a buffer id sends the buffered packet through the new rule (out of the
 *    rule's port, counted on the rule);
 *  - after 5 s, buffers are given again: the next 256 misses are all buffered; a 257th within
 *    5 s is not; every id of the first burst is now stale (OFPBRC_BUFFER_UNKNOWN, nothing
 *    sent), and the new ids release their own packets;
 *  - `ofswitchd --no-buffering`: features report n_buffers 0; every packet-in carries
 *    OFP_NO_BUFFER and the whole packet, whatever max_len says; a buffer id is refused with
 *    OFPBRC_BUFFER_UNKNOWN.
 *
 * Bounded: the file has a time limit; daemons are stopped by pid, sockets closed in teardown.
 * Times are milliseconds.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OFP_NO_BUFFER, OFPBRC_BUFFER_EMPTY, OFPBRC_BUFFER_UNKNOWN, OFPCML_NO_BUFFER, OFPET_BAD_REQUEST, OFPFC_ADD, OFPG_ANY,
  OFPP_ANY, OFPP_CONTROLLER, OFPR_ACTION, OFPR_NO_MATCH, OFPTT_ALL, type Match, type OfpMessage, type PacketIn,
} from '../../protocol/index.ts';
import { ethernetFrame, ipv4Packet, SimHost } from '../helpers/host.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { startOfswitchd, type Daemon } from '../helpers/ofswitchd.ts';

t.setTimeout(90_000);

const FRAME_LEN = 200;
const MISS_LEN = 128;
const BUFFERS = 256;
const OVERWRITE_MS = 5000;
const DST_MAC = '02:00:00:00:00:99';
/** Frames from this address match the OFPCML_NO_BUFFER flow. */
const NOBUF_SRC = '02:00:00:00:ee:01';

/** A UDP/IPv4 frame of `length` bytes whose source MAC and payload carry `index`. */
function frame(index: number, length = FRAME_LEN, src = `02:00:00:01:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}`): Buffer {
  const udpLength = length - 14 - 20;
  const udp = Buffer.alloc(udpLength);
  udp.writeUInt16BE(4000, 0);
  udp.writeUInt16BE(5000, 2);
  udp.writeUInt16BE(udpLength, 4);
  udp.writeUInt32BE(index, 8);
  for (let i = 12; i < udpLength; i++) udp[i] = (index + i) & 0xff;
  return ethernetFrame(DST_MAC, src, 0x0800, ipv4Packet('10.0.1.1', '10.0.2.2', 17, udp, { id: index & 0xffff }));
}

function flowMod(xid: number, priority: number, match: Match, port: number, maxLen = 0, bufferId = OFP_NO_BUFFER): OfpMessage {
  return {
    type: 'flow_mod', xid, cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
    priority, bufferId, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0, match,
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port, maxLen }] }],
  };
}

function packetOut(xid: number, bufferId: number, port: number, data: Buffer = Buffer.alloc(0)): OfpMessage {
  return { type: 'packet_out', xid, bufferId, inPort: 1, actions: [{ type: 'output', port, maxLen: 0 }], data };
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Setup {
  daemon: Daemon;
  client: OfClient;
  hosts: SimHost[];
  xid: () => number;
}

/** ofswitchd with p1..p3 on unix sockets, a wire client on each, an OpenFlow client asking for packet-ins. */
async function setup(t: Test, extraArgs: string[] = []): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-pktbuf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = await startOfswitchd([...extraArgs, ...[1, 2, 3].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`)]);
  t.teardown(() => daemon.stop());
  const client = await OfClient.connect(daemon.mgmt);
  t.teardown(() => client.close());
  await client.next((m) => m.type === 'hello');
  const hosts: SimHost[] = [];
  t.teardown(() => Promise.all(hosts.map((h) => h.close())));
  for (const n of [1, 2, 3]) hosts.push(await SimHost.connect(join(dir, `p${n}.sock`), { mac: `02:00:00:00:00:0${n}`, ip: `10.0.0.${n}`, name: `p${n}` }));
  let xid = 100;
  const next = (): number => ++xid;
  client.send({ type: 'set_config', xid: next(), flags: 0, missSendLen: MISS_LEN });
  client.send(flowMod(next(), 0, [], OFPP_CONTROLLER, MISS_LEN));
  const barrier = await client.request({ type: 'barrier_request', xid: next() });
  t.equal(barrier.type, 'barrier_reply', 'SET_CONFIG miss_send_len=128 and table-miss flow CONTROLLER:128');
  t.same(client.received.filter((m) => m.type === 'error'), [], 'without errors');
  return { daemon, client, hosts, xid: next };
}


async function packetIns(client: OfClient, count: number, timeoutMs: number): Promise<PacketIn[]> {
  const got: PacketIn[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    got.push(await client.next((m) => m.type === 'packet_in', Math.max(1, deadline - Date.now())) as PacketIn);
  }
  return got;
}

/** Sends a request and expects an OpenFlow error of BAD_REQUEST/`code` in answer. */
async function expectBadRequest(t: Test, client: OfClient, message: OfpMessage, code: number, what: string): Promise<void> {
  const reply = await client.request(message, 3000).catch((e: Error) => e);
  const got = reply instanceof Error ? reply.message : reply.type === 'error' ? `error type ${reply.errType} code ${reply.code}` : reply.type;
  t.equal(got, `error type ${OFPET_BAD_REQUEST} code ${code}`, what);
}

/**
 * Frames received at `host` since `since`, once `settleMs` passed without more arriving
 * (a packet-out is executed before the barrier reply leaves, but the two travel on
 * different sockets).
 */
async function receivedSince(host: SimHost, since: number, settleMs = 150): Promise<Buffer[]> {
  let count = -1;
  while (count !== host.received.length) {
    count = host.received.length;
    await delay(settleMs);
  }
  return host.received.slice(since);
}

t.test('packet-in buffers: 256 in 5 s, packet-out and flow-mod release them, stale and unknown ids refused', async (t) => {
  const { client, hosts, xid } = await setup(t);
  const [p1, p2, p3] = hosts as [SimHost, SimHost, SimHost];

  const features = await client.request({ type: 'features_request', xid: xid() });
  t.equal(features.type === 'features_reply' && features.nBuffers, BUFFERS, 'features reply: n_buffers 256');

  // max_len OFPCML_NO_BUFFER: the whole packet, no buffer (and no slot used).
  client.send(flowMod(xid(), 50, [{ field: 'eth_src', value: NOBUF_SRC }], OFPP_CONTROLLER, OFPCML_NO_BUFFER));
  await client.request({ type: 'barrier_request', xid: xid() });
  const whole = frame(9999, FRAME_LEN, NOBUF_SRC);
  p1.send(whole);
  const [nobuf] = await packetIns(client, 1, 3000);
  t.same(
    nobuf && { bufferId: nobuf.bufferId, totalLen: nobuf.totalLen, reason: nobuf.reason, data: nobuf.data.equals(whole) },
    { bufferId: OFP_NO_BUFFER, totalLen: FRAME_LEN, reason: OFPR_ACTION, data: true },
    'output:CONTROLLER with max_len NO_BUFFER: OFP_NO_BUFFER and the whole packet',
  );

  // 300 distinct misses at once.
  const burst = Array.from({ length: 300 }, (_, i) => frame(i));
  const sentAt = Date.now();
  for (const f of burst) p1.send(f);
  const ins = await packetIns(client, burst.length, 4000);
  const burstMs = Date.now() - sentAt;
  t.ok(burstMs < OVERWRITE_MS, `300 packet-ins within 5 s (${burstMs} ms)`);
  const order = ins.map((p) => p.data.subarray(6, 12).readUInt16BE(4));
  t.same(order, burst.map((_, i) => i), 'packet-ins arrive in the order the packets did');
  const buffered = ins.filter((p) => p.bufferId !== OFP_NO_BUFFER);
  t.equal(buffered.length, BUFFERS, '256 packet-ins are buffered');
  t.equal(ins.length - buffered.length, 44, '44 are not');
  t.ok(ins.slice(0, BUFFERS).every((p) => p.bufferId !== OFP_NO_BUFFER), 'the buffered ones are the first 256');
  t.equal(new Set(buffered.map((p) => p.bufferId)).size, BUFFERS, 'with 256 distinct buffer ids');
  t.ok(ins.slice(0, BUFFERS).every((p, i) => p.data.equals(burst[i]!.subarray(0, MISS_LEN)) && p.totalLen === FRAME_LEN),
    'buffered: the first 128 bytes, total_len 200');
  t.ok(ins.slice(BUFFERS).every((p, i) => p.bufferId === OFP_NO_BUFFER && p.data.equals(burst[BUFFERS + i]!) && p.totalLen === FRAME_LEN),
    'unbuffered: OFP_NO_BUFFER and the whole 200-byte packet');
  t.ok(ins.every((p) => p.reason === OFPR_NO_MATCH && p.tableId === 0 && JSON.stringify(p.match) === JSON.stringify([{ field: 'in_port', value: 1 }])),
    'reason NO_MATCH, table 0, match in_port=1');
  const burstDone = Date.now();
  const firstIds = ins.slice(0, BUFFERS).map((p) => p.bufferId);

  // PACKET_OUT with a buffer id: exactly that packet, out of port 2.
  let mark2 = p2.mark();
  let mark3 = p3.mark();
  client.send(packetOut(xid(), firstIds[10]!, 2));
  await client.request({ type: 'barrier_request', xid: xid() });
  let out2 = await receivedSince(p2, mark2);
  t.equal(out2.length, 1, 'packet-out of buffer #10: one frame out of p2');
  t.ok(out2[0]?.equals(burst[10]!), 'byte for byte the buffered packet (all 200 bytes, not the 128 sent up)');
  t.same(client.received.filter((m) => m.type === 'error'), [], 'no error');

  mark2 = p2.mark();
  await expectBadRequest(t, client, packetOut(xid(), firstIds[10]!, 2), OFPBRC_BUFFER_EMPTY, 'the same buffer again: BAD_REQUEST/BUFFER_EMPTY');
  let madeUp = 0x00abcd07;
  while (firstIds.includes(madeUp)) madeUp++;
  await expectBadRequest(t, client, packetOut(xid(), madeUp, 2), OFPBRC_BUFFER_UNKNOWN, `a buffer id never given (0x${madeUp.toString(16)}): BUFFER_UNKNOWN`);
  t.equal((await receivedSince(p2, mark2)).length, 0, 'neither sends anything');

  // FLOW_MOD with a buffer id: the packet goes through the new rule.
  const src20 = burst[20]!.subarray(6, 12);
  const src20Text = [...src20].map((b) => b.toString(16).padStart(2, '0')).join(':');
  mark2 = p2.mark();
  mark3 = p3.mark();
  client.send(flowMod(xid(), 100, [{ field: 'in_port', value: 1 }, { field: 'eth_src', value: src20Text }], 3, 0, firstIds[20]!));
  await client.request({ type: 'barrier_request', xid: xid() });
  const out3 = await receivedSince(p3, mark3);
  t.equal(out3.length, 1, 'flow-mod with buffer #20: one frame out of the new rule\'s port p3');
  t.ok(out3[0]?.equals(burst[20]!), 'byte for byte the buffered packet');
  t.equal((await receivedSince(p2, mark2)).length, 0, 'nothing out of p2');
  t.same(client.received.filter((m) => m.type === 'error'), [], 'no error');
  const stats = await client.request({
    type: 'multipart_request', xid: xid(), flags: 0,
    body: { mpType: 'flow', tableId: OFPTT_ALL, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [{ field: 'eth_src', value: src20Text }] },
  });
  const flow = stats.type === 'multipart_reply' && stats.body.mpType === 'flow' ? stats.body.flows.find((f) => f.priority === 100) : undefined;
  t.equal(flow?.packetCount, 1n, 'the new rule counted the released packet');
  await expectBadRequest(t, client, packetOut(xid(), firstIds[20]!, 2), OFPBRC_BUFFER_EMPTY, 'buffer #20 is used up: BUFFER_EMPTY');

  // Within 5 s a miss still gets no buffer (every slot holds a packet younger than 5 s).
  p1.send(frame(400));
  const [young] = await packetIns(client, 1, 3000);
  if (Date.now() - sentAt < OVERWRITE_MS - 200) t.equal(young?.bufferId, OFP_NO_BUFFER, 'a miss before 5 s have passed: not buffered');

  // After 5 s, buffers are given again, overwriting old packets.
  await delay(Math.max(0, burstDone + OVERWRITE_MS + 300 - Date.now()));
  const second = Array.from({ length: BUFFERS }, (_, i) => frame(1000 + i));
  p1.send(second[0]!);
  const [first] = await packetIns(client, 1, 3000);
  t.ok(first && first.bufferId !== OFP_NO_BUFFER, 'after 5 s a new miss is buffered again');
  for (const f of second.slice(1)) p1.send(f);
  const rest = await packetIns(client, BUFFERS - 1, 4000);
  const secondIns = [first!, ...rest];
  t.ok(secondIns.every((p) => p.bufferId !== OFP_NO_BUFFER), 'so are the next 255 (every slot is free or older than 5 s)');
  const secondIds = secondIns.map((p) => p.bufferId);
  t.equal(new Set(secondIds).size, BUFFERS, 'with distinct ids');
  t.equal(secondIds.filter((id) => firstIds.includes(id)).length, 0, 'none equal to an id of the first burst');
  p1.send(frame(2000));
  const [full] = await packetIns(client, 1, 3000);
  t.equal(full?.bufferId, OFP_NO_BUFFER, 'a 257th miss within 5 s is not buffered');

  // Every id of the first burst is stale now: refused, nothing sent.
  mark2 = p2.mark();
  const staleXids = new Map<number, number>();
  for (const id of firstIds) {
    const x = xid();
    staleXids.set(x, id);
    client.send(packetOut(x, id, 2));
  }
  await client.request({ type: 'barrier_request', xid: xid() });
  const errors = client.received.filter((m) => m.type === 'error' && staleXids.has(m.xid));
  t.equal(errors.length, BUFFERS, 'each of the 256 old ids is refused');
  t.ok(errors.every((e) => e.type === 'error' && e.errType === OFPET_BAD_REQUEST && e.code === OFPBRC_BUFFER_UNKNOWN), 'with BAD_REQUEST/BUFFER_UNKNOWN (stale)');
  t.equal((await receivedSince(p2, mark2)).length, 0, 'and no old packet comes out');

  // The new ids hold the new packets.
  mark2 = p2.mark();
  client.send(packetOut(xid(), secondIds[0]!, 2));
  client.send(packetOut(xid(), secondIds[BUFFERS - 1]!, 2));
  await client.request({ type: 'barrier_request', xid: xid() });
  out2 = await receivedSince(p2, mark2);
  t.equal(out2.length, 2, 'the first and the last new buffers release one frame each');
  t.ok(out2[0]?.equals(second[0]!) && out2[1]?.equals(second[BUFFERS - 1]!), 'their own packets, byte for byte');
});

t.test('ofswitchd --no-buffering: whole packets, no buffer ids', async (t) => {
  const { client, hosts, xid } = await setup(t, ['--no-buffering']);
  const [p1, p2] = hosts as [SimHost, SimHost];
  const features = await client.request({ type: 'features_request', xid: xid() });
  t.equal(features.type === 'features_reply' && features.nBuffers, 0, 'features reply: n_buffers 0');

  const frames = [frame(1, 64), frame(2, 200), frame(3, 1400)];
  for (const f of frames) p1.send(f);
  const ins = await packetIns(client, frames.length, 3000);
  t.same(ins.map((p) => ({ bufferId: p.bufferId, totalLen: p.totalLen, whole: p.data.equals(frames[ins.indexOf(p)]!) })),
    frames.map((f) => ({ bufferId: OFP_NO_BUFFER, totalLen: f.length, whole: true })),
    'every packet-in: OFP_NO_BUFFER and the whole packet, despite max_len 128');

  const mark2 = p2.mark();
  await expectBadRequest(t, client, packetOut(xid(), 0x101, 2), OFPBRC_BUFFER_UNKNOWN, 'a buffer id in a packet-out: BUFFER_UNKNOWN');
  t.equal((await receivedSince(p2, mark2)).length, 0, 'nothing sent');
  client.send(packetOut(xid(), OFP_NO_BUFFER, 2, frames[1]!));
  await client.request({ type: 'barrier_request', xid: xid() });
  const out = await receivedSince(p2, mark2);
  t.ok(out.length === 1 && out[0]!.equals(frames[1]!), 'a packet-out with data still works');
});
