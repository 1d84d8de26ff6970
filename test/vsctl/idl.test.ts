/*
 * The local replica and its commit plan (lib/vsctl/idl.ts), without a server:
 *
 *  - nothing changed: no operations at all (a read-only ofs-vsctl sends nothing);
 *  - a changed set or map becomes mutations (insert the new elements, delete the old ones),
 *    so that concurrent runs touching different elements both take effect; a changed
 *    scalar becomes an update; new rows are inserts referred to by named-uuid;
 *  - deleting a row of a non-root table sends nothing (ovsdb-idl leaves it to the server's
 *    garbage collection); deleting a root row sends a delete;
 *  - ovsdb-server's checks, with its wording: a reference to a row that does not exist, a
 *    deleted root row still referred to, two rows with one name, more than one Open_vSwitch.
 */
import t from 'tap';
import type { DbDump } from '../../lib/config/index.ts';
import { Idl, TransactionError } from '../../lib/vsctl/idl.ts';

const ROOT = '00000000-0000-0000-0000-0000000000aa';
const BR0 = '00000000-0000-0000-0000-0000000000b0';
const PORT0 = '00000000-0000-0000-0000-0000000000c0';
const IFACE0 = '00000000-0000-0000-0000-0000000000d0';

function dump(): DbDump {
  return {
    seq: 3,
    tables: {
      Open_vSwitch: { [ROOT]: { bridges: ['set', [['uuid', BR0]]], cur_cfg: 0, next_cfg: 0 } },
      Bridge: { [BR0]: { name: 'br0', ports: ['set', [['uuid', PORT0]]], protocols: ['set', ['OpenFlow13']], other_config: ['map', [['a', '1']]] } },
      Port: { [PORT0]: { name: 'br0', interfaces: ['uuid', IFACE0] } },
      Interface: { [IFACE0]: { name: 'br0', type: 'internal' } },
      Controller: {},
    },
  };
}

t.test('nothing changed, nothing sent', async (t) => {
  const idl = Idl.fromDump(dump());
  const br0 = idl.get('Bridge', BR0)!;
  idl.write(br0, 'protocols', { keys: ['OpenFlow13'] });
  t.same(idl.commit('c').ops, []);
});

t.test('sets and maps change by mutation, scalars by update, new rows by insert', async (t) => {
  const idl = Idl.fromDump(dump());
  const br0 = idl.get('Bridge', BR0)!;
  idl.write(br0, 'protocols', { keys: ['OpenFlow10', 'OpenFlow14'] });
  idl.write(br0, 'other_config', { keys: ['a', 'b'], values: ['2', '3'] });
  idl.write(br0, 'fail_mode', { keys: ['secure'] });
  const iface = idl.insert('Interface');
  idl.write(iface, 'name', { keys: ['p1'] });
  const port = idl.insert('Port');
  idl.write(port, 'name', { keys: ['p1'] });
  idl.write(port, 'interfaces', { keys: [iface.uuid] });
  idl.write(br0, 'ports', { keys: [PORT0, port.uuid].sort() });
  const { ops, names } = idl.commit('ofs-vsctl: test');
  const ifaceName = names.get(iface.uuid)!;
  const portName = names.get(port.uuid)!;
  t.same(ops, [
    { op: 'comment', comment: 'ofs-vsctl: test' },
    { op: 'insert', table: 'Interface', 'uuid-name': ifaceName, row: { name: 'p1' } },
    { op: 'insert', table: 'Port', 'uuid-name': portName, row: { interfaces: ['named-uuid', ifaceName], name: 'p1' } },
    { op: 'update', table: 'Bridge', where: [['_uuid', '==', ['uuid', BR0]]], row: { fail_mode: 'secure' } },
    {
      op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', BR0]]], mutations: [
        ['other_config', 'delete', ['map', [['a', '1']]]],
        ['other_config', 'insert', ['map', [['a', '2'], ['b', '3']]]],
        ['ports', 'insert', ['set', [['named-uuid', portName]]]],
        ['protocols', 'insert', ['set', ['OpenFlow10', 'OpenFlow14']]],
        ['protocols', 'delete', ['set', ['OpenFlow13']]],
      ],
    },
  ]);
});

t.test('deletes: left to garbage collection, except in root tables', async (t) => {
  let idl = Idl.fromDump(dump());
  idl.delete(idl.get('Interface', IFACE0)!);
  t.same(idl.commit('c').ops, [], 'a referenced interface stays (ovs-vsctl destroy does the same)');
  t.notOk(idl.get('Interface', IFACE0), 'but later commands of the run no longer see it');

  idl = Idl.fromDump(dump());
  const root = idl.get('Open_vSwitch', ROOT)!;
  idl.write(root, 'bridges', { keys: [] });
  idl.delete(idl.get('Bridge', BR0)!);
  t.same(idl.commit('c').ops.slice(1), [
    { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ROOT]]], mutations: [['bridges', 'delete', ['set', [['uuid', BR0]]]]] },
  ], 'del-br: only the reference goes; the server collects bridge, port and interface');

  idl = Idl.fromDump(dump());
  idl.delete(idl.get('Open_vSwitch', ROOT)!);
  t.same(idl.commit('c').ops.slice(1), [{ op: 'delete', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', ROOT]]] }]);
});

t.test("ovsdb-server's checks, in its words", async (t) => {
  const error = (f: (idl: Idl) => void): string => {
    const idl = Idl.fromDump(dump());
    f(idl);
    try {
      idl.commit('c');
    } catch (e) {
      if (e instanceof TransactionError) return e.message;
      throw e;
    }
    return '';
  };
  t.equal(error((idl) => idl.write(idl.get('Bridge', BR0)!, 'controller', { keys: ['11111111-2222-3333-4444-555555555555'] })),
    `transaction error: {"details":"Table Bridge column controller row ${BR0} references nonexistent row 11111111-2222-3333-4444-555555555555 in table Controller.","error":"referential integrity violation"}`);
  t.equal(error((idl) => {
    const br = idl.insert('Bridge', '00000000-0000-0000-0000-0000000000b1');
    idl.write(br, 'name', { keys: ['br0'] });
    idl.write(idl.get('Open_vSwitch', ROOT)!, 'bridges', { keys: [BR0, br.uuid] });
  }), 'transaction error: {"details":"Transaction causes multiple rows in \\"Bridge\\" table to have identical values (br0) for index on column \\"name\\".  '
    + `First row, with UUID ${BR0}, existed in the database before this transaction and was not modified by the transaction.  `
    + 'Second row, with UUID 00000000-0000-0000-0000-0000000000b1, was inserted by this transaction.","error":"constraint violation"}');
  t.equal(error((idl) => idl.insert('Open_vSwitch')),
    'transaction error: {"details":"transaction causes \\"Open_vSwitch\\" table to contain 2 rows, greater than the schema-defined limit of 1 row(s)","error":"constraint violation"}');
  t.equal(error((idl) => {
    const br = idl.insert('Bridge');
    idl.write(br, 'name', { keys: ['br0'] });
  }), '', 'an unreferenced new bridge is collected, so its name clashes with nothing');
});
