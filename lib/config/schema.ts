/*
 * The configuration schema: the part of Open vSwitch's vswitch.ovsschema that ofswitch uses
 * (tables Open_vSwitch, Bridge, Port, Interface, Controller), in OVSDB's own type notation so
 * that the column types read as they do in the original. Ephemeral columns hold runtime state
 * the daemon writes back (ofport, link_state, is_connected, ...); they are not journaled.
 */
export type AtomicType = 'string' | 'integer' | 'boolean' | 'uuid';

export interface BaseType {
  type: AtomicType;
  enum?: Array<string | number | boolean>;
  minInteger?: number;
  maxInteger?: number;
  refTable?: string;
}

export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: number;
  max: number;
}

export interface ColumnSchema {
  type: ColumnType;
  ephemeral?: boolean;
  mutable?: boolean;
}

export interface TableSchema {
  columns: Record<string, ColumnSchema>;
  isRoot?: boolean;
  /** Columns whose values must be unique across rows. */
  indexes?: string[][];
  /** At most this many rows (Open_vSwitch has exactly one). */
  maxRows?: number;
}

const UNLIMITED = Number.POSITIVE_INFINITY;
const str: BaseType = { type: 'string' };
const int: BaseType = { type: 'integer' };
const scalar = (key: BaseType): ColumnType => ({ key, min: 1, max: 1 });
const optional = (key: BaseType): ColumnType => ({ key, min: 0, max: 1 });
const set = (key: BaseType, min = 0, max = UNLIMITED): ColumnType => ({ key, min, max });
const map: ColumnType = { key: str, value: str, min: 0, max: UNLIMITED };
const intMap: ColumnType = { key: str, value: int, min: 0, max: UNLIMITED };
const ref = (table: string): BaseType => ({ type: 'uuid', refTable: table });
const oneOf = (...values: string[]): BaseType => ({ type: 'string', enum: values });
const col = (type: ColumnType, extra: Partial<ColumnSchema> = {}): ColumnSchema => ({ type, ...extra });

export const SCHEMA: Record<string, TableSchema> = {
  Open_vSwitch: {
    isRoot: true, maxRows: 1,
    columns: {
      bridges: col(set(ref('Bridge'))), cur_cfg: col(scalar(int)), next_cfg: col(scalar(int)),
      external_ids: col(map), other_config: col(map), ovs_version: col(optional(str)), db_version: col(optional(str)),
      statistics: col(map, { ephemeral: true }),
    },
  },
  Bridge: {
    indexes: [['name']],
    columns: {
      name: col(scalar(str), { mutable: false }), ports: col(set(ref('Port'))), controller: col(set(ref('Controller'))),
      datapath_type: col(scalar(str)), datapath_id: col(optional(str), { ephemeral: true }),
      fail_mode: col(optional(oneOf('standalone', 'secure'))),
      protocols: col(set(oneOf('OpenFlow10', 'OpenFlow11', 'OpenFlow12', 'OpenFlow13', 'OpenFlow14', 'OpenFlow15'))),
      other_config: col(map), external_ids: col(map), status: col(map, { ephemeral: true }),
    },
  },
  Port: {
    indexes: [['name']],
    columns: {
      name: col(scalar(str), { mutable: false }), interfaces: col(set(ref('Interface'), 1)),
      tag: col(optional({ type: 'integer', minInteger: 0, maxInteger: 4095 })),
      trunks: col(set({ type: 'integer', minInteger: 0, maxInteger: 4095 }, 0, 4096)),
      vlan_mode: col(optional(oneOf('trunk', 'access', 'native-tagged', 'native-untagged', 'dot1q-tunnel'))),
      other_config: col(map), external_ids: col(map),
    },
  },
  Interface: {
    indexes: [['name']],
    columns: {
      name: col(scalar(str), { mutable: false }), type: col(scalar(str)), options: col(map),
      ofport: col(optional(int)), ofport_request: col(optional({ type: 'integer', minInteger: 1, maxInteger: 65279 })),
      error: col(optional(str)), admin_state: col(optional(oneOf('up', 'down')), { ephemeral: true }),
      link_state: col(optional(oneOf('up', 'down')), { ephemeral: true }), mac_in_use: col(optional(str), { ephemeral: true }),
      statistics: col(intMap, { ephemeral: true }), status: col(map, { ephemeral: true }),
      other_config: col(map), external_ids: col(map),
    },
  },
  Controller: {
    columns: {
      target: col(scalar(str)), max_backoff: col(optional({ type: 'integer', minInteger: 1000 })),
      inactivity_probe: col(optional(int)), connection_mode: col(optional(oneOf('in-band', 'out-of-band'))),
      controller_rate_limit: col(optional({ type: 'integer', minInteger: 100 })),
      controller_burst_limit: col(optional({ type: 'integer', minInteger: 25 })),
      is_connected: col(scalar({ type: 'boolean' }), { ephemeral: true }),
      role: col(optional(oneOf('other', 'master', 'slave')), { ephemeral: true }),
      status: col(map, { ephemeral: true }), other_config: col(map), external_ids: col(map),
    },
  },
};
