/*
 * Structures shared by several OpenFlow 1.3 messages: ofp_port, group buckets, meter bands,
 * queue descriptions, and table features with their properties.
 */
import { namesByCode } from './code-table.ts';
import { type Action, decodeActions, encodeActions } from './actions.ts';
import { formatMac, writeMac } from './addresses.ts';
import * as C from './constants.ts';
import {
  OFPBRC_BAD_LEN, OFPET_BAD_REQUEST, OFPET_GROUP_MOD_FAILED, OFPET_METER_MOD_FAILED, OFPET_TABLE_FEATURES_FAILED,
  OFPGMFC_BAD_BUCKET, OFPMMFC_BAD_BAND, OFPTFFC_BAD_LEN, OFPTFFC_BAD_TYPE, OfpDecodeError, OfpEncodeError,
} from './errors.ts';
import { padLength, WireReader, WireWriter } from './wire.ts';

// ---- ofp_port (64 bytes) ----

export interface Port {
  portNo: number;
  hwAddr: string;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}
export const OFP_PORT_LEN = 64;

export function decodePort(r: WireReader): Port {
  r.need(OFP_PORT_LEN, 'ofp_port');
  const portNo = r.u32();
  r.skip(4);
  const hwAddr = formatMac(r.buf, r.pos);
  r.skip(8);
  const name = r.fixedString(C.OFP_MAX_PORT_NAME_LEN);
  return {
    portNo, hwAddr, name, config: r.u32(), state: r.u32(), curr: r.u32(), advertised: r.u32(),
    supported: r.u32(), peer: r.u32(), currSpeed: r.u32(), maxSpeed: r.u32(),
  };
}

const macScratch = Buffer.alloc(6);
export function writeMacField(w: WireWriter, mac: string): void {
  try {
    writeMac(mac, macScratch, 0);
  } catch (e) {
    throw new OfpEncodeError((e as Error).message);
  }
  w.bytes(macScratch);
}

export function encodePort(w: WireWriter, p: Port): void {
  w.u32(p.portNo); w.zeros(4);
  writeMacField(w, p.hwAddr); w.zeros(2);
  w.fixedString(p.name, C.OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config); w.u32(p.state); w.u32(p.curr); w.u32(p.advertised);
  w.u32(p.supported); w.u32(p.peer); w.u32(p.currSpeed); w.u32(p.maxSpeed);
}

// ---- group buckets ----

export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}
const BUCKET_HEADER_LEN = 16;

/** Decodes the bucket list that fills `r` (group-mod and group-desc). */
export function decodeBuckets(r: WireReader): Bucket[] {
  const buckets: Bucket[] = [];
  while (r.remaining > 0) {
    const len = r.remaining >= 2 ? r.buf.readUInt16BE(r.pos) : 0;
    if (len < BUCKET_HEADER_LEN || len % 8 !== 0 || len > r.remaining) {
      throw new OfpDecodeError(OFPET_GROUP_MOD_FAILED, OFPGMFC_BAD_BUCKET, `bucket length ${len}`);
    }
    const b = r.sub(len);
    b.skip(2);
    const weight = b.u16();
    const watchPort = b.u32();
    const watchGroup = b.u32();
    b.skip(4);
    buckets.push({ weight, watchPort, watchGroup, actions: decodeActions(b.sub(b.remaining)) });
  }
  return buckets;
}

export function encodeBuckets(w: WireWriter, buckets: readonly Bucket[]): void {
  for (const bucket of buckets) {
    const start = w.pos;
    w.u16(0); w.u16(bucket.weight); w.u32(bucket.watchPort); w.u32(bucket.watchGroup); w.zeros(4);
    encodeActions(w, bucket.actions);
    w.patchU16(start, w.pos - start);
  }
}

// ---- meter bands ----

export type MeterBand =
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscp_remark'; rate: number; burstSize: number; precLevel: number }
  | { type: 'experimenter'; rate: number; burstSize: number; experimenter: number; data: Buffer };

/** Decodes the band list that fills `r` (meter-mod and meter-config). */
export function decodeMeterBands(r: WireReader): MeterBand[] {
  const bands: MeterBand[] = [];
  while (r.remaining > 0) {
    const type = r.remaining >= 4 ? r.buf.readUInt16BE(r.pos) : -1;
    const len = r.remaining >= 4 ? r.buf.readUInt16BE(r.pos + 2) : 0;
    if (len < 16 || len % 8 !== 0 || len > r.remaining) {
      throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `meter band length ${len}`);
    }
    const b = r.sub(len);
    b.skip(4);
    const rate = b.u32();
    const burstSize = b.u32();
    if (type === C.OFPMBT_DROP && len === 16) {
      bands.push({ type: 'drop', rate, burstSize });
    } else if (type === C.OFPMBT_DSCP_REMARK && len === 16) {
      bands.push({ type: 'dscp_remark', rate, burstSize, precLevel: b.u8() });
    } else if (type === C.OFPMBT_EXPERIMENTER) {
      bands.push({ type: 'experimenter', rate, burstSize, experimenter: b.u32(), data: b.rest() });
    } else {
      throw new OfpDecodeError(OFPET_METER_MOD_FAILED, OFPMMFC_BAD_BAND, `meter band type ${type} length ${len}`);
    }
  }
  return bands;
}

export function encodeMeterBands(w: WireWriter, bands: readonly MeterBand[]): void {
  for (const band of bands) {
    const start = w.pos;
    const code = band.type === 'drop' ? C.OFPMBT_DROP : band.type === 'dscp_remark' ? C.OFPMBT_DSCP_REMARK : C.OFPMBT_EXPERIMENTER;
    w.u16(code); w.u16(0); w.u32(band.rate); w.u32(band.burstSize);
    if (band.type === 'drop') w.zeros(4);
    else if (band.type === 'dscp_remark') { w.u8(band.precLevel); w.zeros(3); }
    else { w.u32(band.experimenter); w.bytes(band.data); w.padTo(start, 8); }
    w.patchU16(start + 2, w.pos - start);
  }
}

// ---- queues (queue-get-config reply) ----

export type QueueProperty =
  | { type: 'min_rate'; rate: number }
  | { type: 'max_rate'; rate: number }
  | { type: 'experimenter'; experimenter: number; data: Buffer };

export interface PacketQueue {
  queueId: number;
  port: number;
  properties: QueueProperty[];
}

export function decodePacketQueues(r: WireReader): PacketQueue[] {
  const queues: PacketQueue[] = [];
  while (r.remaining > 0) {
    r.need(16, 'ofp_packet_queue');
    const queueId = r.u32();
    const port = r.u32();
    const len = r.u16();
    if (len < 16 || len - 10 > r.remaining) throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `queue length ${len}`);
    r.skip(6);
    const q = r.sub(len - 16);
    const properties: QueueProperty[] = [];
    while (q.remaining > 0) {
      q.need(8, 'queue property');
      const type = q.u16();
      const plen = q.u16();
      if (plen < 8 || plen - 4 > q.remaining) throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `queue property length ${plen}`);
      q.skip(4);
      const p = q.sub(plen - 8);
      if ((type === C.OFPQT_MIN_RATE || type === C.OFPQT_MAX_RATE) && plen === 16) {
        properties.push({ type: type === C.OFPQT_MIN_RATE ? 'min_rate' : 'max_rate', rate: p.u16() });
      } else if (type === C.OFPQT_EXPERIMENTER && plen >= 16) {
        const experimenter = p.u32();
        p.skip(4);
        properties.push({ type: 'experimenter', experimenter, data: p.rest() });
      } else {
        throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `queue property type ${type} length ${plen}`);
      }
    }
    queues.push({ queueId, port, properties });
  }
  return queues;
}

export function encodePacketQueues(w: WireWriter, queues: readonly PacketQueue[]): void {
  for (const queue of queues) {
    const start = w.pos;
    w.u32(queue.queueId); w.u32(queue.port); w.u16(0); w.zeros(6);
    for (const p of queue.properties) {
      const pstart = w.pos;
      const code = p.type === 'min_rate' ? C.OFPQT_MIN_RATE : p.type === 'max_rate' ? C.OFPQT_MAX_RATE : C.OFPQT_EXPERIMENTER;
      w.u16(code); w.u16(0); w.zeros(4);
      if (p.type === 'experimenter') { w.u32(p.experimenter); w.zeros(4); w.bytes(p.data); }
      else { w.u16(p.rate); w.zeros(6); }
      w.patchU16(pstart + 2, w.pos - pstart);
    }
    w.patchU16(start + 8, w.pos - start);
  }
}

// ---- table features ----

/** An instruction or action named in a table-features property: its type, and for experimenter ones the rest. */
export interface FeatureId {
  type: number;
  data?: Buffer;
}
/** An OXM field named in a table-features property: its header, and the experimenter id for class 0xffff. */
export interface OxmId {
  header: number;
  experimenter?: number;
}

export type TableFeatureProperty =
  | { type: 'instructions' | 'instructions_miss'; instructions: FeatureId[] }
  | { type: 'next_tables' | 'next_tables_miss'; tableIds: number[] }
  | { type: 'write_actions' | 'write_actions_miss' | 'apply_actions' | 'apply_actions_miss'; actions: FeatureId[] }
  | { type: 'match' | 'wildcards' | 'write_setfield' | 'write_setfield_miss' | 'apply_setfield' | 'apply_setfield_miss'; oxmIds: OxmId[] }
  | { type: 'experimenter' | 'experimenter_miss'; experimenter: number; expType: number; data: Buffer };

export type TableFeaturePropertyType = TableFeatureProperty['type'];

export const TABLE_FEATURE_PROPERTY_CODES: Readonly<Record<TableFeaturePropertyType, number>> = {
  instructions: C.OFPTFPT_INSTRUCTIONS, instructions_miss: C.OFPTFPT_INSTRUCTIONS_MISS,
  next_tables: C.OFPTFPT_NEXT_TABLES, next_tables_miss: C.OFPTFPT_NEXT_TABLES_MISS,
  write_actions: C.OFPTFPT_WRITE_ACTIONS, write_actions_miss: C.OFPTFPT_WRITE_ACTIONS_MISS,
  apply_actions: C.OFPTFPT_APPLY_ACTIONS, apply_actions_miss: C.OFPTFPT_APPLY_ACTIONS_MISS,
  match: C.OFPTFPT_MATCH, wildcards: C.OFPTFPT_WILDCARDS,
  write_setfield: C.OFPTFPT_WRITE_SETFIELD, write_setfield_miss: C.OFPTFPT_WRITE_SETFIELD_MISS,
  apply_setfield: C.OFPTFPT_APPLY_SETFIELD, apply_setfield_miss: C.OFPTFPT_APPLY_SETFIELD_MISS,
  experimenter: C.OFPTFPT_EXPERIMENTER, experimenter_miss: C.OFPTFPT_EXPERIMENTER_MISS,
};
const TABLE_FEATURE_PROPERTY_NAMES = namesByCode(TABLE_FEATURE_PROPERTY_CODES);

export interface TableFeatures {
  tableId: number;
  name: string;
  metadataMatch: bigint;
  metadataWrite: bigint;
  config: number;
  maxEntries: number;
  properties: TableFeatureProperty[];
}
const TABLE_FEATURES_HEADER_LEN = 64;
const TF_LEN_ERROR = { errType: OFPET_TABLE_FEATURES_FAILED, errCode: OFPTFFC_BAD_LEN };

function tfBadLen(detail: string): never {
  throw new OfpDecodeError(OFPET_TABLE_FEATURES_FAILED, OFPTFFC_BAD_LEN, detail);
}

function decodeFeatureIds(p: WireReader): FeatureId[] {
  const ids: FeatureId[] = [];
  while (p.remaining > 0) {
    p.need(4, 'feature id');
    const type = p.u16();
    const len = p.u16();
    if (len < 4 || len - 4 > p.remaining) tfBadLen(`feature id length ${len}`);
    ids.push(len === 4 ? { type } : { type, data: p.bytes(len - 4) });
  }
  return ids;
}

function decodeOxmIds(p: WireReader): OxmId[] {
  const ids: OxmId[] = [];
  while (p.remaining > 0) {
    const header = p.u32();
    ids.push(header >>> 16 === 0xffff ? { header, experimenter: p.u32() } : { header });
  }
  return ids;
}

function decodeTableFeatureProperty(type: TableFeaturePropertyType, p: WireReader): TableFeatureProperty {
  switch (type) {
    case 'instructions': case 'instructions_miss':
      return { type, instructions: decodeFeatureIds(p) };
    case 'next_tables': case 'next_tables_miss': {
      const tableIds: number[] = [];
      while (p.remaining > 0) tableIds.push(p.u8());
      return { type, tableIds };
    }
    case 'write_actions': case 'write_actions_miss': case 'apply_actions': case 'apply_actions_miss':
      return { type, actions: decodeFeatureIds(p) };
    case 'match': case 'wildcards': case 'write_setfield': case 'write_setfield_miss':
    case 'apply_setfield': case 'apply_setfield_miss':
      return { type, oxmIds: decodeOxmIds(p) };
    case 'experimenter': case 'experimenter_miss': {
      const experimenter = p.u32();
      const expType = p.u32();
      return { type, experimenter, expType, data: p.rest() };
    }
  }
}

/** Decodes the ofp_table_features list that fills `r`. */
export function decodeTableFeaturesList(r: WireReader): TableFeatures[] {
  const tables: TableFeatures[] = [];
  while (r.remaining > 0) {
    const len = r.remaining >= 2 ? r.buf.readUInt16BE(r.pos) : 0;
    if (len < TABLE_FEATURES_HEADER_LEN || len > r.remaining) tfBadLen(`table features length ${len}`);
    const t = r.sub(len, TF_LEN_ERROR);
    t.skip(2);
    const tableId = t.u8();
    t.skip(5);
    const name = t.fixedString(C.OFP_MAX_TABLE_NAME_LEN);
    const metadataMatch = t.u64();
    const metadataWrite = t.u64();
    const config = t.u32();
    const maxEntries = t.u32();
    const properties: TableFeatureProperty[] = [];
    while (t.remaining > 0) {
      t.need(4, 'table feature property header');
      const code = t.u16();
      const plen = t.u16();
      if (plen < 4 || padLength(plen) - 4 > t.remaining) tfBadLen(`table feature property ${code} length ${plen}`);
      const type = TABLE_FEATURE_PROPERTY_NAMES.get(code);
      if (type === undefined) {
        throw new OfpDecodeError(OFPET_TABLE_FEATURES_FAILED, OFPTFFC_BAD_TYPE, `table feature property type ${code}`);
      }
      const p = t.sub(plen - 4);
      t.skip(padLength(plen) - plen);
      properties.push(decodeTableFeatureProperty(type, p));
    }
    tables.push({ tableId, name, metadataMatch, metadataWrite, config, maxEntries, properties });
  }
  return tables;
}

function encodeFeatureIds(w: WireWriter, ids: readonly FeatureId[]): void {
  for (const id of ids) {
    w.u16(id.type);
    w.u16(4 + (id.data?.length ?? 0));
    if (id.data) w.bytes(id.data);
  }
}

export function encodeTableFeaturesList(w: WireWriter, tables: readonly TableFeatures[]): void {
  for (const t of tables) {
    const start = w.pos;
    w.u16(0); w.u8(t.tableId); w.zeros(5);
    w.fixedString(t.name, C.OFP_MAX_TABLE_NAME_LEN);
    w.u64(t.metadataMatch); w.u64(t.metadataWrite); w.u32(t.config); w.u32(t.maxEntries);
    for (const p of t.properties) {
      const pstart = w.pos;
      w.u16(TABLE_FEATURE_PROPERTY_CODES[p.type]); w.u16(0);
      switch (p.type) {
        case 'instructions': case 'instructions_miss': encodeFeatureIds(w, p.instructions); break;
        case 'next_tables': case 'next_tables_miss': for (const id of p.tableIds) w.u8(id); break;
        case 'write_actions': case 'write_actions_miss': case 'apply_actions': case 'apply_actions_miss':
          encodeFeatureIds(w, p.actions); break;
        case 'match': case 'wildcards': case 'write_setfield': case 'write_setfield_miss':
        case 'apply_setfield': case 'apply_setfield_miss':
          for (const id of p.oxmIds) { w.u32(id.header); if (id.experimenter !== undefined) w.u32(id.experimenter); }
          break;
        case 'experimenter': case 'experimenter_miss':
          w.u32(p.experimenter); w.u32(p.expType); w.bytes(p.data); break;
      }
      w.patchU16(pstart + 2, w.pos - pstart);
      w.padTo(pstart, 8);
    }
    w.patchU16(start, w.pos - start);
  }
}
