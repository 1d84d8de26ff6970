/*
 * ofs-vsctl against ofswitch's configuration database (served as ofswitchd serves it):
 *
 *  - the seed's commands (section 2 of the notes: add-br, add-port, protocols, a controller,
 *    an internal port with ofport_request 100, list bridge/port/interface, --may-exist with
 *    external-ids), each checked in the database itself, not only in ofs-vsctl's output;
 *    the seed's two typos fail as they do with ovs-vsctl;
 *  - bad input: unknown table or column, bad type, dangling reference, duplicate bridge, a
 *    bridge named ../../etc (and other names with "/" or "\"), failures in the middle of a
 *    chain of commands: each is one line on stderr, exit status 1, and the database is
 *    exactly as before (not even a transaction);
 *  - one transaction per invocation; --dry-run commits nothing; two ofs-vsctl runs adding
 *    different bridges at the same moment both take effect; br-exists exits 2; the default
 *    database is <rundir>/db.sock (--rundir, $OFSWITCH_RUNDIR); a missing database is one line.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import type { DbDump, Json } from '../../lib/config/index.ts';
import { OFS_VSCTL, startDbServer, vsctl, type Run } from './harness.ts';

type Row = Record<string, Json>;
const rows = (dump: DbDump, table: string): Array<[string, Row]> => Object.entries(dump.tables[table] ?? {});
const byName = (dump: DbDump, table: string, name: string): [string, Row] | undefined => rows(dump, table).find(([, r]) => r.name === name);
/** The UUIDs in a set-of-UUIDs column value. */
const refs = (value: Json): string[] => {
  if (Array.isArray(value) && value[0] === 'uuid') return [value[1] as string];
  if (Array.isArray(value) && value[0] === 'set') return (value[1] as Json[]).map((v) => (v as [string, string])[1]);
  return [];
};
const atoms = (value: Json): Json[] => (Array.isArray(value) && value[0] === 'set' ? value[1] as Json[] : [value]);
const map = (value: Json): Record<string, Json> => Object.fromEntries((value as [string, Array<[string, Json]>])[1]);

t.test('the seed commands', async (t) => {
  const server = await startDbServer();
  t.teardown(() => server.stop());
  const ok = (args: string[]): Run => {
    const r = vsctl(OFS_VSCTL, server, args);
    t.same([r.status, r.stderr], [0, ''], `ofs-vsctl ${args.join(' ')}`);
    return r;
  };

  ok(['add-br', 'br0']);
  let dump = await server.dump();
  const [rootUuid, root] = rows(dump, 'Open_vSwitch')[0]!;
  t.ok(rootUuid, 'the Open_vSwitch row was created');
  const [br0Uuid, br0] = byName(dump, 'Bridge', 'br0')!;
  t.same(refs(root.bridges!), [br0Uuid], 'Open_vSwitch.bridges holds br0');
  const [localPortUuid] = byName(dump, 'Port', 'br0')!;
  t.same(refs(br0.ports!), [localPortUuid], 'br0 has its local port, named like the bridge');
  const [localIfaceUuid, localIface] = byName(dump, 'Interface', 'br0')!;
  t.same(refs(byName(dump, 'Port', 'br0')![1].interfaces!), [localIfaceUuid]);
  t.equal(localIface.type, 'internal', 'the local interface is internal');

  ok(['add-port', 'br0', 'eth0']);
  dump = await server.dump();
  const [eth0Port, eth0] = byName(dump, 'Port', 'eth0')!;
  t.ok(refs(byName(dump, 'Bridge', 'br0')![1].ports!).includes(eth0Port), 'br0 has port eth0');
  const [eth0IfaceUuid, eth0Iface] = byName(dump, 'Interface', 'eth0')!;
  t.same(refs(eth0.interfaces!), [eth0IfaceUuid], 'port eth0 has interface eth0');
  t.equal(eth0Iface.type, '', 'with no type');

  ok(['set', 'bridge', 'br0', 'protocols=OpenFlow13']);
  dump = await server.dump();
  t.same(atoms(byName(dump, 'Bridge', 'br0')![1].protocols!), ['OpenFlow13'], 'protocols=OpenFlow13');

  ok(['set-controller', 'br0', 'tcp:127.0.0.1:6633']);
  dump = await server.dump();
  const controllers = rows(dump, 'Controller');
  t.equal(controllers.length, 1, 'one controller');
  t.equal(controllers[0]![1].target, 'tcp:127.0.0.1:6633');
  t.same(refs(byName(dump, 'Bridge', 'br0')![1].controller!), [controllers[0]![0]], 'br0 uses it');

  ok(['add-port', 'br0', 'p0', '--', 'set', 'interface', 'p0', 'type=internal']);
  ok(['set', 'Interface', 'p0', 'ofport_request=100']);
  dump = await server.dump();
  const p0 = byName(dump, 'Interface', 'p0')![1];
  t.equal(p0.type, 'internal', 'p0 is internal');
  t.same(atoms(p0.ofport_request!), [100], 'p0 asks for OpenFlow port 100');
  t.same(rows(dump, 'Port').map(([, r]) => r.name).sort(), ['br0', 'eth0', 'p0']);

  // list bridge/port/interface, as the seed suggests.
  let r = ok(['list', 'bridge']);
  t.match(r.stdout, /^_uuid +: [0-9a-f-]{36}\ncontroller +: \[[0-9a-f-]{36}\]\n/, 'list bridge starts with _uuid and controller');
  t.match(r.stdout, /\nname +: br0\n/);
  t.match(r.stdout, /\nprotocols +: \[OpenFlow13\]\n/);
  r = ok(['list', 'port', 'p0']);
  t.match(r.stdout, /\nname +: p0\n/);
  r = ok(['list', 'interface', 'p0']);
  t.match(r.stdout, /\nofport_request +: 100\n/);
  t.match(r.stdout, /\ntype +: internal\n$/);
  r = ok(['list', 'interface']);
  t.equal(r.stdout.split('\n\n').length, 3, 'three interfaces, records separated by a blank line');

  // The seed's later example: --may-exist with a quoted external-ids value.
  ok(['--may-exist', 'add-port', 'br0', 'p0', '--', 'set', 'interface', 'p0', 'external-ids:attached-mac="52:54:00:D5:5C:AB"']);
  dump = await server.dump();
  t.same(map(byName(dump, 'Interface', 'p0')![1].external_ids!), { 'attached-mac': '52:54:00:D5:5C:AB' });
  r = ok(['get', 'interface', 'p0', 'external_ids']);
  t.equal(r.stdout, '{attached-mac="52:54:00:D5:5C:AB"}\n');

  // The seed's typos fail exactly as with ovs-vsctl.
  r = vsctl(OFS_VSCTL, server, ['set', 'brdige', 'br0', 'protocols=OpenFlow13']);
  t.same([r.status, r.stderr], [1, 'ofs-vsctl: unknown table "brdige"\n']);
  r = vsctl(OFS_VSCTL, server, ['add-port', 'br0', 'p7', '--', 'set', 'interface', 'type=internal']);
  t.same([r.status, r.stderr], [1, "ofs-vsctl: 'set' command requires at least 3 arguments\n"]);

  r = ok(['show']);
  t.match(r.stdout, /\n {4}Bridge br0\n {8}Controller "tcp:127.0.0.1:6633"\n/);
  t.match(r.stdout, /\n {8}Port p0\n {12}Interface p0\n {16}type: internal\n/);
});

t.test('bad input: one line, exit status 1, the database unchanged', async (t) => {
  const server = await startDbServer();
  t.teardown(() => server.stop());
  const setup = vsctl(OFS_VSCTL, server, ['add-br', 'br0', '--', 'add-port', 'br0', 'p0', '--', 'set-controller', 'br0', 'tcp:127.0.0.1:6653']);
  t.equal(setup.status, 0, setup.stderr);

  const cases: Array<[string, string[], string | RegExp]> = [
    ['unknown table', ['list', 'nosuch'], 'unknown table "nosuch"'],
    ['unknown table in a write', ['set', 'qos', 'x', 'type=linux-htb'], 'unknown table "qos"'],
    ['unknown column', ['set', 'bridge', 'br0', 'nosuch=1'], 'Bridge does not contain a column whose name matches "nosuch"'],
    ['ambiguous column', ['get', 'bridge', 'br0', 'data'], 'Bridge contains more than one column whose name matches "data": datapath_id, datapath_type'],
    ['not an integer', ['set', 'interface', 'p0', 'ofport_request=abc'], '"abc" is not a valid integer or range'],
    ['out of range', ['set', 'port', 'p0', 'tag=5000'], 'constraint violation: 5000 is not in the valid range 0 to 4095 (inclusive)'],
    ['not in the enumeration', ['set', 'bridge', 'br0', 'fail_mode=foo'], 'constraint violation: foo is not one of the allowed values ([secure, standalone])'],
    ['not a UUID', ['set', 'bridge', 'br0', 'controller=xyz'], '"xyz" is not a valid UUID'],
    ['dangling reference', ['set', 'bridge', 'br0', 'controller=11111111-2222-3333-4444-555555555555'],
      /^transaction error: \{"details":"Table Bridge column controller row [0-9a-f-]{36} references nonexistent row 11111111-2222-3333-4444-555555555555 in table Controller\.","error":"referential integrity violation"\}$/],
    ['dangling reference added to a set', ['add', 'bridge', 'br0', 'ports', '11111111-2222-3333-4444-555555555555'], /referential integrity violation/],
    ['duplicate bridge', ['add-br', 'br0'], 'cannot create a bridge named br0 because a bridge named br0 already exists'],
    ['duplicate bridge, created directly', ['--id=@b', 'create', 'bridge', 'name=br0', '--', 'add', 'open_vswitch', '.', 'bridges', '@b'],
      /^transaction error: \{"details":"Transaction causes multiple rows in \\"Bridge\\" table to have identical values \(br0\) for index on column \\"name\\"\.  First row, with UUID [0-9a-f-]{36}, (was inserted by this transaction|existed in the database before this transaction and was not modified by the transaction)\.  Second row, with UUID [0-9a-f-]{36}, (was inserted by this transaction|existed in the database before this transaction and was not modified by the transaction)\.","error":"constraint violation"\}$/],
    ['bridge named ../../etc', ['add-br', '../../etc'], 'cannot create a bridge named ../../etc because bridge names may not contain "/" or "\\"'],
    ['bridge named a\\b', ['add-br', 'a\\b'], 'cannot create a bridge named a\\b because bridge names may not contain "/" or "\\"'],
    ['bridge named ..', ['add-br', '..'], 'cannot create a bridge named .. because bridge names may not be "." or ".."'],
    ['bridge named x/y, created directly', ['--id=@b', 'create', 'bridge', 'name=x/y', '--', 'add', 'open_vswitch', '.', 'bridges', '@b'],
      'cannot create a bridge named x/y because bridge names may not contain "/" or "\\"'],
    ['read-only column', ['set', 'bridge', 'br0', 'name=br1'], 'cannot modify read-only column name in table Bridge'],
    ['no such bridge', ['add-port', 'br9', 'p9'], 'no bridge named br9'],
    ['no such row', ['set', 'bridge', 'br9', 'fail_mode=secure'], 'no row "br9" in table Bridge'],
    ['the local port', ['del-port', 'br0'], 'cannot delete port br0 because it is the local port for bridge br0 (deleting this port requires deleting the entire bridge)'],
    ['a failure after changes', ['add-br', 'br5', '--', 'add-port', 'br5', 'p5', '--', 'set', 'bridge', 'br5', 'nosuch=1'], 'Bridge does not contain a column whose name matches "nosuch"'],
    ['a failure at the end', ['add-br', 'br5', '--', 'add-port', 'br5', 'p5', '--', 'set', 'interface', 'p5', 'ofport_request=0'], 'constraint violation: 0 is not in the valid range 1 to 65279 (inclusive)'],
    ['a bad value in add-port', ['add-port', 'br0', 'p6', 'tag=x'], '"x" is not a valid integer or range'],
    ['an unknown command after good ones', ['add-br', 'br6', '--', 'frob'], "unknown command 'frob'; use --help for help"],
    ['a bad option', ['--bogus', 'add-br', 'br6'], "unrecognized option '--bogus'"],
    ['br-exists on no bridge after a change', ['add-br', 'br6', '--', 'br-exists', 'br9'], ''],
  ];
  for (const [what, args, message] of cases) {
    const before = await server.dump();
    const r = vsctl(OFS_VSCTL, server, args);
    const after = await server.dump();
    if (what.startsWith('br-exists')) {
      t.same([r.status, r.stderr], [2, ''], `${what}: exit status 2, nothing printed`);
    } else {
      t.equal(r.status, 1, `${what}: exit status 1`);
      t.equal(r.stderr.split('\n').length, 2, `${what}: one line on stderr`);
      const line = r.stderr.replace(/\n$/, '');
      t.ok(line.startsWith('ofs-vsctl: '), `${what}: prefixed with the program name`);
      if (typeof message === 'string') t.equal(line.slice('ofs-vsctl: '.length), message, `${what}: message`);
      else t.match(line.slice('ofs-vsctl: '.length), message, `${what}: message`);
    }
    t.equal(r.stdout, '', `${what}: nothing on stdout`);
    t.same(after, before, `${what}: the database is unchanged`);
  }
});

t.test('transactions, dry runs, concurrency, exit codes, the default socket', async (t) => {
  const server = await startDbServer();
  t.teardown(() => server.stop());

  // One invocation, one transaction (the database's change counter moves by one).
  let before = await server.dump();
  let r = vsctl(OFS_VSCTL, server, ['add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'add-port', 'br0', 'p2', '--', 'set', 'port', 'p2', 'tag=10']);
  t.equal(r.status, 0, r.stderr);
  let after = await server.dump();
  t.equal(after.seq, before.seq + 1, 'one transaction for four commands');
  t.same(rows(after, 'Port').map(([, p]) => p.name).sort(), ['br0', 'p1', 'p2']);

  // Read-only commands send nothing.
  before = after;
  r = vsctl(OFS_VSCTL, server, ['list-br', '--', 'show', '--', 'list', 'interface']);
  t.equal(r.status, 0);
  t.same(await server.dump(), before, 'read-only commands change nothing, not even the counter');

  // --dry-run prints what it would, commits nothing.
  r = vsctl(OFS_VSCTL, server, ['--dry-run', 'add-br', 'br1', '--', 'list-br']);
  t.same([r.status, r.stdout], [0, 'br0\nbr1\n'], 'the dry run sees its own change');
  t.same(await server.dump(), before, '--dry-run commits nothing');

  // Without --no-wait, next_cfg moves with each change (the daemon copies it to cur_cfg).
  const nextCfg = (d: DbDump): Json => rows(d, 'Open_vSwitch')[0]![1].next_cfg!;
  r = vsctl(OFS_VSCTL, server, ['set', 'bridge', 'br0', 'fail_mode=secure'], { wait: true });
  t.equal(r.status, 0, r.stderr);
  after = await server.dump();
  t.equal(nextCfg(after), (nextCfg(before) as number) + 1, 'next_cfg is bumped when ofs-vsctl waits');
  r = vsctl(OFS_VSCTL, server, ['set', 'bridge', 'br0', 'fail_mode=standalone']);
  t.equal(nextCfg(await server.dump()), nextCfg(after), 'but not with --no-wait');

  // Two runs at once, each adding its own bridge: both take effect.
  for (let round = 0; round < 5; round++) {
    const names = [`x${round}a`, `x${round}b`, `x${round}c`];
    const runs = names.map((name) => new Promise<number | null>((resolve) => {
      const child = spawn(OFS_VSCTL, [`--db=${server.db}`, '--no-wait', 'add-br', name, '--', 'add-port', name, `${name}-p`], { stdio: 'ignore' });
      child.once('exit', (code) => resolve(code));
    }));
    t.same(await Promise.all(runs), [0, 0, 0], `round ${round}: three concurrent add-br succeed`);
  }
  const bridges = vsctl(OFS_VSCTL, server, ['list-br']).stdout.trim().split('\n');
  t.equal(bridges.length, 16, 'all fifteen concurrent bridges are there, with br0');
  const ports = vsctl(OFS_VSCTL, server, ['list-ports', 'x4c']).stdout;
  t.equal(ports, 'x4c-p\n');

  // Exit codes.
  t.equal(vsctl(OFS_VSCTL, server, ['br-exists', 'br0']).status, 0, 'br-exists: 0 when the bridge exists');
  t.equal(vsctl(OFS_VSCTL, server, ['br-exists', 'nosuch']).status, 2, 'br-exists: 2 when it does not');

  // The default database is <rundir>/db.sock.
  const byRundir = spawnSync(OFS_VSCTL, [`--rundir=${server.dir}`, '--no-wait', 'br-exists', 'br0'], { encoding: 'utf8' });
  t.same([byRundir.status, byRundir.stderr], [0, ''], '--rundir finds db.sock');
  const byEnv = spawnSync(OFS_VSCTL, ['--no-wait', 'list-br'], { encoding: 'utf8', env: { ...process.env, OFSWITCH_RUNDIR: server.dir } });
  t.same([byEnv.status, byEnv.stdout.split('\n')[0]], [0, 'br0'], '$OFSWITCH_RUNDIR finds db.sock');
  const missing = spawnSync(OFS_VSCTL, ['--rundir=/nonexistent', 'list-br'], { encoding: 'utf8' });
  t.same([missing.status, missing.stderr], [1, 'ofs-vsctl: unix:/nonexistent/db.sock: database connection failed (No such file or directory)\n']);

  // --help and --version.
  const help = spawnSync(OFS_VSCTL, ['--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /add-br BRIDGE +create a new bridge named BRIDGE/);
  const version = spawnSync(OFS_VSCTL, ['-V'], { encoding: 'utf8' });
  t.match(version.stdout, /^ofs-vsctl \(ofswitch\) \d+\.\d+\.\d+\n$/);
});
