/*
 * PORT_STATUS after a PORT_MOD, with two controllers, side by side with Open vSwitch 3.1: the
 * controller that sent the PORT_MOD is not told of its config change (OpenFlow 1.3 does not echo
 * it), the other one is; then the port's link goes down with it (a netdev brought down loses its
 * link), which every controller is told, the requester included (ofswitch: before the barrier
 * reply). Bringing the port up again is the mirror image. The PORT_STATUS messages each
 * connection gets (reason, config, state), in order, must be the same on both switches.
 *
 * Both controllers are connections to the management socket that ask for every PORT_STATUS
 * with SET_ASYNC. Skipped, with the reason printed, when Open vSwitch is not installed.
 */
import t from 'tap';
import { OFPPC_PORT_DOWN, type OfpMessage } from '../../protocol/index.ts';
import { SIDES, startRig, type SideName } from '../helpers/datapath-rig.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { ovsMissing } from '../helpers/ovs.ts';
import { sleep } from '../helpers/wire.ts';

/** Bound on waiting for the PORT_STATUS messages a round should bring. */
const WAIT_MS = 3000;
/** After they are in, how long to wait for any more (there should be none). */
const QUIET_MS = 100;
const ALL_REASONS = 0b111;

/** Each controller's PORT_STATUS messages, and whether the requester's came before its barrier reply. */
interface Seen { requester: string[]; other: string[]; beforeBarrier: boolean }

function describe(m: OfpMessage): string {
  if (m.type !== 'port_status') return m.type;
  return `port_status reason ${m.reason} port ${m.port.portNo} config ${m.port.config} state ${m.port.state}`;
}

const statusesOf = (c: OfClient): string[] => c.received.filter((m) => m.type === 'port_status').map(describe);

/**
 * What each controller receives after `clients[0]` sends a PORT_MOD and a barrier. Open
 * vSwitch notices the link change on a later run of its main loop, so under load its
 * PORT_STATUS for it may come after the barrier reply: the order against the barrier reply is
 * recorded, and compared for ofswitch only.
 */
async function portModRound(clients: OfClient[], portNo: number, hwAddr: string, down: boolean, xid: number): Promise<Seen> {
  for (const c of clients) c.received.length = 0;
  const [requester, other] = clients as [OfClient, OfClient];
  requester.send({ type: 'port_mod', xid, portNo, hwAddr, config: down ? OFPPC_PORT_DOWN : 0, mask: OFPPC_PORT_DOWN, advertise: 0 });
  requester.send({ type: 'barrier_request', xid: xid + 1 });
  await requester.next((m) => m.type === 'barrier_reply' && m.xid === xid + 1);
  const beforeBarrier = statusesOf(requester).length > 0;
  const deadline = performance.now() + WAIT_MS;
  while ((statusesOf(requester).length < 1 || statusesOf(other).length < 2) && performance.now() < deadline) await sleep(10);
  await sleep(QUIET_MS);
  return { requester: statusesOf(requester), other: statusesOf(other), beforeBarrier };
}

t.test('PORT_MOD: the PORT_STATUS each controller gets, as in Open vSwitch', { skip: ovsMissing() ?? false, timeout: 60_000 }, async (t) => {
  const rig = await startRig();
  t.teardown(() => rig.stop());
  const seen = {} as Record<SideName, { down: Seen; up: Seen }>;
  for (const side of SIDES) {
    const path = side === 'ovs' ? rig.ovs.mgmt : rig.ofs.mgmt;
    const clients = [await OfClient.connect(path), await OfClient.connect(path)];
    t.teardown(() => clients.forEach((c) => c.close()));
    for (const c of clients) {
      await c.next((m) => m.type === 'hello');
      c.send({ type: 'set_async', xid: 2, packetInMask: [0, 0], portStatusMask: [ALL_REASONS, ALL_REASONS], flowRemovedMask: [0, 0] });
      await c.request({ type: 'barrier_request', xid: 3 });
    }
    const desc = await clients[0]!.request({ type: 'multipart_request', xid: 4, flags: 0, body: { mpType: 'port_desc' } });
    if (desc.type !== 'multipart_reply' || desc.body.mpType !== 'port_desc') throw new Error(`port_desc: got ${desc.type}`);
    const p2 = desc.body.ports.find((p) => p.portNo === 2)!;
    seen[side] = {
      down: await portModRound(clients, 2, p2.hwAddr, true, 100),
      up: await portModRound(clients, 2, p2.hwAddr, false, 200),
    };
    t.comment(`${side}: ${JSON.stringify(seen[side])}`);
  }
  for (const round of ['down', 'up'] as const) {
    t.same(seen.ofswitch[round].requester, seen.ovs[round].requester, `port ${round}: the requester gets what Open vSwitch sends it`);
    t.same(seen.ofswitch[round].other, seen.ovs[round].other, `port ${round}: the other controller gets what Open vSwitch sends it`);
  }
  t.equal(seen.ofswitch.down.requester.length, 1, 'the requester hears of the link going down only');
  t.ok(seen.ofswitch.down.beforeBarrier && seen.ofswitch.up.beforeBarrier, 'before its barrier reply');
  t.equal(seen.ofswitch.down.other.length, 2, 'the other controller hears of the config change, then of the link');
});
