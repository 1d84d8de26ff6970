/*
 * Multipart (statistics) bodies of OFPT_MULTIPART_REQUEST and OFPT_MULTIPART_REPLY, for every
 * OFPMP_* type. A body is discriminated by `mpType`. Bodies that are arrays (flow stats,
 * port stats, table features, ...) may be split over several messages carrying the
 * REQ_MORE/REPLY_MORE flag: see splitMultipart() and MultipartAssembler in multipart-split.ts.
 */
import { namesByCode } from './code-table.ts';
import * as C from './constants.ts';
import { OFPBRC_BAD_LEN, OFPBRC_BAD_MULTIPART, OFPET_BAD_REQUEST, OfpDecodeError } from './errors.ts';
import { decodeInstructions, encodeInstructions, type Instruction } from './instructions.ts';
import { decodeMatch, encodeMatch, type Match } from './oxm.ts';
import {
  type Bucket, decodeBuckets, decodeMeterBands, decodePort, decodeTableFeaturesList, encodeBuckets, encodeMeterBands,
  encodePort, encodeTableFeaturesList, type MeterBand, OFP_PORT_LEN, type Port, type TableFeatures,
} from './structs.ts';
import { WireReader, WireWriter } from './wire.ts';

export type MultipartType =
  | 'desc' | 'flow' | 'aggregate' | 'table' | 'port_stats' | 'queue' | 'group' | 'group_desc'
  | 'group_features' | 'meter' | 'meter_config' | 'meter_features' | 'table_features' | 'port_desc'
  | 'experimenter';

export const MULTIPART_TYPE_CODES: Readonly<Record<MultipartType, number>> = {
  desc: C.OFPMP_DESC, flow: C.OFPMP_FLOW, aggregate: C.OFPMP_AGGREGATE, table: C.OFPMP_TABLE,
  port_stats: C.OFPMP_PORT_STATS, queue: C.OFPMP_QUEUE, group: C.OFPMP_GROUP, group_desc: C.OFPMP_GROUP_DESC,
  group_features: C.OFPMP_GROUP_FEATURES, meter: C.OFPMP_METER, meter_config: C.OFPMP_METER_CONFIG,
  meter_features: C.OFPMP_METER_FEATURES, table_features: C.OFPMP_TABLE_FEATURES, port_desc: C.OFPMP_PORT_DESC,
  experimenter: C.OFPMP_EXPERIMENTER,
};
const MULTIPART_TYPE_NAMES = namesByCode(MULTIPART_TYPE_CODES);

export function multipartTypeName(code: number): MultipartType | undefined {
  return MULTIPART_TYPE_NAMES.get(code);
}

// ---- request bodies ----

export interface FlowStatsRequestFields {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

export interface ExperimenterBody {
  mpType: 'experimenter';
  experimenter: number;
  expType: number;
  data: Buffer;
}

export type MultipartRequestBody =
  | { mpType: 'desc' | 'table' | 'group_desc' | 'group_features' | 'meter_features' | 'port_desc' }
  | ({ mpType: 'flow' | 'aggregate' } & FlowStatsRequestFields)
  | { mpType: 'port_stats'; portNo: number }
  | { mpType: 'queue'; portNo: number; queueId: number }
  | { mpType: 'group'; groupId: number }
  | { mpType: 'meter' | 'meter_config'; meterId: number }
  | { mpType: 'table_features'; tables: TableFeatures[] }
  | ExperimenterBody;

// ---- reply bodies ----

export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface PortStats {
  portNo: number;
  rxPackets: bigint; txPackets: bigint; rxBytes: bigint; txBytes: bigint;
  rxDropped: bigint; txDropped: bigint; rxErrors: bigint; txErrors: bigint;
  rxFrameErr: bigint; rxOverErr: bigint; rxCrcErr: bigint; collisions: bigint;
  durationSec: number;
  durationNsec: number;
}
const PORT_STATS_COUNTERS = ['rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxDropped', 'txDropped',
  'rxErrors', 'txErrors', 'rxFrameErr', 'rxOverErr', 'rxCrcErr', 'collisions'] as const;

export interface QueueStats {
  portNo: number;
  queueId: number;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  buckets: Array<{ packetCount: bigint; byteCount: bigint }>;
}

export interface GroupDesc {
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bands: Array<{ packetBandCount: bigint; byteBandCount: bigint }>;
}

export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export type MultipartReplyBody =
  | { mpType: 'desc'; mfrDesc: string; hwDesc: string; swDesc: string; serialNum: string; dpDesc: string }
  | { mpType: 'flow'; flows: FlowStats[] }
  | { mpType: 'aggregate'; packetCount: bigint; byteCount: bigint; flowCount: number }
  | { mpType: 'table'; tables: TableStats[] }
  | { mpType: 'port_stats'; ports: PortStats[] }
  | { mpType: 'queue'; queues: QueueStats[] }
  | { mpType: 'group'; groups: GroupStats[] }
  | { mpType: 'group_desc'; groups: GroupDesc[] }
  | { mpType: 'group_features'; types: number; capabilities: number; maxGroups: number[]; actions: number[] }
  | { mpType: 'meter'; meters: MeterStats[] }
  | { mpType: 'meter_config'; meters: MeterConfig[] }
  | { mpType: 'meter_features'; maxMeter: number; bandTypes: number; capabilities: number; maxBands: number; maxColor: number }
  | { mpType: 'table_features'; tables: TableFeatures[] }
  | { mpType: 'port_desc'; ports: Port[] }
  | ExperimenterBody;

function badLen(detail: string): never {
  throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, detail);
}

function mpTypeOf(code: number): MultipartType {
  const mpType = MULTIPART_TYPE_NAMES.get(code);
  if (mpType === undefined) throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART, `multipart type ${code}`);
  return mpType;
}

/** Cuts `r` into records whose 16-bit length sits at `lengthOffset`, each at least `minLen`. */
function records(r: WireReader, lengthOffset: number, minLen: number, what: string): WireReader[] {
  const out: WireReader[] = [];
  while (r.remaining > 0) {
    if (r.remaining < lengthOffset + 2) badLen(`partial ${what}`);
    const len = r.buf.readUInt16BE(r.pos + lengthOffset);
    if (len < minLen || len > r.remaining) badLen(`${what} length ${len}`);
    out.push(r.sub(len));
  }
  return out;
}

/** Cuts `r` into fixed-size records. */
function fixedRecords(r: WireReader, size: number, what: string): WireReader[] {
  if (r.remaining % size !== 0) badLen(`${what} list of ${r.remaining} bytes`);
  const out: WireReader[] = [];
  while (r.remaining > 0) out.push(r.sub(size));
  return out;
}

function decodeExperimenterBody(r: WireReader): ExperimenterBody {
  const experimenter = r.u32();
  const expType = r.u32();
  return { mpType: 'experimenter', experimenter, expType, data: r.rest() };
}

export function decodeMultipartRequestBody(code: number, r: WireReader): MultipartRequestBody {
  const mpType = mpTypeOf(code);
  switch (mpType) {
    case 'desc': case 'table': case 'group_desc': case 'group_features': case 'meter_features': case 'port_desc':
      return { mpType };
    case 'flow': case 'aggregate': {
      const tableId = r.u8();
      r.skip(3);
      const outPort = r.u32();
      const outGroup = r.u32();
      r.skip(4);
      const cookie = r.u64();
      const cookieMask = r.u64();
      return { mpType, tableId, outPort, outGroup, cookie, cookieMask, match: decodeMatch(r, true) };
    }
    case 'port_stats': {
      const portNo = r.u32();
      r.skip(4);
      return { mpType, portNo };
    }
    case 'queue':
      return { mpType, portNo: r.u32(), queueId: r.u32() };
    case 'group': {
      const groupId = r.u32();
      r.skip(4);
      return { mpType, groupId };
    }
    case 'meter': case 'meter_config': {
      const meterId = r.u32();
      r.skip(4);
      return { mpType, meterId };
    }
    case 'table_features':
      return { mpType, tables: decodeTableFeaturesList(r) };
    case 'experimenter':
      return decodeExperimenterBody(r);
  }
}

export function encodeMultipartRequestBody(w: WireWriter, body: MultipartRequestBody): void {
  switch (body.mpType) {
    case 'desc': case 'table': case 'group_desc': case 'group_features': case 'meter_features': case 'port_desc':
      return;
    case 'flow': case 'aggregate':
      w.u8(body.tableId); w.zeros(3); w.u32(body.outPort); w.u32(body.outGroup); w.zeros(4);
      w.u64(body.cookie); w.u64(body.cookieMask); encodeMatch(w, body.match);
      return;
    case 'port_stats':
      w.u32(body.portNo); w.zeros(4);
      return;
    case 'queue':
      w.u32(body.portNo); w.u32(body.queueId);
      return;
    case 'group':
      w.u32(body.groupId); w.zeros(4);
      return;
    case 'meter': case 'meter_config':
      w.u32(body.meterId); w.zeros(4);
      return;
    case 'table_features':
      encodeTableFeaturesList(w, body.tables);
      return;
    case 'experimenter':
      w.u32(body.experimenter); w.u32(body.expType); w.bytes(body.data);
      return;
  }
}

const DESC_FIELDS = [['mfrDesc', C.DESC_STR_LEN], ['hwDesc', C.DESC_STR_LEN], ['swDesc', C.DESC_STR_LEN],
  ['serialNum', C.SERIAL_NUM_LEN], ['dpDesc', C.DESC_STR_LEN]] as const;

function decodeFlowStats(f: WireReader): FlowStats {
  f.skip(2);
  const tableId = f.u8();
  f.skip(1);
  const durationSec = f.u32();
  const durationNsec = f.u32();
  const priority = f.u16();
  const idleTimeout = f.u16();
  const hardTimeout = f.u16();
  const flags = f.u16();
  f.skip(4);
  const cookie = f.u64();
  const packetCount = f.u64();
  const byteCount = f.u64();
  const match = decodeMatch(f, false);
  return {
    tableId, durationSec, durationNsec, priority, idleTimeout, hardTimeout, flags, cookie, packetCount, byteCount,
    match, instructions: decodeInstructions(f.sub(f.remaining)),
  };
}

function decodeGroupStats(g: WireReader): GroupStats {
  g.skip(4);
  const groupId = g.u32();
  const refCount = g.u32();
  g.skip(4);
  const packetCount = g.u64();
  const byteCount = g.u64();
  const durationSec = g.u32();
  const durationNsec = g.u32();
  const buckets = fixedRecords(g.sub(g.remaining), 16, 'bucket counter')
    .map((b) => ({ packetCount: b.u64(), byteCount: b.u64() }));
  return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, buckets };
}

function decodeMeterStats(m: WireReader): MeterStats {
  const meterId = m.u32();
  m.skip(8);
  const flowCount = m.u32();
  const packetInCount = m.u64();
  const byteInCount = m.u64();
  const durationSec = m.u32();
  const durationNsec = m.u32();
  const bands = fixedRecords(m.sub(m.remaining), 16, 'meter band counter')
    .map((b) => ({ packetBandCount: b.u64(), byteBandCount: b.u64() }));
  return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bands };
}

export function decodeMultipartReplyBody(code: number, r: WireReader): MultipartReplyBody {
  const mpType = mpTypeOf(code);
  switch (mpType) {
    case 'desc': {
      const [mfrDesc, hwDesc, swDesc, serialNum, dpDesc] = DESC_FIELDS.map(([, len]) => r.fixedString(len)) as
        [string, string, string, string, string];
      return { mpType, mfrDesc, hwDesc, swDesc, serialNum, dpDesc };
    }
    case 'flow':
      return { mpType, flows: records(r, 0, 56, 'flow stats').map(decodeFlowStats) };
    case 'aggregate': {
      const packetCount = r.u64();
      const byteCount = r.u64();
      const flowCount = r.u32();
      r.skip(4);
      return { mpType, packetCount, byteCount, flowCount };
    }
    case 'table':
      return {
        mpType,
        tables: fixedRecords(r, 24, 'table stats').map((t) => {
          const tableId = t.u8();
          t.skip(3);
          return { tableId, activeCount: t.u32(), lookupCount: t.u64(), matchedCount: t.u64() };
        }),
      };
    case 'port_stats':
      return {
        mpType,
        ports: fixedRecords(r, 112, 'port stats').map((p) => {
          const portNo = p.u32();
          p.skip(4);
          const counters = Object.fromEntries(PORT_STATS_COUNTERS.map((name) => [name, p.u64()])) as
            Record<typeof PORT_STATS_COUNTERS[number], bigint>;
          return { portNo, ...counters, durationSec: p.u32(), durationNsec: p.u32() };
        }),
      };
    case 'queue':
      return {
        mpType,
        queues: fixedRecords(r, 40, 'queue stats').map((q) => ({
          portNo: q.u32(), queueId: q.u32(), txBytes: q.u64(), txPackets: q.u64(), txErrors: q.u64(),
          durationSec: q.u32(), durationNsec: q.u32(),
        })),
      };
    case 'group':
      return { mpType, groups: records(r, 0, 40, 'group stats').map(decodeGroupStats) };
    case 'group_desc':
      return {
        mpType,
        groups: records(r, 0, 8, 'group desc').map((g) => {
          g.skip(2);
          const groupType = g.u8();
          g.skip(1);
          const groupId = g.u32();
          return { groupType, groupId, buckets: decodeBuckets(g.sub(g.remaining)) };
        }),
      };
    case 'group_features': {
      const types = r.u32();
      const capabilities = r.u32();
      const maxGroups = [r.u32(), r.u32(), r.u32(), r.u32()];
      const actions = [r.u32(), r.u32(), r.u32(), r.u32()];
      return { mpType, types, capabilities, maxGroups, actions };
    }
    case 'meter':
      return { mpType, meters: records(r, 4, 40, 'meter stats').map(decodeMeterStats) };
    case 'meter_config':
      return {
        mpType,
        meters: records(r, 0, 8, 'meter config').map((m) => {
          m.skip(2);
          const flags = m.u16();
          const meterId = m.u32();
          return { flags, meterId, bands: decodeMeterBands(m.sub(m.remaining)) };
        }),
      };
    case 'meter_features': {
      const maxMeter = r.u32();
      const bandTypes = r.u32();
      const capabilities = r.u32();
      const maxBands = r.u8();
      const maxColor = r.u8();
      r.skip(2);
      return { mpType, maxMeter, bandTypes, capabilities, maxBands, maxColor };
    }
    case 'table_features':
      return { mpType, tables: decodeTableFeaturesList(r) };
    case 'port_desc':
      return { mpType, ports: fixedRecords(r, OFP_PORT_LEN, 'port').map(decodePort) };
    case 'experimenter':
      return decodeExperimenterBody(r);
  }
}

export function encodeFlowStats(w: WireWriter, f: FlowStats): void {
  const start = w.pos;
  w.u16(0); w.u8(f.tableId); w.zeros(1); w.u32(f.durationSec); w.u32(f.durationNsec);
  w.u16(f.priority); w.u16(f.idleTimeout); w.u16(f.hardTimeout); w.u16(f.flags); w.zeros(4);
  w.u64(f.cookie); w.u64(f.packetCount); w.u64(f.byteCount);
  encodeMatch(w, f.match);
  encodeInstructions(w, f.instructions);
  w.patchU16(start, w.pos - start);
}

function encodeGroupStats(w: WireWriter, g: GroupStats): void {
  const start = w.pos;
  w.u16(0); w.zeros(2); w.u32(g.groupId); w.u32(g.refCount); w.zeros(4);
  w.u64(g.packetCount); w.u64(g.byteCount); w.u32(g.durationSec); w.u32(g.durationNsec);
  for (const b of g.buckets) { w.u64(b.packetCount); w.u64(b.byteCount); }
  w.patchU16(start, w.pos - start);
}

function encodeMeterStats(w: WireWriter, m: MeterStats): void {
  const start = w.pos;
  w.u32(m.meterId); w.u16(0); w.zeros(6); w.u32(m.flowCount);
  w.u64(m.packetInCount); w.u64(m.byteInCount); w.u32(m.durationSec); w.u32(m.durationNsec);
  for (const b of m.bands) { w.u64(b.packetBandCount); w.u64(b.byteBandCount); }
  w.patchU16(start + 4, w.pos - start);
}

function encodeGroupDesc(w: WireWriter, g: GroupDesc): void {
  const start = w.pos;
  w.u16(0); w.u8(g.groupType); w.zeros(1); w.u32(g.groupId);
  encodeBuckets(w, g.buckets);
  w.patchU16(start, w.pos - start);
}

function encodeMeterConfig(w: WireWriter, m: MeterConfig): void {
  const start = w.pos;
  w.u16(0); w.u16(m.flags); w.u32(m.meterId);
  encodeMeterBands(w, m.bands);
  w.patchU16(start, w.pos - start);
}

function encodePortStats(w: WireWriter, p: PortStats): void {
  w.u32(p.portNo); w.zeros(4);
  for (const name of PORT_STATS_COUNTERS) w.u64(p[name]);
  w.u32(p.durationSec); w.u32(p.durationNsec);
}

function encodeTableStats(w: WireWriter, t: TableStats): void {
  w.u8(t.tableId); w.zeros(3); w.u32(t.activeCount); w.u64(t.lookupCount); w.u64(t.matchedCount);
}

function encodeQueueStats(w: WireWriter, q: QueueStats): void {
  w.u32(q.portNo); w.u32(q.queueId); w.u64(q.txBytes); w.u64(q.txPackets); w.u64(q.txErrors);
  w.u32(q.durationSec); w.u32(q.durationNsec);
}

/**
 * Encodes the elements of a list body one by one, calling `mark` after each (the places a
 * long reply may be cut into several messages). Returns false for bodies that are not lists.
 */
export function encodeReplyElements(w: WireWriter, body: MultipartReplyBody, mark: () => void): boolean {
  const each = <T>(list: readonly T[], encode: (w: WireWriter, element: T) => void): boolean => {
    for (const element of list) {
      encode(w, element);
      mark();
    }
    return true;
  };
  switch (body.mpType) {
    case 'flow': return each(body.flows, encodeFlowStats);
    case 'table': return each(body.tables, encodeTableStats);
    case 'port_stats': return each(body.ports, encodePortStats);
    case 'queue': return each(body.queues, encodeQueueStats);
    case 'group': return each(body.groups, encodeGroupStats);
    case 'group_desc': return each(body.groups, encodeGroupDesc);
    case 'meter': return each(body.meters, encodeMeterStats);
    case 'meter_config': return each(body.meters, encodeMeterConfig);
    case 'table_features': return each(body.tables, (w2, t) => encodeTableFeaturesList(w2, [t]));
    case 'port_desc': return each(body.ports, encodePort);
    default: return false;
  }
}

export function encodeMultipartReplyBody(w: WireWriter, body: MultipartReplyBody): void {
  switch (body.mpType) {
    case 'desc':
      for (const [name, len] of DESC_FIELDS) w.fixedString(body[name], len);
      return;
    case 'flow': for (const f of body.flows) encodeFlowStats(w, f); return;
    case 'aggregate':
      w.u64(body.packetCount); w.u64(body.byteCount); w.u32(body.flowCount); w.zeros(4);
      return;
    case 'table': for (const t of body.tables) encodeTableStats(w, t); return;
    case 'port_stats': for (const p of body.ports) encodePortStats(w, p); return;
    case 'queue': for (const q of body.queues) encodeQueueStats(w, q); return;
    case 'group': for (const g of body.groups) encodeGroupStats(w, g); return;
    case 'group_desc': for (const g of body.groups) encodeGroupDesc(w, g); return;
    case 'group_features':
      w.u32(body.types); w.u32(body.capabilities);
      for (let i = 0; i < 4; i++) w.u32(body.maxGroups[i] ?? 0);
      for (let i = 0; i < 4; i++) w.u32(body.actions[i] ?? 0);
      return;
    case 'meter': for (const m of body.meters) encodeMeterStats(w, m); return;
    case 'meter_config': for (const m of body.meters) encodeMeterConfig(w, m); return;
    case 'meter_features':
      w.u32(body.maxMeter); w.u32(body.bandTypes); w.u32(body.capabilities); w.u8(body.maxBands); w.u8(body.maxColor); w.zeros(2);
      return;
    case 'table_features': encodeTableFeaturesList(w, body.tables); return;
    case 'port_desc': for (const p of body.ports) encodePort(w, p); return;
    case 'experimenter':
      w.u32(body.experimenter); w.u32(body.expType); w.bytes(body.data);
      return;
  }
}
