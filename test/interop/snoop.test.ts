/*
 * The bridge's snoop service, `punix:<rundir>/br0.snoop`, read by the real
 * `ovs-ofctl -O OpenFlow13 snoop` (Open vSwitch's tool, run as a child process for a bounded
 * time and stopped by pid; it prints each message it is sent on stderr).
 *
 * What it shows:
 *  - while a controller (a raw one built on our codec) talks to ofswitchd, snoop prints both
 *    directions of its connection: the controller's FLOW_MOD (with its match, priority and
 *    actions as ovs-ofctl reads them) and BARRIER_REQUEST, and the switch's BARRIER_REPLY, its
 *    OFPT_ERROR for a refused flow-mod and its ECHO_REPLY, each with its xid, in order;
 *  - what a management client (`ovs-ofctl add-flow` on br0.mgmt) sends is not shown: only the
 *    controller's connection is watched;
 *  - the watch survives the controller's reconnection: after the controller drops the
 *    connection and ofswitchd dials it again, the new FEATURES_REQUEST/FEATURES_REPLY show;
 *  - with no controller connected (one configured but unreachable, or none at all), the switch
 *    closes the snoop connection: ovs-ofctl exits with status 1 ("End of file").
 *
 * Bounded: the file has a time limit and every wait has its own; ofswitchd and ovs-ofctl are
 * stopped by pid, every socket closed in teardown. Times are milliseconds.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFP_NO_BUFFER, OFPFC_ADD, OFPG_ANY, OFPP_ANY, type OfpMessage } from '../../protocol/index.ts';
import { OVS_OFCTL, run } from '../helpers/appctl.ts';
import { FakeController, freePort, type OfPeer } from '../helpers/controller.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';

t.setTimeout(60_000);

interface Snoop {
  output(): string;
  exitCode(): number | null;
  stop(): Promise<void>;
}

/** `ovs-ofctl -O OpenFlow13 snoop unix:PATH`, its unixctl socket in a private directory. */
function startSnoop(t: Test, path: string): Snoop {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-snoop-'));
  const child = spawn(OVS_OFCTL, ['-O', 'OpenFlow13', 'snoop', `unix:${path}`], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVS_RUNDIR: dir },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const snoop: Snoop = {
    output: () => out,
    exitCode: () => child.exitCode,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.teardown(() => snoop.stop());
  return snoop;
}

function flowMod(peer: OfPeer, priority: number, outPort: number): OfpMessage {
  return {
    type: 'flow_mod', xid: peer.xid(), cookie: 0n, cookieMask: 0n, tableId: 0, command: OFPFC_ADD, idleTimeout: 0, hardTimeout: 0,
    priority, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0,
    match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 8080 }],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: outPort, maxLen: 0 }] }],
  };
}

const hex = (xid: number): string => `xid=0x${xid.toString(16)}`;

t.test('ovs-ofctl snoop shows the controller\'s conversation, both ways', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  const controller = await FakeController.listen();
  t.teardown(() => controller.close());
  const daemon = await startOfswitchd([`--controller=${controller.target}`, '--port=p1:1', '--port=p2:2']);
  t.teardown(() => daemon.stop());
  const peer = await controller.peer(1, 5000);
  await peer.handshake();

  const snoop = startSnoop(t, join(daemon.rundir, 'br0.snoop'));
  // Once snoop prints one of our echo requests, it is attached.
  let echoXid = 0;
  try {
    await waitFor(() => {
      if (snoop.exitCode() !== null) return true;
      echoXid = peer.xid();
      peer.send({ type: 'echo_request', xid: echoXid, data: Buffer.from('sync') });
      return /OFPT_ECHO_REQUEST/.test(snoop.output());
    }, 5000, 'snoop to print an echo request');
  } catch (e) {
    t.fail((e as Error).message, { snoop: snoop.output() });
    return;
  }
  t.equal(snoop.exitCode(), null, 'ovs-ofctl snoop is attached and running');

  const add = flowMod(peer, 123, 2);
  peer.send(add);
  // Output to OFPP_ANY is no output: refused (OFPET_BAD_ACTION/OFPBAC_BAD_OUT_PORT).
  const bad = flowMod(peer, 124, OFPP_ANY);
  peer.send(bad);
  const barrierXid = peer.xid();
  const reply = await peer.request({ type: 'barrier_request', xid: barrierXid });
  t.equal(reply.type, 'barrier_reply', 'the controller got its barrier reply');
  const errors = peer.received.filter((r) => r.message.type === 'error' && r.message.xid === bad.xid);
  t.equal(errors.length, 1, 'and an error for the flow-mod with output to OFPP_ANY');

  // The management socket's traffic is not the controller's.
  const mgmt = await run(OVS_OFCTL, ['-O', 'OpenFlow13', 'add-flow', `unix:${daemon.mgmt}`, 'priority=77,udp,tp_dst=53,actions=drop']);
  t.equal(mgmt.status, 0, 'ovs-ofctl add-flow on br0.mgmt works');

  try {
    await waitFor(() => /OFPT_BARRIER_REPLY/.test(snoop.output()), 5000, 'snoop to print the barrier reply');
  } catch { /* asserted below */ }
  await new Promise((r) => setTimeout(r, 300));
  const out = snoop.output();
  const lines = out.split('\n');
  const find = (re: RegExp): string | undefined => lines.find((l) => re.test(l));
  t.match(find(/OFPT_FLOW_MOD/), new RegExp(`OFPT_FLOW_MOD \\(OF1\\.3\\) \\(${hex(add.xid)}\\): ADD priority=123,tcp,tp_dst=8080 actions=output:2`),
    'snoop: the controller\'s FLOW_MOD, as ovs-ofctl reads it');
  t.match(find(/OFPT_BARRIER_REQUEST/), new RegExp(`OFPT_BARRIER_REQUEST \\(OF1\\.3\\) \\(${hex(barrierXid)}\\)`), 'snoop: its BARRIER_REQUEST');
  t.match(find(/OFPT_BARRIER_REPLY/), new RegExp(`OFPT_BARRIER_REPLY \\(OF1\\.3\\) \\(${hex(barrierXid)}\\)`), 'snoop: the switch\'s BARRIER_REPLY');
  t.match(find(/OFPT_ERROR/), new RegExp(`OFPT_ERROR \\(OF1\\.3\\) \\(${hex(bad.xid)}\\)`), 'snoop: the switch\'s OFPT_ERROR for the bad flow-mod');
  t.match(out, new RegExp(`OFPT_ECHO_REPLY \\(OF1\\.3\\) \\(${hex(echoXid)}\\)`), 'snoop: the switch\'s echo reply');
  t.notMatch(out, /priority=77/, 'snoop: nothing from the management connection');
  const order = ['OFPT_FLOW_MOD', 'OFPT_BARRIER_REQUEST', 'OFPT_BARRIER_REPLY'].map((w) => lines.findIndex((l) => l.includes(w)));
  t.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), 'in the order they crossed: flow-mod, barrier request, barrier reply');

  // The controller drops the connection; ofswitchd dials again (1 s backoff); snoop keeps watching.
  peer.close();
  const again = await controller.peer(2, 5000);
  await again.handshake();
  try {
    await waitFor(() => /OFPT_FEATURES_REPLY/.test(snoop.output()), 5000, 'snoop to print the new features reply');
  } catch { /* asserted below */ }
  t.match(snoop.output(), /OFPT_FEATURES_REQUEST[\s\S]*OFPT_FEATURES_REPLY/, 'after the controller reconnected, snoop shows the new handshake');
  t.equal(snoop.exitCode(), null, 'snoop still attached');
  await snoop.stop();
});

t.test('no controller connected: the snoop connection is closed', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  for (const [what, args] of [
    ['a controller configured where nothing listens', [`--controller=tcp:127.0.0.1:${await freePort()}`]],
    ['no controller configured', []],
  ] as const) {
    const daemon = await startOfswitchd([...args, '--port=p1:1']);
    t.teardown(() => daemon.stop());
    const snoop = startSnoop(t, join(daemon.rundir, 'br0.snoop'));
    try {
      await waitFor(() => snoop.exitCode() !== null, 5000, 'ovs-ofctl snoop to exit');
    } catch { /* asserted below */ }
    t.equal(snoop.exitCode(), 1, `${what}: ovs-ofctl snoop exits with status 1`);
    t.match(snoop.output(), /vconn_recv \(End of file\)/, `${what}: because the switch closed the connection (End of file)`);
    await daemon.stop();
  }
});
