/*
 * Flow expiry and OFPT_FLOW_REMOVED, seen by a listening OpenFlow client on the management
 * socket: idle and hard timeouts are enforced within 1 s of their deadline, and each removal
 * of a flow added with send_flow_rem reaches a connection that asked for it, with the
 * reason, cookie, priority, table, timeouts, counters and match of the flow.
 *
 * A service connection (the management socket, what ovs-ofctl uses) gets no asynchronous
 * messages unless it asks. Open vSwitch 3.1 accepts either OFPT_SET_ASYNC or a non-zero
 * miss_send_len (what `ovs-ofctl monitor` sends) as asking; this test sends OFPT_SET_ASYNC
 * with the flow-removed reasons it wants, and checks that a second service connection that
 * asked nothing hears nothing. Also as in OVS 3.1: deleting a group removes the flows that use
 * it with reason OFPRR_GROUP_DELETE; deleting a meter removes its flows too, reported (only to
 * a connection whose flow-removed mask has bit 4, OFPRR_METER_DELETE, set) with reason
 * OFPRR_DELETE, since OpenFlow 1.3 has no METER_DELETE reason.
 *
 * The test was checked against Open vSwitch 3.1 itself: run it with OFSWITCH_TEST_PEER=ovs
 * (started by test/helpers/ovs.ts) to see that the expectations are Open vSwitch's.
 *
 * Times are milliseconds on Date.now(); flow timeouts are seconds.
 */
import t from 'tap';
import {
  OFP_NO_BUFFER, OFPFC_ADD, OFPFC_DELETE, OFPFF_SEND_FLOW_REM, OFPG_ANY, OFPGC_ADD, OFPGC_DELETE, OFPGT_ALL,
  OFPMC_ADD, OFPMC_DELETE, OFPMF_KBPS, OFPP_ANY, OFPRR_DELETE, OFPRR_GROUP_DELETE, OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT,
  OFPTT_ALL, type FlowRemoved, type Instruction, type Match, type OfpMessage,
} from '../../protocol/index.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { startOfswitchd } from '../helpers/ofswitchd.ts';
import { BRIDGE_DATAPATH_ID, BRIDGE_PORTS, ovsMissing, startOvs } from '../helpers/ovs.ts';

const AGAINST_OVS = process.env.OFSWITCH_TEST_PEER === 'ovs';
/** A removal must arrive within this long after its deadline. */
const SLACK_MS = 1000;
/** Bits of the flow-removed mask: idle, hard, delete, group delete, meter delete. */
const ALL_REMOVAL_REASONS = 0x1f;

interface Switch {
  mgmt: string;
  stop(): Promise<unknown>;
}

async function startSwitch(): Promise<Switch> {
  if (AGAINST_OVS) return startOvs();
  return startOfswitchd([`--datapath-id=${BRIDGE_DATAPATH_ID}`, ...BRIDGE_PORTS.map(([name, ofport]) => `--port=${name}:${ofport}`)]);
}

interface FlowSpec {
  cookie: bigint;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  match: Match;
  instructions?: Instruction[];
}

function flowMod(xid: number, flow: FlowSpec, command = OFPFC_ADD): OfpMessage {
  return {
    type: 'flow_mod', xid, cookie: flow.cookie, cookieMask: command === OFPFC_ADD ? 0n : 0xffffffffffffffffn, tableId: command === OFPFC_ADD ? 0 : OFPTT_ALL,
    command, idleTimeout: flow.idleTimeout, hardTimeout: flow.hardTimeout, priority: flow.priority, bufferId: OFP_NO_BUFFER,
    outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: flow.flags, match: flow.match,
    instructions: flow.instructions ?? [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }],
  };
}

/** A match in a canonical order, so that two encodings of the same match compare equal. */
function sorted(match: Match): string {
  return JSON.stringify(match.map((f) => JSON.stringify(f, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort());
}

/** Connects, retrying for a moment while the socket file exists but nobody listens yet. */
async function connect(path: string): Promise<OfClient> {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await OfClient.connect(path);
    } catch (e) {
      if (Date.now() > deadline || (e as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const skip = AGAINST_OVS ? ovsMissing() : null;

t.test(`idle and hard timeouts, FLOW_REMOVED to a listening client (${AGAINST_OVS ? 'Open vSwitch 3.1' : 'ofswitchd'})`, { skip: skip ?? false }, async (t) => {
  const sw = await startSwitch();
  t.teardown(() => sw.stop());
  const listener = await connect(sw.mgmt);
  const bystander = await connect(sw.mgmt);
  t.teardown(() => { listener.close(); bystander.close(); });
  await Promise.all([listener.next((m) => m.type === 'hello'), bystander.next((m) => m.type === 'hello')]);

  // As `ovs-ofctl monitor` would: ask for flow-removed messages, for every reason.
  listener.send({ type: 'set_async', xid: 2, packetInMask: [0, 0], portStatusMask: [0, 0], flowRemovedMask: [ALL_REMOVAL_REASONS, 0] });
  const asyncReply = await listener.request({ type: 'get_async_request', xid: 3 });
  t.same(asyncReply.type === 'get_async_reply' && asyncReply.flowRemovedMask, [ALL_REMOVAL_REASONS, 0], 'the switch keeps the flow-removed mask');

  const ip = { field: 'eth_type', value: 0x0800 } as const;
  const flows = {
    idle: { cookie: 0x1001n, priority: 101, idleTimeout: 1, hardTimeout: 0, flags: OFPFF_SEND_FLOW_REM, match: [{ field: 'in_port', value: 1 }, ip, { field: 'ipv4_src', value: '10.0.0.1' }] },
    hard: { cookie: 0x1002n, priority: 102, idleTimeout: 0, hardTimeout: 2, flags: OFPFF_SEND_FLOW_REM, match: [ip, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }] },
    idleBeforeHard: { cookie: 0x1003n, priority: 103, idleTimeout: 1, hardTimeout: 3, flags: OFPFF_SEND_FLOW_REM, match: [{ field: 'in_port', value: 3 }] },
    silent: { cookie: 0x1004n, priority: 104, idleTimeout: 1, hardTimeout: 0, flags: 0, match: [{ field: 'in_port', value: 4 }] },
  } satisfies Record<string, FlowSpec>;

  const sent = Date.now();
  let xid = 100;
  for (const flow of Object.values(flows)) listener.send(flowMod(++xid, flow));
  const barrier = await listener.request({ type: 'barrier_request', xid: ++xid });
  const installed = Date.now();
  t.equal(barrier.type, 'barrier_reply', 'flows added');
  t.notOk(listener.received.some((m) => m.type === 'error'), 'without errors');

  /** Waits for the FLOW_REMOVED of `flow` and checks it against its deadline and its fields. */
  const expectRemoved = async (name: string, flow: FlowSpec, reason: number, timeoutSec: number): Promise<void> => {
    const deadline = sent + timeoutSec * 1000;
    let removed: FlowRemoved;
    try {
      const m = await listener.next((m) => m.type === 'flow_removed' && m.cookie === flow.cookie, installed + timeoutSec * 1000 + SLACK_MS - Date.now() + 200);
      removed = m as FlowRemoved;
    } catch (e) {
      t.fail(`${name}: FLOW_REMOVED within ${SLACK_MS} ms of the deadline`, { error: String(e) });
      return;
    }
    const arrived = Date.now();
    t.ok(arrived >= deadline - 50, `${name}: not removed before its ${timeoutSec} s timeout (after ${arrived - sent} ms)`);
    t.ok(arrived <= installed + timeoutSec * 1000 + SLACK_MS, `${name}: removed within ${SLACK_MS} ms of the deadline (after ${arrived - sent} ms)`);
    t.same(
      { reason: removed.reason, cookie: removed.cookie, priority: removed.priority, tableId: removed.tableId, idleTimeout: removed.idleTimeout, hardTimeout: removed.hardTimeout, packetCount: removed.packetCount, byteCount: removed.byteCount },
      { reason, cookie: flow.cookie, priority: flow.priority, tableId: 0, idleTimeout: flow.idleTimeout, hardTimeout: flow.hardTimeout, packetCount: 0n, byteCount: 0n },
      `${name}: reason, cookie, priority, table, timeouts and counters`,
    );
    t.equal(sorted(removed.match), sorted(flow.match), `${name}: the flow's match`);
    const duration = removed.durationSec + removed.durationNsec / 1e9;
    t.ok(duration >= timeoutSec - 0.05 && duration <= timeoutSec + SLACK_MS / 1000, `${name}: duration ${duration.toFixed(3)} s`);
  };

  await Promise.all([
    expectRemoved('idle_timeout=1', flows.idle, OFPRR_IDLE_TIMEOUT, 1),
    expectRemoved('idle_timeout=1 with hard_timeout=3', flows.idleBeforeHard, OFPRR_IDLE_TIMEOUT, 1),
    expectRemoved('hard_timeout=2', flows.hard, OFPRR_HARD_TIMEOUT, 2),
  ]);

  // The flow without send_flow_rem expired too, silently.
  const stats = await listener.request({
    type: 'multipart_request', xid: ++xid, flags: 0,
    body: { mpType: 'flow', tableId: OFPTT_ALL, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [] },
  });
  t.same(stats.type === 'multipart_reply' && stats.body.mpType === 'flow' && stats.body.flows.map((f) => f.cookie), [], 'every flow has expired');
  t.notOk(listener.received.some((m) => m.type === 'flow_removed' && m.cookie === flows.silent.cookie), 'no FLOW_REMOVED for a flow without send_flow_rem');

  // Deletions: by a flow-mod, by deleting the group a flow uses, by deleting the meter it uses.
  const output1: Instruction[] = [{ type: 'apply_actions', actions: [{ type: 'output', port: 1, maxLen: 0 }] }];
  const deleted = { cookie: 0x2001n, priority: 201, idleTimeout: 0, hardTimeout: 0, flags: OFPFF_SEND_FLOW_REM, match: [{ field: 'in_port', value: 1 }] } satisfies FlowSpec;
  const viaGroup = { ...deleted, cookie: 0x2002n, priority: 202, match: [{ field: 'in_port', value: 2 }], instructions: [{ type: 'apply_actions', actions: [{ type: 'group', groupId: 7 }] }] } satisfies FlowSpec;
  const viaMeter = { ...deleted, cookie: 0x2003n, priority: 203, match: [{ field: 'in_port', value: 3 }], instructions: [{ type: 'meter', meterId: 7 }, ...output1] } satisfies FlowSpec;
  listener.send({ type: 'group_mod', xid: ++xid, command: OFPGC_ADD, groupType: OFPGT_ALL, groupId: 7, buckets: [{ weight: 0, watchPort: OFPP_ANY, watchGroup: OFPG_ANY, actions: [{ type: 'output', port: 1, maxLen: 0 }] }] });
  listener.send({ type: 'meter_mod', xid: ++xid, command: OFPMC_ADD, flags: OFPMF_KBPS, meterId: 7, bands: [{ type: 'drop', rate: 1000, burstSize: 0 }] });
  for (const flow of [deleted, viaGroup, viaMeter]) listener.send(flowMod(++xid, flow));
  await listener.request({ type: 'barrier_request', xid: ++xid });
  t.notOk(listener.received.some((m) => m.type === 'error'), 'group, meter and flows added without errors');

  listener.send(flowMod(++xid, deleted, OFPFC_DELETE));
  listener.send({ type: 'group_mod', xid: ++xid, command: OFPGC_DELETE, groupType: OFPGT_ALL, groupId: 7, buckets: [] });
  listener.send({ type: 'meter_mod', xid: ++xid, command: OFPMC_DELETE, flags: 0, meterId: 7, bands: [] });
  await listener.request({ type: 'barrier_request', xid: ++xid });
  for (const [name, flow, reason] of [
    ['deleted by a flow-mod', deleted, OFPRR_DELETE],
    ['removed with its group', viaGroup, OFPRR_GROUP_DELETE],
    ['removed with its meter (reported as OFPRR_DELETE in OpenFlow 1.3)', viaMeter, OFPRR_DELETE],
  ] as const) {
    const removed = await listener.next((m) => m.type === 'flow_removed' && m.cookie === flow.cookie, 2000).catch(() => null);
    t.ok(removed, `${name}: FLOW_REMOVED`);
    if (removed?.type !== 'flow_removed') continue;
    t.same([removed.reason, removed.priority, sorted(removed.match)], [reason, flow.priority, sorted(flow.match)], `${name}: reason ${reason}, priority, match`);
  }

  // A service connection that asked for nothing heard nothing.
  await bystander.request({ type: 'barrier_request', xid: 9 });
  t.same(bystander.received.filter((m) => m.type !== 'hello').map((m) => m.type), [], 'a service connection that did not ask gets no FLOW_REMOVED');
});
