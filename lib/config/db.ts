/*
 * The embedded configuration database (a small OVSDB): rows of the tables in schema.ts,
 * changed only by atomic transactions, kept durable by a journal.
 *
 * A transaction is a list of OVSDB operations (insert, update, mutate, delete, comment). It
 * runs on a copy of the state; then references are checked (a UUID column must name an
 * existing row), rows of non-root tables that nothing refers to any more are collected (so
 * deleting a bridge from Open_vSwitch.bridges deletes its ports and interfaces), indexes are
 * checked for duplicates. Any failure discards the copy: nothing changes.
 *
 * Durability: the journal file holds records `OFSDB <length> <sha1>\n<json>\n`, the first a
 * snapshot, then one per transaction with the rows it changed. A transaction is appended and
 * fsync'd before it takes effect, so once transact() returns it survives a crash; a torn last
 * record (a crash mid-write) fails its length or checksum and is dropped on the next open,
 * leaving exactly the committed prefix. The journal is compacted into a fresh snapshot
 * (written aside, fsync'd, renamed over) as it grows. Ephemeral columns (runtime state the
 * daemon writes back) are not journaled.
 */
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  checkDatum, ConfigError, type Datum, datumFromJson, datumToJson, defaultDatum, isUuid, type Json,
} from './datum.ts';
import { SCHEMA, type TableSchema } from './schema.ts';

export type Row = Record<string, Datum>;
export type TableRows = Map<string, Row>;
type State = Map<string, TableRows>;

export interface Operation {
  op: 'insert' | 'update' | 'mutate' | 'delete' | 'comment';
  table?: string;
  row?: Record<string, Json>;
  'uuid-name'?: string;
  where?: Array<[string, string, Json]>;
  mutations?: Array<[string, 'insert' | 'delete', Json]>;
  comment?: string;
}

export interface TransactResult {
  /** UUIDs of inserted rows, by uuid-name. */
  uuids: Record<string, string>;
  /** The database's change counter after the transaction. */
  seq: number;
}

const COMPACT_AFTER_RECORDS = 500;

function emptyState(): State {
  return new Map(Object.keys(SCHEMA).map((t) => [t, new Map()]));
}

function cloneState(state: State): State {
  return new Map([...state].map(([t, rows]) => [t, new Map([...rows].map(([id, row]) => [id, { ...row }]))]));
}

function tableSchema(table: string | undefined): TableSchema {
  const schema = table ? SCHEMA[table] : undefined;
  if (!schema) throw new ConfigError(`unknown table "${table ?? ''}"`);
  return schema;
}

function frame(json: Json): Buffer {
  const body = Buffer.from(JSON.stringify(json));
  const sha1 = createHash('sha1').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`OFSDB ${body.length} ${sha1}\n`), body, Buffer.from('\n')]);
}

/** Reads the journal's intact records; stops at the first torn or corrupt one. */
function readRecords(buf: Buffer): { records: Json[]; validBytes: number } {
  const records: Json[] = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    const m = /^OFSDB (\d+) ([0-9a-f]{40})$/.exec(buf.toString('latin1', at, nl));
    if (!m) break;
    const len = Number(m[1]);
    const body = buf.subarray(nl + 1, nl + 1 + len);
    if (body.length !== len || buf[nl + 1 + len] !== 10) break;
    if (createHash('sha1').update(body).digest('hex') !== m[2]) break;
    try {
      records.push(JSON.parse(body.toString()) as Json);
    } catch {
      break;
    }
    at = nl + 2 + len;
  }
  return { records, validBytes: at };
}

export class ConfigDb {
  private state: State = emptyState();
  /** Bumped by every committed transaction (the daemon reconfigures when it moves). */
  seq = 0;
  private fd: number | undefined;
  private records = 0;
  private readonly listeners = new Set<(seq: number) => void>();

  private constructor(readonly path: string | undefined) {}

  /**
   * Opens (creating if needed) the database at `path`; without a path, an in-memory one.
   * `readOnly` only reads the journal (to inspect it): nothing is written, and transactions
   * are not kept.
   */
  static open(path?: string, options: { readOnly?: boolean } = {}): ConfigDb {
    const db = new ConfigDb(options.readOnly ? undefined : path);
    if (!path) return db;
    if (existsSync(path)) {
      const { records } = readRecords(readFileSync(path));
      for (const record of records) db.applyRecord(record);
    }
    if (options.readOnly) return db;
    mkdirSync(dirname(path), { recursive: true });
    // Start from a clean snapshot: drops any torn tail and compacts old transactions.
    db.compact();
    return db;
  }

  onChange(listener: (seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  rows(table: string): TableRows {
    return this.state.get(table) ?? new Map();
  }

  get(table: string, uuid: string): Row | undefined {
    return this.state.get(table)?.get(uuid);
  }

  /** Runs a transaction; throws ConfigError (and changes nothing) if any operation fails. */
  transact(ops: Operation[]): TransactResult {
    const next = cloneState(this.state);
    const names = new Map<string, string>();
    for (const op of ops) if (op.op === 'insert' && op['uuid-name']) names.set(op['uuid-name'], randomUUID());
    ops.forEach((op, i) => this.applyOperation(next, op, names, `operation ${i + 1}`));
    this.collectGarbage(next);
    this.checkIntegrity(next);
    const changes = this.diff(this.state, next);
    if (Object.keys(changes).length) this.append({ txn: changes });
    this.state = next;
    this.seq++;
    for (const listener of this.listeners) listener(this.seq);
    return { uuids: Object.fromEntries(names), seq: this.seq };
  }

  private matches(row: Row, uuid: string, where: Array<[string, string, Json]>, table: string): boolean {
    return where.every(([column, fn, value]) => {
      if (fn !== '==' && fn !== '!=') throw new ConfigError(`unsupported condition function "${fn}"`);
      let equal: boolean;
      if (column === '_uuid') {
        equal = Array.isArray(value) && value[1] === uuid;
      } else {
        const c = tableSchema(table).columns[column];
        if (!c) throw new ConfigError(`table ${table} has no column "${column}"`);
        equal = JSON.stringify(checkDatum(datumFromJson(value, c.type, `${table}.${column}`), c.type, `${table}.${column}`)) === JSON.stringify(row[column]);
      }
      return fn === '==' ? equal : !equal;
    });
  }

  private selected(state: State, op: Operation): Array<[string, Row]> {
    const table = op.table!;
    tableSchema(table);
    return [...state.get(table)!].filter(([uuid, row]) => this.matches(row, uuid, op.where ?? [], table));
  }

  private setColumns(table: string, row: Row, values: Record<string, Json>, names: Map<string, string>, inserting: boolean): void {
    const schema = tableSchema(table);
    for (const [column, json] of Object.entries(values)) {
      const c = schema.columns[column];
      if (!c) throw new ConfigError(`table ${table} has no column "${column}"`);
      if (!inserting && c.mutable === false) throw new ConfigError(`cannot modify immutable column ${column} in table ${table}`);
      row[column] = checkDatum(datumFromJson(json, c.type, `${table}.${column}`, names), c.type, `${table}.${column}`);
    }
  }

  private applyOperation(state: State, op: Operation, names: Map<string, string>, where: string): void {
    try {
      switch (op.op) {
        case 'comment':
          return;
        case 'insert': {
          const schema = tableSchema(op.table);
          const uuid = op['uuid-name'] ? names.get(op['uuid-name'])! : randomUUID();
          const row: Row = Object.fromEntries(Object.entries(schema.columns).map(([name, c]) => [name, defaultDatum(c.type)]));
          this.setColumns(op.table!, row, op.row ?? {}, names, true);
          state.get(op.table!)!.set(uuid, row);
          return;
        }
        case 'update':
          for (const [, row] of this.selected(state, op)) this.setColumns(op.table!, row, op.row ?? {}, names, false);
          return;
        case 'mutate':
          for (const [, row] of this.selected(state, op)) {
            for (const [column, mutator, json] of op.mutations ?? []) {
              const c = tableSchema(op.table).columns[column];
              if (!c) throw new ConfigError(`table ${op.table} has no column "${column}"`);
              const what = `${op.table}.${column}`;
              const operand = datumFromJson(json, c.type, what, names);
              const key = (e: unknown): string => JSON.stringify(Array.isArray(e) && c.type.value ? e[0] : e);
              const current = row[column] as unknown[];
              let result: unknown[];
              if (mutator === 'insert') {
                // Inserting a map key that exists keeps the existing value, as in OVSDB.
                const have = new Set(current.map(key));
                result = [...current, ...(operand as unknown[]).filter((e) => !have.has(key(e)))];
              } else if (mutator === 'delete') {
                // Deleting from a map takes keys (any value goes) or key/value pairs (only that
                // value goes), as in OVSDB; from a set, elements.
                const byKey = new Set<string>();
                const byPair = new Set<string>();
                for (const e of operand as unknown[]) {
                  if (c.type.value && Array.isArray(e)) byPair.add(JSON.stringify(e));
                  else byKey.add(JSON.stringify(e));
                }
                result = current.filter((e) => !byKey.has(key(e)) && !byPair.has(JSON.stringify(e)));
              } else {
                throw new ConfigError(`unsupported mutator "${String(mutator)}"`);
              }
              row[column] = checkDatum(result as Datum, c.type, what);
            }
          }
          return;
        case 'delete':
          for (const [uuid] of this.selected(state, op)) state.get(op.table!)!.delete(uuid);
          return;
        default:
          throw new ConfigError(`unknown operation "${String((op as { op: unknown }).op)}"`);
      }
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${where} (${op.op}${op.table ? ` ${op.table}` : ''}): ${e.message}`);
      throw e;
    }
  }

  /** Deletes rows of non-root tables that no row refers to, until none is left. */
  private collectGarbage(state: State): void {
    for (;;) {
      const referenced = new Set<string>();
      for (const [table, rows] of state) {
        for (const row of rows.values()) {
          for (const [column, c] of Object.entries(tableSchema(table).columns)) {
            const refs = [c.type.key.refTable ? 'key' : undefined, c.type.value?.refTable ? 'value' : undefined];
            for (const entry of row[column] ?? []) {
              if (refs[0] && !c.type.value && isUuid(entry)) referenced.add(entry.uuid);
              if (c.type.value && Array.isArray(entry)) for (const a of entry) if (isUuid(a)) referenced.add(a.uuid);
            }
          }
        }
      }
      let removed = false;
      for (const [table, rows] of state) {
        if (tableSchema(table).isRoot) continue;
        for (const uuid of [...rows.keys()]) {
          if (!referenced.has(uuid)) {
            rows.delete(uuid);
            removed = true;
          }
        }
      }
      if (!removed) return;
    }
  }

  private checkIntegrity(state: State): void {
    for (const [table, rows] of state) {
      const schema = tableSchema(table);
      if (schema.maxRows !== undefined && rows.size > schema.maxRows) {
        throw new ConfigError(`constraint violation: table ${table} may have at most ${schema.maxRows} row(s)`);
      }
      for (const [uuid, row] of rows) {
        for (const [column, c] of Object.entries(schema.columns)) {
          const refTable = c.type.key.refTable;
          if (!refTable) continue;
          for (const atom of row[column] ?? []) {
            if (isUuid(atom) && !state.get(refTable)!.has(atom.uuid)) {
              throw new ConfigError(`referential integrity violation: row ${uuid} in table ${table} column ${column} refers to nonexistent row ${atom.uuid} in table ${refTable}`);
            }
          }
        }
      }
      for (const index of schema.indexes ?? []) {
        const seen = new Map<string, string>();
        for (const [uuid, row] of rows) {
          const key = JSON.stringify(index.map((c) => row[c]));
          const other = seen.get(key);
          if (other) {
            throw new ConfigError(`constraint violation: transaction causes multiple rows in "${table}" table to have identical values (${index.map((c) => JSON.stringify(row[c]?.[0] ?? '')).join(', ')}) for index on column "${index.join('", "')}"`);
          }
          seen.set(key, uuid);
        }
      }
    }
  }

  /** Rows (their durable columns) that differ between two states: row JSON, or null when deleted. */
  private diff(before: State, after: State): Record<string, Record<string, Json>> {
    const out: Record<string, Record<string, Json>> = {};
    for (const [table, rows] of after) {
      const schema = tableSchema(table);
      const durable = (row: Row | undefined): string | undefined => row && JSON.stringify(Object.entries(schema.columns).filter(([, c]) => !c.ephemeral).map(([n]) => row[n]));
      for (const [uuid, row] of rows) {
        if (durable(before.get(table)!.get(uuid)) !== durable(row)) (out[table] ??= {})[uuid] = this.rowToJson(table, row, true);
      }
      for (const uuid of before.get(table)!.keys()) if (!rows.has(uuid)) (out[table] ??= {})[uuid] = null;
    }
    return out;
  }

  rowToJson(table: string, row: Row, durableOnly = false): Record<string, Json> {
    return Object.fromEntries(Object.entries(tableSchema(table).columns)
      .filter(([, c]) => !(durableOnly && c.ephemeral))
      .map(([name, c]) => [name, datumToJson(row[name] ?? defaultDatum(c.type), c.type)]));
  }

  private rowFromJson(table: string, json: Record<string, Json>): Row {
    const schema = tableSchema(table);
    const row: Row = Object.fromEntries(Object.entries(schema.columns).map(([name, c]) => [name, defaultDatum(c.type)]));
    for (const [name, value] of Object.entries(json)) {
      const c = schema.columns[name];
      if (c) row[name] = checkDatum(datumFromJson(value, c.type, `${table}.${name}`), c.type, `${table}.${name}`);
    }
    return row;
  }

  private applyRecord(record: Json): void {
    const r = record as { snapshot?: Record<string, Record<string, Record<string, Json>>>; txn?: Record<string, Record<string, Record<string, Json> | null>> };
    if (r.snapshot) {
      this.state = emptyState();
      for (const [table, rows] of Object.entries(r.snapshot)) {
        for (const [uuid, row] of Object.entries(rows)) this.state.get(table)?.set(uuid, this.rowFromJson(table, row));
      }
    }
    for (const [table, rows] of Object.entries(r.txn ?? {})) {
      for (const [uuid, row] of Object.entries(rows)) {
        if (row === null) this.state.get(table)?.delete(uuid);
        else this.state.get(table)?.set(uuid, this.rowFromJson(table, row));
      }
    }
    this.seq++;
  }

  private append(record: Json): void {
    if (!this.path || this.fd === undefined) return;
    writeSync(this.fd, frame(record));
    fsyncSync(this.fd);
    if (++this.records >= COMPACT_AFTER_RECORDS) this.compact();
  }

  /** Rewrites the journal as one snapshot: written aside, fsync'd, renamed over the old file. */
  private compact(): void {
    if (!this.path) return;
    const snapshot: Record<string, Record<string, Json>> = {};
    for (const [table, rows] of this.state) {
      snapshot[table] = Object.fromEntries([...rows].map(([uuid, row]) => [uuid, this.rowToJson(table, row, true)]));
    }
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, frame({ snapshot }));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    const dirFd = openSync(dirname(this.path), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.records = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
