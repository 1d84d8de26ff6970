/* Public surface of lib/config: the configuration database, its schema and values. */
export { ConfigDb, type Operation, type Row, type TableRows, type TransactResult } from './db.ts';
export {
  type Atom, atomToJson, ConfigError, type Datum, datumFromJson, datumToJson, isUuid, type Json, type Uuid,
} from './datum.ts';
export { type ColumnSchema, type ColumnType, SCHEMA, type TableSchema } from './schema.ts';
export { DbClient, DbClientError, type DbDump } from './client.ts';
export { DbServer, type DbServerHooks } from './server.ts';
