/*
 * OVSDB values as ovs-vsctl reads and writes them (Open vSwitch's lib/ovsdb-data.c).
 *
 * An atom is a string, integer, boolean or UUID; which one is always known from its column's
 * type, so atoms are plain JavaScript values here (a UUID is its lowercase text). A datum is a
 * sorted set of keys, with a parallel array of values when the column is a map. Every column
 * value is a datum: a scalar column holds exactly one atom, an optional one zero or one.
 *
 * Three representations are handled:
 *  - the command-line syntax (`key=value`, `[a, b]`, `{k=v}`, JSON-quoted strings, integer
 *    ranges `1-3`), parsed by datumFromString() and printed by datumToString() exactly as
 *    ovs-vsctl does (a string is quoted only when ovsdb_atom_to_string() would quote it);
 *  - the "bare" text of `--bare` / `--data=bare`;
 *  - OVSDB's JSON (`["set", [...]]`, `["map", [[k, v], ...]]`, `["uuid", "..."]`), for the
 *    database socket and `--data=json`.
 *
 * Errors are returned (as strings, the exact text ovs-vsctl prints), never thrown, because
 * callers decide whether an error is fatal (`remove` retries a map value as a key, for one).
 */

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export type Atom = string | number | boolean;

export interface BaseType {
  type: AtomicType;
  enum?: Atom[];
  minInteger?: number;
  maxInteger?: number;
  refTable?: string;
}

export interface Type {
  key: BaseType;
  value?: BaseType;
  min: number;
  /** Infinity for "unlimited". */
  max: number;
}

export interface Datum {
  keys: Atom[];
  /** Present exactly when the datum's type is a map. */
  values?: Atom[];
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A symbol table for `@name` row ids (ovsdb_symbol_table). */
export interface Symbol {
  uuid: string;
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}
export type SymbolTable = Map<string, Symbol>;

export const isMap = (t: Type): boolean => t.value !== undefined;
export const isScalar = (t: Type): boolean => t.min === 1 && t.max === 1 && !isMap(t);
export const isUuidText = (s: string): boolean => UUID_RE.test(s);

export function emptyDatum(t: Type): Datum {
  return isMap(t) ? { keys: [], values: [] } : { keys: [] };
}

export function defaultAtom(type: AtomicType): Atom {
  switch (type) {
    case 'integer': case 'real': return 0;
    case 'boolean': return false;
    case 'string': return '';
    case 'uuid': return ZERO_UUID;
  }
}

export function defaultDatum(t: Type): Datum {
  if (t.min === 0) return emptyDatum(t);
  return isMap(t) ? { keys: [defaultAtom(t.key.type)], values: [defaultAtom(t.value!.type)] } : { keys: [defaultAtom(t.key.type)] };
}

export function cloneDatum(d: Datum): Datum {
  return d.values ? { keys: [...d.keys], values: [...d.values] } : { keys: [...d.keys] };
}

/* ---- comparison ---- */

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // strcmp() order is UTF-8 byte order, which differs from UTF-16 order only beyond the BMP.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function compareAtoms(a: Atom, b: Atom, type: AtomicType): number {
  switch (type) {
    case 'integer': case 'real': return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 'boolean': return Number(a) - Number(b);
    case 'string': return compareStrings(a as string, b as string);
    case 'uuid': return compareStrings((a as string).toLowerCase(), (b as string).toLowerCase());
  }
}

export function atomsEqual(a: Atom, b: Atom, type: AtomicType): boolean {
  return compareAtoms(a, b, type) === 0;
}

/** Binary search for `key`: [found, index where it is or would be]. */
export function findKey(d: Datum, key: Atom, type: AtomicType): [boolean, number] {
  let lo = 0;
  let hi = d.keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(d.keys[mid]!, key, type);
    if (c === 0) return [true, mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return [false, lo];
}

/** Index in `b` of element `i` of `a` (key, and value when `a` has values), or -1. */
function findElement(a: Datum, i: number, b: Datum, t: Type): number {
  const [found, idx] = findKey(b, a.keys[i]!, t.key.type);
  if (!found) return -1;
  if (a.values && t.value && b.values && !atomsEqual(a.values[i]!, b.values[idx]!, t.value.type)) return -1;
  return idx;
}

export function datumEquals(a: Datum, b: Datum, t: Type): boolean {
  return compareDatums(a, b, t) === 0;
}

export function compareDatums(a: Datum, b: Datum, t: Type): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = compareAtoms(a.keys[i]!, b.keys[i]!, t.key.type);
    if (c) return c;
  }
  if (t.value) {
    for (let i = 0; i < a.keys.length; i++) {
      const c = compareAtoms(a.values![i]!, b.values![i]!, t.value.type);
      if (c) return c;
    }
  }
  return 0;
}

export function includesAll(a: Datum, b: Datum, t: Type): boolean {
  if (a.keys.length > b.keys.length) return false;
  for (let i = 0; i < a.keys.length; i++) if (findElement(a, i, b, t) < 0) return false;
  return true;
}

export function excludesAll(a: Datum, b: Datum, t: Type): boolean {
  for (let i = 0; i < a.keys.length; i++) if (findElement(a, i, b, t) >= 0) return false;
  return true;
}

/** Sorts in place; returns an error if two keys are equal (ovsdb_datum_sort). */
export function sortDatum(d: Datum, t: Type): string | null {
  if (d.keys.length < 2) return null;
  const order = d.keys.map((_, i) => i).sort((x, y) => compareAtoms(d.keys[x]!, d.keys[y]!, t.key.type));
  d.keys = order.map((i) => d.keys[i]!);
  if (d.values) d.values = order.map((i) => d.values![i]!);
  for (let i = 0; i + 1 < d.keys.length; i++) {
    if (atomsEqual(d.keys[i]!, d.keys[i + 1]!, t.key.type)) return d.values ? 'map contains duplicate key' : 'set contains duplicate';
  }
  return null;
}

/** Adds to `a` every element of `b` whose key `a` lacks (ovsdb_datum_union). */
export function unionDatum(a: Datum, b: Datum, t: Type): Datum {
  const out = cloneDatum(a);
  for (let i = 0; i < b.keys.length; i++) {
    const [found, pos] = findKey(out, b.keys[i]!, t.key.type);
    if (found) continue;
    out.keys.splice(pos, 0, b.keys[i]!);
    if (out.values) out.values.splice(pos, 0, b.values![i]!);
  }
  return out;
}

/**
 * Removes from `a` the elements of `b` (ovsdb_datum_subtract). When `b` has no values but
 * `a` is a map, keys are matched alone; otherwise key and value must both match.
 */
export function subtractDatum(a: Datum, b: Datum, t: Type): Datum {
  const remove = new Set<number>();
  for (let i = 0; i < b.keys.length; i++) {
    const idx = findElement(b, i, a, t);
    if (idx >= 0) remove.add(idx);
  }
  const out: Datum = { keys: a.keys.filter((_, i) => !remove.has(i)) };
  if (a.values) out.values = a.values.filter((_, i) => !remove.has(i));
  return out;
}

export function isDefaultDatum(d: Datum, t: Type): boolean {
  if (d.keys.length !== t.min) return false;
  for (let i = 0; i < d.keys.length; i++) {
    if (!atomsEqual(d.keys[i]!, defaultAtom(t.key.type), t.key.type)) return false;
    if (t.value && !atomsEqual(d.values![i]!, defaultAtom(t.value.type), t.value.type)) return false;
  }
  return true;
}

/* ---- constraints ---- */

function enumType(base: BaseType): Type {
  return { key: { type: base.type }, min: 1, max: Infinity };
}

/** ovsdb_atom_check_constraints(), as text; null when the atom is acceptable. */
export function checkConstraints(atom: Atom, base: BaseType): string | null {
  if (base.enum) {
    const allowed: Datum = { keys: [...base.enum] };
    sortDatum(allowed, enumType(base));
    if (!findKey(allowed, atom, base.type)[0]) {
      return `constraint violation: ${atomToString(atom, base.type)} is not one of the allowed values (${datumToString(allowed, enumType(base))})`;
    }
    return null;
  }
  if (base.type === 'integer') {
    const n = atom as number;
    const min = base.minInteger;
    const max = base.maxInteger;
    if ((min === undefined || n >= min) && (max === undefined || n <= max)) return null;
    if (min !== undefined && max !== undefined) return `constraint violation: ${n} is not in the valid range ${min} to ${max} (inclusive)`;
    if (min !== undefined) return `constraint violation: ${n} is less than minimum allowed value ${min}`;
    return `constraint violation: ${n} is greater than maximum allowed value ${max}`;
  }
  return null;
}

/* ---- the command-line syntax ---- */

const DELIMITERS = ':=, []{}!<>';
export const isDelimiter = (c: string | undefined): boolean => c === undefined || c === '' || DELIMITERS.includes(c);

/**
 * ovsdb_token_parse(): a token runs to the first delimiter not escaped by a backslash or
 * inside double quotes (which stay in the token). Returns [token, rest] or an error.
 */
export function parseToken(s: string): { token: string; rest: string } | { error: string } {
  let out = '';
  let inQuotes = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i++]!;
    if (c === '\\') {
      if (inQuotes) out += '\\';
      if (i >= s.length) return { error: `${s}: backslash at end of argument` };
      out += s[i++];
    } else if (!inQuotes && DELIMITERS.includes(c)) {
      i--;
      break;
    } else {
      out += c;
      if (c === '"') inQuotes = !inQuotes;
    }
  }
  if (inQuotes) return { error: `${s}: quoted string extends past end of argument` };
  return { token: out, rest: s.slice(i) };
}

/** strtoll() in base 10 with its tail: [value, tail] or null when no number starts `s`. */
function strToLlongWithTail(s: string): [bigint, string] | null {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return null;
  const value = BigInt(m[1]!);
  if (value < INT64_MIN || value > INT64_MAX) return null;
  return [value, s.slice(m[0].length)];
}

function strToLlong(s: string): bigint | null {
  const r = strToLlongWithTail(s);
  return r && r[1] === '' ? r[0] : null;
}

/** json_string_unescape() of the text between a string's quotes. */
function jsonUnescape(s: string): { value: string } | { error: string } {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (c === '"') return { error: 'quoted string may not include unescaped "' };
    if (c !== '\\') { out += c; i++; continue; }
    i++;
    if (i >= s.length) return { error: 'quoted string may not end with backslash' };
    const e = s[i++]!;
    switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const hex4 = (at: number): number | string => {
          if (at + 4 > s.length) return 'quoted string ends within \\u escape';
          const h = s.slice(at, at + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) return 'malformed \\u escape';
          const v = parseInt(h, 16);
          return v === 0 ? 'null bytes not supported in quoted strings' : v;
        };
        const c0 = hex4(i);
        if (typeof c0 === 'string') return { error: c0 };
        i += 4;
        if (c0 >= 0xd800 && c0 <= 0xdbff) {
          if (i + 2 > s.length || s[i] !== '\\' || s[i + 1] !== 'u') return { error: 'malformed escaped surrogate pair' };
          i += 2;
          const c1 = hex4(i);
          if (typeof c1 === 'string') return { error: c1 };
          i += 4;
          if (c1 < 0xdc00 || c1 > 0xdfff) return { error: 'second half of escaped surrogate pair is not trailing surrogate' };
          out += String.fromCharCode(c0, c1);
        } else {
          out += String.fromCharCode(c0);
        }
        break;
      }
      default: return { error: `bad escape \\${e}` };
    }
  }
  return { value: out };
}

export interface ParsedAtom {
  atom: Atom;
  /** The end of an integer range `start-end` (inclusive), when one was given. */
  rangeEnd?: number;
}

/**
 * ovsdb_atom_from_string(): one atom of type `base` from its text. `@name` is a row id when
 * `base` is a UUID (looked up in, or added to, `symtab`). Integer ranges are accepted only
 * when `allowRange` says so.
 */
export function atomFromString(s: string, base: BaseType, symtab: SymbolTable | null, allowRange = false): ParsedAtom | { error: string } {
  let parsed: ParsedAtom;
  switch (base.type) {
    case 'integer': {
      const range = allowRange ? strToLlongWithTail(s) : null;
      const end = range && range[1].startsWith('-') ? strToLlong(range[1].slice(1)) : null;
      if (range && end !== null) {
        if (end < range[0]) return { error: `"${s}" is not a valid range. Range end cannot be before start.` };
        parsed = { atom: Number(range[0]), rangeEnd: Number(end) };
      } else {
        const n = strToLlong(s);
        if (n === null) return { error: `"${s}" is not a valid integer or range` };
        parsed = { atom: Number(n) };
      }
      break;
    }
    case 'real': {
      const n = Number(s.trim());
      if (s.trim() === '' || Number.isNaN(n) || !Number.isFinite(n)) return { error: `"${s}" is not a valid real number` };
      parsed = { atom: n === 0 ? 0 : n };
      break;
    }
    case 'boolean':
      if (['true', 'yes', 'on', '1'].includes(s)) parsed = { atom: true };
      else if (['false', 'no', 'off', '0'].includes(s)) parsed = { atom: false };
      else return { error: `"${s}" is not a valid boolean (use "true" or "false")` };
      break;
    case 'string':
      if (s === '') return { error: 'An empty string is not valid as input; use "" to represent the empty string' };
      if (s.startsWith('"')) {
        if (s.length < 2 || !s.endsWith('"')) return { error: `${s}: missing quote at end of quoted string` };
        const r = jsonUnescape(s.slice(1, -1));
        if ('error' in r) return { error: `${s}: ${r.error}` };
        parsed = { atom: r.value };
      } else {
        parsed = { atom: s };
      }
      break;
    case 'uuid':
      if (s.startsWith('@') && symtab) {
        let symbol = symtab.get(s);
        if (!symbol) {
          symbol = { uuid: randomUuid(), created: false, strongRef: false, weakRef: false };
          symtab.set(s, symbol);
        }
        if (base.refTable) symbol.strongRef = true;
        parsed = { atom: symbol.uuid };
      } else if (isUuidText(s)) {
        parsed = { atom: s.toLowerCase() };
      } else {
        return { error: `"${s}" is not a valid UUID` };
      }
      break;
  }
  let error = checkConstraints(parsed.atom, base);
  if (!error && parsed.rangeEnd !== undefined) {
    if (base.enum) {
      for (let i = (parsed.atom as number) + 1; i <= parsed.rangeEnd && !error; i++) error = checkConstraints(i, base);
    } else {
      error = checkConstraints(parsed.rangeEnd, base);
    }
    if (!error && parsed.rangeEnd - (parsed.atom as number) >= 4096) {
      error = `constraint violation: Range "${parsed.atom}-${parsed.rangeEnd}" is too big. Maximum allowed size is 4096.`;
    }
  }
  return error ? { error } : parsed;
}

export function randomUuid(): string {
  return crypto.randomUUID();
}

/** ovsdb_type_to_english(). */
export function typeToEnglish(t: Type): string {
  if (isScalar(t)) return t.key.type;
  let s = isMap(t) ? 'map' : 'set';
  if (t.max === Infinity) s += t.min ? ` of ${t.min} or more` : ' of';
  else if (t.min) s += ` of ${t.min} to ${t.max}`;
  else s += ` of up to ${t.max}`;
  return isMap(t) ? `${s} (${t.key.type}, ${t.value!.type}) pairs` : `${s} ${t.key.type}s`;
}

const skipSpaces = (s: string): string => s.replace(/^[ \t\n\v\f\r]+/, '');

/**
 * ovsdb_datum_from_string(): atoms (or `key=value` pairs for a map) separated by spaces or
 * commas, optionally inside `[...]` (`{...}` for a map), which an empty value requires.
 */
export function datumFromString(s: string, t: Type, symtab: SymbolTable | null): Datum | { error: string } {
  const map = isMap(t);
  const datum = emptyDatum(t);
  let p = skipSpaces(s);
  let endDelim = '';
  if (p.startsWith(map ? '{' : '[')) {
    endDelim = map ? '}' : ']';
    p = skipSpaces(p.slice(1));
  } else if (p === '') {
    return { error: map ? 'use "{}" to specify the empty map' : 'use "[]" to specify the empty set' };
  }
  while (p !== '' && p[0] !== endDelim) {
    if (isDelimiter(p[0])) return { error: `${s}: unexpected "${p[0]}" parsing ${typeToEnglish(t)}` };
    const start = p;
    let tok = parseToken(p);
    if ('error' in tok) return tok;
    const key = atomFromString(tok.token, t.key, symtab, true);
    if ('error' in key) return key;
    p = tok.rest;
    if (map) {
      p = skipSpaces(p);
      // (At the end of the text Open vSwitch formats the terminating NUL, which ends its message.)
      if (p[0] !== '=') return { error: p === '' ? `${start}: syntax error at "` : `${start}: syntax error at "${p[0]}" expecting "="` };
      p = skipSpaces(p.slice(1));
      tok = parseToken(p);
      if ('error' in tok) return tok;
      const value = atomFromString(tok.token, t.value!, symtab, false);
      if ('error' in value) return value;
      p = tok.rest;
      datum.keys.push(key.atom);
      datum.values!.push(value.atom);
    } else if (key.rangeEnd !== undefined) {
      for (let i = key.atom as number; i <= key.rangeEnd; i++) datum.keys.push(i);
    } else {
      datum.keys.push(key.atom);
    }
    p = skipSpaces(p);
    if (p[0] === ',') p = skipSpaces(p.slice(1));
  }
  if ((p[0] ?? '') !== endDelim) return { error: `${s}: missing "${endDelim}" at end of data` };
  if (endDelim && skipSpaces(p.slice(1)) !== '') return { error: `${s}: trailing garbage after "${endDelim}"` };
  const n = datum.keys.length;
  if (n < t.min) return { error: `${s}: ${n} ${map ? 'pair(s)' : 'value(s)'} specified but the minimum number is ${t.min}` };
  if (n > t.max) return { error: `${s}: ${n} ${map ? 'pair(s)' : 'value(s)'} specified but the maximum number is ${t.max}` };
  if (sortDatum(datum, t)) return { error: map ? `${s}: map contains duplicate key` : `${s}: set contains duplicate value` };
  return datum;
}

/** The JSON text of a string, escaped as Open vSwitch's json_serialize_string() does. */
export const jsonString = (s: string): string => JSON.stringify(s);

function stringNeedsQuotes(s: string): boolean {
  if (!/^[A-Za-z_]/.test(s)) return true;
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || isUuidText(s);
}

/** ovsdb_atom_to_string(). */
export function atomToString(atom: Atom, type: AtomicType): string {
  switch (type) {
    case 'integer': return String(atom);
    case 'real': return formatReal(atom as number);
    case 'boolean': return atom ? 'true' : 'false';
    case 'string': return stringNeedsQuotes(atom as string) ? jsonString(atom as string) : atom as string;
    case 'uuid': return (atom as string).toLowerCase();
  }
}

/** printf("%.15g"). */
function formatReal(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const p = n.toPrecision(15);
  if (p.includes('e')) {
    const [m, e] = p.split('e');
    const mant = m!.includes('.') ? m!.replace(/0+$/, '').replace(/\.$/, '') : m!;
    const exp = Number(e);
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return p.includes('.') ? p.replace(/0+$/, '').replace(/\.$/, '') : p;
}

export function atomToBare(atom: Atom, type: AtomicType): string {
  return type === 'string' ? atom as string : atomToString(atom, type);
}

/** ovsdb_datum_to_string(): `[a, b]`, `{k=v}`, or a lone atom for a column of at most one. */
export function datumToString(d: Datum, t: Type): string {
  const brackets = t.max > 1 || d.keys.length === 0;
  const map = isMap(t);
  const items = d.keys.map((k, i) => (map ? `${atomToString(k, t.key.type)}=${atomToString(d.values![i]!, t.value!.type)}` : atomToString(k, t.key.type)));
  const body = items.join(', ');
  return brackets ? (map ? `{${body}}` : `[${body}]`) : body;
}

export function datumToBare(d: Datum, t: Type): string {
  return d.keys.map((k, i) => (t.value ? `${atomToBare(k, t.key.type)}=${atomToBare(d.values![i]!, t.value.type)}` : atomToBare(k, t.key.type))).join(' ');
}

/* ---- OVSDB JSON ---- */

export function atomToJson(atom: Atom, base: BaseType, uuidName?: (uuid: string) => string | undefined): Json {
  if (base.type !== 'uuid') return atom;
  const name = uuidName?.(atom as string);
  return name ? ['named-uuid', name] : ['uuid', atom as string];
}

/**
 * ovsdb_datum_to_json(): a lone atom for a non-map datum of one element, else ["set", ...] or
 * ["map", ...]. `uuidName` turns the UUIDs of rows being inserted into named-uuid references.
 */
export function datumToJson(d: Datum, t: Type, uuidName?: (uuid: string) => string | undefined): Json {
  if (isMap(t)) return ['map', d.keys.map((k, i) => [atomToJson(k, t.key, uuidName), atomToJson(d.values![i]!, t.value!, uuidName)])];
  if (d.keys.length === 1) return atomToJson(d.keys[0]!, t.key, uuidName);
  return ['set', d.keys.map((k) => atomToJson(k, t.key, uuidName))];
}

function atomFromJson(j: Json, base: BaseType): Atom {
  if (base.type === 'uuid') {
    if (Array.isArray(j) && j[0] === 'uuid' && typeof j[1] === 'string') return j[1].toLowerCase();
    throw new Error(`${JSON.stringify(j)} is not a UUID`);
  }
  if (typeof j === 'string' || typeof j === 'number' || typeof j === 'boolean') return j;
  throw new Error(`${JSON.stringify(j)} is not an atom`);
}

/** A column value as the database sends it, sorted. */
export function datumFromJson(j: Json, t: Type): Datum {
  let d: Datum;
  if (isMap(t)) {
    if (!Array.isArray(j) || j[0] !== 'map' || !Array.isArray(j[1])) throw new Error(`${JSON.stringify(j)} is not a map`);
    const pairs = j[1] as Json[][];
    d = { keys: pairs.map((p) => atomFromJson(p[0]!, t.key)), values: pairs.map((p) => atomFromJson(p[1]!, t.value!)) };
  } else if (Array.isArray(j) && j[0] === 'set' && Array.isArray(j[1])) {
    d = { keys: (j[1] as Json[]).map((a) => atomFromJson(a, t.key)) };
  } else {
    d = { keys: [atomFromJson(j, t.key)] };
  }
  sortDatum(d, t);
  return d;
}

/** JSON text with object members sorted (json_to_string(..., JSSF_SORT)); `indent` pretty-prints. */
export function jsonToText(j: Json, pretty = false): string {
  const sortKeys = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k]!)]));
    return v;
  };
  return pretty ? prettyJson(sortKeys(j), 0) : JSON.stringify(sortKeys(j));
}

/**
 * Open vSwitch's JSSF_PRETTY layout (lib/json.c): after an opening bracket or brace, and after
 * each comma, a new line indented by two spaces per level; closing brackets stay on the line.
 */
function prettyJson(j: Json, depth: number): string {
  const indent = (d: number): string => `\n${' '.repeat(2 * d)}`;
  if (Array.isArray(j)) {
    if (!j.length) return '[]';
    return `[${indent(depth + 1)}${j.map((e) => prettyJson(e, depth + 1)).join(`,${indent(depth + 1)}`)}]`;
  }
  if (j && typeof j === 'object') {
    const keys = Object.keys(j);
    return `{${indent(depth + 1)}${keys.map((k) => `${JSON.stringify(k)}: ${prettyJson(j[k]!, depth + 1)}`).join(`,${indent(depth + 1)}`)}}`;
  }
  return JSON.stringify(j);
}
