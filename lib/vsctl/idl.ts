/*
 * A local replica of the configuration database with one open transaction, as ovs-vsctl's
 * IDL gives its commands (Open vSwitch's lib/ovsdb-idl.c, reduced to what ofs-vsctl needs).
 *
 * The replica is loaded from one `dump` of the daemon's database. Commands read and write rows
 * in it; what they change is visible to the commands after them in the same invocation (rows
 * they insert, values they set), as in ovs-vsctl. A row inserted here has a temporary UUID
 * until the database assigns the real one at commit.
 *
 * commit() first checks the transaction the way ovsdb-server would (references to rows that
 * do not exist, deleted root rows still referenced, rows left unreferenced are collected, the
 * one-row limit of Open_vSwitch, unique names), so that the errors read as ovsdb-server's
 * would, and then turns the changes into OVSDB operations: an insert per new row (other new
 * rows referred to by named-uuid), an update per changed scalar column, and mutations
 * (insert/delete of elements) for changed sets and maps, so that two ofs-vsctl runs adding
 * different bridges at once both take effect. As in ovsdb-idl, deleting a row of a non-root
 * table sends nothing: the row goes when nothing refers to it any more.
 *
 * The database has no "verify" operation, so unlike ovs-vsctl a run does not fail and retry
 * when a column it read was changed meanwhile by someone else; it retries (from a fresh read)
 * only when the commit itself fails after the database moved on.
 */
import type { Operation, DbDump } from '../config/index.ts';
import {
  atomToJson, cloneDatum, datumEquals, datumFromJson, datumToJson, datumToString, defaultDatum, type Datum, isMap,
  isDefaultDatum, type Json, randomUuid, subtractDatum, type Type,
} from './data.ts';
import { columnClass, TABLES, tableClass, type TableClass } from './schema.ts';

export interface Row {
  table: string;
  uuid: string;
  data: Map<string, Datum>;
  /** Deleted in this transaction. */
  deleted: boolean;
}

export class TransactionError extends Error {
  override readonly name = 'TransactionError';
}

export interface CommitPlan {
  /** Operations to send; empty when the transaction changes nothing. */
  ops: Operation[];
  /** uuid-name used in `ops` for each row inserted, by its temporary UUID. */
  names: Map<string, string>;
}

/** The references of a column value: the UUIDs among its keys and values that name rows of `refTable`. */
function refsOf(d: Datum, t: Type): Array<{ uuid: string; table: string }> {
  const out: Array<{ uuid: string; table: string }> = [];
  if (t.key.refTable) for (const k of d.keys) out.push({ uuid: k as string, table: t.key.refTable });
  if (t.value?.refTable) for (const v of d.values ?? []) out.push({ uuid: v as string, table: t.value.refTable });
  return out;
}

const rowName = (uuid: string): string => `row${uuid.replace(/-/g, '_')}`;

export class Idl {
  private readonly tables = new Map<string, Map<string, Row>>();
  /** The rows as loaded, by UUID (their data never changes). */
  private readonly original = new Map<string, Row>();
  private readonly inserted = new Set<string>();

  private constructor() {
    for (const t of TABLES) this.tables.set(t.name, new Map());
  }

  static fromDump(dump: DbDump): Idl {
    const idl = new Idl();
    for (const t of TABLES) {
      for (const [uuid, json] of Object.entries(dump.tables[t.name] ?? {})) {
        const data = new Map<string, Datum>();
        for (const c of t.columns) {
          const value = json[c.name];
          data.set(c.name, value === undefined ? defaultDatum(c.type) : datumFromJson(value as Json, c.type));
        }
        const id = uuid.toLowerCase();
        idl.tables.get(t.name)!.set(id, { table: t.name, uuid: id, data, deleted: false });
        idl.original.set(id, { table: t.name, uuid: id, data: new Map([...data].map(([k, v]) => [k, cloneDatum(v)])), deleted: false });
      }
    }
    return idl;
  }

  /** The live rows of `table`, in UUID order. */
  rows(table: string): Row[] {
    return [...this.tables.get(table)!.values()].filter((r) => !r.deleted).sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  }

  get(table: string, uuid: string): Row | undefined {
    const row = this.tables.get(table)?.get(uuid.toLowerCase());
    return row && !row.deleted ? row : undefined;
  }

  read(row: Row, column: string): Datum {
    return row.data.get(column)!;
  }

  write(row: Row, column: string, datum: Datum): void {
    row.data.set(column, cloneDatum(datum));
  }

  insert(table: string, uuid = randomUuid()): Row {
    const t = tableClass(table);
    const row: Row = { table, uuid, data: new Map(t.columns.map((c) => [c.name, defaultDatum(c.type)])), deleted: false };
    this.tables.get(table)!.set(uuid, row);
    this.inserted.add(uuid);
    return row;
  }

  isInserted(row: Row): boolean {
    return this.inserted.has(row.uuid);
  }

  delete(row: Row): void {
    if (this.inserted.has(row.uuid)) {
      this.tables.get(row.table)!.delete(row.uuid);
      this.inserted.delete(row.uuid);
    } else {
      row.deleted = true;
    }
  }

  /** Columns of `row` that differ from the loaded row (every column of a new row). */
  private changedColumns(row: Row): string[] {
    const before = this.original.get(row.uuid);
    const t = tableClass(row.table);
    if (!before) return t.columns.map((c) => c.name);
    return t.columns.filter((c) => !datumEquals(before.data.get(c.name)!, row.data.get(c.name)!, c.type)).map((c) => c.name);
  }

  /**
   * Checks the transaction as ovsdb-server would and plans the operations that carry it out.
   * Throws TransactionError with ovsdb-server's wording if the server would refuse it.
   */
  commit(comment: string): CommitPlan {
    const liveRows = TABLES.flatMap((t) => this.rows(t.name));
    const insertedRows = liveRows.filter((r) => this.inserted.has(r.uuid));
    const modifiedRows = liveRows.filter((r) => !this.inserted.has(r.uuid) && this.changedColumns(r).length > 0);
    // Like ovsdb-idl, only rows of root tables are deleted outright; a row of any other table
    // goes when nothing refers to it any more (ovsdb-server's garbage collection), so
    // deleting one that is still referred to changes nothing.
    const deleted = TABLES.flatMap((t) => [...this.tables.get(t.name)!.values()].filter((r) => r.deleted));
    const deletedRows = deleted.filter((r) => tableClass(r.table).isRoot);
    const serverRows = [...liveRows, ...deleted.filter((r) => !tableClass(r.table).isRoot).map((r) => this.original.get(r.uuid)!)];
    const serverKeys = new Set(serverRows.map((r) => `${r.table}/${r.uuid}`));
    const exists = (table: string, uuid: string): boolean => serverKeys.has(`${table}/${uuid}`);
    const names = new Map(insertedRows.map((r) => [r.uuid, rowName(r.uuid)]));
    if (!insertedRows.length && !modifiedRows.length && !deletedRows.length) return { ops: [], names };

    const fail = (error: string, details: string): never => {
      throw new TransactionError(`transaction error: ${JSON.stringify({ details, error })}`);
    };

    // Referential integrity: references added by this transaction must name existing rows.
    for (const row of [...insertedRows, ...modifiedRows]) {
      const before = this.original.get(row.uuid);
      for (const column of this.changedColumns(row)) {
        const { type } = columnClass(row.table, column);
        const added = before ? subtractDatum(row.data.get(column)!, before.data.get(column)!, type) : row.data.get(column)!;
        for (const ref of refsOf(added, type)) {
          if (ref.uuid === row.uuid) continue;
          if (!exists(ref.table, ref.uuid)) {
            fail('referential integrity violation', `Table ${row.table} column ${column} row ${row.uuid} references nonexistent row ${ref.uuid} in table ${ref.table}.`);
          }
        }
      }
    }
    const referrers = (rows: Row[]): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const row of rows) {
        for (const c of tableClass(row.table).columns) {
          for (const ref of refsOf(row.data.get(c.name)!, c.type)) {
            if (ref.uuid !== row.uuid) counts.set(ref.uuid, (counts.get(ref.uuid) ?? 0) + 1);
          }
        }
      }
      return counts;
    };
    const counts = referrers(serverRows);
    for (const row of deletedRows) {
      const n = counts.get(row.uuid) ?? 0;
      if (n) fail('referential integrity violation', `cannot delete ${row.table} row ${row.uuid} because of ${n} remaining reference(s)`);
    }

    // Garbage collection: rows of non-root tables that nothing refers to go away.
    let survivors = serverRows;
    for (;;) {
      const refs = referrers(survivors);
      const next = survivors.filter((r) => tableClass(r.table).isRoot || refs.has(r.uuid));
      if (next.length === survivors.length) break;
      survivors = next;
    }
    for (const t of TABLES) {
      const n = survivors.filter((r) => r.table === t.name).length;
      if (n > t.maxRows) {
        fail('constraint violation', `transaction causes "${t.name}" table to contain ${n} rows, greater than the schema-defined limit of ${t.maxRows} row(s)`);
      }
    }
    for (const t of TABLES) this.checkIndexes(t, survivors.filter((r) => r.table === t.name), fail);

    const ops: Operation[] = [{ op: 'comment', comment }];
    const uuidName = (uuid: string): string | undefined => names.get(uuid);
    const where = (row: Row): Array<[string, string, Json]> => [['_uuid', '==', ['uuid', row.uuid]]];
    for (const row of insertedRows) {
      const values: Record<string, Json> = {};
      for (const c of tableClass(row.table).columns) {
        const d = row.data.get(c.name)!;
        if (!isDefaultDatum(d, c.type)) values[c.name] = datumToJson(d, c.type, uuidName) as Json;
      }
      ops.push({ op: 'insert', table: row.table, 'uuid-name': names.get(row.uuid)!, row: values as Operation['row'] });
    }
    for (const row of modifiedRows) {
      const before = this.original.get(row.uuid)!;
      const update: Record<string, Json> = {};
      const mutations: NonNullable<Operation['mutations']> = [];
      for (const column of this.changedColumns(row)) {
        const { type } = columnClass(row.table, column);
        const old = before.data.get(column)!;
        const now = row.data.get(column)!;
        if (type.max <= 1) {
          update[column] = datumToJson(now, type, uuidName) as Json;
          continue;
        }
        const removed = subtractDatum(old, now, type);
        const added = subtractDatum(now, old, type);
        const set = (d: Datum): Json => (isMap(type) ? datumToJson(d, type, uuidName) : ['set', d.keys.map((k) => atomToJson(k, type.key, uuidName))]);
        // A set gains its new elements before losing the old ones (so that a column that
        // may not be empty never is in between); a map loses changed keys before regaining them.
        if (isMap(type)) {
          if (removed.keys.length) mutations.push([column, 'delete', set(removed)]);
          if (added.keys.length) mutations.push([column, 'insert', set(added)]);
        } else {
          if (added.keys.length) mutations.push([column, 'insert', set(added)]);
          if (removed.keys.length) mutations.push([column, 'delete', set(removed)]);
        }
      }
      if (Object.keys(update).length) ops.push({ op: 'update', table: row.table, where: where(row), row: update as Operation['row'] });
      if (mutations.length) ops.push({ op: 'mutate', table: row.table, where: where(row), mutations });
    }
    for (const row of deletedRows) ops.push({ op: 'delete', table: row.table, where: where(row) });
    return { ops, names };
  }

  /** Unique indexes (ovsdb-server's check_index_uniqueness and its message). */
  private checkIndexes(t: TableClass, rows: Row[], fail: (error: string, details: string) => never): void {
    for (const index of t.indexes) {
      const seen = new Map<string, Row>();
      const text = (data: Map<string, Datum>): string => index.map((c) => datumToString(data.get(c)!, columnClass(t.name, c).type)).join(', ');
      for (const row of rows) {
        const key = text(row.data);
        const other = seen.get(key);
        if (!other) {
          seen.set(key, row);
          continue;
        }
        if (!this.inserted.has(row.uuid) && !this.inserted.has(other.uuid) && this.changedColumns(row).length === 0 && this.changedColumns(other).length === 0) continue;
        const [a, b] = other.uuid < row.uuid ? [other, row] : [row, other];
        const describe = (r: Row, title: string): string => {
          const head = `${title} row, with UUID ${r.uuid}, `;
          const before = this.original.get(r.uuid);
          const changed = this.changedColumns(r);
          if (!before || this.inserted.has(r.uuid)) return `${head}was inserted by this transaction.`;
          if (!changed.length) return `${head}existed in the database before this transaction and was not modified by the transaction.`;
          if (index.every((c) => !changed.includes(c))) {
            return `${head}existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.`;
          }
          return `${head}had the following index values before the transaction: ${text(before.data)}.`;
        };
        const columns = `column${index.length > 1 ? 's' : ''} ${index.map((c) => `"${c}"`).join(', ')}`;
        fail('constraint violation', `Transaction causes multiple rows in "${t.name}" table to have identical values (${text(a.data)}) for index on ${columns}.  ${describe(a, 'First')}  ${describe(b, 'Second')}`);
      }
    }
  }
}

