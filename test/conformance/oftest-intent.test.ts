/*
 * The standard OFTest tests that Open vSwitch 3.1 fails are no oracle for ofswitch: their
 * recordings show Open vSwitch's behaviour, not the test's intent. Each is checked here by its
 * intent, against a fresh ofswitchd with ports p1..p4 as stream ports:
 *
 *  - groups.GroupModifyLoop: modifying a group so that a chain of groups forms a loop is
 *    refused with OFPET_GROUP_MOD_FAILED/OFPGMFC_LOOP, and the group keeps its old buckets;
 *  - groups.GroupAddSelectNoWeight: a select group whose bucket has weight 0 is refused with
 *    OFPET_GROUP_MOD_FAILED/OFPGMFC_INVALID_GROUP (OFTest wants a group_mod_failed error) and
 *    nothing is installed;
 *  - match.VlanPCPMasked: a flow matching vlan_vid=2 and a masked VLAN priority forwards the
 *    priorities the mask accepts and not the others.
 * role_request.RoleSwitch has no recorded session; role changes are covered by
 * test/interop/controller-roles.test.ts with two os-ken controllers.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OFPET_GROUP_MOD_FAILED, OFPGMFC_INVALID_GROUP, OFPGMFC_LOOP, OFPGT_INDIRECT, OFPGT_SELECT, type OfpMessage,
} from '../../protocol/index.ts';
import { buildFrame } from '../../lib/packet/index.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { sleep, Wire } from '../helpers/wire.ts';

t.setTimeout(60_000);

let xid = 100;
const output = (port: number) => ({ type: 'output' as const, port, maxLen: 0 });
const groupMod = (command: number, groupId: number, groupType: number, buckets: Array<{ weight?: number; actions: unknown[] }>): OfpMessage => ({
  type: 'group_mod', xid: ++xid, command, groupType, groupId,
  buckets: buckets.map((b) => ({ weight: b.weight ?? 0, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: b.actions })),
} as unknown as OfpMessage);
const OFPGC_ADD = 0;
const OFPGC_MODIFY = 1;

async function rig(t: Test): Promise<{ client: OfClient; wires: Wire[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-intent-'));
  const ports = [1, 2, 3, 4].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)},pad=false`);
  const daemon = await startOfswitchd([...ports, '--datapath-id=0000000000000001', '--no-buffering']);
  const client = await OfClient.connect(daemon.mgmt);
  const wires = await Promise.all([1, 2, 3, 4].map((n) => Wire.connect(join(dir, `p${n}.sock`), `p${n}`)));
  t.teardown(async () => {
    client.close();
    for (const w of wires) w.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { client, wires };
}

/** Sends a message followed by a barrier; returns what came back before the barrier reply. */
async function sendAndBarrier(client: OfClient, message: OfpMessage): Promise<OfpMessage[]> {
  const before = client.received.length;
  client.send(message);
  await client.request({ type: 'barrier_request', xid: ++xid } as OfpMessage);
  return client.received.slice(before).filter((m) => m.type !== 'barrier_reply' && m.type !== 'hello');
}

async function groupDesc(client: OfClient): Promise<Array<{ groupId: number; buckets: Array<{ actions: Array<{ type: string; groupId?: number; port?: number }> }> }>> {
  const reply = await client.request({ type: 'multipart_request', xid: ++xid, flags: 0, body: { mpType: 'group_desc' } } as OfpMessage);
  return (reply as unknown as { body: { groups: Array<{ groupId: number; buckets: Array<{ actions: Array<{ type: string; groupId?: number; port?: number }> }> }> } }).body.groups;
}

t.test('groups.GroupModifyLoop: a loop of groups is refused with GROUP_MOD_FAILED/LOOP', async (t) => {
  const { client } = await rig(t);
  t.same(await sendAndBarrier(client, groupMod(OFPGC_ADD, 0, OFPGT_INDIRECT, [{ actions: [output(1)] }])), [], 'group 0: output:1');
  t.same(await sendAndBarrier(client, groupMod(OFPGC_ADD, 1, OFPGT_INDIRECT, [{ actions: [{ type: 'group', groupId: 0 }] }])), [], 'group 1 -> group 0');
  t.same(await sendAndBarrier(client, groupMod(OFPGC_ADD, 2, OFPGT_INDIRECT, [{ actions: [{ type: 'group', groupId: 1 }] }])), [], 'group 2 -> group 1');
  const loop = groupMod(OFPGC_MODIFY, 0, OFPGT_INDIRECT, [{ actions: [{ type: 'group', groupId: 2 }] }]);
  const answers = await sendAndBarrier(client, loop);
  t.equal(answers.length, 1, 'one answer to group 0 -> group 2');
  const error = answers[0] as Extract<OfpMessage, { type: 'error' }>;
  t.match(error, { type: 'error', xid: loop.xid, errType: OFPET_GROUP_MOD_FAILED, code: OFPGMFC_LOOP }, 'OFPET_GROUP_MOD_FAILED/OFPGMFC_LOOP');
  const groups = await groupDesc(client);
  t.same(groups.find((g) => g.groupId === 0)?.buckets[0]?.actions.map((a) => a.type), ['output'], 'group 0 still outputs to port 1');
  t.equal(groups.length, 3, 'all three groups are still there');
});

t.test('groups.GroupAddSelectNoWeight: a select bucket without weight is refused', async (t) => {
  const { client } = await rig(t);
  const add = groupMod(OFPGC_ADD, 7, OFPGT_SELECT, [{ weight: 0, actions: [output(1)] }, { weight: 0, actions: [output(2)] }]);
  const answers = await sendAndBarrier(client, add);
  t.match(answers, [{ type: 'error', xid: add.xid, errType: OFPET_GROUP_MOD_FAILED, code: OFPGMFC_INVALID_GROUP }], 'OFPET_GROUP_MOD_FAILED/OFPGMFC_INVALID_GROUP');
  t.same(await groupDesc(client), [], 'no group installed');
  const weighted = groupMod(OFPGC_ADD, 7, OFPGT_SELECT, [{ weight: 1, actions: [output(1)] }, { weight: 2, actions: [output(2)] }]);
  t.same(await sendAndBarrier(client, weighted), [], 'the same group with weights is accepted');
});

t.test('match.VlanPCPMasked: a masked VLAN priority matches what the mask accepts', async (t) => {
  const { client, wires } = await rig(t);
  const flow = {
    type: 'flow_mod', xid: ++xid, cookie: 0n, cookieMask: 0n, tableId: 0, command: 0, idleTimeout: 0, hardTimeout: 0, priority: 1000,
    bufferId: 0xffffffff, outPort: 0, outGroup: 0, flags: 0,
    match: [{ field: 'vlan_vid', value: 0x1000 | 2 }, { field: 'vlan_pcp', value: 3, mask: 3 }],
    instructions: [{ type: 'apply_actions', actions: [output(2)] }],
  } as unknown as OfpMessage;
  t.same(await sendAndBarrier(client, flow), [], 'the flow with vlan_pcp=3/3 is accepted');
  const frame = (pcp: number): Buffer => buildFrame({
    ethSrc: '00:06:07:08:09:0a', ethDst: '00:01:02:03:04:05', vlans: [{ vid: 2, pcp }],
    ipv4: { src: '192.168.0.1', dst: '192.168.0.2' }, tcp: { src: 1234, dst: 80 },
  });
  for (const pcp of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const p2 = wires[1]!;
    p2.take();
    wires[0]!.send(frame(pcp));
    if ((pcp & 3) === 3) {
      await waitFor(() => p2.received.length > 0, 3000, `pcp ${pcp} on p2`);
      t.same(p2.take().map((f) => f.frame.toString('hex')), [frame(pcp).toString('hex')], `pcp ${pcp} (matches 3/3) is forwarded to p2`);
    } else {
      await sleep(150);
      t.equal(p2.take().length, 0, `pcp ${pcp} (does not match 3/3) is not forwarded`);
    }
  }
});
