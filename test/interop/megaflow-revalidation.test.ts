/*
 * A flow change drops only the megaflows it can affect (lib/ofproto/ofproto.ts change(),
 * LookupRegion in lib/ofproto/xlate.ts), shown through the public surface: flows set with the
 * real ovs-ofctl (each add waits for its barrier), frames through stream ports, the datapath's
 * megaflows read with `ofs-appctl dpif/dump-flows`. A megaflow that survives a change keeps
 * counting (its packets go on from where they were); one that was dropped starts again at 1.
 *
 * Frame A (10.0.1.5) leaves by table 0 alone; frame B (10.0.2.7) goes through table 1, which
 * rewrites its destination to 10.9.9.9, to table 2. Then:
 *   - a rule in table 0 for another /24 keeps both megaflows;
 *   - a rule in table 0 matching A drops A's megaflow only, and A follows the rule at once;
 *   - a rule in table 2 for B's original address keeps B's (table 2 sees 10.9.9.9), one for
 *     10.9.9.9 drops it;
 *   - mod-flows and del-flows of the rule A uses drop A's megaflow again;
 *   - a group change drops them all (not a change of flows);
 *   - a port added with ofs-vsctl while a FLOOD megaflow is cached gets the next flooded frame;
 *   - with NORMAL, learning a host drops only the megaflows whose destination it is.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFrame } from '../../lib/packet/index.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { Wire } from '../helpers/wire.ts';
import { OFS_VSCTL } from '../vsctl/harness.ts';

const OFS_APPCTL = fileURLToPath(new URL('../../bin/ofs-appctl', import.meta.url));
const OVS_OFCTL = '/usr/bin/ovs-ofctl';

t.setTimeout(60_000);

function udpTo(dst: string): Buffer {
  return buildFrame({
    ethSrc: '02:00:00:00:00:01', ethDst: '02:00:00:00:00:02', ipv4: { src: '192.168.0.1', dst }, udp: { src: 1000, dst: 2000 },
  });
}

t.test('a change drops only the megaflows it can affect', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  const sockets = mkdtempSync(join(tmpdir(), 'ofs-reval-'));
  t.teardown(() => rmSync(sockets, { recursive: true, force: true }));
  const port = (n: number): string => join(sockets, `p${n}.sock`);
  const daemon = await startOfswitchd([1, 2, 3].map((n) => `--port=p${n}:${n},pstream=punix:${port(n)}`));
  t.teardown(() => daemon.stop());
  const [p1, p2, p3] = await Promise.all([1, 2, 3].map((n) => Wire.connect(port(n), `p${n}`)));
  t.teardown(() => { for (const w of [p1, p2, p3]) w!.close(); });

  const ofctl = (...args: string[]): void => {
    const r = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', ...args.slice(0, 1), `unix:${daemon.mgmt}`, ...args.slice(1)], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`ovs-ofctl ${args.join(' ')}: ${r.stderr}`);
  };
  const megaflows = (): string[] => {
    const r = spawnSync(OFS_APPCTL, ['-t', join(daemon.rundir, 'ofswitchd.ctl'), 'dpif/dump-flows', 'br0'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`ofs-appctl dpif/dump-flows: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l !== '');
  };
  /** The packet count of the megaflow for `dst` (by its original destination), or undefined. */
  const packets = (dst: '10.0.1.5' | '10.0.2.7'): number | undefined => {
    const prefix = dst === '10.0.1.5' ? /nw_dst=10\.0\.1\.\d+/ : /nw_dst=10\.0\.2\.\d+/;
    const line = megaflows().find((l) => prefix.test(l));
    return line ? Number(/packets:(\d+)/.exec(line)![1]) : undefined;
  };
  /** Sends one frame to `dst` from p1 and returns the port it came out of. */
  const send = async (dst: '10.0.1.5' | '10.0.2.7'): Promise<number> => {
    for (const w of [p2, p3]) w!.take();
    p1!.send(udpTo(dst));
    let out = 0;
    await waitFor(() => {
      out = p2!.received.length ? 2 : p3!.received.length ? 3 : 0;
      return out !== 0;
    }, 5000, `the frame to ${dst} to leave`);
    return out;
  };

  ofctl('add-flow', 'table=0,priority=10,ip,nw_dst=10.0.1.0/24,actions=output:2');
  ofctl('add-flow', 'table=0,priority=10,ip,nw_dst=10.0.2.0/24,actions=goto_table:1');
  ofctl('add-flow', 'table=1,priority=5,ip,actions=set_field:10.9.9.9->ip_dst,goto_table:2');
  ofctl('add-flow', 'table=2,priority=5,ip,nw_dst=10.9.9.9,actions=output:2');
  t.equal(await send('10.0.1.5'), 2, 'A leaves by port 2');
  t.equal(await send('10.0.2.7'), 2, 'B, rewritten, leaves by port 2');
  t.equal(megaflows().length, 2, `two megaflows:\n${megaflows().join('\n')}`);
  t.same([packets('10.0.1.5'), packets('10.0.2.7')], [1, 1], 'one packet each');

  ofctl('add-flow', 'table=0,priority=20,ip,nw_dst=10.0.3.0/24,actions=output:3');
  await send('10.0.1.5');
  await send('10.0.2.7');
  t.same([packets('10.0.1.5'), packets('10.0.2.7')], [2, 2], 'a rule for another /24 keeps both megaflows');

  ofctl('add-flow', 'table=0,priority=20,ip,nw_dst=10.0.1.5,actions=output:3');
  t.equal(packets('10.0.1.5'), undefined, 'a rule matching A drops A\'s megaflow');
  t.equal(packets('10.0.2.7'), 2, 'and keeps B\'s');
  t.equal(await send('10.0.1.5'), 3, 'A follows the new rule at once');
  t.equal(packets('10.0.1.5'), 1, 'through a new megaflow');

  ofctl('add-flow', 'table=2,priority=20,ip,nw_dst=10.0.2.7,actions=output:3');
  t.equal(await send('10.0.2.7'), 2, 'a rule in table 2 for B\'s original address does not apply there');
  t.equal(packets('10.0.2.7'), 3, 'and keeps B\'s megaflow (table 2 sees the rewritten address)');
  ofctl('add-flow', 'table=2,priority=20,ip,nw_dst=10.9.9.9,actions=output:3');
  t.equal(packets('10.0.2.7'), undefined, 'a rule in table 2 for the rewritten address drops B\'s megaflow');
  t.equal(await send('10.0.2.7'), 3, 'and B follows it');

  await send('10.0.1.5');
  t.equal(packets('10.0.1.5'), 2, 'A\'s megaflow counts');
  ofctl('mod-flows', 'table=0,ip,nw_dst=10.0.1.5,actions=output:2');
  t.equal(packets('10.0.1.5'), undefined, 'mod-flows of the rule A uses drops A\'s megaflow');
  t.equal(await send('10.0.1.5'), 2, 'A follows the modified rule');
  ofctl('del-flows', '--strict', 'table=0,priority=20,ip,nw_dst=10.0.1.5');
  t.equal(packets('10.0.1.5'), undefined, 'del-flows of it drops A\'s megaflow');
  t.equal(await send('10.0.1.5'), 2, 'A is back on the /24 rule');
  t.ok(packets('10.0.2.7') !== undefined, 'B\'s megaflow was kept through all that');

  ofctl('add-group', 'group_id=1,type=all,bucket=output:3');
  t.equal(megaflows().length, 0, 'a group change drops every megaflow');

  // A port added while frames flow is flooded to at once (no megaflow keeps the old port set).
  ofctl('add-flow', 'table=0,priority=40,ip,nw_dst=10.0.1.5,actions=FLOOD');
  t.equal(await send('10.0.1.5'), 2, 'FLOOD reaches port 2');
  t.equal(packets('10.0.1.5'), 1, 'through a megaflow');
  const added = spawnSync(OFS_VSCTL, [`--rundir=${daemon.rundir}`, '--timeout=20', 'add-port', 'br0', 'p4', '--', 'set', 'interface', 'p4',
    'type=dummy', `options:pstream=punix:${port(4)}`, 'ofport_request=4'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(added.status, 0, `ofs-vsctl add-port p4 ${added.stderr}`);
  const p4 = await Wire.connect(port(4), 'p4');
  t.teardown(() => p4.close());
  p1!.send(udpTo('10.0.1.5'));
  await waitFor(() => p4.received.length > 0, 5000, 'the flooded frame on the new port 4');
  t.pass('the new port gets the flooded frame');

  // NORMAL: learning an address drops only the megaflows that looked it up as a destination.
  ofctl('del-flows');
  ofctl('add-flow', 'priority=0,actions=NORMAL');
  const wires = new Map([[1, p1!], [2, p2!], [3, p3!], [4, p4]]);
  const host = (n: number): string => `02:00:00:00:00:0${n}`;
  /** Host `from` (on port `from`) sends to host `to`; returns the ports the frame left by. */
  const l2 = async (from: number, to: number, expected: number): Promise<number[]> => {
    for (const w of wires.values()) w.take();
    wires.get(from)!.send(buildFrame({ ethSrc: host(from), ethDst: host(to), ipv4: { src: '10.1.0.1', dst: '10.1.0.2' }, udp: { src: 1, dst: 2 } }));
    await waitFor(() => [...wires.values()].filter((w) => w.received.length).length >= expected, 5000, `host ${from} -> host ${to}`);
    await new Promise((r) => setTimeout(r, 100));
    return [...wires].filter(([, w]) => w.received.length).map(([n]) => n);
  };
  const l2Packets = (from: number, to: number): number | undefined => {
    const line = megaflows().find((l) => l.includes(`dl_src=${host(from)},dl_dst=${host(to)}`));
    return line ? Number(/packets:(\d+)/.exec(line)![1]) : undefined;
  };
  t.same(await l2(1, 2, 3), [2, 3, 4], 'host 1 to host 2, unknown: flooded');
  t.equal(l2Packets(1, 2), 1, 'a megaflow for it (learning host 1 did not drop it)');
  t.same(await l2(2, 1, 1), [1], 'host 2 to host 1, learned: to port 1 only');
  t.equal(l2Packets(1, 2), undefined, 'learning host 2 dropped the megaflow that flooded to it');
  t.equal(l2Packets(2, 1), 1, 'and kept its own');
  t.same(await l2(1, 2, 1), [2], 'host 1 to host 2 now goes to port 2 only');
  t.same(await l2(3, 1, 1), [1], 'host 3 to host 1');
  t.same(await l2(2, 1, 1), [1], 'host 2 to host 1 again');
  t.equal(l2Packets(2, 1), 2, 'learning host 3 kept the megaflows toward hosts 1 and 2');
  t.equal(l2Packets(1, 2), 1, 'both of them');
});
