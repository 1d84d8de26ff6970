/*
 * The commands of ofs-vsctl: Open vSwitch's ovs-vsctl commands (utilities/ovs-vsctl.c) and
 * the generic database commands they share with the other *ctl tools (lib/db-ctl-base.c),
 * over the tables ofswitch has.
 *
 * Each command runs against the local replica (idl.ts) inside the invocation's single
 * transaction, sees what the commands before it changed, and either appends to its output
 * or fails; one failure abandons the whole transaction. The bridge/port/interface commands
 * work on a "cache" built from the replica: bridges reachable from the Open_vSwitch row, their
 * ports, and the ports' interfaces, each by name (the first one wins if names repeat).
 *
 * Messages are ovs-vsctl's, word for word, so that scripts and people who know Open vSwitch
 * read what they expect. Where ofswitch differs on purpose it says so: bridge names with "/"
 * or "\" are refused (ovs-vswitchd would only warn about them later); VLAN ("fake") bridges,
 * managers, SSL, Auto Attach and datapath settings do not exist in ofswitch's database.
 */
import {
  atomFromString, atomToString, cloneDatum, compareDatums, type Datum, datumFromString, datumToString,
  emptyDatum, excludesAll, findKey, includesAll, isDefaultDatum, isMap, isUuidText, parseToken, type SymbolTable, subtractDatum,
  type Type, unionDatum,
} from './data.ts';
import type { Idl, Row } from './idl.ts';
import { type CommandSyntax, escapeArgs } from './options.ts';
import { type ColumnClass, SHOW_TABLES, TABLES, type TableClass, tableClass } from './schema.ts';
import { OutputTable, type Cell } from './table.ts';

/** A failure of the invocation: printed as `ofs-vsctl: MESSAGE`, exit status 1. */
export class VsctlError extends Error {
  override readonly name = 'VsctlError';
}

/** Ends the invocation with `status` and no message (br-exists). */
export class VsctlExit extends Error {
  override readonly name = 'VsctlExit';
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

export interface Context {
  idl: Idl;
  /** The Open_vSwitch row. */
  ovs: Row;
  symtab: SymbolTable;
  /** argv[0] is the command's name. */
  argv: string[];
  options: Map<string, string | null>;
  output: string;
  table?: OutputTable;
  lastCommand: boolean;
  /** Set by wait-until when its condition does not hold yet. */
  tryAgain: boolean;
  /** Temporary UUIDs of interfaces this transaction creates (checked after the daemon applied it). */
  newInterfaces: string[];
  /** A warning, logged as ovs-vsctl logs it (`module` is vsctl or db_ctl_base). */
  warn(message: string, module?: 'vsctl' | 'db_ctl_base'): void;
  /** After commit: the real UUID of a row this transaction inserted. */
  realUuid(temporary: string): string | undefined;
}

const fatal = (message: string): never => {
  throw new VsctlError(message);
};

/* ---- names of tables, columns and rows ---- */

const lowerUnderscore = (c: string | undefined): string | undefined => (c === '-' ? '_' : c?.toLowerCase());

/** How well user input `s` matches `name` (score_partial_match): exact > case-insensitive > prefix length. */
function scorePartialMatch(name: string, s: string): number {
  if (name === s) return Number.MAX_SAFE_INTEGER;
  let score = 0;
  for (; ; score++) {
    if (lowerUnderscore(name[score]) !== lowerUnderscore(s[score])) break;
    if (score === name.length) return Number.MAX_SAFE_INTEGER - 1;
  }
  return score === s.length ? score : 0;
}

function bestMatch<T extends { name: string }>(items: T[], input: string): { best?: T; all: string[] } {
  let bestScore = 0;
  let matches: T[] = [];
  for (const item of items) {
    const score = scorePartialMatch(item.name, input);
    if (score && score >= bestScore) {
      if (score > bestScore) matches = [];
      matches.push(item);
      bestScore = score;
    }
  }
  return { ...(matches.length === 1 ? { best: matches[0]! } : {}), all: matches.map((m) => m.name).sort() };
}

export function getTable(name: string): TableClass {
  const { best, all } = bestMatch(TABLES, name);
  if (best) return best;
  if (!all.length) fatal(`unknown table "${name}"`);
  return fatal(`"${name}" matches multiple table names: ${all.join(', ')}`);
}

export function getColumn(table: TableClass, name: string): ColumnClass {
  const { best, all } = bestMatch(table.columns, name);
  if (best) return best;
  if (!all.length) fatal(`${table.name} does not contain a column whose name matches "${name}"`);
  return fatal(`${table.name} contains more than one column whose name matches "${name}": ${all.join(', ')}`);
}

const stringOf = (d: Datum): string => (d.keys.length === 1 ? d.keys[0] as string : '');

function uuidIsPartialString(s: string): number {
  const template = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
  let i = 0;
  for (; i < template.length; i++) {
    if (i === s.length) return i;
    if (template[i] === 'x' ? !/[0-9a-fA-F]/.test(s[i]!) : s[i] !== '-') return 0;
  }
  return s.length === i ? i : 0;
}

/** ctl_get_row(): a row of `table` named by UUID, ".", its name (as the table allows), or a UUID prefix. */
export function getRow(ctx: Context, table: TableClass, record: string, mustExist: boolean): Row | undefined {
  let row: Row | undefined;
  if (isUuidText(record)) row = ctx.idl.get(table.name, record);
  if (!row && record === '.') {
    const rows = ctx.idl.rows(table.name);
    if (rows.length === 1) row = rows[0];
  }
  if (!row) {
    for (const id of table.rowIds) {
      let referrer: Row | undefined;
      for (const candidate of ctx.idl.rows(id.table)) {
        const name = candidate.data.get(id.nameColumn)!;
        if (name.keys.length !== 1) continue;
        const n = name.keys[0] as string;
        if (n === record || (record.length >= 4 && isUuidText(n) && n.startsWith(record))) {
          if (referrer) fatal(`multiple rows in ${id.table} match "${record}"`);
          referrer = candidate;
        }
      }
      if (!referrer) continue;
      if (id.uuidColumn) {
        const ref = referrer.data.get(id.uuidColumn)!;
        row = ref.keys.length === 1 ? ctx.idl.get(table.name, ref.keys[0] as string) : undefined;
      } else {
        row = referrer;
      }
      if (row) break;
    }
  }
  if (!row && uuidIsPartialString(record) >= 4) {
    for (const r of ctx.idl.rows(table.name)) {
      if (!r.uuid.startsWith(record)) continue;
      if (row) fatal(`${table.name} contains 2 or more rows whose UUIDs begin with ${record}: at least ${row.uuid} and ${r.uuid}`);
      row = r;
    }
  }
  if (mustExist && !row) fatal(`no row "${record}" in table ${table.name}`);
  return row;
}

/* ---- COLUMN[:KEY][OP VALUE] arguments ---- */

interface ColumnKeyValue {
  column: ColumnClass;
  key?: string;
  operator?: number;
  value?: string;
}

/**
 * parse_column_key_value(): a column name (possibly abbreviated), optionally `:KEY`, and,
 * when `operators` is given, one of them followed by a value (the longest operator wins).
 */
function parseColumnKeyValue(arg: string, table: TableClass, operators: string[] | null): ColumnKeyValue {
  const tok = parseToken(arg);
  if ('error' in tok) fatal(tok.error);
  const { token: columnName } = tok as { token: string; rest: string };
  let p = (tok as { rest: string }).rest;
  if (columnName === '') fatal(`${arg}: missing column name`);
  const column = getColumn(table, columnName);
  const out: ColumnKeyValue = { column };
  if (p.startsWith(':')) {
    const k = parseToken(p.slice(1));
    if ('error' in k) fatal(k.error);
    out.key = (k as { token: string }).token;
    p = (k as { rest: string }).rest;
  }
  if (operators) {
    let best = -1;
    let bestLength = 0;
    operators.forEach((op, i) => {
      if (op.length > bestLength && p.startsWith(op) && p.length > op.length) {
        best = i;
        bestLength = op.length;
      }
    });
    if (best < 0) {
      const quoted = operators.map((o) => `"${o}"`);
      const list = quoted.length === 1 ? quoted[0] : quoted.length === 2 ? `${quoted[0]} or ${quoted[1]}` : `${quoted.slice(0, -1).join(', ')}, or ${quoted.at(-1)}`;
      fatal(`${arg}: argument does not end in ${list} followed by a value.`);
    }
    out.operator = best;
    out.value = p.slice(bestLength);
  } else if (p !== '') {
    fatal(`${arg}: trailing garbage "${p}" in argument`);
  }
  return out;
}

/** Checks only that the column named at the start of `arg` exists (pre_parse_column_key_value). */
function preParseColumn(arg: string, table: TableClass): void {
  const tok = parseToken(arg);
  if ('error' in tok) fatal(tok.error);
  if ((tok as { token: string }).token === '') fatal(`${arg}: missing column name`);
  getColumn(table, (tok as { token: string }).token);
}

function isMutable(ctx: Context, row: Row, column: ColumnClass): boolean {
  return column.mutable || ctx.idl.isInserted(row);
}

function checkMutable(ctx: Context, row: Row, column: ColumnClass): void {
  if (!isMutable(ctx, row, column)) fatal(`cannot modify read-only column ${column.name} in table ${row.table}`);
}

function parsed<T>(r: T | { error: string }): T {
  if (r && typeof r === 'object' && 'error' in r) fatal(r.error);
  return r as T;
}

/** set_column(): `COLUMN=VALUE` or `COLUMN:KEY=VALUE` on `row`. */
export function setColumn(ctx: Context, table: TableClass, row: Row, arg: string): void {
  const { column, key, value } = parseColumnKeyValue(arg, table, ['=']);
  if (value === undefined) fatal(`${arg}: missing value`);
  checkMutable(ctx, row, column);
  const type = column.type;
  if (key !== undefined) {
    if (!isMap(type)) fatal(`cannot specify key to set for non-map column ${column.name}`);
    const k = parsed(atomFromString(key, type.key, ctx.symtab));
    const v = parsed(atomFromString(value!, type.value!, ctx.symtab));
    const pair: Datum = { keys: [k.atom], values: [v.atom] };
    ctx.idl.write(row, column.name, unionDatum(pair, ctx.idl.read(row, column.name), type));
  } else {
    ctx.idl.write(row, column.name, parsed(datumFromString(value!, type, ctx.symtab)));
  }
}

/* ---- the bridge/port/interface cache ---- */

interface VBridge { cfg: Row; name: string; ports: VPort[] }
interface VPort { cfg: Row; bridge: VBridge; ifaces: VIface[] }
interface VIface { cfg: Row; port: VPort }
interface Cache { bridges: Map<string, VBridge>; ports: Map<string, VPort>; ifaces: Map<string, VIface> }

const refs = (ctx: Context, row: Row, column: string, table: string): Row[] => ctx.idl.read(row, column).keys.map((u) => ctx.idl.get(table, u as string)).filter((r): r is Row => r !== undefined);
const nameOf = (ctx: Context, row: Row): string => stringOf(ctx.idl.read(row, 'name'));

function populateCache(ctx: Context): Cache {
  const cache: Cache = { bridges: new Map(), ports: new Map(), ifaces: new Map() };
  for (const brCfg of refs(ctx, ctx.ovs, 'bridges', 'Bridge')) {
    const name = nameOf(ctx, brCfg);
    if (cache.bridges.has(name)) {
      ctx.warn(`${name}: database contains duplicate bridge name`);
      continue;
    }
    cache.bridges.set(name, { cfg: brCfg, name, ports: [] });
  }
  for (const br of cache.bridges.values()) {
    for (const portCfg of refs(ctx, br.cfg, 'ports', 'Port')) {
      const portName = nameOf(ctx, portCfg);
      if (cache.ports.has(portName)) continue;
      const port: VPort = { cfg: portCfg, bridge: br, ifaces: [] };
      br.ports.push(port);
      cache.ports.set(portName, port);
      for (const ifaceCfg of refs(ctx, portCfg, 'interfaces', 'Interface')) {
        const ifaceName = nameOf(ctx, ifaceCfg);
        if (cache.ifaces.has(ifaceName)) continue;
        const iface: VIface = { cfg: ifaceCfg, port };
        port.ifaces.push(iface);
        cache.ifaces.set(ifaceName, iface);
      }
    }
  }
  return cache;
}

function findBridge(cache: Cache, name: string, mustExist: boolean): VBridge | undefined {
  const br = cache.bridges.get(name);
  if (mustExist && !br) fatal(`no bridge named ${name}`);
  return br;
}

function findPort(cache: Cache, name: string, mustExist: boolean): VPort | undefined {
  let port = cache.ports.get(name);
  if (port && port.bridge.name === name) port = undefined;
  if (mustExist && !port) fatal(`no port named ${name}`);
  return port;
}

function findIface(cache: Cache, name: string, mustExist: boolean): VIface | undefined {
  let iface = cache.ifaces.get(name);
  if (iface && iface.port.bridge.name === name) iface = undefined;
  if (mustExist && !iface) fatal(`no interface named ${name}`);
  return iface;
}

function checkConflicts(cache: Cache, name: string, what: string): void {
  if (cache.bridges.has(name)) fatal(`${what} because a bridge named ${name} already exists`);
  const port = cache.ports.get(name);
  if (port) fatal(`${what} because a port named ${name} already exists on bridge ${port.bridge.name}`);
  const iface = cache.ifaces.get(name);
  if (iface) fatal(`${what} because an interface named ${name} already exists on bridge ${iface.port.bridge.name}`);
}

const str = (s: string): Datum => ({ keys: [s] });
const uuids = (rows: Row[]): Datum => ({ keys: rows.map((r) => r.uuid).sort() });

function addRef(ctx: Context, row: Row, column: string, target: Row): void {
  const d = ctx.idl.read(row, column);
  ctx.idl.write(row, column, { keys: [...d.keys.filter((u) => u !== target.uuid), target.uuid].sort() });
}

function removeRef(ctx: Context, row: Row, column: string, target: Row): void {
  const d = ctx.idl.read(row, column);
  ctx.idl.write(row, column, { keys: d.keys.filter((u) => u !== target.uuid) });
}

/** vsctl_context_to_string(): the command as typed (its options' names, then its words). */
function commandString(ctx: Context): string {
  return escapeArgs([...ctx.options.keys(), ...ctx.argv]);
}

const sortedLines = (names: string[]): string => names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map((n) => `${n}\n`).join('');

/** Bridge names the daemon refuses, since they would be used in file names (<rundir>/<bridge>.mgmt). */
export function invalidBridgeName(name: string): string | undefined {
  if (/[/\\]/.test(name)) return `cannot create a bridge named ${name} because bridge names may not contain "/" or "\\"`;
  if (name === '.' || name === '..') return `cannot create a bridge named ${name} because bridge names may not be "." or ".."`;
  return undefined;
}

/* ---- Open vSwitch commands ---- */

function cmdShow(ctx: Context): void {
  const shown = new Set<string>();
  const showRow = (row: Row, level: number): void => {
    const show = SHOW_TABLES.find((s) => s.table === row.table);
    let out = ' '.repeat(level * 4);
    if (show?.nameColumn) {
      const c = tableClass(row.table).columns.find((x) => x.name === show.nameColumn)!;
      out += `${row.table} ${datumToString(ctx.idl.read(row, c.name), c.type)}`;
    } else {
      out += row.uuid;
    }
    ctx.output += `${out}\n`;
    if (!show || shown.has(show.table)) return;
    shown.add(show.table);
    for (const name of show.columns) {
      const column = tableClass(row.table).columns.find((x) => x.name === name)!;
      const datum = ctx.idl.read(row, name);
      const refTable = column.type.key.refTable;
      if (column.type.key.type === 'uuid' && refTable && SHOW_TABLES.some((s) => s.table === refTable)) {
        for (const u of datum.keys) {
          const ref = ctx.idl.get(refTable, u as string);
          if (ref) showRow(ref, level + 1);
        }
        continue;
      }
      if (!isDefaultDatum(datum, column.type)) ctx.output += `${' '.repeat((level + 1) * 4)}${name}: ${datumToString(datum, column.type)}\n`;
    }
    shown.delete(show.table);
  };
  for (const row of ctx.idl.rows('Open_vSwitch')) showRow(row, 0);
}

function cmdEmerReset(ctx: Context): void {
  for (const br of ctx.idl.rows('Bridge')) {
    ctx.idl.write(br, 'controller', { keys: [] });
    ctx.idl.write(br, 'fail_mode', { keys: [] });
    const other = ctx.idl.read(br, 'other_config');
    const [found, i] = findKey(other, 'hwaddr', 'string');
    ctx.idl.write(br, 'other_config', found ? { keys: ['hwaddr'], values: [other.values![i]!] } : { keys: [], values: [] });
  }
  for (const port of ctx.idl.rows('Port')) ctx.idl.write(port, 'other_config', { keys: [], values: [] });
  for (const ctl of ctx.idl.rows('Controller')) ctx.idl.delete(ctl);
}

/* ---- bridge commands ---- */

function cmdAddBr(ctx: Context): void {
  const mayExist = ctx.options.has('--may-exist');
  const brName = ctx.argv[1]!;
  if (!brName) fatal('bridge name must not be empty string');
  if (ctx.argv.length === 4) {
    const vlan = Number.parseInt(ctx.argv[3]!, 10) || 0;
    if (vlan < 0 || vlan > 4095) fatal(`${ctx.argv[0]}: vlan must be between 0 and 4095`);
    fatal(`cannot create a bridge named ${brName} on VLAN ${vlan} of ${ctx.argv[2]} because ofswitch has no VLAN ("fake") bridges`);
  } else if (ctx.argv.length !== 2) {
    fatal(`'${ctx.argv[0]}' command takes exactly 1 or 3 arguments`);
  }
  const cache = populateCache(ctx);
  if (mayExist && findBridge(cache, brName, false)) return;
  checkConflicts(cache, brName, `cannot create a bridge named ${brName}`);
  const invalid = invalidBridgeName(brName);
  if (invalid) fatal(invalid);
  const iface = ctx.idl.insert('Interface');
  ctx.idl.write(iface, 'name', str(brName));
  ctx.idl.write(iface, 'type', str('internal'));
  const port = ctx.idl.insert('Port');
  ctx.idl.write(port, 'name', str(brName));
  ctx.idl.write(port, 'interfaces', uuids([iface]));
  const br = ctx.idl.insert('Bridge');
  ctx.idl.write(br, 'name', str(brName));
  ctx.idl.write(br, 'ports', uuids([port]));
  addRef(ctx, ctx.ovs, 'bridges', br);
  ctx.newInterfaces.push(iface.uuid);
}

function deletePort(ctx: Context, port: VPort): void {
  removeRef(ctx, port.bridge.cfg, 'ports', port.cfg);
  for (const iface of port.ifaces) ctx.idl.delete(iface.cfg);
  ctx.idl.delete(port.cfg);
}

function cmdDelBr(ctx: Context): void {
  const cache = populateCache(ctx);
  const br = findBridge(cache, ctx.argv[1]!, !ctx.options.has('--if-exists'));
  if (!br) return;
  for (const port of br.ports) deletePort(ctx, port);
  ctx.idl.delete(br.cfg);
  removeRef(ctx, ctx.ovs, 'bridges', br.cfg);
}

function cmdListBr(ctx: Context): void {
  const cache = populateCache(ctx);
  // Every bridge is a real one here; --fake alone lists none.
  const real = ctx.options.has('--real') || !ctx.options.has('--fake');
  ctx.output += real ? sortedLines([...cache.bridges.keys()]) : '';
}

function cmdBrExists(ctx: Context): void {
  if (!findBridge(populateCache(ctx), ctx.argv[1]!, false)) throw new VsctlExit(2);
}

function cmdBrToVlan(ctx: Context): void {
  findBridge(populateCache(ctx), ctx.argv[1]!, true);
  ctx.output += '0\n';
}

function cmdBrToParent(ctx: Context): void {
  ctx.output += `${findBridge(populateCache(ctx), ctx.argv[1]!, true)!.name}\n`;
}

function cmdBrSetExternalId(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  const ids = ctx.idl.read(br.cfg, 'external_ids');
  const type = tableClass('Bridge').columns.find((c) => c.name === 'external_ids')!.type;
  const without = subtractDatum(ids, { keys: [ctx.argv[2]!] }, type);
  ctx.idl.write(br.cfg, 'external_ids', ctx.argv.length >= 4 ? unionDatum({ keys: [ctx.argv[2]!], values: [ctx.argv[3]!] }, without, type) : without);
}

function cmdBrGetExternalId(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  const ids = ctx.idl.read(br.cfg, 'external_ids');
  if (ctx.argv.length >= 3) {
    const [found, i] = findKey(ids, ctx.argv[2]!, 'string');
    if (found) ctx.output += `${ids.values![i]}\n`;
  } else {
    ctx.output += ids.keys.map((k, i) => `${k}=${ids.values![i]}\n`).join('');
  }
}

/* ---- port and interface commands ---- */

function cmdListPorts(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  ctx.output += sortedLines(br.ports.map((p) => nameOf(ctx, p.cfg)).filter((n) => n !== br.name));
}

function addPort(ctx: Context, brName: string, portName: string, mayExist: boolean, ifaceNames: string[], settings: string[]): void {
  if (!portName) fatal('port name must not be empty string');
  if (ifaceNames.some((n) => !n)) fatal('interface name must not be empty string');
  const cache = populateCache(ctx);
  if (mayExist) {
    const existing = findPort(cache, portName, false);
    if (existing) {
      const want = [...ifaceNames].sort();
      const have = refs(ctx, existing.cfg, 'interfaces', 'Interface').map((r) => nameOf(ctx, r)).sort();
      if (existing.bridge.name !== brName) fatal(`"${commandString(ctx)}" but ${portName} is actually attached to bridge ${existing.bridge.name}`);
      if (want.join('\0') !== have.join('\0')) fatal(`"${commandString(ctx)}" but ${portName} actually has interface(s) ${have.join(', ')}`);
      return;
    }
  }
  checkConflicts(cache, portName, `cannot create a port named ${portName}`);
  for (const name of ifaceNames) checkConflicts(cache, name, `cannot create an interface named ${name}`);
  const br = findBridge(cache, brName, true)!;
  const ifaces = ifaceNames.map((name) => {
    const iface = ctx.idl.insert('Interface');
    ctx.idl.write(iface, 'name', str(name));
    ctx.newInterfaces.push(iface.uuid);
    return iface;
  });
  const port = ctx.idl.insert('Port');
  ctx.idl.write(port, 'name', str(portName));
  ctx.idl.write(port, 'interfaces', uuids(ifaces));
  for (const setting of settings) setColumn(ctx, tableClass('Port'), port, setting);
  addRef(ctx, br.cfg, 'ports', port);
}

function cmdAddPort(ctx: Context): void {
  addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, ctx.options.has('--may-exist'), [ctx.argv[2]!], ctx.argv.slice(3));
}

function cmdAddBond(ctx: Context): void {
  if (ctx.options.has('--fake-iface')) fatal('--fake-iface is not supported: ofswitch has no bond_fake_iface column');
  let nIfaces = ctx.argv.length - 3;
  for (let i = 3; i < ctx.argv.length; i++) {
    if (ctx.argv[i]!.includes('=')) {
      nIfaces = i - 3;
      break;
    }
  }
  if (nIfaces < 2) fatal(`add-bond requires at least 2 interfaces, but only ${nIfaces} were specified`);
  addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, ctx.options.has('--may-exist'), ctx.argv.slice(3, 3 + nIfaces), ctx.argv.slice(3 + nIfaces));
}

function cmdAddBondIface(ctx: Context): void {
  const cache = populateCache(ctx);
  const port = findPort(cache, ctx.argv[1]!, true)!;
  const ifaceName = ctx.argv[2]!;
  if (ctx.options.has('--may-exist')) {
    const iface = findIface(cache, ifaceName, false);
    if (iface) {
      if (iface.port === port) return;
      fatal(`"${commandString(ctx)}" but ${ifaceName} is actually attached to port ${nameOf(ctx, iface.port.cfg)}`);
    }
  }
  checkConflicts(cache, ifaceName, `cannot create an interface named ${ifaceName}`);
  const iface = ctx.idl.insert('Interface');
  ctx.idl.write(iface, 'name', str(ifaceName));
  addRef(ctx, port.cfg, 'interfaces', iface);
  ctx.newInterfaces.push(iface.uuid);
}

function cmdDelBondIface(ctx: Context): void {
  const cache = populateCache(ctx);
  const ifaceName = ctx.argv[ctx.argv.length - 1]!;
  const iface = findIface(cache, ifaceName, !ctx.options.has('--if-exists'));
  if (!iface) return;
  if (ctx.argv.length > 2) {
    const port = findPort(cache, ctx.argv[1]!, true);
    if (iface.port !== port) fatal(`port ${ctx.argv[1]} does not have an interface ${ifaceName}`);
  }
  if (iface.port.ifaces.length <= 1) fatal(`cannot delete last interface from port ${nameOf(ctx, iface.port.cfg)}`);
  removeRef(ctx, iface.port.cfg, 'interfaces', iface.cfg);
  ctx.idl.delete(iface.cfg);
}

function cmdDelPort(ctx: Context): void {
  const mustExist = !ctx.options.has('--if-exists');
  const target = ctx.argv[ctx.argv.length - 1]!;
  const cache = populateCache(ctx);
  let port: VPort | undefined;
  if (findBridge(cache, target, false)) {
    if (mustExist) fatal(`cannot delete port ${target} because it is the local port for bridge ${target} (deleting this port requires deleting the entire bridge)`);
  } else if (!ctx.options.has('--with-iface')) {
    port = findPort(cache, target, mustExist);
  } else {
    port = findPort(cache, target, false) ?? findIface(cache, target, false)?.port;
    if (mustExist && !port) fatal(`no port or interface named ${target}`);
  }
  if (!port) return;
  if (ctx.argv.length === 3) {
    const br = findBridge(cache, ctx.argv[1]!, true);
    if (port.bridge !== br) fatal(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]}`);
  }
  deletePort(ctx, port);
}

function cmdPortToBr(ctx: Context): void {
  ctx.output += `${findPort(populateCache(ctx), ctx.argv[1]!, true)!.bridge.name}\n`;
}

function cmdListIfaces(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  ctx.output += sortedLines(br.ports.flatMap((p) => p.ifaces.map((i) => nameOf(ctx, i.cfg))).filter((n) => n !== br.name));
}

function cmdIfaceToBr(ctx: Context): void {
  ctx.output += `${findIface(populateCache(ctx), ctx.argv[1]!, true)!.port.bridge.name}\n`;
}

/* ---- controller and fail-mode commands ---- */

const CONTROLLER_TYPES = ['tcp', 'unix', 'ssl', 'ptcp', 'punix', 'pssl'];

function cmdGetController(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  ctx.output += sortedLines(refs(ctx, br.cfg, 'controller', 'Controller').map((c) => stringOf(ctx.idl.read(c, 'target'))));
}

function deleteControllers(ctx: Context, br: Row): void {
  for (const c of refs(ctx, br, 'controller', 'Controller')) ctx.idl.delete(c);
}

function cmdDelController(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  if (ctx.idl.read(br.cfg, 'controller').keys.length) {
    deleteControllers(ctx, br.cfg);
    ctx.idl.write(br.cfg, 'controller', { keys: [] });
  }
}

function cmdSetController(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  deleteControllers(ctx, br.cfg);
  const probe = ctx.options.get('--inactivity-probe');
  const controllers = ctx.argv.slice(2).map((target) => {
    const colon = target.indexOf(':');
    if (colon < 0 || !CONTROLLER_TYPES.includes(target.slice(0, colon))) ctx.warn(`target type "${target}" is possibly erroneous`);
    const c = ctx.idl.insert('Controller');
    ctx.idl.write(c, 'target', str(target));
    if (probe !== undefined && probe !== null) ctx.idl.write(c, 'inactivity_probe', { keys: [Number.parseInt(probe, 10) || 0] });
    return c;
  });
  ctx.idl.write(br.cfg, 'controller', uuids(controllers));
}

function cmdGetFailMode(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  const mode = stringOf(ctx.idl.read(br.cfg, 'fail_mode'));
  if (mode) ctx.output += `${mode}\n`;
}

function cmdDelFailMode(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  ctx.idl.write(br.cfg, 'fail_mode', { keys: [] });
}

function cmdSetFailMode(ctx: Context): void {
  const br = findBridge(populateCache(ctx), ctx.argv[1]!, true)!;
  const mode = ctx.argv[2]!;
  if (mode !== 'standalone' && mode !== 'secure') fatal('fail-mode must be "standalone" or "secure"');
  ctx.idl.write(br.cfg, 'fail_mode', str(mode));
}

/* ---- what ofswitch's database has no room for ---- */

function unsupported(what: string): (ctx: Context) => void {
  return (ctx) => fatal(`'${ctx.argv[0]}' is not supported: ofswitch's database has no ${what}`);
}

/** Reading or deleting what cannot exist: nothing to print, nothing to do. */
function nothing(ctx: Context): void {
  if (ctx.argv[0]!.endsWith('aa-mapping')) findBridge(populateCache(ctx), ctx.argv[1]!, true);
}

/* ---- database commands ---- */

function preGetTable(ctx: Context): TableClass {
  return getTable(ctx.argv[1]!);
}

function parseColumnNames(names: string | null | undefined, table: TableClass): Array<ColumnClass | null> {
  if (names === undefined || names === null) return [null, ...table.columns];
  const columns = names.split(/[, ]+/).filter(Boolean).map((n) => (n.toLowerCase() === '_uuid' ? null : getColumn(table, n)));
  if (!columns.length) fatal('must specify at least one column name');
  return columns;
}

const UUID_TYPE: Type = { key: { type: 'uuid' }, min: 1, max: 1 };

function listRecord(ctx: Context, row: Row, columns: Array<ColumnClass | null>, out: OutputTable): void {
  out.addRow(columns.map((c): Cell => (c ? { datum: ctx.idl.read(row, c.name), type: c.type } : { datum: { keys: [row.uuid] }, type: UUID_TYPE })));
}

function preList(ctx: Context): void {
  parseColumnNames(ctx.options.get('--columns'), preGetTable(ctx));
}

function cmdList(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  const columns = parseColumnNames(ctx.options.get('--columns'), table);
  const out = new OutputTable(columns.map((c) => c?.name ?? '_uuid'));
  ctx.table = out;
  if (ctx.argv.length > 2) {
    for (const record of ctx.argv.slice(2)) {
      const row = getRow(ctx, table, record, !ctx.options.has('--if-exists'));
      if (row) listRecord(ctx, row, columns, out);
    }
  } else {
    for (const row of ctx.idl.rows(table.name)) listRecord(ctx, row, columns, out);
  }
}

const RELOPS = ['=', '!=', '<', '>', '<=', '>=', '{=}', '{!=}', '{<}', '{>}', '{<=}', '{>=}', '{in}', '{not-in}'];

function evaluateRelop(a: Datum, b: Datum, t: Type, op: string): boolean {
  switch (op) {
    case '=': case '{=}': return compareDatums(a, b, t) === 0;
    case '!=': case '{!=}': return compareDatums(a, b, t) !== 0;
    case '<': return compareDatums(a, b, t) < 0;
    case '>': return compareDatums(a, b, t) > 0;
    case '<=': return compareDatums(a, b, t) <= 0;
    case '>=': return compareDatums(a, b, t) >= 0;
    case '{<}': return b.keys.length > a.keys.length && includesAll(a, b, t);
    case '{>}': return a.keys.length > b.keys.length && includesAll(b, a, t);
    case '{<=}': case '{in}': return includesAll(a, b, t);
    case '{>=}': return includesAll(b, a, t);
    case '{not-in}': return excludesAll(a, b, t);
    default: return false;
  }
}

/** check_condition(): does `row` satisfy `COLUMN[:KEY]OP VALUE`? */
function checkCondition(ctx: Context, table: TableClass, row: Row, arg: string): boolean {
  const { column, key, operator, value } = parseColumnKeyValue(arg, table, RELOPS);
  if (value === undefined) fatal(`${arg}: missing value`);
  const op = RELOPS[operator!]!;
  const type: Type = { ...column.type, max: Infinity };
  const have = ctx.idl.read(row, column.name);
  if (key !== undefined) {
    if (!isMap(column.type)) fatal(`cannot specify key to check for non-map column ${column.name}`);
    const wantKey = parsed(atomFromString(key, column.type.key, ctx.symtab));
    const valueType: Type = { key: column.type.value!, min: column.type.min, max: Infinity };
    const b = parsed(datumFromString(value!, valueType, ctx.symtab));
    const [found, idx] = findKey(have, wantKey.atom, column.type.key.type);
    if (!found && !op.startsWith('{')) return false;
    const a: Datum = { keys: found ? [have.values![idx]!] : [] };
    return evaluateRelop(a, b, valueType, op);
  }
  const want = parsed(datumFromString(value!, column.type, ctx.symtab));
  return evaluateRelop(have, want, type, op);
}

function preFind(ctx: Context): void {
  const table = preGetTable(ctx);
  parseColumnNames(ctx.options.get('--columns'), table);
  for (const arg of ctx.argv.slice(2)) preParseColumn(arg, table);
}

function cmdFind(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  const columns = parseColumnNames(ctx.options.get('--columns'), table);
  const out = new OutputTable(columns.map((c) => c?.name ?? '_uuid'));
  ctx.table = out;
  for (const row of ctx.idl.rows(table.name)) {
    if (ctx.argv.slice(2).every((arg) => checkCondition(ctx, table, row, arg))) listRecord(ctx, row, columns, out);
  }
}

function preGet(ctx: Context): void {
  const table = preGetTable(ctx);
  for (const arg of ctx.argv.slice(3)) {
    if (arg.toLowerCase() === '_uuid' || arg.toLowerCase() === '-uuid') continue;
    preParseColumn(arg, table);
  }
}

function createSymbol(ctx: Context, id: string): { symbol: NonNullable<ReturnType<SymbolTable['get']>>; isNew: boolean } {
  if (!id.startsWith('@')) fatal(`row id "${id}" does not begin with "@"`);
  const isNew = !ctx.symtab.has(id);
  let symbol = ctx.symtab.get(id);
  if (!symbol) {
    symbol = { uuid: crypto.randomUUID(), created: false, strongRef: false, weakRef: false };
    ctx.symtab.set(id, symbol);
  }
  if (symbol.created) fatal(`row id "${id}" may only be specified on one --id option`);
  symbol.created = true;
  return { symbol, isNew };
}

function cmdGet(ctx: Context): void {
  const id = ctx.options.get('--id');
  const mustExist = !ctx.options.has('--if-exists');
  if (id && !mustExist) fatal('--if-exists and --id may not be specified together');
  const table = getTable(ctx.argv[1]!);
  const record = ctx.argv[2]!;
  const row = getRow(ctx, table, record, mustExist);
  if (!row) return;
  if (id) {
    const { symbol, isNew } = createSymbol(ctx, id);
    if (!isNew) fatal(`row id "${id}" specified on "get" command was used before it was defined`);
    symbol.uuid = row.uuid;
    symbol.strongRef = true;
  }
  for (const arg of ctx.argv.slice(3)) {
    if (arg.toLowerCase() === '_uuid' || arg.toLowerCase() === '-uuid') {
      ctx.output += `${row.uuid}\n`;
      continue;
    }
    const { column, key } = parseColumnKeyValue(arg, table, null);
    const datum = ctx.idl.read(row, column.name);
    if (key !== undefined) {
      if (!isMap(column.type)) fatal(`cannot specify key to get for non-map column ${column.name}`);
      const k = parsed(atomFromString(key, column.type.key, ctx.symtab));
      const [found, idx] = findKey(datum, k.atom, column.type.key.type);
      if (!found) {
        if (mustExist) fatal(`no key "${key}" in ${table.name} record "${record}" column ${column.name}`);
      } else {
        ctx.output += atomToString(datum.values![idx]!, column.type.value!.type);
      }
    } else {
      ctx.output += datumToString(datum, column.type);
    }
    ctx.output += '\n';
  }
}

function preSet(ctx: Context): void {
  const table = preGetTable(ctx);
  for (const arg of ctx.argv.slice(3)) preParseColumn(arg, table);
}

function cmdSet(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  const row = getRow(ctx, table, ctx.argv[2]!, !ctx.options.has('--if-exists'));
  if (!row) return;
  for (const arg of ctx.argv.slice(3)) setColumn(ctx, table, row, arg);
}

function preColumnArg(ctx: Context): void {
  getColumn(preGetTable(ctx), ctx.argv[3]!);
}

/** The TABLE RECORD COLUMN of add and remove, checked writable; nothing with --if-exists and no record. */
function mutationTarget(ctx: Context): { table: TableClass; column: ColumnClass; row: Row } | undefined {
  const table = getTable(ctx.argv[1]!);
  const column = getColumn(table, ctx.argv[3]!);
  const row = getRow(ctx, table, ctx.argv[2]!, !ctx.options.has('--if-exists'));
  if (!row) return undefined;
  checkMutable(ctx, row, column);
  return { table, column, row };
}

function cmdAdd(ctx: Context): void {
  const target = mutationTarget(ctx);
  if (!target) return;
  const { table, column, row } = target;
  const type = column.type;
  const addType: Type = { ...type, min: 1, max: Infinity };
  let added = emptyDatum(type);
  for (const arg of ctx.argv.slice(4)) added = unionDatum(added, parsed(datumFromString(arg, addType, ctx.symtab)), type);
  // ovs-vsctl's last command sends the additions as a partial update, in which a map key
  // that exists takes its new value; before that, existing keys keep theirs.
  const current = ctx.idl.read(row, column.name);
  const result = ctx.lastCommand ? unionDatum(added, current, type) : unionDatum(current, added, type);
  if (result.keys.length > type.max) {
    fatal(`"add" operation would put ${result.keys.length} ${isMap(type) ? 'pairs' : 'values'} in column ${column.name} of table ${table.name} but the maximum number is ${type.max}`);
  }
  ctx.idl.write(row, column.name, result);
}

function cmdRemove(ctx: Context): void {
  const target = mutationTarget(ctx);
  if (!target) return;
  const { table, column, row } = target;
  const type = column.type;
  let result = cloneDatum(ctx.idl.read(row, column.name));
  for (const arg of ctx.argv.slice(4)) {
    const rmType: Type = { ...type, min: 1, max: Infinity };
    let rm = datumFromString(arg, rmType, ctx.symtab);
    if ('error' in rm) {
      if (!isMap(type)) fatal(rm.error);
      // A map also takes bare keys: remove whatever value they have.
      const keyType: Type = { key: type.key, min: 1, max: Infinity };
      const keys = parsed(datumFromString(arg, keyType, ctx.symtab));
      rm = keys;
    }
    result = subtractDatum(result, rm, type);
  }
  if (result.keys.length < type.min) {
    fatal(`"remove" operation would put ${result.keys.length} ${isMap(type) ? 'pairs' : 'values'} in column ${column.name} of table ${table.name} but the minimum number is ${type.min}`);
  }
  ctx.idl.write(row, column.name, result);
}

function preClear(ctx: Context): void {
  const table = preGetTable(ctx);
  for (const arg of ctx.argv.slice(3)) getColumn(table, arg);
}

function cmdClear(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  const row = getRow(ctx, table, ctx.argv[2]!, !ctx.options.has('--if-exists'));
  if (!row) return;
  for (const arg of ctx.argv.slice(3)) {
    const column = getColumn(table, arg);
    checkMutable(ctx, row, column);
    if (column.type.min > 0) fatal(`"clear" operation cannot be applied to column ${column.name} of table ${table.name}, which is not allowed to be empty`);
    ctx.idl.write(row, column.name, emptyDatum(column.type));
  }
}

function preCreate(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  if (!ctx.options.get('--id') && !table.isRoot) ctx.warn(`applying "create" command to table ${table.name} without --id option will have no effect`, 'db_ctl_base');
}

function cmdCreate(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  const id = ctx.options.get('--id');
  let uuid: string | undefined;
  if (id) {
    if (isUuidText(id)) fatal(`--id=${id}: ofswitch's database chooses the UUIDs of new rows; use --id=@name`);
    const { symbol } = createSymbol(ctx, id);
    if (table.isRoot) symbol.strongRef = true;
    uuid = symbol.uuid;
  }
  const row = ctx.idl.insert(table.name, uuid);
  for (const arg of ctx.argv.slice(2)) setColumn(ctx, table, row, arg);
  if (table.name === 'Bridge') {
    const invalid = invalidBridgeName(stringOf(ctx.idl.read(row, 'name')));
    if (invalid) fatal(invalid);
  }
  ctx.output += row.uuid;
}

function postCreate(ctx: Context): void {
  const real = ctx.realUuid(ctx.output);
  if (real) ctx.output = real;
  ctx.output += '\n';
}

function cmdDestroy(ctx: Context): void {
  const mustExist = !ctx.options.has('--if-exists');
  const all = ctx.options.has('--all');
  const table = getTable(ctx.argv[1]!);
  if (all && ctx.argv.length > 2) fatal('--all and records argument should not be specified together');
  if (all && !mustExist) fatal('--all and --if-exists should not be specified together');
  if (!all && ctx.argv.length === 2) {
    ctx.warn('either --all or records argument should be specified', 'db_ctl_base');
    return;
  }
  if (all) {
    for (const row of ctx.idl.rows(table.name)) ctx.idl.delete(row);
    return;
  }
  for (const record of ctx.argv.slice(2)) {
    const row = getRow(ctx, table, record, mustExist);
    if (row) ctx.idl.delete(row);
  }
}

function preWaitUntil(ctx: Context): void {
  const table = preGetTable(ctx);
  for (const arg of ctx.argv.slice(3)) preParseColumn(arg, table);
}

function cmdWaitUntil(ctx: Context): void {
  const table = getTable(ctx.argv[1]!);
  const row = getRow(ctx, table, ctx.argv[2]!, false);
  if (!row || !ctx.argv.slice(3).every((arg) => checkCondition(ctx, table, row, arg))) ctx.tryAgain = true;
}

/* ---- the command table ---- */

type Syntax = CommandSyntax<Context>;
const cmd = (name: string, minArgs: number, maxArgs: number, args: string, run: (ctx: Context) => void, options = '', mode: 'RO' | 'RW' = 'RO', extra: Partial<Syntax> = {}): Syntax => ({
  name, minArgs, maxArgs, arguments: args, run, options, mode, ...extra,
});
const MANY = Number.MAX_SAFE_INTEGER;

export const COMMANDS: Syntax[] = [
  // Open vSwitch commands.
  cmd('init', 0, 0, '', () => undefined, '', 'RW'),
  cmd('show', 0, 0, '', cmdShow),
  cmd('emer-reset', 0, 0, '', cmdEmerReset, '', 'RW'),
  // Bridge commands.
  cmd('add-br', 1, 3, 'NEW-BRIDGE [PARENT] [NEW-VLAN]', cmdAddBr, '--may-exist', 'RW'),
  cmd('del-br', 1, 1, 'BRIDGE', cmdDelBr, '--if-exists', 'RW'),
  cmd('list-br', 0, 0, '', cmdListBr, '--real,--fake'),
  cmd('br-exists', 1, 1, 'BRIDGE', cmdBrExists),
  cmd('br-to-vlan', 1, 1, 'BRIDGE', cmdBrToVlan),
  cmd('br-to-parent', 1, 1, 'BRIDGE', cmdBrToParent),
  cmd('br-set-external-id', 2, 3, 'BRIDGE KEY [VALUE]', cmdBrSetExternalId, '', 'RW'),
  cmd('br-get-external-id', 1, 2, 'BRIDGE [KEY]', cmdBrGetExternalId),
  // Port commands.
  cmd('list-ports', 1, 1, 'BRIDGE', cmdListPorts),
  cmd('add-port', 2, MANY, 'BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...', cmdAddPort, '--may-exist', 'RW'),
  cmd('del-port', 1, 2, '[BRIDGE] PORT|IFACE', cmdDelPort, '--if-exists,--with-iface', 'RW'),
  cmd('port-to-br', 1, 1, 'PORT', cmdPortToBr),
  // Bond commands.
  cmd('add-bond', 4, MANY, 'BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...', cmdAddBond, '--may-exist,--fake-iface', 'RW'),
  cmd('add-bond-iface', 2, 2, 'BOND IFACE', cmdAddBondIface, '--may-exist', 'RW'),
  cmd('del-bond-iface', 1, 2, '[BOND] IFACE', cmdDelBondIface, '--if-exists', 'RW'),
  // Interface commands.
  cmd('list-ifaces', 1, 1, 'BRIDGE', cmdListIfaces),
  cmd('iface-to-br', 1, 1, 'IFACE', cmdIfaceToBr),
  // Controller commands.
  cmd('get-controller', 1, 1, 'BRIDGE', cmdGetController),
  cmd('del-controller', 1, 1, 'BRIDGE', cmdDelController, '', 'RW'),
  cmd('set-controller', 1, MANY, 'BRIDGE TARGET...', cmdSetController, '--inactivity-probe=', 'RW'),
  cmd('get-fail-mode', 1, 1, 'BRIDGE', cmdGetFailMode),
  cmd('del-fail-mode', 1, 1, 'BRIDGE', cmdDelFailMode, '', 'RW'),
  cmd('set-fail-mode', 2, 2, 'BRIDGE MODE', cmdSetFailMode, '', 'RW'),
  // Manager, SSL, Auto Attach, conntrack zones, datapath capabilities: no such tables here.
  cmd('get-manager', 0, 0, '', nothing),
  cmd('del-manager', 0, 0, '', nothing, '', 'RW'),
  cmd('set-manager', 1, MANY, 'TARGET...', unsupported('Manager table'), '--inactivity-probe=', 'RW'),
  cmd('get-ssl', 0, 0, '', nothing),
  cmd('del-ssl', 0, 0, '', nothing, '', 'RW'),
  cmd('set-ssl', 3, 3, 'PRIVATE-KEY CERTIFICATE CA-CERT', unsupported('SSL table (give ofswitchd --private-key, --certificate, --ca-cert)'), '--bootstrap', 'RW'),
  cmd('add-aa-mapping', 3, 3, 'BRIDGE ARG ARG', unsupported('AutoAttach table'), '', 'RW'),
  cmd('del-aa-mapping', 3, 3, 'BRIDGE ARG ARG', nothing, '', 'RW'),
  cmd('get-aa-mapping', 1, 1, 'BRIDGE', nothing),
  cmd('add-zone-tp', 3, MANY, '', unsupported('CT_Zone table'), '--may-exist', 'RW'),
  cmd('del-zone-tp', 2, 2, '', unsupported('CT_Zone table'), '--if-exists', 'RW'),
  cmd('list-zone-tp', 1, 1, '', unsupported('Datapath table')),
  cmd('list-dp-cap', 1, 1, '', unsupported('Datapath table')),
  // Database commands.
  cmd('comment', 0, MANY, '[ARG]...', () => undefined),
  cmd('get', 2, MANY, 'TABLE RECORD [COLUMN[:KEY]]...', cmdGet, '--if-exists,--id=', 'RO', { prerequisites: preGet }),
  cmd('list', 1, MANY, 'TABLE [RECORD]...', cmdList, '--if-exists,--columns=', 'RO', { prerequisites: preList }),
  cmd('find', 1, MANY, 'TABLE [COLUMN[:KEY]=VALUE]...', cmdFind, '--columns=', 'RO', { prerequisites: preFind }),
  cmd('set', 3, MANY, 'TABLE RECORD COLUMN[:KEY]=VALUE...', cmdSet, '--if-exists', 'RW', { prerequisites: preSet }),
  cmd('add', 4, MANY, 'TABLE RECORD COLUMN [KEY=]VALUE...', cmdAdd, '--if-exists', 'RW', { prerequisites: preColumnArg }),
  cmd('remove', 4, MANY, 'TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...', cmdRemove, '--if-exists', 'RW', { prerequisites: preColumnArg }),
  cmd('clear', 3, MANY, 'TABLE RECORD COLUMN...', cmdClear, '--if-exists', 'RW', { prerequisites: preClear }),
  cmd('create', 2, MANY, 'TABLE COLUMN[:KEY]=VALUE...', cmdCreate, '--id=', 'RW', { prerequisites: preCreate, postprocess: postCreate }),
  cmd('destroy', 1, MANY, 'TABLE [RECORD]...', cmdDestroy, '--if-exists,--all', 'RW', { prerequisites: (ctx) => { preGetTable(ctx); } }),
  cmd('wait-until', 2, MANY, 'TABLE RECORD [COLUMN[:KEY]=VALUE]...', cmdWaitUntil, '', 'RO', { prerequisites: preWaitUntil }),
];

export const COMMANDS_BY_NAME = new Map(COMMANDS.map((c) => [c.name, c]));
