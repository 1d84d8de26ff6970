/*
 * Column values (OVSDB's atoms and datums). Every value is held the same way, whatever its
 * column: a set is a sorted array of atoms (a scalar column is a set of exactly one, an
 * optional one a set of zero or one), a map a sorted array of [key, value] pairs. UUIDs are
 * `{ uuid }` objects. On the wire (the daemon's socket, the journal) values use OVSDB's JSON:
 * an atom, ["set", [...]], ["map", [[k, v], ...]], ["uuid", "..."], ["named-uuid", "..."].
 */
import type { BaseType, ColumnType } from './schema.ts';

export interface Uuid { uuid: string }
export type Atom = string | number | boolean | Uuid;
export type Datum = Atom[] | Array<[Atom, Atom]>;
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const isUuid = (a: unknown): a is Uuid => typeof a === 'object' && a !== null && 'uuid' in a;
export const isMapType = (t: ColumnType): boolean => t.value !== undefined;

export function compareAtoms(a: Atom, b: Atom): number {
  const x = isUuid(a) ? a.uuid : a;
  const y = isUuid(b) ? b.uuid : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function defaultDatum(t: ColumnType): Datum {
  if (t.min === 0 || isMapType(t)) return [];
  switch (t.key.type) {
    case 'string': return [''];
    case 'integer': return [0];
    case 'boolean': return [false];
    case 'uuid': return [{ uuid: '00000000-0000-0000-0000-000000000000' }];
  }
}

function checkAtom(atom: Atom, base: BaseType, where: string): void {
  const fail = (why: string): never => { throw new ConfigError(`${where}: ${why}`); };
  switch (base.type) {
    case 'string': if (typeof atom !== 'string') fail(`"${String(atom)}" is not a string`); break;
    case 'boolean': if (typeof atom !== 'boolean') fail(`"${String(atom)}" is not a boolean`); break;
    case 'uuid': if (!isUuid(atom)) fail(`${JSON.stringify(atom)} is not a UUID`); break;
    case 'integer':
      if (typeof atom !== 'number' || !Number.isInteger(atom)) fail(`"${String(atom)}" is not an integer`);
      if (base.minInteger !== undefined && (atom as number) < base.minInteger) fail(`${atom} is less than minimum allowed value ${base.minInteger}`);
      if (base.maxInteger !== undefined && (atom as number) > base.maxInteger) fail(`${atom} is greater than maximum allowed value ${base.maxInteger}`);
      break;
  }
  if (base.enum && !base.enum.includes(atom as string)) {
    fail(`"${String(atom)}" is not one of the allowed values ([${base.enum.join(', ')}])`);
  }
}

/** Checks a value against its column type; returns it sorted and deduplicated. */
export function checkDatum(datum: Datum, t: ColumnType, where: string): Datum {
  let out: Datum;
  if (isMapType(t)) {
    const pairs = new Map<string, [Atom, Atom]>();
    for (const entry of datum as Array<[Atom, Atom]>) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new ConfigError(`${where}: a map needs key=value pairs`);
      checkAtom(entry[0], t.key, where);
      checkAtom(entry[1], t.value!, where);
      pairs.set(JSON.stringify(entry[0]), entry);
    }
    out = [...pairs.values()].sort((a, b) => compareAtoms(a[0], b[0]));
  } else {
    const atoms = new Map<string, Atom>();
    for (const atom of datum as Atom[]) {
      checkAtom(atom, t.key, where);
      atoms.set(JSON.stringify(atom), atom);
    }
    out = [...atoms.values()].sort(compareAtoms);
  }
  if (out.length < t.min || out.length > t.max) {
    throw new ConfigError(`${where}: ${out.length} values, but the column takes ${t.min === t.max ? t.min : `${t.min} to ${t.max === Infinity ? 'any number' : t.max}`}`);
  }
  return out;
}

/** OVSDB JSON -> value; named UUIDs are resolved through `names`. */
export function datumFromJson(json: Json, t: ColumnType, where: string, names: Map<string, string> = new Map()): Datum {
  const atom = (j: Json): Atom => {
    if (Array.isArray(j) && j.length === 2 && (j[0] === 'uuid' || j[0] === 'named-uuid') && typeof j[1] === 'string') {
      if (j[0] === 'uuid') return { uuid: j[1] };
      const id = names.get(j[1]);
      if (!id) throw new ConfigError(`${where}: unknown named-uuid "${j[1]}"`);
      return { uuid: id };
    }
    if (typeof j === 'string' || typeof j === 'number' || typeof j === 'boolean') return j;
    throw new ConfigError(`${where}: ${JSON.stringify(j)} is not a value`);
  };
  if (Array.isArray(json) && json[0] === 'map' && Array.isArray(json[1])) {
    return (json[1] as Json[]).map((p) => {
      if (!Array.isArray(p) || p.length !== 2) throw new ConfigError(`${where}: bad map entry ${JSON.stringify(p)}`);
      return [atom(p[0]!), atom(p[1]!)] as [Atom, Atom];
    });
  }
  if (Array.isArray(json) && json[0] === 'set' && Array.isArray(json[1])) return (json[1] as Json[]).map(atom);
  return [atom(json)];
}

export function atomToJson(a: Atom): Json {
  return isUuid(a) ? ['uuid', a.uuid] : a;
}

export function datumToJson(d: Datum, t: ColumnType): Json {
  if (isMapType(t)) return ['map', (d as Array<[Atom, Atom]>).map(([k, v]) => [atomToJson(k), atomToJson(v)])];
  const atoms = d as Atom[];
  return atoms.length === 1 && t.max === 1 && t.min === 1 ? atomToJson(atoms[0]!) : ['set', atoms.map(atomToJson)];
}
