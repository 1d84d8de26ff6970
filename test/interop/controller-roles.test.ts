/*
 * Controller roles (OpenFlow 1.3 section 6.3.7) with several controllers connected to
 * ofswitchd at once, as Open vSwitch implements them: generation ids, one master at a time,
 * slaves refused state changes, ONF role status for a demoted master, and per-connection
 * asynchronous-message masks.
 *
 * What it shows, first with two real os-ken controllers (test/oracles/role_controller.py,
 * driven line by line on stdin, reporting on stdout), then with three raw controllers built on
 * our codec for the byte-level details:
 *  - ROLE_REQUEST MASTER generation 1 from A and SLAVE generation 1 from B are granted
 *    (ROLE_REPLY with the role and generation id);
 *  - B's FLOW_MOD (and PACKET_OUT) is refused with OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE (and the
 *    flow is not installed), A's is accepted;
 *  - B's role request with a stale generation id (0 after 1) is refused with
 *    OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE; a NOCHANGE request is answered with the current
 *    role whatever its generation;
 *  - B becoming MASTER with generation 2 demotes A to SLAVE, and A is told with ONF's role
 *    status (experimenter 0x4f4e4600, type 1911: role SLAVE, reason MASTER_REQUEST,
 *    generation 2); A's flow-mod now gets IS_SLAVE; A asking for MASTER with generation 1 is
 *    now stale;
 *  - packet-ins (a table-miss flow to CONTROLLER, frames into a stream port) go to the master
 *    and to equal controllers, not to slaves, under the default masks (GET_ASYNC gives Open
 *    vSwitch's defaults: packet-in 0x3/0, port-status 0x7/0x7, flow-removed 0xf/0); after
 *    SET_ASYNC on the slave enabling OFPR_NO_MATCH for the slave role, the slave gets them
 *    too; GET_ASYNC returns what was set, and the other connections keep their own masks;
 *  - `ofs-appctl connmgr/show` reports each controller's role.
 *
 * Bounded: the file has a time limit and every wait has its own; os-ken and ofswitchd are
 * stopped by pid, every socket closed in teardown. Times are milliseconds.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OFP_NO_BUFFER, OFPBRC_IS_SLAVE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_SLAVE, OFPET_BAD_REQUEST,
  OFPET_ROLE_REQUEST_FAILED, OFPFC_ADD, OFPG_ANY, OFPP_ANY, OFPP_CONTROLLER, OFPR_NO_MATCH, OFPRRFC_STALE, ONF_EXPERIMENTER_ID,
  type OfpMessage, type PacketIn,
} from '../../protocol/index.ts';
import { connmgrShow, dumpFlows } from '../helpers/appctl.ts';
import { FakeController, freePort, type OfPeer } from '../helpers/controller.ts';
import { ethernetFrame } from '../helpers/host.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { oskenMissing, startOsken, type Osken } from '../helpers/osken.ts';
import { Wire } from '../helpers/wire.ts';

const APP = fileURLToPath(new URL('../oracles/role_controller.py', import.meta.url));
const ONFT_ROLE_STATUS = 1911;
const OFPCRR_MASTER_REQUEST = 0;
/** Open vSwitch's OpenFlow 1.3 defaults, [master/equal, slave]. */
const DEFAULT_ASYNC = { packetInMask: [0x3, 0], portStatusMask: [0x7, 0x7], flowRemovedMask: [0xf, 0] };

t.setTimeout(90_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let frameIndex = 0;
/** A distinct frame (source MAC and payload carry a counter), ethertype 0x88b5. */
function frame(): Buffer {
  const i = ++frameIndex;
  const src = `02:00:00:aa:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
  const payload = Buffer.alloc(46, i & 0xff);
  payload.writeUInt32BE(i, 0);
  return ethernetFrame('02:00:00:00:00:99', src, 0x88b5, payload);
}

async function openPort(t: Test, extra: string[]): Promise<{ daemon: Awaited<ReturnType<typeof startOfswitchd>>; wire: Wire }> {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-roles-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = await startOfswitchd([...extra, `--port=p1:1,pstream=punix:${join(dir, 'p1.sock')}`, '--port=p2:2']);
  t.teardown(() => daemon.stop());
  const wire = await Wire.connect(join(dir, 'p1.sock'));
  t.teardown(() => wire.close());
  return { daemon, wire };
}

/* ------------------------------------------------------------------------------------------ */
/* os-ken                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/** Sends a command to the app; resolves with the xids it reports having sent. */
async function command(osken: Osken, line: string): Promise<number[]> {
  const since = osken.lines.length;
  osken.command(line);
  const word = line.split(' ')[0]!;
  const sent = await osken.waitLine(new RegExp(`^SENT ${word}\\b.* xid=\\d+$`), 5000, since);
  const xids = [Number(/xid=(\d+)$/.exec(sent)![1])];
  if (word === 'flow_mod' || word === 'set_async') {
    const barrier = await osken.waitLine(/^SENT barrier xid=\d+$/, 5000, since);
    xids.push(Number(/xid=(\d+)$/.exec(barrier)![1]));
  }
  return xids;
}

/** The app's answer to request `xid`: its ROLE_REPLY, ERROR or GET_ASYNC_REPLY line. */
async function answer(osken: Osken, xid: number): Promise<string> {
  return osken.waitLine(new RegExp(`^(ROLE_REPLY|ERROR|GET_ASYNC_REPLY) xid=${xid} `), 5000);
}

/** A flow-mod and its barrier: the ERROR line for the flow-mod (xid left out), or 'ok' once the barrier is answered without one. */
async function flowMod(osken: Osken, priority: number): Promise<string> {
  const [xid, barrier] = await command(osken, `flow_mod ${priority}`);
  await osken.waitLine(new RegExp(`^BARRIER_REPLY xid=${barrier}$`), 5000);
  return osken.lines.find((l) => l.startsWith(`ERROR xid=${xid} `))?.replace(/ xid=\d+/, '') ?? 'ok';
}

t.test('two os-ken controllers: master, slave, IS_SLAVE, stale generation, role status, async masks', { skip: oskenMissing() }, async (t) => {
  const portA = await freePort();
  let portB = await freePort();
  while (portB === portA) portB = await freePort();
  const a = startOsken({ app: APP, port: portA });
  const b = startOsken({ app: APP, port: portB });
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await Promise.all([a.waitListening(20_000), b.waitListening(20_000)]);
  const { daemon, wire } = await openPort(t, [`--controller=tcp:127.0.0.1:${portA}`, `--controller=tcp:127.0.0.1:${portB}`]);
  await Promise.all([a.waitLine(/^FEATURES /, 15_000), b.waitLine(/^FEATURES /, 15_000)]);

  const [roleA] = await command(a, 'role master 1');
  t.match(await answer(a, roleA!), /^ROLE_REPLY xid=\d+ role=master generation_id=1$/, 'A: MASTER, generation 1, granted');
  const [roleB] = await command(b, 'role slave 1');
  t.match(await answer(b, roleB!), /^ROLE_REPLY xid=\d+ role=slave generation_id=1$/, 'B: SLAVE, generation 1, granted');

  t.equal(await flowMod(b, 10), `ERROR type=${OFPET_BAD_REQUEST} code=${OFPBRC_IS_SLAVE}`,
    "B's flow-mod refused: OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE");
  t.equal((await dumpFlows(daemon.mgmt)).length, 0, 'and nothing was installed');
  t.equal(await flowMod(a, 0), 'ok', "A's flow-mod (the table-miss flow, to CONTROLLER:128) accepted");
  t.equal((await dumpFlows(daemon.mgmt)).length, 1, 'and installed');

  const [stale] = await command(b, 'role slave 0');
  t.match(await answer(b, stale!), new RegExp(`^ERROR xid=\\d+ type=${OFPET_ROLE_REQUEST_FAILED} code=${OFPRRFC_STALE}$`),
    "B's role request with generation 0 after 1: OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE");

  // Packet-ins: to the master, not to the slave (default masks).
  for (let i = 0; i < 3; i++) wire.send(frame());
  try {
    await waitFor(() => a.lines.filter((l) => l.startsWith('PACKET_IN ')).length >= 3, 5000, 'A to get 3 packet-ins');
  } catch { /* counted below */ }
  await sleep(300);
  t.equal(a.lines.filter((l) => l === 'PACKET_IN reason=0 in_port=1').length, 3, 'master A: 3 packet-ins, reason NO_MATCH');
  t.equal(b.lines.filter((l) => l.startsWith('PACKET_IN ')).length, 0, 'slave B: none (default slave packet-in mask 0)');

  const [get1] = await command(b, 'get_async');
  t.equal((await answer(b, get1!)).replace(/xid=\d+ /, ''), 'GET_ASYNC_REPLY packet_in=3,0 port_status=7,7 flow_removed=15,0', "B's GET_ASYNC: Open vSwitch's defaults");
  const [setXid, setBarrier] = await command(b, `set_async 3 ${1 << OFPR_NO_MATCH} 7 7 15 0`);
  await b.waitLine(new RegExp(`^BARRIER_REPLY xid=${setBarrier}$`), 5000);
  t.notOk(b.lines.some((l) => l.startsWith(`ERROR xid=${setXid} `)), "B's SET_ASYNC accepted");
  const [get2] = await command(b, 'get_async');
  t.equal((await answer(b, get2!)).replace(/xid=\d+ /, ''), 'GET_ASYNC_REPLY packet_in=3,1 port_status=7,7 flow_removed=15,0', "B's GET_ASYNC returns what B set");
  for (let i = 0; i < 3; i++) wire.send(frame());
  try {
    await waitFor(() => b.lines.filter((l) => l.startsWith('PACKET_IN ')).length >= 3, 5000, 'B to get 3 packet-ins');
  } catch { /* counted below */ }
  await sleep(300);
  t.equal(b.lines.filter((l) => l === 'PACKET_IN reason=0 in_port=1').length, 3, 'slave B with NO_MATCH enabled for slaves: 3 packet-ins');
  t.equal(a.lines.filter((l) => l.startsWith('PACKET_IN ')).length, 6, 'master A: 3 more');

  // B takes over.
  const [takeover] = await command(b, 'role master 2');
  t.match(await answer(b, takeover!), /^ROLE_REPLY xid=\d+ role=master generation_id=2$/, 'B: MASTER, generation 2, granted');
  const status = await a.waitLine(/^EXPERIMENTER /, 5000);
  const statusData = Buffer.alloc(16);
  statusData.writeUInt32BE(OFPCR_ROLE_SLAVE, 0);
  statusData[4] = OFPCRR_MASTER_REQUEST;
  statusData.writeBigUInt64BE(2n, 8);
  t.match(status, new RegExp(`^EXPERIMENTER xid=\\d+ experimenter=0x${ONF_EXPERIMENTER_ID.toString(16)} exp_type=${ONFT_ROLE_STATUS} data=${statusData.toString('hex')}$`),
    'A is told: ONF role status (0x4f4e4600, type 1911): SLAVE, reason MASTER_REQUEST, generation 2');
  t.equal(await flowMod(a, 20), `ERROR type=${OFPET_BAD_REQUEST} code=${OFPBRC_IS_SLAVE}`,
    "demoted A's flow-mod: OFPBRC_IS_SLAVE");
  t.equal(await flowMod(b, 20), 'ok', "new master B's flow-mod accepted");
  const info = await connmgrShow(daemon.rundir);
  const roleOf = (target: string): string | undefined => info.controllers.find((c) => c.target === target)?.role;
  t.same([roleOf(`tcp:127.0.0.1:${portA}`), roleOf(`tcp:127.0.0.1:${portB}`)], ['slave', 'master'], 'connmgr/show: A slave, B master');
  t.notOk([...a.lines, ...b.lines].some((l) => l.startsWith('BAD_COMMAND')), 'every command was understood');
});

/* ------------------------------------------------------------------------------------------ */
/* Raw controllers                                                                             */
/* ------------------------------------------------------------------------------------------ */

function roleRequest(peer: OfPeer, role: number, generationId: bigint): OfpMessage {
  return { type: 'role_request', xid: peer.xid(), role, generationId };
}

function tableMiss(peer: OfPeer, priority = 0): OfpMessage {
  return {
    type: 'flow_mod', xid: peer.xid(), cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
    priority, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0, match: [],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: 128 }] }],
  };
}

function describe(m: OfpMessage): string {
  if (m.type === 'error') return `error ${m.errType}/${m.code}`;
  if (m.type === 'role_reply') return `role_reply role=${m.role} generation=${m.generationId}`;
  return m.type;
}

t.test('three raw controllers: roles, IS_SLAVE, STALE, role status bytes, packet-ins by role and async mask', async (t) => {
  const fakes = await Promise.all([FakeController.listen(), FakeController.listen(), FakeController.listen()]);
  t.teardown(() => Promise.all(fakes.map((f) => f.close())));
  const { daemon, wire } = await openPort(t, fakes.map((f) => `--controller=${f.target}`));
  const [A, B, C] = await Promise.all(fakes.map(async (f) => {
    const peer = await f.peer(1, 5000);
    await peer.handshake();
    return peer;
  })) as [OfPeer, OfPeer, OfPeer];

  const ask = async (peer: OfPeer, m: OfpMessage): Promise<string> => describe(await peer.request(m, 3000));
  t.equal(await ask(A, roleRequest(A, OFPCR_ROLE_MASTER, 1n)), `role_reply role=${OFPCR_ROLE_MASTER} generation=1`, 'A: MASTER generation 1 granted');
  t.equal(await ask(B, roleRequest(B, OFPCR_ROLE_SLAVE, 1n)), `role_reply role=${OFPCR_ROLE_SLAVE} generation=1`, 'B: SLAVE generation 1 granted');
  t.equal(await ask(C, roleRequest(C, OFPCR_ROLE_NOCHANGE, 0n)), `role_reply role=${OFPCR_ROLE_EQUAL} generation=1`, 'C asks NOCHANGE: stays EQUAL, told the generation');

  const refused = await B.request(tableMiss(B), 3000);
  t.equal(describe(refused), `error ${OFPET_BAD_REQUEST}/${OFPBRC_IS_SLAVE}`, "B's FLOW_MOD: OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE");
  t.ok(refused.type === 'error' && refused.data.length >= 8 && refused.data[1] === 14, 'the error echoes the flow-mod');
  const packetOut: OfpMessage = { type: 'packet_out', xid: B.xid(), bufferId: OFP_NO_BUFFER, inPort: OFPP_CONTROLLER, actions: [{ type: 'output', port: 1, maxLen: 0 }], data: frame() };
  t.equal(await ask(B, packetOut), `error ${OFPET_BAD_REQUEST}/${OFPBRC_IS_SLAVE}`, "B's PACKET_OUT: OFPBRC_IS_SLAVE");
  await sleep(100);
  t.equal(wire.received.length, 0, 'and nothing was sent out of p1');
  t.equal(await ask(B, roleRequest(B, OFPCR_ROLE_SLAVE, 0n)), `error ${OFPET_ROLE_REQUEST_FAILED}/${OFPRRFC_STALE}`, 'B: SLAVE generation 0 after 1: OFPRRFC_STALE');
  t.equal(await ask(B, roleRequest(B, OFPCR_ROLE_NOCHANGE, 0n)), `role_reply role=${OFPCR_ROLE_SLAVE} generation=1`, 'B: NOCHANGE with generation 0 is no claim: still SLAVE');

  A.send(tableMiss(A));
  await A.barrier();
  t.same(A.received.filter((r) => r.message.type === 'error'), [], "A's table-miss flow accepted");

  const getAsync = async (peer: OfPeer): Promise<unknown> => {
    const reply = await peer.request({ type: 'get_async_request', xid: peer.xid() }, 3000);
    return reply.type === 'get_async_reply' ? { packetInMask: reply.packetInMask, portStatusMask: reply.portStatusMask, flowRemovedMask: reply.flowRemovedMask } : describe(reply);
  };
  t.same(await getAsync(B), DEFAULT_ASYNC, "B's GET_ASYNC: Open vSwitch's defaults (packet-in 0x3/0, port-status 0x7/0x7, flow-removed 0xf/0)");

  const packetIns = (peer: OfPeer): PacketIn[] => peer.received.filter((r) => r.message.type === 'packet_in').map((r) => r.message as PacketIn);
  const burst = async (n: number, expect: Array<[OfPeer, number]>): Promise<void> => {
    const before = expect.map(([p]) => packetIns(p).length);
    for (let i = 0; i < n; i++) wire.send(frame());
    try {
      await waitFor(() => expect.every(([p, want], i) => packetIns(p).length - before[i]! >= want), 5000, 'packet-ins');
    } catch { /* counted by the caller */ }
    await sleep(300);
  };
  const count = (peer: OfPeer): number => packetIns(peer).length;

  await burst(5, [[A, 5], [C, 5]]);
  t.equal(count(A), 5, 'master A: 5 packet-ins');
  t.equal(count(C), 5, 'equal C: 5 packet-ins');
  t.equal(count(B), 0, 'slave B: none');
  t.ok(packetIns(A).every((p) => p.reason === OFPR_NO_MATCH), 'reason NO_MATCH (table-miss flow)');

  const set = { packetInMask: [0x3, 1 << OFPR_NO_MATCH] as [number, number], portStatusMask: [0x7, 0x7] as [number, number], flowRemovedMask: [0xf, 0] as [number, number] };
  B.send({ type: 'set_async', xid: B.xid(), ...set });
  await B.barrier();
  t.same(B.received.filter((r) => r.message.type === 'error').map((r) => describe(r.message)), [], 'B: SET_ASYNC accepted from a slave (no error)');
  t.same(await getAsync(B), set, "B's GET_ASYNC returns what B set");
  t.same(await getAsync(A), DEFAULT_ASYNC, "A's masks are its own: still the defaults");
  await burst(5, [[A, 5], [B, 5], [C, 5]]);
  t.equal(count(B), 5, 'slave B with NO_MATCH enabled for slaves: 5 packet-ins');
  t.equal(count(A), 10, 'master A: 5 more');
  t.equal(count(C), 10, 'equal C: 5 more');

  // B takes over: A is demoted and told.
  t.equal(await ask(B, roleRequest(B, OFPCR_ROLE_MASTER, 2n)), `role_reply role=${OFPCR_ROLE_MASTER} generation=2`, 'B: MASTER generation 2 granted');
  const status = await A.next((m) => m.type === 'experimenter', 3000).catch((e: Error) => e);
  const expected = Buffer.alloc(16);
  expected.writeUInt32BE(OFPCR_ROLE_SLAVE, 0);
  expected[4] = OFPCRR_MASTER_REQUEST;
  expected.writeBigUInt64BE(2n, 8);
  t.ok(!(status instanceof Error) && status.type === 'experimenter', 'A receives an experimenter message');
  if (!(status instanceof Error) && status.type === 'experimenter') {
    t.equal(status.experimenter, ONF_EXPERIMENTER_ID, 'experimenter 0x4f4e4600 (ONF)');
    t.equal(status.expType, ONFT_ROLE_STATUS, 'exp type 1911 (ONFT_ROLE_STATUS)');
    t.equal(status.data.toString('hex'), expected.toString('hex'), 'role SLAVE, reason MASTER_REQUEST, generation 2');
  }
  t.equal(C.received.filter((r) => r.message.type === 'experimenter').length, 0, 'equal C is not told (its role did not change)');
  t.equal(B.received.filter((r) => r.message.type === 'experimenter').length, 0, 'nor is B, which asked');
  t.equal(await ask(A, tableMiss(A, 5)), `error ${OFPET_BAD_REQUEST}/${OFPBRC_IS_SLAVE}`, "demoted A's FLOW_MOD: OFPBRC_IS_SLAVE");
  t.equal(await ask(A, roleRequest(A, OFPCR_ROLE_MASTER, 1n)), `error ${OFPET_ROLE_REQUEST_FAILED}/${OFPRRFC_STALE}`, 'A: MASTER with generation 1 after 2: OFPRRFC_STALE');

  await burst(5, [[B, 5], [C, 5]]);
  t.equal(count(A), 10, 'slave A (default slave mask 0): no more packet-ins');
  t.equal(count(B), 10, 'master B: 5 more (its master mask 0x3)');
  t.equal(count(C), 15, 'equal C: 5 more');

  const info = await connmgrShow(daemon.rundir);
  const shown = fakes.map((f) => info.controllers.find((c) => c.target === f.target));
  t.same(shown.map((c) => c?.role), ['slave', 'master', 'equal'], 'connmgr/show: A slave, B master, C equal');
  t.same(shown.map((c) => c?.packetInsSent), [10, 10, 15], 'connmgr/show: packet-ins sent 10, 10, 15');
});
