/*
 * ofs-appctl against a running ofswitchd with two stream ports (p1, p2) and two without a
 * device (p3, p4), flows installed with the real ovs-ofctl:
 *
 *  - ofproto/trace shows the tables walked, the rule matched in each and the datapath
 *    actions: a goto_table chain ending in set_field+output, a group, NORMAL (flooding, then
 *    forwarding once learned), a table miss, output to CONTROLLER, a hex packet; and it
 *    changes nothing (no counter, no MAC table entry, no datapath flow);
 *  - a frame sent into a port (a tiny wire client: 2-byte big-endian length + frame) leaves a
 *    megaflow in dpif/dump-flows, counts in dpif/show and an entry in fdb/show;
 *  - --format=json gives parseable data; the real ovs-appctl speaks to the same socket;
 *  - bad commands and arguments: one line on stderr, non-zero status;
 *  - `exit` stops the daemon and removes its sockets.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { sendFrames } from '../helpers/wire.ts';

const OFS_APPCTL = fileURLToPath(new URL('../../bin/ofs-appctl', import.meta.url));
const OVS_OFCTL = '/usr/bin/ovs-ofctl';
const OVS_APPCTL = '/usr/bin/ovs-appctl';

interface Run { status: number | null; out: string; err: string }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, env });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** An Ethernet frame: destination, source, ethertype 0x88b5 and a few bytes. */
function frame(dst: string, src: string): Buffer {
  const mac = (m: string): Buffer => Buffer.from(m.replace(/:/g, ''), 'hex');
  return Buffer.concat([mac(dst), mac(src), Buffer.from([0x88, 0xb5]), Buffer.alloc(46, 0xab)]);
}

t.test('ofs-appctl against ofswitchd', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  const sockets = mkdtempSync(join(tmpdir(), 'ofs-ports-'));
  t.teardown(() => rmSync(sockets, { recursive: true, force: true }));
  const p1 = join(sockets, 'p1.sock');
  const p2 = join(sockets, 'p2.sock');
  const daemon = await startOfswitchd([`--port=p1:1,pstream=punix:${p1}`, `--port=p2:2,pstream=punix:${p2}`, '--port=p3:3', '--port=p4:4']);
  t.teardown(() => daemon.stop());
  const ctl = join(daemon.rundir, 'ofswitchd.ctl');
  t.ok(existsSync(ctl), 'the control socket is <rundir>/ofswitchd.ctl');
  const appctl = (...args: string[]): Run => run(OFS_APPCTL, ['-t', ctl, ...args]);
  const ok = (...args: string[]): string => {
    const r = appctl(...args);
    if (r.status !== 0) throw new Error(`ofs-appctl ${args.join(' ')} exited ${r.status}: ${r.err}`);
    return r.out;
  };
  const trace = (...args: string[]): string => ok('ofproto/trace', 'br0', ...args);

  const target = `unix:${daemon.mgmt}`;
  for (const [command, spec] of [
    ['add-flow', 'table=0,priority=10,in_port=1,actions=goto_table:1'],
    ['add-flow', 'table=1,priority=100,cookie=0x5,tcp,tp_dst=80,actions=set_field:00:00:00:00:00:99->eth_dst,output:2'],
    ['add-group', 'group_id=1,type=all,bucket=output:3,bucket=set_field:10.0.0.9->ip_dst,output:4'],
    ['add-flow', 'table=1,priority=50,udp,actions=group:1'],
    ['add-flow', 'table=0,priority=5,in_port=2,actions=NORMAL'],
    ['add-flow', 'table=0,priority=5,in_port=4,actions=NORMAL'],
    ['add-flow', 'table=0,priority=5,in_port=3,arp,actions=CONTROLLER:65535'],
    ['add-flow', 'table=0,priority=5,in_port=3,udp,actions=push_vlan:0x8100,goto_table:2'],
    ['add-flow', 'table=2,priority=10,dl_vlan=5,actions=output:1'],
    ['add-flow', 'table=2,priority=5,actions=output:4'],
  ] as const) {
    const r = run(OVS_OFCTL, ['-O', 'OpenFlow13', command, target, spec]);
    t.equal(r.status, 0, `ovs-ofctl ${command} ${spec} ${r.err}`);
  }

  await t.test('trace: a goto_table chain to set_field and output', async (t) => {
    const out = trace('in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80');
    t.match(out, /^Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=10\.0\.0\.1,nw_dst=10\.0\.0\.2,.*tp_src=1234,tp_dst=80\n\nbridge\("br0"\)\n-------------\n/, 'the flow, then the bridge');
    t.match(out, ' 0. in_port=1, priority 10\n    goto_table:1\n 1. tcp,tp_dst=80, priority 100, cookie 0x5\n    set_field:00:00:00:00:00:99->eth_dst\n    output:2\n',
      'both tables, the rule matched in each with priority and cookie, and its actions');
    t.match(out, /\nFinal flow: tcp,in_port=1,.*dl_dst=00:00:00:00:00:99,/, 'the final flow has the new destination');
    t.match(out, '\nMegaflow: tcp,in_port=1,nw_frag=no,tp_dst=80\n', 'the megaflow holds what the tables looked at (and, as in OVS, whether an IP packet is a fragment)');
    t.match(out, /\nDatapath actions: set\(eth\(dst=00:00:00:00:00:99\)\),2\n$/, 'datapath actions');
  });

  await t.test('trace: a push, then a lookup on the new tag, cached with the original tag', async (t) => {
    const untagged = trace('in_port=3,udp,udp_dst=53');
    t.match(untagged, ' 2. priority 5\n    output:4\n', 'untagged: the pushed tag has VID 0, table 2 sends to p4');
    t.match(untagged, /\nMegaflow: udp,in_port=3,vlan_tci=0x0000\/0x1fff,nw_frag=no\n/, 'the megaflow: the tables looked only at the tag, and a tagged frame cannot use it');
    const tagged = trace('in_port=3,dl_vlan=5,udp,udp_dst=53');
    t.match(tagged, ' 2. dl_vlan=5, priority 10\n    output:1\n', 'tagged with VID 5: the pushed tag copies it, table 2 sends to p1');
    t.match(tagged, /\nMegaflow: udp,in_port=3,dl_vlan=5,/, 'its megaflow holds VID 5');
  });

  await t.test('trace: fragments (nw_frag), printed as Open vSwitch prints them', async (t) => {
    t.match(trace('in_port=3,udp,udp_dst=53'), /^Flow: udp,in_port=3,.*,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=53\n/, 'not a fragment');
    t.match(trace('in_port=3,udp,nw_frag=first,udp_dst=53'), /^Flow: udp,in_port=3,.*,nw_ttl=64,nw_frag=first,tp_src=0,tp_dst=53\n/, 'a first fragment has its ports');
    t.match(trace('in_port=3,udp,nw_frag=later'), /^Flow: udp,in_port=3,.*,nw_ttl=64,nw_frag=later\n/, 'a later fragment has none');
    t.match(trace('in_port=3,udp6,ip_frag=later'), /^Flow: ipv6,in_port=3,.*,nw_proto=44,.*,nw_ttl=64,nw_frag=later,/,
      'IPv6 too (a later fragment\'s next header is the fragment header\'s, 44, as in Open vSwitch)');
    t.match(appctl('ofproto/trace', 'br0', 'in_port=3,arp,nw_frag=first').err, /prerequisites not met for setting nw_frag/, 'only IP has fragments');
  });

  await t.test('trace: a group', async (t) => {
    const out = trace('in_port=1,udp,udp_dst=53');
    t.match(out, ' 1. udp, priority 50\n    group:1\n    bucket 0\n            output:3\n    bucket 1\n            set_field:10.0.0.9->ip_dst\n            output:4\n',
      'the group and each bucket that ran');
    t.match(out, '\nFinal flow: unchanged\n', 'buckets work on copies');
    t.match(out, /\nDatapath actions: 3,clone\(set\(ipv4\(dst=10\.0\.0\.9\)\),4\)\n$/, 'datapath actions');
  });

  await t.test('trace: NORMAL with nothing learned floods', async (t) => {
    const out = trace('in_port=2,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02');
    t.match(out, ' 0. in_port=2, priority 5\n    NORMAL\n     -> no learned MAC for destination, flooding\n', 'NORMAL and its decision');
    t.match(out, /\nMegaflow: in_port=2,vlan_tci=0x0000\/0x1fff,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02\n/, 'NORMAL consults the addresses and VLAN');
    const actions = /\nDatapath actions: (.*)\n/.exec(out)![1]!.split(',');
    t.ok(['1', '3', '4'].every((p) => actions.includes(p)) && !actions.includes('2'), `flooded to every port but the input one (${actions.join(',')})`);
  });

  await t.test('trace: a miss drops, CONTROLLER goes to userspace, a hex packet', async (t) => {
    const miss = trace('in_port=3,ip');
    t.match(miss, ' 0. No match.\n    drop\n', 'a table miss');
    t.match(miss, /\nDatapath actions: drop\n$/, 'dropped');
    const chained = trace('in_port=1,icmp,icmp_type=8');
    t.match(chained, ' 0. in_port=1, priority 10\n    goto_table:1\n 1. No match.\n    drop\n', 'a miss after a goto');

    const controller = trace('in_port=3,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2');
    t.match(controller, ' 0. arp,in_port=3, priority 5\n    CONTROLLER:65535\n', 'output to the controller');
    t.match(controller, /\nDatapath actions: userspace\(controller\(reason=action,table=0,cookie=0x0,max_len=65535\)\)\n$/, 'a packet-in');

    const ethernet = '000000000002' + '000000000001' + '0800';
    const ipv4 = '45000028' + '00000000' + '40060000' + '0a000001' + '0a000002';
    const tcp = '04d20050' + '00000000' + '00000000' + '50020000' + '00000000';
    const hex = trace('in_port=1', ethernet + ipv4 + tcp);
    t.match(hex, /^Flow: tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10\.0\.0\.1,nw_dst=10\.0\.0\.2,.*tp_src=1234,tp_dst=80\n/, 'a hex packet is parsed');
    t.match(hex, /\nDatapath actions: set\(eth\(dst=00:00:00:00:00:99\)\),2\n$/, 'and traced');
  });

  await t.test('trace changes nothing', async (t) => {
    t.equal(ok('dpif/dump-flows', 'br0'), '', 'no datapath flow');
    t.match(ok('dpif/show'), 'upcalls:0', 'no upcall');
    t.equal(ok('fdb/show', 'br0'), ' port  VLAN  MAC                Age\n', 'nothing learned');
    const flows = run(OVS_OFCTL, ['-O', 'OpenFlow13', 'dump-flows', target]).out;
    t.notMatch(flows, /n_packets=[1-9]/, 'no rule counted a packet');
  });

  await t.test('a frame sent into a port: dump-flows, dpif/show, fdb/show', async (t) => {
    await sendFrames(p2, [frame('00:00:00:00:00:02', '00:00:00:00:00:01'), frame('00:00:00:00:00:02', '00:00:00:00:00:01')]);
    // The first frame is an upcall and leaves a megaflow; learning its source drops only
    // megaflows toward that address, so the second frame hits it.
    let show = '';
    await waitFor(() => {
      show = ok('dpif/show');
      const m = /^datapath: hit:(\d+) missed:(\d+)/.exec(show);
      return !!m && Number(m[1]) + Number(m[2]) === 2 && / flows:1\n/.test(show);
    }, 10_000, 'both frames to be handled and a megaflow to stay');
    t.match(show, /^datapath: hit:1 missed:1 lookups: emc hits:0 megaflow hits:1 upcalls:1 \(uncached:0\) flows:1\n/, 'datapath totals');
    t.match(show, /\n {2}br0: lookups: .*flows:1\n/, 'the bridge');
    t.match(show, /\n {4}p1 1: \(stream\)\n {4}p2 2: \(stream\)\n {4}p3 3: \(internal\)\n {4}p4 4: \(internal\)\n {4}br0 LOCAL: \(\w+\)\n/, 'its ports');

    const dump = ok('dpif/dump-flows', 'br0');
    const flow = /^in_port=2,vlan_tci=0x0000\/0x1fff,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02, packets:(\d+), bytes:(\d+), used:\d+\.\d{3}s, actions:[\w,]+\n$/.exec(dump);
    t.ok(flow, `one megaflow, with its match, counters, age and actions: ${dump}`);
    t.ok(flow && Number(flow[1]) >= 1 && Number(flow[2]) === 60 * Number(flow[1]), 'packets and bytes of 60-byte frames');

    t.match(ok('fdb/show', 'br0'), /^ port {2}VLAN {2}MAC {16}Age\n {4}2 {5}0 {2}00:00:00:00:00:01 {2,4}\d+\n$/, 'NORMAL learned the source');
    const back = trace('in_port=4,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01');
    t.match(back, '    NORMAL\n     -> forwarding to learned port 2\n', 'a trace now finds the learned port');
    t.match(back, /\nDatapath actions: 2\n$/, 'and outputs there only');
  });

  await t.test('--format=json', async (t) => {
    const report = JSON.parse(ok('--format=json', 'ofproto/trace', 'br0', 'in_port=1,tcp,tp_dst=80')) as {
      tables: Array<{ table: number; rule: { priority: number; cookie: string } | null; steps: Array<{ action: string }> }>;
      megaflow: string; datapathActions: string;
    };
    t.same(report.tables.map((x) => [x.table, x.rule?.priority, x.rule?.cookie]), [[0, 10, '0x0'], [1, 100, '0x5']], 'tables, priorities, cookies');
    t.same(report.tables[1]!.steps.map((s) => s.action), ['set_field:00:00:00:00:00:99->eth_dst', 'output:2'], 'actions');
    t.equal(report.datapathActions, 'set(eth(dst=00:00:00:00:00:99)),2', 'datapath actions');
    const flows = JSON.parse(ok('-f', 'json', 'dpif/dump-flows', 'br0')) as Array<{ packets: number; fields: Record<string, string | null> }>;
    t.ok(flows.length === 1 && flows[0]!.packets >= 1, 'datapath flows as data');
    t.equal(flows[0]?.fields.dl_src, '00:00:00:00:00:01', 'with their match fields');
    t.same(JSON.parse(ok('--format=json', 'fdb/show', 'br0')).map((e: { mac: string }) => e.mac), ['00:00:00:00:00:01'], 'the MAC table as data');
    const show = JSON.parse(ok('--format=json', 'dpif/show')) as { upcalls: number; bridges: Array<{ name: string; ports: unknown[] }> };
    t.equal(show.bridges[0]!.ports.length, 5, 'dpif/show as data');
    t.match(ok('--format=json', '--pretty', 'list-commands'), /^\[\n {2}\{\n {4}"name": "/, '--pretty indents');
  });

  await t.test('the run directory and daemon name find the socket', async (t) => {
    t.match(run(OFS_APPCTL, [`--rundir=${daemon.rundir}`, 'list-commands']).out, /^The available commands are:\n/, '--rundir');
    t.match(run(OFS_APPCTL, ['-t', 'ofswitchd', 'version'], { ...process.env, OFSWITCH_RUNDIR: daemon.rundir }).out, /^ofswitchd \(ofswitch\) \d+\.\d+\.\d+\n$/,
      '$OFSWITCH_RUNDIR and -t NAME');
  });

  await t.test('Open vSwitch\'s ovs-appctl talks to the same socket', { skip: existsSync(OVS_APPCTL) ? false : `${OVS_APPCTL} not installed` }, async (t) => {
    const r = run(OVS_APPCTL, ['-t', ctl, 'fdb/show', 'br0']);
    t.equal(r.status, 0, 'ovs-appctl fdb/show');
    t.match(r.out, / port {2}VLAN {2}MAC {16}Age\n {4}2 {5}0 {2}00:00:00:00:00:01/, 'the same table');
    const bad = run(OVS_APPCTL, ['-t', ctl, 'fdb/show']);
    t.equal(bad.status, 2, 'an error is an error to ovs-appctl too');
    t.match(bad.err, '"fdb/show" command requires at least 1 arguments', 'with the same words');
  });

  await t.test('bad commands and arguments: one line, non-zero status', async (t) => {
    const cases: Array<[string[], number, RegExp]> = [
      [['nosuch'], 2, /^ofs-appctl: "nosuch" is not a valid command \(use "list-commands" to see a list of valid commands\)$/],
      [['fdb/show'], 2, /^ofs-appctl: "fdb\/show" command requires at least 1 arguments$/],
      [['dpif/show', 'x'], 2, /^ofs-appctl: "dpif\/show" command takes at most 0 arguments$/],
      [['fdb/show', 'br9'], 2, /^ofs-appctl: br9: unknown bridge$/],
      [['ofproto/trace', 'br0', 'in_port=1,foo=3'], 2, /^ofs-appctl: Bad openflow flow syntax: in_port=1,foo=3: unknown field foo$/],
      [['ofproto/trace', 'br0', 'in_port=1,tp_dst=80'], 2, /prerequisites not met for setting tp_dst$/],
      [['ofproto/trace', 'br0', 'in_port=1', 'xyz'], 2, /^ofs-appctl: Bad packet: "xyz" is not hex bytes$/],
      [['exit', 'now'], 2, /^ofs-appctl: exit: unknown option "now"$/],
      [['--format=xml', 'dpif/show'], 1, /^ofs-appctl: unknown format 'xml' \(text or json\)$/],
      [['--frobnicate', 'dpif/show'], 1, /^ofs-appctl: unrecognized option '--frobnicate'/],
      [[], 1, /^ofs-appctl: at least one non-option argument is required/],
    ];
    for (const [args, status, error] of cases) {
      const r = appctl(...args);
      t.equal(r.status, status, `${args.join(' ') || '(nothing)'}: exit status ${status}`);
      t.equal(r.out, '', 'nothing on stdout');
      t.match(r.err, /^[^\n]*\n$/, 'one line on stderr');
      t.match(r.err.trimEnd(), error, 'saying what is wrong');
    }
    const gone = run(OFS_APPCTL, ['-t', join(daemon.rundir, 'nobody.ctl'), 'dpif/show']);
    t.equal(gone.status, 1, 'no daemon: status 1');
    t.match(gone.err, /^ofs-appctl: cannot connect to ".*nobody\.ctl" \(no such socket; is ofswitchd running\?\)\n$/, 'no daemon: one line');
  });

  await t.test('exit stops the daemon', async (t) => {
    const exited = new Promise<number | null>((resolve) => daemon.process.once('exit', (code) => resolve(code)));
    const r = appctl('exit');
    t.equal(r.status, 0, 'exit answers');
    t.equal(await exited, 0, 'the daemon exits with status 0');
    t.notOk(existsSync(ctl), 'the control socket is removed');
    t.notOk(existsSync(daemon.mgmt), 'the management socket is removed');
  });
});
