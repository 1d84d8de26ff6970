/*
 * ofs-vsctl against the real ovs-vsctl (Open vSwitch 3.1): the same sequence of commands
 * (every command ofs-vsctl implements, with options, output formats, chained commands, and
 * commands that must fail) runs with ovs-vsctl against a private ovsdb-server and with
 * ofs-vsctl against our database server, both with --no-wait (there is no switch daemon
 * behind either). After normalisation every step's stdout, stderr and exit status must be
 * identical.
 *
 * Normalisation (harness.ts): UUIDs become <0>, <1>, ... in order of appearance; the program
 * name becomes PROG and log lines lose their time and sequence number; ovsdb-idl's extra log
 * line for a failed transaction is dropped; where Open vSwitch's order is left to chance
 * (rows of a whole table, the ports of a bridge) both outputs are put in one canonical order;
 * `list` output of Open vSwitch is restricted to the columns ofswitch's schema has.
 *
 * Then the deliberate differences, each asserted on both sides: a bridge name with "/" is
 * refused by ofs-vsctl (ovs-vsctl takes it and ovs-vswitchd warns later); tables and columns
 * ofswitch does not have; VLAN ("fake") bridges. Last, OVSDB's mutate "delete" on a map, sent
 * to both servers, leaves the same map.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { DbClient, type Operation } from '../../lib/config/index.ts';
import { getTable } from '../../lib/vsctl/commands.ts';
import {
  canonicalOrder, normaliseStderr, normaliseUuids, OFS_VSCTL, OVS_VSCTL, ovsdbMissing, restrictColumns, type Run, type Server,
  startDbServer, startOvsdb, vsctl, vsctlAsync,
} from './harness.ts';

interface Step {
  args: string[];
  /** Output whose order Open vSwitch leaves to chance. */
  order?: 'records' | 'show';
}

const s = (args: string, order?: Step['order']): Step => ({ args: args.split(' '), ...(order ? { order } : {}) });
const a = (args: string[], order?: Step['order']): Step => ({ args, ...(order ? { order } : {}) });

const STEPS: Step[] = [
  // The seed's commands, then the database as they leave it.
  s('init'),
  s('show'),
  s('list-br'),
  s('add-br br0'),
  s('add-br br0'),
  s('--may-exist add-br br0'),
  s('add-port br0 eth0'),
  a(['set', 'bridge', 'br0', "protocols=OpenFlow13"]),
  s('set-controller br0 tcp:127.0.0.1:6633'),
  s('add-port br0 p0 -- set interface p0 type=internal'),
  s('set Interface p0 ofport_request=100'),
  s('list port', 'records'),
  s('list interface', 'records'),
  s('list bridge'),
  s('list controller'),
  s('list open_vswitch'),
  s('show', 'show'),
  // Bridges, ports, controllers, fail modes.
  s('list-br'),
  s('br-exists br0'),
  s('br-exists br9'),
  s('list-ports br0'),
  s('list-ports br9'),
  s('get-controller br0'),
  s('get-fail-mode br0'),
  s('set-fail-mode br0 secure'),
  s('get-fail-mode br0'),
  s('set-fail-mode br0 bogus'),
  s('del-fail-mode br0'),
  s('get-fail-mode br0'),
  // get / set / add / remove / clear, values in ovs-vsctl's syntax.
  s('get bridge br0 datapath_id'),
  s('get interface p0 ofport'),
  s('get interface p0 ofport_request type name'),
  s('get bridge br0 name protocols fail_mode _uuid'),
  s('get bridge br0 ports'),
  s('add bridge br0 protocols OpenFlow10'),
  s('get bridge br0 protocols'),
  s('add bridge br0 protocols OpenFlow14 OpenFlow15,OpenFlow12'),
  s('remove bridge br0 protocols OpenFlow10 OpenFlow15'),
  s('get bridge br0 protocols'),
  s('set interface p0 options:peer=x ofport_request=101'),
  s('get interface p0 options options:peer ofport_request'),
  a(['set', 'bridge', 'br0', 'other_config={a=1, b="x y", c=3}', 'external_ids:owner=me']),
  a(['get', 'bridge', 'br0', 'other_config', 'other_config:b', 'external_ids']),
  s('remove bridge br0 other_config a'),
  a(['remove', 'bridge', 'br0', 'other_config', 'b="x y"', 'c=4']),
  s('get bridge br0 other_config'),
  s('add bridge br0 other_config c=5 d=6'),
  s('get bridge br0 other_config'),
  s('add bridge br0 other_config c=7 e=8 -- get bridge br0 other_config'),
  s('get bridge br0 other_config:a'),
  s('--if-exists get bridge br0 other_config:a'),
  a(['set', 'bridge', 'br0', 'external_ids:x="a=b"', 'external_ids:"key with space"=value', 'external_ids:n="123"', 'external_ids:t=true']),
  s('get bridge br0 external_ids'),
  s('br-get-external-id br0'),
  s('br-get-external-id br0 x'),
  s('clear bridge br0 protocols external_ids'),
  s('get bridge br0 protocols external_ids'),
  s('set port p0 tag=5 trunks=[1,2,10-12] vlan_mode=access'),
  s('list port p0'),
  s('get port p0 tag trunks vlan_mode'),
  s('set port p0 trunks=1,2,2'),
  s('set port p0 tag=1-3'),
  s('get bridge . name'),
  s('get open_vswitch . bridges'),
  // Failures: each one line, status 1, nothing changed.
  s('clear port p0 interfaces'),
  s('set port p0 tag=5000'),
  s('set bridge br0 fail_mode=foo'),
  s('set bridge br0 protocols=OpenFlow99'),
  s('set bridge br0 nosuch=1'),
  s('list nosuch'),
  s('get bridge br0 nosuch'),
  s('set interface p0 ofport_request=abc'),
  s('set interface p0 ofport_request=0'),
  s('set bridge br0 controller=11111111-2222-3333-4444-555555555555'),
  s('set bridge br0 name=br1'),
  s('set bridge br9 fail_mode=secure'),
  s('--if-exists set bridge br9 fail_mode=secure'),
  s('set bridge br0 protocols'),
  s('set bridge br0 other_config=a'),
  s('set bridge br0 other_config={a}'),
  a(['set', 'bridge', 'br0', 'protocols=OpenFlow13,OpenFlow13']),
  a(['set', 'bridge', 'br0', 'external_ids:k="unterminated']),
  s('set bridge br0 fail_mode:x=y'),
  s('get bridge br0 name:x'),
  s('remove port p0 interfaces'),
  s('add-br br0 -- set bridge br0 nosuch=1'),
  a(['add-br', '']),
  s('add-port br9 eth9'),
  s('add-port br0 eth0'),
  s('--may-exist add-port br0 eth0'),
  s('add-port br0 br0'),
  s('del-port br0'),
  s('del-port nosuch'),
  s('--if-exists del-port nosuch'),
  s('del-br br9'),
  s('--if-exists del-br br9'),
  // A second bridge, built in one transaction.
  s('add-br br1 -- set bridge br1 fail_mode=standalone -- add-port br1 q1 tag=7 -- set interface q1 ofport_request=7'),
  s('--may-exist add-port br1 eth0'),
  s('del-port br1 eth0'),
  s('add-port br1 br0'),
  s('add-port br1 p0'),
  s('list-br'),
  s('list-ports br1'),
  s('port-to-br q1'),
  s('iface-to-br q1'),
  s('list-ifaces br1'),
  s('br-to-vlan br1'),
  s('br-to-parent br1'),
  s('br-set-external-id br1 owner test'),
  s('br-get-external-id br1 owner'),
  s('br-set-external-id br1 owner'),
  s('br-get-external-id br1'),
  s('--columns=name find interface type=internal', 'records'),
  s('find port tag=7'),
  s('--columns=name,tag find port tag!=7', 'records'),
  s('--columns=name find bridge protocols{<=}[OpenFlow13]', 'records'),
  s('--columns=name,tag list port q1 p0'),
  s('--columns=name,ofport_request,type list interface p0 q1 br1'),
  s('--format=table --columns=name,ofport_request,type,options list interface p0 q1 br1'),
  s('--format=table --no-headings --columns=name,type list interface p0 q1'),
  s('--bare --columns=name,options list interface p0 q1'),
  s('--format=csv --columns=name,options list interface p0 q1'),
  s('--format=json --columns=name,options,ofport_request list interface p0 q1'),
  s('--data=json --columns=name,options list interface p0'),
  s('--data=bare --columns=name,trunks list port p0'),
  s('--columns=name list bridge br0 -- get bridge br0 fail_mode -- --columns=name,tag list port q1'),
  s('--oneline get bridge br0 name -- list-br -- list-ports br1'),
  // Controllers.
  s('set-controller br1 tcp:1.2.3.4:6653 ptcp:6634'),
  s('get-controller br1'),
  s('--columns=target,is_connected list controller', 'records'),
  s('del-controller br1'),
  s('get-controller br1'),
  s('-- --inactivity-probe=3000 set-controller br1 tcp:1.2.3.4'),
  s('--columns=target,inactivity_probe list controller br1'),
  s('set-controller br1 foo:bar'),
  s('get controller br1 target'),
  s('set controller br1 max_backoff=500'),
  s('set controller br1 max_backoff=2000 connection_mode=out-of-band'),
  s('--columns=max_backoff,connection_mode list controller br1'),
  s('show', 'show'),
  // create / destroy / wait-until / comment.
  s('--id=@c create controller target=tcp:9.9.9.9 -- set bridge br0 controller=@c -- get-controller br0'),
  s('create controller target=tcp:8.8.8.8'),
  s('create controller target="tcp:8.8.8.8"'),
  s('--columns=target list controller', 'records'),
  s('--id=@c create controller target="tcp:9.9.9.9" -- set bridge br0 controller=@c -- get-controller br0'),
  s('get-controller br0'),
  s('--id=@c create controller target="tcp:9.9.9.8"'),
  s('--id=@c create controller target="tcp:9.9.9.8" -- --id=@c create controller target="tcp:9.9.9.7"'),
  s('set bridge br0 controller=@nowhere'),
  s('--id=c create controller target="tcp:9.9.9.8"'),
  s('list bridge %Bridge:br0%'),
  s('get port %Port:p0:8% name'),
  s('get port 0000000 name'),
  s('set bridge br1 controller=%Controller:br0%'),
  s('get-controller br1'),
  s('--all destroy controller'),
  s('get-controller br0'),
  s('clear bridge br0 controller -- --columns=target list controller'),
  s('--columns=target list controller'),
  s('--if-exists destroy bridge nosuch'),
  s('destroy bridge nosuch'),
  s('wait-until bridge br0 fail_mode=[]'),
  s('wait-until interface q1 ofport_request=7'),
  s('comment hello world -- list-br'),
  s('get bridge br0 ports -- --id=@p get port p0 -- remove bridge br0 ports @p -- list-ports br0'),
  s('list-ports br0'),
  // Bonds.
  s('add-bond br0 bond0 e1 e2 tag=9'),
  s('add-bond br0 bond1 e3'),
  s('add-bond br0 bond1 e3 tag=1'),
  s('add-bond br0 bond1 e3 e4 other_config:x=1 -- list-ifaces br0 -- del-port bond1'),
  s('list-ifaces br0'),
  s('add-bond-iface bond0 e3'),
  s('--may-exist add-bond-iface bond0 e3'),
  s('add-bond-iface bond0 e1'),
  s('del-bond-iface bond0 e1'),
  s('del-bond-iface bond0 e2 -- del-bond-iface bond0 e3'),
  s('list-ifaces br0'),
  s('del-port br0 e2'),
  s('--with-iface del-port e3'),
  s('list-ports br0'),
  // More values, names and conditions.
  s('--if-exists list bridge nosuch br0'),
  s('list bridge nosuch br0'),
  s('add-port br0 p0 tag=5 -- set interface p0 options:peer=x options:remote_ip=10.0.0.1'),
  s('--columns=name find interface options:peer=x'),
  s('--columns=name find interface options:peer!=x', 'records'),
  s('--columns=name find interface options{>=}{peer=x}', 'records'),
  s('--columns=name find bridge protocols{in}[OpenFlow13,OpenFlow14]', 'records'),
  s('--columns=name find port trunks{not-in}[1]', 'records'),
  s('--columns=name find port tag>4', 'records'),
  s('find port nosuch=1'),
  s('find port tag'),
  s('wait-until interface p0 options:peer=x'),
  s('set bridge br0 other_config={} protocols=[]'),
  s('get bridge br0 other_config protocols'),
  s('get bridge br0 proto fail'),
  s('get interface p0 ofport_r'),
  s('get interface p0 o'),
  s('list BRIDGE br0'),
  s('--columns=_uuid list open-vswitch'),
  s('list Open_vSwitch'),
  s('add-port br0 a:b -- add-port br0 "q" -- add-port br0 true -- add-port br0 1x'),
  s('list-ports br0'),
  s('get port a:b name -- get port true name -- get port 1x name'),
  s('--columns=name list port a:b'),
  a(['set', 'bridge', 'br0', 'external_ids:k=héllo', 'external_ids:nl="a\nb"', 'external_ids:q="say \"hi\""', 'external_ids:bs=back\\slash']),
  s('get bridge br0 external_ids'),
  s('--bare --columns=external_ids list bridge br0'),
  s('br-get-external-id br0 nl'),
  s('set-controller br1 tcp:10.0.0.1'),
  s('get controller br1 is_connected target'),
  s('set-controller br1'),
  s('get-controller br1'),
  s('-- --real list-br -- --fake list-br'),
  s('set port p0 trunks=1,2,10-12 -- add port p0 trunks 20 21-22'),
  s('remove port p0 trunks 1-2 10'),
  s('get port p0 trunks'),
  s('set port p0 tag=+5'),
  s('get port p0 tag'),
  s('set port p0 tag=99999999999999999999'),
  s('set port p0 tag=-1'),
  s('set port p0 trunks=1-5000'),
  s('set port p0 trunks=5-1'),
  s('--columns=name,_uuid find bridge name=br0'),
  s('get open_vswitch . ovs_version db_version'),
  s('init -- list-br'),
  // emer-reset and deleting bridges.
  s('set-controller br0 tcp:127.0.0.1 -- set-fail-mode br0 secure -- set bridge br0 other_config:hwaddr=00:11:22:33:44:55 other_config:x=y'),
  s('emer-reset'),
  s('get bridge br0 controller fail_mode other_config'),
  s('del-br br1'),
  s('list-br'),
  s('show', 'show'),
  // The command line itself.
  s('frob'),
  s('add-br'),
  s('add-br a b c d'),
  s('list-br extra'),
  s('list-br --real'),
  s('--if-exists add-br x'),
  s('--may-exist'),
  s('--bogus list-br'),
  s('-t 0 list-br'),
  s('--timeout=abc list-br'),
  s('--format=foo list bridge'),
  s('--data=foo list bridge'),
  s('-- list-br'),
  s('list-br -- -- list-br'),
  s('--columns= list bridge'),
  s('list bridge br0 --columns=name'),
  s('add-br x -- --columns=name add-br y'),
  s('--may-exist -- add-br br0'),
  s('get bridge'),
  s('--dry-run add-br brx -- list-br'),
  s('list-br'),
  s('-- --if-exists del-br brx -- --may-exist add-br br0 -- br-exists br0'),
  s('list-br -- br-exists nosuch -- list-br'),
  s('--columns=name,nosuch list bridge'),
  s('--columns=_UUID,NAME list bridge br0'),
  s('list BRI br0 -- get Interface br0 TYPE'),
  s('list -- list-br'),
  s('--no-headings --columns=name list bridge'),
  s('--format=table --columns=_uuid,name,protocols list bridge br0'),
  s('--max-column-width=5 --format=table --columns=name,other_config list bridge br0'),
  s('clear open_vswitch . bridges -- list-br -- --columns=name list port', 'records'),
  s('list-br -- --columns=name list port -- show'),
  s('--pretty --format=json --columns=name,other_config list bridge br0'),
  s('--format=html --columns=name,other_config list bridge br0'),
];

t.test('ofs-vsctl and ovs-vsctl give the same results', { skip: ovsdbMissing() ?? false }, async (t) => {
  t.ok(STEPS.length >= 60, `${STEPS.length} commands`);
  const ovs = await startOvsdb();
  t.teardown(() => ovs.stop());
  const ours = await startDbServer();
  t.teardown(() => ours.stop());

  // %Table:record% is replaced by that row's UUID (%Table:record:N% by its first N
  // characters), looked up with the same tool just before the step runs.
  const resolve = async (program: string, server: Server, args: string[]): Promise<string[]> => Promise.all(args.map(async (arg) => {
    const m = /%(\w+):([^%:]+)(?::(\d+))?%/.exec(arg);
    if (!m) return arg;
    const uuid = (await vsctlAsync(program, server, ['--bare', '--columns=_uuid', 'list', m[1]!, m[2]!])).stdout.trim();
    return arg.replace(m[0], m[3] ? uuid.slice(0, Number(m[3])) : uuid);
  }));
  const runAll = async (program: string, server: Server): Promise<Run[]> => {
    const runs: Run[] = [];
    for (const step of STEPS) runs.push(await vsctlAsync(program, server, await resolve(program, server, step.args)));
    return runs;
  };
  // The two tools run their sequences side by side, each against its own database.
  const [ovsRuns, ofsRuns] = await Promise.all([runAll(OVS_VSCTL, ovs), runAll(OFS_VSCTL, ours)]);

  const transcript = (runs: Run[], restrict: boolean): Array<{ stdout: string; stderr: string; status: number | null }> => {
    const stdouts = runs.map((r, i) => {
      let out = r.stdout;
      const step = STEPS[i]!;
      const listed = step.args.findIndex((w) => w === 'list' || w === 'find');
      if (restrict && listed >= 0 && !step.args.some((w) => w.startsWith('--columns'))) {
        try {
          out = restrictColumns(out, new Set(['_uuid', ...getTable(step.args[listed + 1]!).columns.map((c) => c.name)]));
        } catch { /* an unknown table: nothing listed */ }
      }
      return canonicalOrder(out, step.order ?? 'none');
    });
    // Numbered in the order the transcript shows them: each step's stdout, then its stderr.
    const texts = normaliseUuids(runs.flatMap((r, i) => [stdouts[i]!, r.stderr]));
    return runs.map((r, i) => ({ stdout: texts[2 * i]!, stderr: normaliseStderr(texts[2 * i + 1]!), status: r.status }));
  };
  const expected = transcript(ovsRuns, true);
  const actual = transcript(ofsRuns, false);
  STEPS.forEach((step, i) => {
    t.same(actual[i], expected[i], `${i + 1}. vsctl ${step.args.join(' ')}`);
  });
});

t.test('deliberate differences from ovs-vsctl', { skip: ovsdbMissing() ?? false }, async (t) => {
  const ovs = await startOvsdb();
  t.teardown(() => ovs.stop());
  const ours = await startDbServer();
  t.teardown(() => ours.stop());
  for (const server of [ovs, ours]) vsctl(server === ovs ? OVS_VSCTL : OFS_VSCTL, server, ['init', '--', 'add-br', 'br0']);

  const both = (args: string[]): [Run, Run] => [vsctl(OVS_VSCTL, ovs, args), vsctl(OFS_VSCTL, ours, args)];

  // Open vSwitch stores a bridge named ../../etc (ovs-vswitchd only warns about it later);
  // ofswitch names files after bridges (<rundir>/<bridge>.mgmt) and refuses it at once.
  let [o, f] = both(['add-br', '../../etc']);
  t.equal(o.status, 0, 'ovs-vsctl accepts ../../etc');
  t.equal(f.status, 1, 'ofs-vsctl refuses ../../etc');
  t.equal(f.stderr, 'ofs-vsctl: cannot create a bridge named ../../etc because bridge names may not contain "/" or "\\"\n');

  // Tables and columns outside ofswitch's schema.
  [o, f] = both(['list', 'qos']);
  t.equal(o.status, 0, 'ovs-vsctl has a QoS table');
  t.same([f.status, f.stderr], [1, 'ofs-vsctl: unknown table "qos"\n']);
  [o, f] = both(['set', 'bridge', 'br0', 'stp_enable=true']);
  t.equal(o.status, 0, 'ovs-vsctl has Bridge stp_enable');
  t.same([f.status, f.stderr], [1, 'ofs-vsctl: Bridge does not contain a column whose name matches "stp_enable"\n']);

  // VLAN ("fake") bridges need Port columns ofswitch does not have.
  [o, f] = both(['add-br', 'br2', 'br0', '10']);
  t.equal(o.status, 0, 'ovs-vsctl creates a fake bridge');
  t.same([f.status, f.stderr], [1, 'ofs-vsctl: cannot create a bridge named br2 on VLAN 10 of br0 because ofswitch has no VLAN ("fake") bridges\n']);

  // Managers: nothing to read or delete, and nothing can be set.
  [o, f] = both(['set-manager', 'ptcp:6640']);
  t.equal(o.status, 0, 'ovs-vsctl sets a manager');
  t.same([f.status, f.stderr], [1, "ofs-vsctl: 'set-manager' is not supported: ofswitch's database has no Manager table\n"]);
  f = vsctl(OFS_VSCTL, ours, ['del-manager', '--', 'get-manager']);
  t.same([f.status, f.stdout, f.stderr], [0, '', ''], 'del-manager and get-manager have nothing to do');
});

/*
 * OVSDB's "mutate" with a map "delete": a key/value pair removes that key only while it has that
 * value; a bare key removes it whatever its value. The real ovsdb-client sends the operation to
 * ovsdb-server; the same operation goes to our server through its own client (it does not speak
 * the OVSDB wire protocol); the maps left must be the same.
 */
t.test('mutate delete on a map, as ovsdb-server does it', { skip: ovsdbMissing() ?? false }, async (t) => {
  const ovs = await startOvsdb();
  t.teardown(() => ovs.stop());
  const ours = await startDbServer();
  t.teardown(() => ours.stop());
  const mutate: Operation = {
    op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']],
    mutations: [['other_config', 'delete', ['map', [['a', 'wrong'], ['b', '2']]]], ['other_config', 'delete', ['set', ['c']]]],
  };
  const setUp = ['init', '--', 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'other_config={a=1, b=2, c=3, d=4}'];
  vsctl(OVS_VSCTL, ovs, setUp);
  vsctl(OFS_VSCTL, ours, setUp);
  const r = spawnSync('/usr/bin/ovsdb-client', ['transact', ovs.db, JSON.stringify(['Open_vSwitch', mutate])], { env: ovs.env, encoding: 'utf8', timeout: 15_000 });
  t.equal(r.status, 0, `ovsdb-client transact: ${r.stdout.trim()}${r.stderr}`);
  const client = await DbClient.connect(ours.db.slice('unix:'.length));
  t.teardown(() => client.close());
  await client.transact([mutate], false);
  const theirs = vsctl(OVS_VSCTL, ovs, ['get', 'bridge', 'br0', 'other_config']).stdout;
  t.equal(vsctl(OFS_VSCTL, ours, ['get', 'bridge', 'br0', 'other_config']).stdout, theirs, `the map left is ovsdb-server's: ${theirs.trim()}`);
  t.equal(theirs, '{a="1", d="4"}\n', 'a=wrong took nothing, b=2 went by pair, c by key');
});
