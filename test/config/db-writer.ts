/*
 * A test process for the crash-safety test: opens the database at argv[2] and commits
 * transactions forever, each adding one bridge br<N> and setting Open_vSwitch
 * external_ids:count=N in the same transaction, printing "committed N" once transact()
 * has returned (so the test knows N is durable). The test kills it with SIGKILL.
 */
import { ConfigDb } from '../../lib/config/index.ts';

const db = ConfigDb.open(process.argv[2]!);
if (db.rows('Open_vSwitch').size === 0) db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
const root = [...db.rows('Open_vSwitch').values()][0]!;
let n = Number((root.external_ids as Array<[string, string]>).find(([k]) => k === 'count')?.[1] ?? 0);
for (;;) {
  n++;
  db.transact([
    { op: 'insert', table: 'Interface', row: { name: `br${n}`, type: 'internal' }, 'uuid-name': 'i' },
    { op: 'insert', table: 'Port', row: { name: `br${n}`, interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
    { op: 'insert', table: 'Bridge', row: { name: `br${n}`, ports: ['named-uuid', 'p'] }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']], ['external_ids', 'delete', ['set', ['count']]]] },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['external_ids', 'insert', ['map', [['count', String(n)]]]]] },
  ]);
  process.stdout.write(`committed ${n}\n`);
}
