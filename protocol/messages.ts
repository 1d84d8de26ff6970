/*
 * OpenFlow 1.3 messages: typed message objects discriminated by `type`, and the two entry
 * points decodeMessage() and encodeMessage().
 *
 * decodeMessage() never throws: it returns either the message or an OfpDecodeError that
 * names the OpenFlow error to answer with, together with the header fields (xid, type) the
 * answer needs. encodeMessage() throws OfpEncodeError for objects that cannot be put on the
 * wire. The ONF bundle messages of EXT-230 (what `ovs-ofctl --bundle` sends over OpenFlow
 * 1.3) are decoded structurally; other experimenter payloads are kept as opaque bytes.
 */
import { type Action, decodeActions, encodeActions } from './actions.ts';
import * as C from './constants.ts';
import {
  OFPBRC_BAD_LEN, OFPBRC_BAD_TYPE, OFPBRC_BAD_VERSION, OFPET_BAD_REQUEST, OfpDecodeError, OfpEncodeError,
} from './errors.ts';
import { decodeInstructions, encodeInstructions, type Instruction } from './instructions.ts';
import {
  decodeMultipartReplyBody, decodeMultipartRequestBody, encodeMultipartReplyBody, encodeMultipartRequestBody,
  MULTIPART_TYPE_CODES, type MultipartReplyBody, type MultipartRequestBody,
} from './multipart.ts';
import { decodeMatch, encodeMatch, type Match } from './oxm.ts';
import {
  type Bucket, decodeBuckets, decodeMeterBands, decodePacketQueues, decodePort, encodeBuckets, encodeMeterBands,
  encodePacketQueues, encodePort, type MeterBand, type PacketQueue, type Port, writeMacField,
} from './structs.ts';
import { formatMac } from './addresses.ts';
import { WireReader, WireWriter } from './wire.ts';

/** Fields every message has. `version` defaults to OpenFlow 1.3 (4) when encoding. */
interface Header {
  version?: number;
  xid: number;
}

export type HelloElement =
  | { type: 'versionbitmap'; bitmaps: number[] }
  | { type: 'unknown'; elementType: number; data: Buffer };

export interface Hello extends Header { type: 'hello'; elements: HelloElement[] }
/** For errType OFPET_EXPERIMENTER, `code` is the experimenter's exp_type and `experimenter` is set. */
export interface ErrorMessage extends Header {
  type: 'error'; errType: number; code: number; experimenter?: number; data: Buffer;
}
export interface EchoRequest extends Header { type: 'echo_request'; data: Buffer }
export interface EchoReply extends Header { type: 'echo_reply'; data: Buffer }
export interface Experimenter extends Header { type: 'experimenter'; experimenter: number; expType: number; data: Buffer }
export interface BundleControl extends Header {
  type: 'bundle_control'; bundleId: number; controlType: number; flags: number; properties: Buffer;
}
export interface BundleAdd extends Header {
  type: 'bundle_add'; bundleId: number; flags: number; message: OfpMessage; properties: Buffer;
}
export interface FeaturesRequest extends Header { type: 'features_request' }
export interface FeaturesReply extends Header {
  type: 'features_reply'; datapathId: bigint; nBuffers: number; nTables: number; auxiliaryId: number;
  capabilities: number; reserved: number;
}
export interface GetConfigRequest extends Header { type: 'get_config_request' }
export interface GetConfigReply extends Header { type: 'get_config_reply'; flags: number; missSendLen: number }
export interface SetConfig extends Header { type: 'set_config'; flags: number; missSendLen: number }
export interface PacketIn extends Header {
  type: 'packet_in'; bufferId: number; totalLen: number; reason: number; tableId: number; cookie: bigint;
  match: Match; data: Buffer;
}
export interface FlowRemoved extends Header {
  type: 'flow_removed'; cookie: bigint; priority: number; reason: number; tableId: number; durationSec: number;
  durationNsec: number; idleTimeout: number; hardTimeout: number; packetCount: bigint; byteCount: bigint; match: Match;
}
export interface PortStatus extends Header { type: 'port_status'; reason: number; port: Port }
export interface PacketOut extends Header {
  type: 'packet_out'; bufferId: number; inPort: number; actions: Action[]; data: Buffer;
}
export interface FlowMod extends Header {
  type: 'flow_mod'; cookie: bigint; cookieMask: bigint; tableId: number; command: number; idleTimeout: number;
  hardTimeout: number; priority: number; bufferId: number; outPort: number; outGroup: number; flags: number;
  match: Match; instructions: Instruction[];
}
export interface GroupMod extends Header {
  type: 'group_mod'; command: number; groupType: number; groupId: number; buckets: Bucket[];
}
export interface PortMod extends Header {
  type: 'port_mod'; portNo: number; hwAddr: string; config: number; mask: number; advertise: number;
}
export interface TableMod extends Header { type: 'table_mod'; tableId: number; config: number }
export interface MultipartRequest extends Header { type: 'multipart_request'; flags: number; body: MultipartRequestBody }
export interface MultipartReply extends Header { type: 'multipart_reply'; flags: number; body: MultipartReplyBody }
export interface BarrierRequest extends Header { type: 'barrier_request' }
export interface BarrierReply extends Header { type: 'barrier_reply' }
export interface QueueGetConfigRequest extends Header { type: 'queue_get_config_request'; port: number }
export interface QueueGetConfigReply extends Header { type: 'queue_get_config_reply'; port: number; queues: PacketQueue[] }
export interface RoleRequest extends Header { type: 'role_request'; role: number; generationId: bigint }
export interface RoleReply extends Header { type: 'role_reply'; role: number; generationId: bigint }
export interface GetAsyncRequest extends Header { type: 'get_async_request' }
/** Each mask pair is [master/equal, slave]. */
export interface AsyncConfig {
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
}
export interface GetAsyncReply extends Header, AsyncConfig { type: 'get_async_reply' }
export interface SetAsync extends Header, AsyncConfig { type: 'set_async' }
export interface MeterMod extends Header {
  type: 'meter_mod'; command: number; flags: number; meterId: number; bands: MeterBand[];
}

export type OfpMessage =
  | Hello | ErrorMessage | EchoRequest | EchoReply | Experimenter | BundleControl | BundleAdd
  | FeaturesRequest | FeaturesReply | GetConfigRequest | GetConfigReply | SetConfig
  | PacketIn | FlowRemoved | PortStatus | PacketOut | FlowMod | GroupMod | PortMod | TableMod
  | MultipartRequest | MultipartReply | BarrierRequest | BarrierReply
  | QueueGetConfigRequest | QueueGetConfigReply | RoleRequest | RoleReply
  | GetAsyncRequest | GetAsyncReply | SetAsync | MeterMod;

export type MessageType = OfpMessage['type'];

/** The OFPT_* code of each message type (bundle messages travel as OFPT_EXPERIMENTER). */
export const MESSAGE_TYPE_CODES: Readonly<Record<MessageType, number>> = {
  hello: C.OFPT_HELLO, error: C.OFPT_ERROR, echo_request: C.OFPT_ECHO_REQUEST, echo_reply: C.OFPT_ECHO_REPLY,
  experimenter: C.OFPT_EXPERIMENTER, bundle_control: C.OFPT_EXPERIMENTER, bundle_add: C.OFPT_EXPERIMENTER,
  features_request: C.OFPT_FEATURES_REQUEST, features_reply: C.OFPT_FEATURES_REPLY,
  get_config_request: C.OFPT_GET_CONFIG_REQUEST, get_config_reply: C.OFPT_GET_CONFIG_REPLY,
  set_config: C.OFPT_SET_CONFIG, packet_in: C.OFPT_PACKET_IN, flow_removed: C.OFPT_FLOW_REMOVED,
  port_status: C.OFPT_PORT_STATUS, packet_out: C.OFPT_PACKET_OUT, flow_mod: C.OFPT_FLOW_MOD,
  group_mod: C.OFPT_GROUP_MOD, port_mod: C.OFPT_PORT_MOD, table_mod: C.OFPT_TABLE_MOD,
  multipart_request: C.OFPT_MULTIPART_REQUEST, multipart_reply: C.OFPT_MULTIPART_REPLY,
  barrier_request: C.OFPT_BARRIER_REQUEST, barrier_reply: C.OFPT_BARRIER_REPLY,
  queue_get_config_request: C.OFPT_QUEUE_GET_CONFIG_REQUEST, queue_get_config_reply: C.OFPT_QUEUE_GET_CONFIG_REPLY,
  role_request: C.OFPT_ROLE_REQUEST, role_reply: C.OFPT_ROLE_REPLY, get_async_request: C.OFPT_GET_ASYNC_REQUEST,
  get_async_reply: C.OFPT_GET_ASYNC_REPLY, set_async: C.OFPT_SET_ASYNC, meter_mod: C.OFPT_METER_MOD,
};

export type DecodeResult =
  | { ok: true; message: OfpMessage }
  | {
    ok: false;
    error: OfpDecodeError;
    /** Header fields of the offending message, as far as they could be read. */
    version: number;
    msgType: number;
    xid: number;
  };

/** Prefix of the detail of errors that come from a decoder fault rather than from the input. */
export const DECODER_FAULT = 'internal decoder fault';

const MESSAGE_LEN_ERROR = { errType: OFPET_BAD_REQUEST, errCode: OFPBRC_BAD_LEN };

type BodyDecoder = (r: WireReader, xid: number, version: number) => OfpMessage;

function decodeHelloElements(r: WireReader): HelloElement[] {
  const elements: HelloElement[] = [];
  while (r.remaining >= 4) {
    const type = r.u16();
    const len = r.u16();
    if (len < 4 || len - 4 > r.remaining) throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `hello element length ${len}`);
    const e = r.sub(len - 4);
    // Elements are padded to 8 bytes; tolerate a peer that leaves the last padding out.
    r.skip(Math.min((8 - (len % 8)) % 8, r.remaining));
    if (type === C.OFPHET_VERSIONBITMAP) {
      const bitmaps: number[] = [];
      while (e.remaining >= 4) bitmaps.push(e.u32());
      elements.push({ type: 'versionbitmap', bitmaps });
    } else {
      elements.push({ type: 'unknown', elementType: type, data: e.rest() });
    }
  }
  r.skip(r.remaining);
  return elements;
}

function decodeExperimenterMessage(r: WireReader, xid: number, version: number): OfpMessage {
  const experimenter = r.u32();
  const expType = r.u32();
  if (experimenter === C.ONF_EXPERIMENTER_ID && expType === C.ONFT_BUNDLE_CONTROL) {
    const bundleId = r.u32();
    const controlType = r.u16();
    const flags = r.u16();
    return { type: 'bundle_control', version, xid, bundleId, controlType, flags, properties: r.rest() };
  }
  if (experimenter === C.ONF_EXPERIMENTER_ID && expType === C.ONFT_BUNDLE_ADD_MESSAGE) {
    const bundleId = r.u32();
    r.skip(2);
    const flags = r.u16();
    r.need(C.OFP_HEADER_LEN, 'bundled message header');
    const innerLen = r.buf.readUInt16BE(r.pos + 2);
    if (innerLen < C.OFP_HEADER_LEN || innerLen > r.remaining) {
      throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `bundled message length ${innerLen}`);
    }
    const inner = decodeMessage(r.bytes(innerLen));
    if (!inner.ok) throw inner.error;
    return { type: 'bundle_add', version, xid, bundleId, flags, message: inner.message, properties: r.rest() };
  }
  return { type: 'experimenter', version, xid, experimenter, expType, data: r.rest() };
}

function decodeAsync(r: WireReader): AsyncConfig {
  return {
    packetInMask: [r.u32(), r.u32()], portStatusMask: [r.u32(), r.u32()], flowRemovedMask: [r.u32(), r.u32()],
  };
}

const DECODERS: Readonly<Record<number, BodyDecoder>> = {
  [C.OFPT_HELLO]: (r, xid, version) => ({ type: 'hello', version, xid, elements: decodeHelloElements(r) }),
  [C.OFPT_ERROR]: (r, xid, version) => {
    const errType = r.u16();
    const code = r.u16();
    if (errType === 0xffff) return { type: 'error', version, xid, errType, code, experimenter: r.u32(), data: r.rest() };
    return { type: 'error', version, xid, errType, code, data: r.rest() };
  },
  [C.OFPT_ECHO_REQUEST]: (r, xid, version) => ({ type: 'echo_request', version, xid, data: r.rest() }),
  [C.OFPT_ECHO_REPLY]: (r, xid, version) => ({ type: 'echo_reply', version, xid, data: r.rest() }),
  [C.OFPT_EXPERIMENTER]: decodeExperimenterMessage,
  [C.OFPT_FEATURES_REQUEST]: (_r, xid, version) => ({ type: 'features_request', version, xid }),
  [C.OFPT_FEATURES_REPLY]: (r, xid, version) => {
    const datapathId = r.u64();
    const nBuffers = r.u32();
    const nTables = r.u8();
    const auxiliaryId = r.u8();
    r.skip(2);
    return { type: 'features_reply', version, xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities: r.u32(), reserved: r.u32() };
  },
  [C.OFPT_GET_CONFIG_REQUEST]: (_r, xid, version) => ({ type: 'get_config_request', version, xid }),
  [C.OFPT_GET_CONFIG_REPLY]: (r, xid, version) => ({ type: 'get_config_reply', version, xid, flags: r.u16(), missSendLen: r.u16() }),
  [C.OFPT_SET_CONFIG]: (r, xid, version) => ({ type: 'set_config', version, xid, flags: r.u16(), missSendLen: r.u16() }),
  [C.OFPT_PACKET_IN]: (r, xid, version) => {
    const bufferId = r.u32();
    const totalLen = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const cookie = r.u64();
    const match = decodeMatch(r, false);
    r.skip(2);
    return { type: 'packet_in', version, xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.rest() };
  },
  [C.OFPT_FLOW_REMOVED]: (r, xid, version) => {
    const cookie = r.u64();
    const priority = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const durationSec = r.u32();
    const durationNsec = r.u32();
    const idleTimeout = r.u16();
    const hardTimeout = r.u16();
    const packetCount = r.u64();
    const byteCount = r.u64();
    return {
      type: 'flow_removed', version, xid, cookie, priority, reason, tableId, durationSec, durationNsec, idleTimeout,
      hardTimeout, packetCount, byteCount, match: decodeMatch(r, true),
    };
  },
  [C.OFPT_PORT_STATUS]: (r, xid, version) => {
    const reason = r.u8();
    r.skip(7);
    return { type: 'port_status', version, xid, reason, port: decodePort(r) };
  },
  [C.OFPT_PACKET_OUT]: (r, xid, version) => {
    const bufferId = r.u32();
    const inPort = r.u32();
    const actionsLen = r.u16();
    r.skip(6);
    const actions = decodeActions(r.sub(actionsLen));
    return { type: 'packet_out', version, xid, bufferId, inPort, actions, data: r.rest() };
  },
  [C.OFPT_FLOW_MOD]: (r, xid, version) => {
    const cookie = r.u64();
    const cookieMask = r.u64();
    const tableId = r.u8();
    const command = r.u8();
    const idleTimeout = r.u16();
    const hardTimeout = r.u16();
    const priority = r.u16();
    const bufferId = r.u32();
    const outPort = r.u32();
    const outGroup = r.u32();
    const flags = r.u16();
    r.skip(2);
    const match = decodeMatch(r, true);
    return {
      type: 'flow_mod', version, xid, cookie, cookieMask, tableId, command, idleTimeout, hardTimeout, priority,
      bufferId, outPort, outGroup, flags, match, instructions: decodeInstructions(r.sub(r.remaining)),
    };
  },
  [C.OFPT_GROUP_MOD]: (r, xid, version) => {
    const command = r.u16();
    const groupType = r.u8();
    r.skip(1);
    const groupId = r.u32();
    return { type: 'group_mod', version, xid, command, groupType, groupId, buckets: decodeBuckets(r.sub(r.remaining)) };
  },
  [C.OFPT_PORT_MOD]: (r, xid, version) => {
    const portNo = r.u32();
    r.skip(4);
    r.need(8, 'hw_addr');
    const hwAddr = formatMac(r.buf, r.pos);
    r.skip(8);
    const config = r.u32();
    const mask = r.u32();
    const advertise = r.u32();
    r.skip(4);
    return { type: 'port_mod', version, xid, portNo, hwAddr, config, mask, advertise };
  },
  [C.OFPT_TABLE_MOD]: (r, xid, version) => {
    const tableId = r.u8();
    r.skip(3);
    return { type: 'table_mod', version, xid, tableId, config: r.u32() };
  },
  [C.OFPT_MULTIPART_REQUEST]: (r, xid, version) => {
    const code = r.u16();
    const flags = r.u16();
    r.skip(4);
    return { type: 'multipart_request', version, xid, flags, body: decodeMultipartRequestBody(code, r) };
  },
  [C.OFPT_MULTIPART_REPLY]: (r, xid, version) => {
    const code = r.u16();
    const flags = r.u16();
    r.skip(4);
    return { type: 'multipart_reply', version, xid, flags, body: decodeMultipartReplyBody(code, r) };
  },
  [C.OFPT_BARRIER_REQUEST]: (_r, xid, version) => ({ type: 'barrier_request', version, xid }),
  [C.OFPT_BARRIER_REPLY]: (_r, xid, version) => ({ type: 'barrier_reply', version, xid }),
  [C.OFPT_QUEUE_GET_CONFIG_REQUEST]: (r, xid, version) => {
    const port = r.u32();
    r.skip(4);
    return { type: 'queue_get_config_request', version, xid, port };
  },
  [C.OFPT_QUEUE_GET_CONFIG_REPLY]: (r, xid, version) => {
    const port = r.u32();
    r.skip(4);
    return { type: 'queue_get_config_reply', version, xid, port, queues: decodePacketQueues(r) };
  },
  [C.OFPT_ROLE_REQUEST]: (r, xid, version) => {
    const role = r.u32();
    r.skip(4);
    return { type: 'role_request', version, xid, role, generationId: r.u64() };
  },
  [C.OFPT_ROLE_REPLY]: (r, xid, version) => {
    const role = r.u32();
    r.skip(4);
    return { type: 'role_reply', version, xid, role, generationId: r.u64() };
  },
  [C.OFPT_GET_ASYNC_REQUEST]: (_r, xid, version) => ({ type: 'get_async_request', version, xid }),
  [C.OFPT_GET_ASYNC_REPLY]: (r, xid, version) => ({ type: 'get_async_reply', version, xid, ...decodeAsync(r) }),
  [C.OFPT_SET_ASYNC]: (r, xid, version) => ({ type: 'set_async', version, xid, ...decodeAsync(r) }),
  [C.OFPT_METER_MOD]: (r, xid, version) => {
    const command = r.u16();
    const flags = r.u16();
    const meterId = r.u32();
    return { type: 'meter_mod', version, xid, command, flags, meterId, bands: decodeMeterBands(r.sub(r.remaining)) };
  },
};

/** A decode failure (module-level: decodeMessage runs per message, a closure per call costs). */
function failed(version: number, msgType: number, xid: number, error: OfpDecodeError): DecodeResult {
  return { ok: false, error, version, msgType, xid };
}

/**
 * Decodes one whole OpenFlow message (exactly the bytes its header's length names).
 * Never throws: malformed input yields `{ ok: false, error }` with the OpenFlow error to send.
 */
export function decodeMessage(buf: Buffer): DecodeResult {
  const version = buf.length >= 1 ? buf[0]! : 0;
  const msgType = buf.length >= 2 ? buf[1]! : 0;
  const xid = buf.length >= 8 ? buf.readUInt32BE(4) : 0;
  try {
    if (buf.length < C.OFP_HEADER_LEN) {
      return failed(version, msgType, xid, new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `message of ${buf.length} bytes`));
    }
    const length = buf.readUInt16BE(2);
    if (length !== buf.length) {
      return failed(version, msgType, xid, new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `header length ${length}, message ${buf.length} bytes`));
    }
    // HELLO and ERROR have one layout in every version (HELLO_FAILED must reach any peer).
    if (version !== C.OFP_VERSION && msgType !== C.OFPT_HELLO && msgType !== C.OFPT_ERROR) {
      return failed(version, msgType, xid, new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION, `OpenFlow version 0x${version.toString(16)}`));
    }
    const decoder = DECODERS[msgType];
    if (!decoder) return failed(version, msgType, xid, new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE, `message type ${msgType}`));
    const r = new WireReader(buf, C.OFP_HEADER_LEN, buf.length, MESSAGE_LEN_ERROR);
    const message = decoder(r, xid, version);
    if (r.remaining !== 0) {
      return failed(version, msgType, xid, new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `${r.remaining} trailing bytes`));
    }
    return { ok: true, message };
  } catch (e) {
    if (e instanceof OfpDecodeError) return failed(version, msgType, xid, e);
    // A bug in a decoder must still not take the connection down: report it as a bad request,
    // marked so that tests (the fuzz test above all) can tell a decoder fault from bad input.
    return failed(version, msgType, xid, new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, `${DECODER_FAULT}: ${(e as Error).message}`));
  }
}

function encodeBody(w: WireWriter, m: OfpMessage): void {
  switch (m.type) {
    case 'hello':
      for (const e of m.elements) {
        const start = w.pos;
        w.u16(e.type === 'versionbitmap' ? C.OFPHET_VERSIONBITMAP : e.elementType); w.u16(0);
        if (e.type === 'versionbitmap') for (const b of e.bitmaps) w.u32(b);
        else w.bytes(e.data);
        w.patchU16(start + 2, w.pos - start);
        w.padTo(start, 8);
      }
      return;
    case 'error':
      w.u16(m.errType); w.u16(m.code);
      if (m.errType === 0xffff) w.u32(m.experimenter ?? 0);
      w.bytes(m.data);
      return;
    case 'echo_request': case 'echo_reply':
      w.bytes(m.data);
      return;
    case 'experimenter':
      w.u32(m.experimenter); w.u32(m.expType); w.bytes(m.data);
      return;
    case 'bundle_control':
      w.u32(C.ONF_EXPERIMENTER_ID); w.u32(C.ONFT_BUNDLE_CONTROL);
      w.u32(m.bundleId); w.u16(m.controlType); w.u16(m.flags); w.bytes(m.properties);
      return;
    case 'bundle_add':
      w.u32(C.ONF_EXPERIMENTER_ID); w.u32(C.ONFT_BUNDLE_ADD_MESSAGE);
      w.u32(m.bundleId); w.zeros(2); w.u16(m.flags);
      w.bytes(encodeMessage(m.message)); w.bytes(m.properties);
      return;
    case 'features_request': case 'get_config_request': case 'barrier_request': case 'barrier_reply':
    case 'get_async_request':
      return;
    case 'features_reply':
      w.u64(m.datapathId); w.u32(m.nBuffers); w.u8(m.nTables); w.u8(m.auxiliaryId); w.zeros(2);
      w.u32(m.capabilities); w.u32(m.reserved);
      return;
    case 'get_config_reply': case 'set_config':
      w.u16(m.flags); w.u16(m.missSendLen);
      return;
    case 'packet_in':
      w.u32(m.bufferId); w.u16(m.totalLen); w.u8(m.reason); w.u8(m.tableId); w.u64(m.cookie);
      encodeMatch(w, m.match); w.zeros(2); w.bytes(m.data);
      return;
    case 'flow_removed':
      w.u64(m.cookie); w.u16(m.priority); w.u8(m.reason); w.u8(m.tableId); w.u32(m.durationSec);
      w.u32(m.durationNsec); w.u16(m.idleTimeout); w.u16(m.hardTimeout); w.u64(m.packetCount); w.u64(m.byteCount);
      encodeMatch(w, m.match);
      return;
    case 'port_status':
      w.u8(m.reason); w.zeros(7); encodePort(w, m.port);
      return;
    case 'packet_out': {
      w.u32(m.bufferId); w.u32(m.inPort);
      const lenAt = w.pos;
      w.u16(0); w.zeros(6);
      const actionsStart = w.pos;
      encodeActions(w, m.actions);
      w.patchU16(lenAt, w.pos - actionsStart);
      w.bytes(m.data);
      return;
    }
    case 'flow_mod':
      w.u64(m.cookie); w.u64(m.cookieMask); w.u8(m.tableId); w.u8(m.command); w.u16(m.idleTimeout);
      w.u16(m.hardTimeout); w.u16(m.priority); w.u32(m.bufferId); w.u32(m.outPort); w.u32(m.outGroup);
      w.u16(m.flags); w.zeros(2);
      encodeMatch(w, m.match); encodeInstructions(w, m.instructions);
      return;
    case 'group_mod':
      w.u16(m.command); w.u8(m.groupType); w.zeros(1); w.u32(m.groupId); encodeBuckets(w, m.buckets);
      return;
    case 'port_mod':
      w.u32(m.portNo); w.zeros(4); writeMacField(w, m.hwAddr); w.zeros(2);
      w.u32(m.config); w.u32(m.mask); w.u32(m.advertise); w.zeros(4);
      return;
    case 'table_mod':
      w.u8(m.tableId); w.zeros(3); w.u32(m.config);
      return;
    case 'multipart_request':
      w.u16(MULTIPART_TYPE_CODES[m.body.mpType]); w.u16(m.flags); w.zeros(4);
      encodeMultipartRequestBody(w, m.body);
      return;
    case 'multipart_reply':
      w.u16(MULTIPART_TYPE_CODES[m.body.mpType]); w.u16(m.flags); w.zeros(4);
      encodeMultipartReplyBody(w, m.body);
      return;
    case 'queue_get_config_request':
      w.u32(m.port); w.zeros(4);
      return;
    case 'queue_get_config_reply':
      w.u32(m.port); w.zeros(4); encodePacketQueues(w, m.queues);
      return;
    case 'role_request': case 'role_reply':
      w.u32(m.role); w.zeros(4); w.u64(m.generationId);
      return;
    case 'get_async_reply': case 'set_async':
      w.u32(m.packetInMask[0]); w.u32(m.packetInMask[1]); w.u32(m.portStatusMask[0]); w.u32(m.portStatusMask[1]);
      w.u32(m.flowRemovedMask[0]); w.u32(m.flowRemovedMask[1]);
      return;
    case 'meter_mod':
      w.u16(m.command); w.u16(m.flags); w.u32(m.meterId); encodeMeterBands(w, m.bands);
      return;
  }
}

/** Encodes a message; throws OfpEncodeError if it cannot be represented on the wire. */
export function encodeMessage(m: OfpMessage): Buffer {
  const w = new WireWriter(m.type === 'multipart_reply' ? 1024 : 128);
  w.u8(m.version ?? C.OFP_VERSION);
  w.u8(MESSAGE_TYPE_CODES[m.type]);
  w.u16(0);
  w.u32(m.xid);
  encodeBody(w, m);
  if (w.pos > C.OFP_MAX_MESSAGE_LEN) throw new OfpEncodeError(`${m.type} of ${w.pos} bytes exceeds 65535`);
  w.patchU16(2, w.pos);
  return w.finish();
}
