/*
 * The tables ofs-vsctl knows, seen the way ovs-vsctl's generated IDL sees vswitch.ovsschema:
 * columns in alphabetical order, each with its OVSDB type, whether it may be changed, and
 * how a user may name a row (Open vSwitch's `ctl_table_class` row ids: a bridge, port or
 * interface by its name, a controller through the bridge that uses it).
 *
 * The tables and column types come from lib/config's schema, the subset of
 * vswitch.ovsschema that ofswitch implements; anything outside it is an unknown table or
 * column here.
 */
import { SCHEMA, type ColumnType } from '../config/index.ts';
import type { BaseType, Type } from './data.ts';

export interface ColumnClass {
  name: string;
  type: Type;
  mutable: boolean;
}

/** How a row may be named: by `nameColumn` of `table`; if `uuidColumn`, through that column of the named row. */
export interface RowId {
  table: string;
  nameColumn: string;
  uuidColumn?: string;
}

export interface TableClass {
  name: string;
  columns: ColumnClass[];
  isRoot: boolean;
  maxRows: number;
  indexes: string[][];
  rowIds: RowId[];
}

function baseType(b: ColumnType['key']): BaseType {
  return {
    type: b.type,
    ...(b.enum ? { enum: [...b.enum] } : {}),
    ...(b.minInteger !== undefined ? { minInteger: b.minInteger } : {}),
    ...(b.maxInteger !== undefined ? { maxInteger: b.maxInteger } : {}),
    ...(b.refTable ? { refTable: b.refTable } : {}),
  };
}

const ROW_IDS: Record<string, RowId[]> = {
  Bridge: [{ table: 'Bridge', nameColumn: 'name' }],
  Controller: [{ table: 'Bridge', nameColumn: 'name', uuidColumn: 'controller' }],
  Interface: [{ table: 'Interface', nameColumn: 'name' }],
  Port: [{ table: 'Port', nameColumn: 'name' }],
};

/** Every table, in the order OVSDB lists them (by name). */
export const TABLES: TableClass[] = Object.keys(SCHEMA).sort().map((name) => {
  const schema = SCHEMA[name]!;
  return {
    name,
    columns: Object.keys(schema.columns).sort().map((column) => {
      const c = schema.columns[column]!;
      return {
        name: column,
        type: { key: baseType(c.type.key), ...(c.type.value ? { value: baseType(c.type.value) } : {}), min: c.type.min, max: c.type.max },
        mutable: c.mutable !== false,
      };
    }),
    isRoot: schema.isRoot === true,
    maxRows: schema.maxRows ?? Infinity,
    indexes: schema.indexes ?? [],
    rowIds: ROW_IDS[name] ?? [],
  };
});

export function tableClass(name: string): TableClass {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

export function columnClass(table: string, column: string): ColumnClass {
  const c = tableClass(table).columns.find((x) => x.name === column);
  if (!c) throw new Error(`no column ${table}.${column}`);
  return c;
}

/**
 * What `show` prints for each table (ovs-vsctl's cmd_show_tables, minus the columns and
 * tables ofswitch does not have: Open_vSwitch manager_options, Interface bfd_status, Manager).
 */
export interface ShowTable {
  table: string;
  nameColumn?: string;
  columns: string[];
}

export const SHOW_TABLES: ShowTable[] = [
  { table: 'Open_vSwitch', columns: ['bridges', 'ovs_version'] },
  { table: 'Bridge', nameColumn: 'name', columns: ['controller', 'fail_mode', 'datapath_type', 'ports'] },
  { table: 'Port', nameColumn: 'name', columns: ['tag', 'trunks', 'interfaces'] },
  { table: 'Interface', nameColumn: 'name', columns: ['type', 'options', 'error'] },
  { table: 'Controller', nameColumn: 'target', columns: ['is_connected'] },
];
