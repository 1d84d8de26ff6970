/*
 * Compares what ofswitchd sent during a replay (./replay.ts) with what Open vSwitch 3.1 sent in
 * the recording: the OpenFlow messages to the controller, in order, and the frames emitted on
 * each port, in order per port.
 *
 * Both sides are decoded with the project's codec (protocol/) into plain JSON (bigint → decimal
 * string, bytes → hex) and then normalised, identically on both sides, in only what must differ
 * between two switches or two runs:
 *   - xids: a reply's xid is the tester's, mapped back to the recorded one; xids the switch
 *     chose itself (hello, packet-in, port-status) become "<switch-xid>". The request header
 *     copied into an OFPT_ERROR's data is mapped the same way;
 *   - the datapath id and n_buffers of FEATURES_REPLY;
 *   - every duration (duration_sec / duration_nsec: flow, port, queue, group, meter stats and
 *     FLOW_REMOVED);
 *   - buffer ids of PACKET_IN (OVS 3.1 sends OFP_NO_BUFFER; the replay runs ofswitchd with
 *     --no-buffering so that packet-ins also carry the whole packet, as in the recordings);
 *   - port hardware addresses (port descriptions, PORT_STATUS);
 *   - description strings (DESC reply);
 *   - counters that depend on the switch's history rather than on the test (the reference
 *     switch ran all 191 tests one after another; a replay starts a fresh switch): port and
 *     queue statistics counters (an all-ones "not supported" value is kept) and the lookup and
 *     matched counts of table statistics, and the counters of groups an earlier test left
 *     installed (basic.GroupStats reads the group groups.SelectFwdSpread left). Flow, aggregate
 *     and group counters of what the test itself installed are compared, except in the reply
 *     to a statistics request the tester sent again right away (a poll in one of OFTest's retry
 *     loops, flow_mod.Overwrite's verify_flow_stats): how far the switch had got with a frame
 *     sent a few microseconds before is a race in the recording; the final poll is compared;
 *   - the order of entries in replies listing flows, ports, queues, groups or meters: Open
 *     vSwitch takes it from hash maps (ports 4, LOCAL, 1, 2, 3; flows of one subtable in hash
 *     order); OpenFlow gives it no meaning. Entries are put in a canonical order (table,
 *     priority descending, port, queue, group, meter), the parts of such a reply joined into
 *     one (which entries share a part follows from the order);
 *   - echo requests from the switch (keepalives) are left out by the player;
 *   - in the capability replies (GROUP_FEATURES, METER_FEATURES, TABLE_FEATURES), what the two
 *     implementations really have differently: see normaliseCapabilities. The parts of a
 *     TABLE_FEATURES reply are joined (where a part ends follows from its byte size, which
 *     Open vSwitch's extension fields change).
 * Nothing else is normalised: message order, the split of other multipart replies, the order of
 * table-feature properties and of the ids in them, error types, codes and copied request bytes,
 * and every byte of every frame are compared.
 */
import {
  basicOxmHeader, decodeMessage, OFPAT_COPY_TTL_IN, OFPAT_COPY_TTL_OUT, OFPAT_POP_PBB, OFPAT_PUSH_PBB, OFPMBT_DSCP_REMARK,
  OFPXMC_OPENFLOW_BASIC, type OxmFieldName,
} from '../../protocol/index.ts';
import type { Fixture, ReplayResult } from './replay.ts';
import { DATA_PORTS } from './replay.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Plain JSON of a decoded value: bigint → decimal string, bytes → hex. */
export function toPlain(value: unknown): Json {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex');
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toPlain(v);
    return out;
  }
  if (value === undefined) return null;
  return value as Json;
}

const SWITCH_XID = '<switch-xid>';
const ALL_ONES_64 = '18446744073709551615';
const DURATION_KEYS = new Set(['durationSec', 'durationNsec']);
const DESC_KEYS = new Set(['mfrDesc', 'hwDesc', 'swDesc', 'serialNum', 'dpDesc']);
const PORT_COUNTERS = new Set(['rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped', 'rxErrors',
  'txErrors', 'rxFrameErr', 'rxOverErr', 'rxCrcErr', 'collisions']);
const QUEUE_COUNTERS = new Set(['txBytes', 'txPackets', 'txErrors']);
const TABLE_COUNTERS = new Set(['lookupCount', 'matchedCount']);

/** Replaces, anywhere below `node`, the values of `keys` by `marker`, except those `keepValue` keeps. */
function mark(node: Json, keys: ReadonlySet<string>, marker: string, keepValue?: (v: Json) => boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) mark(item, keys, marker, keepValue);
  } else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (keys.has(k) && (v === null || typeof v !== 'object')) {
        if (!keepValue || !keepValue(v)) node[k] = marker;
      } else {
        mark(v, keys, marker, keepValue);
      }
    }
  }
}

const TEST_COUNTERS = new Set(['packetCount', 'byteCount', 'packetInCount', 'byteInCount', 'packetBandCount', 'byteBandCount',
  ...PORT_COUNTERS, ...TABLE_COUNTERS]);

/**
 * Capability replies say what a switch implements, and the two switches implement different
 * things. Both sides lose, before comparison:
 *   - OXM ids outside OpenFlow 1.3's own fields (class OPENFLOW_BASIC, fields 0-39): Open
 *     vSwitch lists about 138 of its Nicira and ONF extension fields (registers, tunnel
 *     metadata, conntrack, NSH, ...) and OpenFlow 1.5's packet_type. Vendor extensions are out
 *     of scope here as the bsn_* fixtures are;
 *   - the OpenFlow 1.3 features ofswitch implements and Open vSwitch 3.1 does not (OFSWITCH_ONLY:
 *     COPY_TTL_OUT/IN and PUSH/POP_PBB actions, DSCP_REMARK meter bands, IN_PHY_PORT, PBB_ISID
 *     and IPV6_EXTHDR matches, a VLAN_PCP mask, set-field of eth_type, ip_proto, mpls_bos and
 *     pbb_isid). Each is accepted by ofswitch and refused by OVS in the raw cases of
 *     test/interop/differential-ofctl.test.ts, and carried out on packets in test/packet/.
 * Everything else in those replies is compared as it is: the OpenFlow 1.3 actions, fields,
 * masks and set-fields Open vSwitch lists, in its order (ofswitch lists nothing less, and
 * nothing more but the above), instructions, next tables, table names, metadata masks, sizes,
 * group types, capabilities and maxima, meter maxima.
 */
const OFSWITCH_ONLY = {
  actions: new Set([OFPAT_COPY_TTL_OUT, OFPAT_COPY_TTL_IN, OFPAT_PUSH_PBB, OFPAT_POP_PBB]),
  bandTypes: 1 << OFPMBT_DSCP_REMARK,
  matchFields: new Set(oxmHeaders(['in_phy_port', 'pbb_isid', 'ipv6_exthdr'])),
  setFields: new Set(oxmHeaders(['eth_type', 'ip_proto', 'mpls_bos', 'pbb_isid'])),
  /** OpenFlow 1.3 calls VLAN_PCP not maskable; ofswitch takes a mask (OFTest's match.VlanPCPMasked). */
  maskedToPlain: new Map([[basicOxmHeader('vlan_pcp', true), basicOxmHeader('vlan_pcp')]]),
};
/** OpenFlow 1.3's last OXM field (IPV6_EXTHDR). */
const LAST_OF13_FIELD = 39;

function oxmHeaders(names: OxmFieldName[]): number[] {
  return names.flatMap((n) => [basicOxmHeader(n), basicOxmHeader(n, true)]);
}

function isOf13Field(header: number): boolean {
  return header >>> 16 === OFPXMC_OPENFLOW_BASIC && ((header >>> 9) & 0x7f) <= LAST_OF13_FIELD;
}

/** Takes what only one of the switches implements out of a capability reply body (above). */
function normaliseCapabilities(body: { [key: string]: Json }): void {
  const actionBits = [...OFSWITCH_ONLY.actions].reduce((bits, type) => bits | (1 << type), 0);
  if (body.mpType === 'group_features' && Array.isArray(body.actions)) {
    body.actions = body.actions.map((bits) => (typeof bits === 'number' ? (bits & ~actionBits) >>> 0 : bits));
  } else if (body.mpType === 'meter_features' && typeof body.bandTypes === 'number') {
    body.bandTypes = (body.bandTypes & ~OFSWITCH_ONLY.bandTypes) >>> 0;
  } else if (body.mpType === 'table_features' && Array.isArray(body.tables)) {
    for (const table of body.tables) {
      const properties = (table as { [key: string]: Json }).properties;
      if (!Array.isArray(properties)) continue;
      for (const property of properties as Array<{ [key: string]: Json }>) {
        if (Array.isArray(property.actions)) {
          property.actions = property.actions.filter((a) => !OFSWITCH_ONLY.actions.has((a as { type: number }).type));
        }
        if (Array.isArray(property.oxmIds)) {
          const setField = String(property.type).includes('setfield');
          property.oxmIds = property.oxmIds.flatMap((id) => {
            const header = (id as { header: number }).header;
            if (!isOf13Field(header) || OFSWITCH_ONLY.matchFields.has(header)) return [];
            if (setField && OFSWITCH_ONLY.setFields.has(header)) return [];
            const plain = OFSWITCH_ONLY.maskedToPlain.get(header);
            return [plain === undefined ? id : { ...(id as object), header: plain }];
          });
        }
      }
    }
  }
}

export interface NormaliseContext {
  /** Recorded xids of statistics requests that were intermediate polls (see replay.ts). */
  intermediatePolls?: ReadonlySet<number>;
  /** Groups inherited from earlier tests: their counters are history. */
  historyGroups?: ReadonlySet<number>;
}

/** The entry lists of multipart replies whose order Open vSwitch takes from hash maps. */
const ENTRY_ORDER: Record<string, string> = {
  flow: 'flows', port_stats: 'ports', port_desc: 'ports', queue: 'queues', group: 'groups', group_desc: 'groups',
  meter: 'meters', meter_config: 'meters',
};
/** The entry lists of multipart replies joined but kept in order (see the header). */
const JOINED_IN_ORDER: Record<string, string> = { table_features: 'tables' };

function entryKey(entry: Json): Array<number | string> {
  const e = (entry ?? {}) as { [key: string]: Json };
  const num = (k: string): number => (typeof e[k] === 'number' ? e[k] as number : -1);
  return [num('tableId'), -num('priority'), num('portNo'), num('queueId'), num('groupId'), num('meterId'), JSON.stringify(entry)];
}

function compareKeys(a: Array<number | string>, b: Array<number | string>): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}

/**
 * One switch message, decoded and normalised. `xidName` says what an xid stands for: the
 * recorded tester xid it answers, or SWITCH_XID.
 */
export function normaliseSwitchMessage(bytes: Buffer, xidName: (xid: number) => Json, context: NormaliseContext = {}): Json {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) {
    return { undecodable: `${decoded.error.message}`, msgType: bytes[1] ?? null, xid: xidName(decoded.xid), bytes: bytes.subarray(8).toString('hex') };
  }
  const m = toPlain(decoded.message) as { [key: string]: Json };
  m.xid = xidName(decoded.message.xid);
  switch (decoded.message.type) {
    case 'error': {
      const data = decoded.message.data;
      if (data.length >= 8) {
        // The start of the offending request: map its xid like a header's.
        m.requestXid = xidName(data.readUInt32BE(4));
        const copy = Buffer.from(data);
        copy.fill(0, 4, 8);
        m.data = copy.toString('hex');
      }
      break;
    }
    case 'features_reply':
      m.datapathId = '<dpid>';
      m.nBuffers = '<n_buffers>';
      break;
    case 'packet_in':
      m.bufferId = '<buffer_id>';
      break;
    case 'multipart_reply': {
      const body = m.body as { [key: string]: Json };
      if (body.mpType === 'desc') mark(body, DESC_KEYS, '<desc>');
      normaliseCapabilities(body);
      if (body.mpType === 'table') mark(body, TABLE_COUNTERS, '<counter>');
      if (body.mpType === 'port_stats') mark(body, PORT_COUNTERS, '<counter>', (v) => v === ALL_ONES_64);
      if (body.mpType === 'queue') mark(body, QUEUE_COUNTERS, '<counter>', (v) => v === ALL_ONES_64);
      if (body.mpType === 'group' && context.historyGroups?.size && Array.isArray(body.groups)) {
        for (const g of body.groups) {
          const id = (g as { [key: string]: Json }).groupId;
          if (typeof id === 'number' && context.historyGroups.has(id)) mark(g, TEST_COUNTERS, '<counter>');
        }
      }
      if (typeof m.xid === 'number' && context.intermediatePolls?.has(m.xid)) mark(body, TEST_COUNTERS, '<counter>', (v) => v === ALL_ONES_64);
      break;
    }
    default:
      break;
  }
  mark(m, DURATION_KEYS, '<duration>');
  mark(m, new Set(['hwAddr']), '<hw_addr>');
  return m;
}

/** The first place where two JSON values differ, as a path, or undefined if equal. */
export function firstDifference(a: Json, b: Json, path = ''): { path: string; expected: Json; got: Json } | undefined {
  if (a === b) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}.length`, expected: a.length, got: b.length };
      const d = firstDifference(a[i]!, b[i]!, `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k] ?? null, b[k] ?? null, path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  return { path: path || '(whole)', expected: a, got: b };
}

export interface Difference {
  /** "control" or "p1".."p4". */
  stream: string;
  index: number;
  /** One line. */
  summary: string;
  /** Both sides in full (decoded JSON for messages, hex for frames), for the report. */
  detail: string[];
  /** Recorded time of the difference (capture clock), for picking the first one. */
  atUs: number;
}

export interface Comparison {
  identical: boolean;
  /** The earliest difference (by the recording's clock) across the control channel and ports. */
  first?: Difference;
  /** The first difference of every stream that differs. */
  differences: Difference[];
  /** Counts for the report (after joining the parts of hash-ordered replies). */
  expectedMessages: number;
  gotMessages: number;
}

const MAX_JSON = 1500;

function clip(text: string, around = 0): string {
  if (text.length <= MAX_JSON) return text;
  const start = Math.max(0, around - MAX_JSON / 3);
  return `${start > 0 ? '…' : ''}${text.slice(start, start + MAX_JSON)}…(${text.length} chars)`;
}

function kind(j: Json): string {
  if (j !== null && typeof j === 'object' && !Array.isArray(j)) {
    const type = typeof j.type === 'string' ? j.type : 'undecodable';
    const body = j.body;
    const mp = body !== null && typeof body === 'object' && !Array.isArray(body) && typeof body.mpType === 'string' ? ` ${body.mpType}` : '';
    return `${type}${mp}`;
  }
  return String(j);
}

function short(v: Json): string {
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

interface ControlItem {
  json: Json;
  connection: number;
  atUs: number;
}

/**
 * Joins the parts (REPLY_MORE) of a multipart reply whose entries come in hash order into one
 * reply, its entries in canonical order: with the order, which entries share a part differs
 * too. TABLE_FEATURES parts are joined in order. Other multipart replies keep their parts.
 */
function joinParts(items: ControlItem[]): ControlItem[] {
  const out: ControlItem[] = [];
  const open = new Map<Json, { item: ControlItem; list: Json[] }>();
  for (const item of items) {
    const m = item.json as { [key: string]: Json };
    const body = m?.type === 'multipart_reply' ? m.body as { [key: string]: Json } : undefined;
    const mpType = body && typeof body.mpType === 'string' ? body.mpType : '';
    const sorted = Object.hasOwn(ENTRY_ORDER, mpType);
    const listKey = ENTRY_ORDER[mpType] ?? JOINED_IN_ORDER[mpType];
    const list = listKey ? body![listKey] : undefined;
    if (!listKey || !Array.isArray(list)) {
      out.push(item);
      continue;
    }
    const key = JSON.stringify([item.connection, m.xid, body!.mpType]);
    let joined = open.get(key);
    if (!joined) {
      joined = { item, list };
      out.push(item);
    } else if (joined.list !== list) {
      joined.list.push(...list);
    }
    if (typeof m.flags === 'number' && (m.flags & 1) !== 0) {
      open.set(key, joined);
    } else {
      open.delete(key);
      const first = joined.item.json as { [key: string]: Json };
      first.flags = m.flags ?? 0;
      if (sorted) joined.list.sort((a, b) => compareKeys(entryKey(a), entryKey(b)));
    }
  }
  return out;
}

export function compareReplay(fixture: Fixture, result: ReplayResult, options: { historyGroups?: ReadonlySet<number> } = {}): Comparison {
  const differences: Difference[] = [];
  const stepTimeUs = (afterStep: number): number => {
    const step = fixture.steps[afterStep];
    return step ? step.timestampUs : (fixture.steps.length ? fixture.steps[0]!.timestampUs : 0);
  };

  // Control channel.
  const recordedName = (xid: number): Json => (fixture.testerXids.has(xid) ? xid : SWITCH_XID);
  const liveName = (xid: number): Json => result.recordedXid.get(xid) ?? SWITCH_XID;
  const context: NormaliseContext = { ...options, intermediatePolls: fixture.intermediatePolls };
  const expected = joinParts(fixture.expectedControl.map((m) => ({
    json: normaliseSwitchMessage(m.bytes, recordedName, context), connection: m.connection, atUs: m.timestampUs,
  })));
  const got = joinParts(result.control.map((m) => ({
    json: normaliseSwitchMessage(m.bytes, liveName, context), connection: m.connection, atUs: stepTimeUs(m.afterStep),
  })));
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    const e = expected[i];
    const g = got[i];
    const d = e !== undefined && g !== undefined ? firstDifference(e.json, g.json) : undefined;
    if (e !== undefined && g !== undefined && !d && e.connection === g.connection) continue;
    const atUs = Math.min(e?.atUs ?? Infinity, g?.atUs ?? Infinity);
    let summary: string;
    const eText = e === undefined ? 'nothing' : JSON.stringify(e.json);
    const gText = g === undefined ? 'nothing' : JSON.stringify(g.json);
    if (e === undefined) summary = `control message #${i + 1}: expected nothing more, got ${kind(g!.json)} ${short(g!.json)}`;
    else if (g === undefined) summary = `control message #${i + 1}: expected ${kind(e.json)} ${short(e.json)}, got nothing`;
    else if (d) summary = `control message #${i + 1} (${kind(e.json)}${kind(e.json) === kind(g.json) ? '' : ` vs ${kind(g.json)}`}): ${d.path}: expected ${short(d.expected)}, got ${short(d.got)}`;
    else summary = `control message #${i + 1} (${kind(e.json)}): on connection ${g.connection}, expected ${e.connection}`;
    let at = 0;
    while (at < Math.min(eText.length, gText.length) && eText[at] === gText[at]) at++;
    differences.push({
      stream: 'control', index: i, summary, atUs,
      detail: [`expected (OVS 3.1): ${clip(eText, at)}`, `got (ofswitch):    ${clip(gText, at)}`],
    });
    break;
  }

  // Data ports.
  for (const port of DATA_PORTS) {
    const want = fixture.expectedFrames.get(port) ?? [];
    const have = result.frames.get(port) ?? [];
    for (let i = 0; i < Math.max(want.length, have.length); i++) {
      const e = want[i]?.frame;
      const g = have[i]?.frame;
      if (e && g && e.equals(g)) continue;
      const atUs = Math.min(want[i]?.timestampUs ?? Infinity, have[i] ? stepTimeUs(have[i]!.afterStep) : Infinity);
      let summary: string;
      if (!e) summary = `p${port} frame #${i + 1}: expected nothing more, got ${g!.length} bytes ${g!.subarray(0, 32).toString('hex')}…`;
      else if (!g) summary = `p${port} frame #${i + 1}: expected ${e.length} bytes ${e.subarray(0, 32).toString('hex')}…, got nothing`;
      else {
        let at = 0;
        while (at < Math.min(e.length, g.length) && e[at] === g[at]) at++;
        summary = `p${port} frame #${i + 1}: first differing byte at offset ${at} (expected ${e.length} bytes, got ${g.length}): expected …${e.subarray(at, at + 16).toString('hex')}, got …${g.subarray(at, at + 16).toString('hex')}`;
      }
      if (g) {
        // Where the recording has this frame, if not here (a select group's other bucket, ...).
        const elsewhere = DATA_PORTS.filter((p) => (fixture.expectedFrames.get(p) ?? []).some((f) => f.frame.equals(g)));
        if (elsewhere.length && !elsewhere.includes(port)) summary += ` (the recording has the frame ofswitch sent here on ${elsewhere.map((p) => `p${p}`).join(', ')})`;
      }
      differences.push({
        stream: `p${port}`, index: i, summary, atUs,
        detail: [`expected (OVS 3.1): ${e ? e.toString('hex') : 'nothing'}`, `got (ofswitch):    ${g ? g.toString('hex') : 'nothing'}`],
      });
      break;
    }
  }

  differences.sort((a, b) => a.atUs - b.atUs || (a.stream === 'control' ? -1 : 1));
  return {
    identical: differences.length === 0,
    ...(differences[0] ? { first: differences[0] } : {}),
    differences,
    expectedMessages: expected.length,
    gotMessages: got.length,
  };
}
