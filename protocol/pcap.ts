/**
 * Packet captures of OpenFlow sessions.
 *
 * A capture is a file of timestamped link-layer frames. This module turns captures into
 * OpenFlow messages and back, in three layers:
 *
 *   1. Container: classic pcap (both byte orders, microsecond and nanosecond magic) and pcapng
 *      (sections, interfaces, enhanced/simple/obsolete packet blocks) become `PcapRecord`s.
 *   2. TCP: each record's frame (Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback) is
 *      decoded to an IPv4/IPv6 TCP segment; segments are grouped by 4-tuple into
 *      `TcpConversation`s and each direction's byte stream is reassembled by sequence number.
 *   3. OpenFlow: a reassembled stream is cut into messages by the length in each 8-byte header.
 *
 * The writer goes the other way: `writeOpenFlowPcap` lays a list of OpenFlow messages out as one
 * synthetic loopback TCP connection (handshake, data, ACKs, teardown) in a classic pcap that
 * Wireshark/tshark and `ovs-ofctl ofp-parse-pcap` read.
 *
 * Units: every name ending in `Us` is a time in microseconds since the UNIX epoch, held in a plain
 * number (exact until the year 2255). Other lengths and offsets are in bytes.
 *
 * Errors: damage to the container (bad magic, truncated header or record, inconsistent block
 * length, an option overrunning its block, a packet on an undeclared interface) throws a
 * `PcapFormatError`, because nothing after it can be located reliably. Damage inside one frame
 * (too short for its headers, truncated by the snap length, not TCP) only skips that frame in
 * `extractTcpStreams`: one bad frame must not hide a whole session. TCP and IP checksums are not
 * verified on read (loopback captures routinely carry unfinished, offloaded checksums).
 *
 * Record data are views into the input buffer, not copies.
 */

import { formatIpv4, formatIpv6, writeIpv4 } from './addresses.ts';
import { OFP_HEADER_LEN } from './constants.ts';

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */
/* ------------------------------------------------------------------------------------------ */

export type PcapErrorCode =
  | 'PCAP_BAD_MAGIC'
  | 'PCAP_UNSUPPORTED_VERSION'
  | 'PCAP_TRUNCATED'
  | 'PCAP_BAD_BLOCK_LENGTH'
  | 'PCAP_BAD_OPTION'
  | 'PCAP_UNKNOWN_INTERFACE';

/** A capture file that cannot be read; `code` is stable, the message says where and why. */
export class PcapFormatError extends Error {
  readonly code: PcapErrorCode;

  constructor(code: PcapErrorCode, message: string) {
    super(message);
    this.name = 'PcapFormatError';
    this.code = code;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Constants                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Link-layer header types (tcpdump.org/linktypes.html). */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAPNG_BLOCK_SECTION_HEADER = 0x0a0d0d0a;
export const PCAPNG_BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
export const PCAPNG_BLOCK_OBSOLETE_PACKET = 0x00000002;
export const PCAPNG_BLOCK_SIMPLE_PACKET = 0x00000003;
export const PCAPNG_BLOCK_ENHANCED_PACKET = 0x00000006;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;
/** epb_flags and the obsolete block's pack_flags share option code 2. */
const EPB_FLAGS = 2;

const PCAP_FILE_HEADER_LENGTH = 24;
const PCAP_RECORD_HEADER_LENGTH = 16;
const DEFAULT_SNAP_LENGTH = 262144;
const DEFAULT_TSRESOL = 6;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const IPPROTO_TCP = 6;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/* ------------------------------------------------------------------------------------------ */
/* Layer 1: capture containers                                                                 */
/* ------------------------------------------------------------------------------------------ */

export type PacketDirection = 'inbound' | 'outbound';

/** One captured frame. pcapng records also say which interface and, if recorded, direction. */
export interface PcapRecord {
  timestampUs: number;
  linkType: number;
  /** The captured bytes (a view into the file buffer); may be shorter than `originalLength`. */
  data: Buffer;
  originalLength: number;
  /** pcapng only: interface ID within its section (the IDB's position). */
  interfaceId?: number;
  /** pcapng only: the interface's if_name, when it has one. */
  interfaceName?: string;
  /** pcapng only: direction bits 0-1 of epb_flags (1 inbound, 2 outbound). */
  direction?: PacketDirection;
}

/** One capture interface: a pcapng Interface Description Block, or a classic pcap's header. */
export interface PcapInterface {
  /** Interface ID within its section, as packet blocks refer to it. */
  id: number;
  /** 0-based pcapng section; always 0 for classic pcap. */
  section: number;
  linkType: number;
  /** 0 = unlimited. */
  snapLength: number;
  name?: string;
  description?: string;
  /** if_tsresol byte: high bit clear = 10^-n s, set = 2^-n s per tick. */
  timestampResolution: number;
  /** if_tsoffset, seconds added to every timestamp. */
  timestampOffsetSeconds: number;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  interfaces: PcapInterface[];
  records: PcapRecord[];
}

/** Reads a classic pcap or pcapng file: every interface and every packet, in file order. */
export function readCapture(buf: Buffer): Capture {
  requireBytes(buf, 0, 4, 'file magic');
  if (buf.readUInt32LE(0) === PCAPNG_BLOCK_SECTION_HEADER) return readPcapng(buf);
  return readClassicPcap(buf);
}

/** The packets of a classic pcap or pcapng file (see `readCapture` for the interfaces too). */
export function readPcap(buf: Buffer): PcapRecord[] {
  return readCapture(buf).records;
}

/** The interfaces of a classic pcap (one, from its header) or pcapng file. */
export function readPcapInterfaces(buf: Buffer): PcapInterface[] {
  return readCapture(buf).interfaces;
}

function requireBytes(buf: Buffer, offset: number, length: number, what: string): void {
  if (offset + length > buf.length) {
    throw new PcapFormatError(
      'PCAP_TRUNCATED',
      `capture truncated: ${what} needs ${length} bytes at offset ${offset}, file has ${buf.length}`,
    );
  }
}

/** Reads integers in one byte order; pcap files are written in the writer's native order. */
class ByteOrderReader {
  constructor(
    readonly buf: Buffer,
    readonly littleEndian: boolean,
  ) {}

  u16(offset: number): number {
    return this.littleEndian ? this.buf.readUInt16LE(offset) : this.buf.readUInt16BE(offset);
  }

  u32(offset: number): number {
    return this.littleEndian ? this.buf.readUInt32LE(offset) : this.buf.readUInt32BE(offset);
  }

  i64(offset: number): bigint {
    return this.littleEndian ? this.buf.readBigInt64LE(offset) : this.buf.readBigInt64BE(offset);
  }
}

/* ---- classic pcap ---- */

function readClassicPcap(buf: Buffer): Capture {
  requireBytes(buf, 0, PCAP_FILE_HEADER_LENGTH, 'pcap file header');
  const header = classicHeaderFormat(buf);
  const reader = new ByteOrderReader(buf, header.littleEndian);
  const major = reader.u16(4);
  if (major !== 2) {
    throw new PcapFormatError('PCAP_UNSUPPORTED_VERSION', `pcap version ${major} is not 2`);
  }
  const snapLength = reader.u32(16);
  // The upper bits of the link-type word carry FCS information, not the type.
  const linkType = reader.u32(20) & 0xffff;
  const records: PcapRecord[] = [];
  let offset = PCAP_FILE_HEADER_LENGTH;
  while (offset < buf.length) {
    const what = `pcap record ${records.length}`;
    requireBytes(buf, offset, PCAP_RECORD_HEADER_LENGTH, `${what} header`);
    const seconds = reader.u32(offset);
    const fraction = reader.u32(offset + 4);
    const capturedLength = reader.u32(offset + 8);
    const originalLength = reader.u32(offset + 12);
    const dataStart = offset + PCAP_RECORD_HEADER_LENGTH;
    requireBytes(buf, dataStart, capturedLength, `${what} data`);
    const subsecondUs = header.nanoseconds ? Math.floor(fraction / 1000) : fraction;
    records.push({
      timestampUs: seconds * 1e6 + subsecondUs,
      linkType,
      data: buf.subarray(dataStart, dataStart + capturedLength),
      originalLength,
    });
    offset = dataStart + capturedLength;
  }
  const timestampResolution = header.nanoseconds ? 9 : 6;
  const iface: PcapInterface = {
    id: 0, section: 0, linkType, snapLength, timestampResolution, timestampOffsetSeconds: 0,
  };
  return { format: 'pcap', interfaces: [iface], records };
}

function classicHeaderFormat(buf: Buffer): { littleEndian: boolean; nanoseconds: boolean } {
  const little = buf.readUInt32LE(0);
  const big = buf.readUInt32BE(0);
  for (const [magic, nanoseconds] of [[PCAP_MAGIC_MICROSECONDS, false], [PCAP_MAGIC_NANOSECONDS, true]] as const) {
    if (little === magic) return { littleEndian: true, nanoseconds };
    if (big === magic) return { littleEndian: false, nanoseconds };
  }
  throw new PcapFormatError(
    'PCAP_BAD_MAGIC',
    `not a pcap or pcapng file: bad magic 0x${big.toString(16).padStart(8, '0')}`,
  );
}

/* ---- pcapng ---- */

/** State of the pcapng section being read: its byte order and its interfaces. */
interface PcapngSection {
  index: number;
  reader: ByteOrderReader;
  interfaces: PcapInterface[];
}

interface PcapngOption {
  code: number;
  value: Buffer;
}

const PCAPNG_BLOCK_OVERHEAD = 12; // type, length, trailing length

function readPcapng(buf: Buffer): Capture {
  const interfaces: PcapInterface[] = [];
  const records: PcapRecord[] = [];
  let section: PcapngSection | undefined;
  let offset = 0;
  while (offset < buf.length) {
    requireBytes(buf, offset, 8, 'pcapng block header');
    if (buf.readUInt32LE(offset) === PCAPNG_BLOCK_SECTION_HEADER) {
      section = startSection(buf, offset, section === undefined ? 0 : section.index + 1);
    } else if (section === undefined) {
      throw new PcapFormatError('PCAP_BAD_MAGIC', 'pcapng file does not start with a section header');
    }
    const { reader } = section;
    const type = reader.u32(offset);
    const blockLength = checkedBlockLength(reader, offset);
    const body = buf.subarray(offset + 8, offset + blockLength - 4);
    const bodyReader = new ByteOrderReader(body, reader.littleEndian);
    const where = `pcapng block at offset ${offset}`;
    if (type === PCAPNG_BLOCK_INTERFACE_DESCRIPTION) {
      const iface = parseInterfaceDescription(bodyReader, section, where);
      section.interfaces.push(iface);
      interfaces.push(iface);
    } else if (type === PCAPNG_BLOCK_ENHANCED_PACKET || type === PCAPNG_BLOCK_OBSOLETE_PACKET) {
      records.push(parseTimestampedPacket(bodyReader, type, section, where));
    } else if (type === PCAPNG_BLOCK_SIMPLE_PACKET) {
      const previousUs = records.length > 0 ? records[records.length - 1]!.timestampUs : 0;
      records.push(parseSimplePacket(bodyReader, section, previousUs, where));
    }
    // Any other block type (name resolution, statistics, custom, ...) is skipped.
    offset += blockLength;
  }
  return { format: 'pcapng', interfaces, records };
}

function startSection(buf: Buffer, offset: number, index: number): PcapngSection {
  // type, length, byte-order magic, major, minor, section length (8), trailing length
  requireBytes(buf, offset, 28, 'pcapng section header block');
  const magic = buf.readUInt32LE(offset + 8);
  let littleEndian: boolean;
  if (magic === PCAPNG_BYTE_ORDER_MAGIC) littleEndian = true;
  else if (buf.readUInt32BE(offset + 8) === PCAPNG_BYTE_ORDER_MAGIC) littleEndian = false;
  else {
    throw new PcapFormatError('PCAP_BAD_MAGIC', `pcapng section at offset ${offset}: bad byte-order magic`);
  }
  const reader = new ByteOrderReader(buf, littleEndian);
  const major = reader.u16(offset + 12);
  if (major !== 1) {
    throw new PcapFormatError('PCAP_UNSUPPORTED_VERSION', `pcapng section at offset ${offset}: version ${major} is not 1`);
  }
  return { index, reader, interfaces: [] };
}

/** The block's total length, after checking it against the file and its trailing copy. */
function checkedBlockLength(reader: ByteOrderReader, offset: number): number {
  const length = reader.u32(offset + 4);
  const fits = offset + length <= reader.buf.length;
  if (length < PCAPNG_BLOCK_OVERHEAD || length % 4 !== 0 || !fits) {
    throw new PcapFormatError(
      fits ? 'PCAP_BAD_BLOCK_LENGTH' : 'PCAP_TRUNCATED',
      `pcapng block at offset ${offset}: length ${length} is invalid or runs past the end of the file (${reader.buf.length} bytes)`,
    );
  }
  const trailing = reader.u32(offset + length - 4);
  if (trailing !== length) {
    throw new PcapFormatError(
      'PCAP_BAD_BLOCK_LENGTH',
      `pcapng block at offset ${offset}: length ${length} does not match trailing length ${trailing}`,
    );
  }
  return length;
}

function parseOptions(body: ByteOrderReader, start: number, where: string): PcapngOption[] {
  const options: PcapngOption[] = [];
  let offset = start;
  while (offset + 4 <= body.buf.length) {
    const code = body.u16(offset);
    const length = body.u16(offset + 2);
    if (code === OPT_ENDOFOPT) break;
    const valueStart = offset + 4;
    if (valueStart + length > body.buf.length) {
      throw new PcapFormatError('PCAP_BAD_OPTION', `${where}: option ${code} (${length} bytes) overruns the block`);
    }
    options.push({ code, value: body.buf.subarray(valueStart, valueStart + length) });
    offset = valueStart + padTo4(length);
  }
  return options;
}

function padTo4(length: number): number {
  return (length + 3) & ~3;
}

function requireBody(body: ByteOrderReader, length: number, where: string): void {
  if (body.buf.length < length) {
    throw new PcapFormatError('PCAP_BAD_BLOCK_LENGTH', `${where}: block body of ${body.buf.length} bytes is shorter than ${length}`);
  }
}

function parseInterfaceDescription(body: ByteOrderReader, section: PcapngSection, where: string): PcapInterface {
  requireBody(body, 8, where);
  const iface: PcapInterface = {
    id: section.interfaces.length,
    section: section.index,
    linkType: body.u16(0),
    snapLength: body.u32(4),
    timestampResolution: DEFAULT_TSRESOL,
    timestampOffsetSeconds: 0,
  };
  for (const option of parseOptions(body, 8, where)) {
    if (option.code === IF_NAME) iface.name = optionString(option.value);
    else if (option.code === IF_DESCRIPTION) iface.description = optionString(option.value);
    else if (option.code === IF_TSRESOL && option.value.length >= 1) iface.timestampResolution = option.value[0]!;
    else if (option.code === IF_TSOFFSET && option.value.length === 8) {
      iface.timestampOffsetSeconds = Number(new ByteOrderReader(option.value, body.littleEndian).i64(0));
    }
  }
  return iface;
}

/** pcapng strings are UTF-8, not necessarily NUL-terminated; some writers add NULs anyway. */
function optionString(value: Buffer): string {
  return value.toString('utf8').replace(/\0+$/, '');
}

function interfaceFor(section: PcapngSection, id: number, where: string): PcapInterface {
  const iface = section.interfaces[id];
  if (iface === undefined) {
    throw new PcapFormatError('PCAP_UNKNOWN_INTERFACE', `${where}: packet on interface ${id}, which the section does not describe`);
  }
  return iface;
}

/** Enhanced Packet Block, or the Obsolete Packet Block it replaced (same fields, 16-bit id). */
function parseTimestampedPacket(body: ByteOrderReader, type: number, section: PcapngSection, where: string): PcapRecord {
  requireBody(body, 20, where);
  const obsolete = type === PCAPNG_BLOCK_OBSOLETE_PACKET;
  const iface = interfaceFor(section, obsolete ? body.u16(0) : body.u32(0), where);
  const capturedLength = body.u32(12);
  if (20 + capturedLength > body.buf.length) {
    throw new PcapFormatError('PCAP_BAD_BLOCK_LENGTH', `${where}: captured length ${capturedLength} overruns the block`);
  }
  const record = packetRecord(iface, body.buf.subarray(20, 20 + capturedLength), body.u32(16));
  record.timestampUs = ticksToMicroseconds(body.u32(4), body.u32(8), iface);
  for (const option of parseOptions(body, 20 + padTo4(capturedLength), where)) {
    if (option.code === EPB_FLAGS && option.value.length === 4) {
      const direction = directionFromFlags(new ByteOrderReader(option.value, body.littleEndian).u32(0));
      if (direction !== undefined) record.direction = direction;
    }
  }
  return record;
}

/** Simple Packet Block: interface 0, no timestamp (we reuse the previous record's). */
function parseSimplePacket(body: ByteOrderReader, section: PcapngSection, timestampUs: number, where: string): PcapRecord {
  requireBody(body, 4, where);
  const iface = interfaceFor(section, 0, where);
  const originalLength = body.u32(0);
  // The captured length is implied: the original length cut to the snap length and the block.
  const snapLength = iface.snapLength === 0 ? Infinity : iface.snapLength;
  const capturedLength = Math.min(originalLength, snapLength, body.buf.length - 4);
  const record = packetRecord(iface, body.buf.subarray(4, 4 + capturedLength), originalLength);
  record.timestampUs = timestampUs;
  return record;
}

function packetRecord(iface: PcapInterface, data: Buffer, originalLength: number): PcapRecord {
  const record: PcapRecord = { timestampUs: 0, linkType: iface.linkType, data, originalLength, interfaceId: iface.id };
  if (iface.name !== undefined) record.interfaceName = iface.name;
  return record;
}

function directionFromFlags(flags: number): PacketDirection | undefined {
  switch (flags & 0x3) {
    case 1: return 'inbound';
    case 2: return 'outbound';
    default: return undefined;
  }
}

/** Converts a 64-bit pcapng timestamp in the interface's units to microseconds. */
function ticksToMicroseconds(high: number, low: number, iface: PcapInterface): number {
  const offsetUs = iface.timestampOffsetSeconds * 1e6;
  const resolution = iface.timestampResolution;
  if (resolution === DEFAULT_TSRESOL) return high * 2 ** 32 + low + offsetUs;
  const ticks = (BigInt(high) << 32n) | BigInt(low);
  const exponent = BigInt(resolution & 0x7f);
  let microseconds: bigint;
  if ((resolution & 0x80) !== 0) microseconds = (ticks * 1_000_000n) >> exponent;
  else if (exponent >= 6n) microseconds = ticks / 10n ** (exponent - 6n);
  else microseconds = ticks * 10n ** (6n - exponent);
  return Number(microseconds) + offsetUs;
}

/** Writes records as a classic little-endian microsecond pcap. */
export function writePcap(
  records: ReadonlyArray<{ timestampUs: number; data: Buffer; originalLength?: number }>,
  options: { linkType?: number; snapLength?: number } = {},
): Buffer {
  const header = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  header.writeUInt32LE(PCAP_MAGIC_MICROSECONDS, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(options.snapLength ?? DEFAULT_SNAP_LENGTH, 16);
  header.writeUInt32LE(options.linkType ?? LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  for (const record of records) {
    checkTimestamp(record.timestampUs);
    const recordHeader = Buffer.alloc(PCAP_RECORD_HEADER_LENGTH);
    recordHeader.writeUInt32LE(Math.floor(record.timestampUs / 1e6), 0);
    recordHeader.writeUInt32LE(record.timestampUs % 1e6, 4);
    recordHeader.writeUInt32LE(record.data.length, 8);
    recordHeader.writeUInt32LE(record.originalLength ?? record.data.length, 12);
    parts.push(recordHeader, record.data);
  }
  return Buffer.concat(parts);
}

function checkTimestamp(timestampUs: number): void {
  if (!Number.isSafeInteger(timestampUs) || timestampUs < 0 || timestampUs >= 2 ** 32 * 1e6) {
    throw new RangeError(`timestamp ${timestampUs} µs is not a whole number of microseconds in the pcap range`);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 2: TCP conversations                                                                  */
/* ------------------------------------------------------------------------------------------ */

export interface TcpEndpoint {
  /** Dotted IPv4 or RFC 5952 IPv6 text. */
  address: string;
  port: number;
}

/** A run of stream bytes that arrived together, in one segment. */
export interface TcpStreamChunk {
  /** Offset of the first byte in the direction's stream (0 = first byte after the SYN). */
  offset: number;
  length: number;
  /** Capture time of the segment that first carried these bytes. */
  timestampUs: number;
  /** Index of that segment's record in the records given to `extractTcpStreams`. */
  recordIndex: number;
}

/** One direction of a TCP conversation, reassembled. */
export interface TcpStream {
  payload: Buffer;
  /** Covers `payload` exactly, in offset order, without overlap. */
  chunks: TcpStreamChunk[];
  /** Some bytes were never captured; `payload` stops before the first missing byte. */
  hasGap: boolean;
  /** A FIN was seen in this direction. */
  finished: boolean;
}

export interface TcpConversation {
  client: TcpEndpoint;
  server: TcpEndpoint;
  /** A SYN-ACK was seen, or data flowed (a capture that starts mid-connection). */
  established: boolean;
  /** An RST was seen in either direction. */
  reset: boolean;
  firstTimestampUs: number;
  firstRecordIndex: number;
  clientToServer: TcpStream;
  serverToClient: TcpStream;
}

export interface ExtractTcpStreamsOptions {
  /** Keep only conversations with an endpoint on this port, and make that endpoint the server. */
  port?: number;
}

/** A decoded TCP segment; `payload` is a view into the record. */
interface TcpSegment {
  source: TcpEndpoint;
  destination: TcpEndpoint;
  seq: number;
  flags: number;
  payload: Buffer;
}

interface NetworkPacket {
  source: string;
  destination: string;
  protocol: number;
  payload: Buffer;
}

/** Segments as received in one direction, before reassembly. */
interface DirectionState {
  /** Sequence number of this direction's SYN, once seen. */
  initialSeq?: number;
  received: Array<{ dataSeq: number; payload: Buffer; timestampUs: number; recordIndex: number }>;
  finished: boolean;
}

interface ConversationState {
  client: TcpEndpoint;
  server: TcpEndpoint;
  /** ISN of the SYN (without ACK) that opened this conversation: a different one opens another. */
  openingSeq?: number;
  synAckSeen: boolean;
  reset: boolean;
  firstTimestampUs: number;
  firstRecordIndex: number;
  toServer: DirectionState;
  toClient: DirectionState;
}

/**
 * Groups the TCP segments in `records` into conversations (in order of their first segment) and
 * reassembles both directions. Frames that are not TCP, or cannot be decoded, are skipped.
 * Overlapping or retransmitted bytes keep the copy that was captured first.
 */
export function extractTcpStreams(records: readonly PcapRecord[], options: ExtractTcpStreamsOptions = {}): TcpConversation[] {
  const current = new Map<string, ConversationState>();
  const all: ConversationState[] = [];
  records.forEach((record, recordIndex) => {
    const segment = decodeTcpSegment(record);
    if (segment === undefined) return;
    const { port } = options;
    if (port !== undefined && segment.source.port !== port && segment.destination.port !== port) return;
    const key = conversationKey(segment.source, segment.destination);
    let conversation = current.get(key);
    if (conversation === undefined || opensNewConversation(conversation, segment)) {
      conversation = newConversation(segment, record.timestampUs, recordIndex, port);
      current.set(key, conversation);
      all.push(conversation);
    }
    addSegment(conversation, segment, record.timestampUs, recordIndex);
  });
  return all.map(finishConversation);
}

function conversationKey(a: TcpEndpoint, b: TcpEndpoint): string {
  const [first, second] = [`${a.address}/${a.port}`, `${b.address}/${b.port}`].sort();
  return `${first} ${second}`;
}

function isOpeningSyn(segment: TcpSegment): boolean {
  return (segment.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
}

/** A SYN that is not a retransmission of the one that opened the current conversation. */
function opensNewConversation(conversation: ConversationState, segment: TcpSegment): boolean {
  return isOpeningSyn(segment) && conversation.openingSeq !== segment.seq;
}

function newConversation(segment: TcpSegment, timestampUs: number, recordIndex: number, port: number | undefined): ConversationState {
  const serverIsDestination = chooseServerIsDestination(segment, port);
  const emptyDirection = (): DirectionState => ({ received: [], finished: false });
  return {
    client: serverIsDestination ? segment.source : segment.destination,
    server: serverIsDestination ? segment.destination : segment.source,
    synAckSeen: false,
    reset: false,
    firstTimestampUs: timestampUs,
    firstRecordIndex: recordIndex,
    toServer: emptyDirection(),
    toClient: emptyDirection(),
  };
}

/** Who is the server: the endpoint on `port`, else the SYN's target, else the lower port. */
function chooseServerIsDestination(segment: TcpSegment, port: number | undefined): boolean {
  if (port !== undefined && segment.source.port !== segment.destination.port) return segment.destination.port === port;
  if ((segment.flags & TCP_SYN) !== 0) return (segment.flags & TCP_ACK) === 0;
  return segment.destination.port <= segment.source.port;
}

function sameEndpoint(a: TcpEndpoint, b: TcpEndpoint): boolean {
  return a.port === b.port && a.address === b.address;
}

function addSegment(conversation: ConversationState, segment: TcpSegment, timestampUs: number, recordIndex: number): void {
  const toServer = sameEndpoint(segment.destination, conversation.server) && sameEndpoint(segment.source, conversation.client);
  const direction = toServer ? conversation.toServer : conversation.toClient;
  const { flags } = segment;
  if ((flags & TCP_SYN) !== 0) {
    direction.initialSeq = segment.seq;
    if ((flags & TCP_ACK) === 0) conversation.openingSeq = segment.seq;
    else conversation.synAckSeen = true;
  }
  if ((flags & TCP_RST) !== 0) conversation.reset = true;
  if ((flags & TCP_FIN) !== 0) direction.finished = true;
  if (segment.payload.length === 0 || (flags & TCP_RST) !== 0) return;
  // Data on a SYN (TCP Fast Open) starts after the sequence number the SYN itself consumes.
  const dataSeq = (flags & TCP_SYN) !== 0 ? (segment.seq + 1) >>> 0 : segment.seq;
  direction.received.push({ dataSeq, payload: segment.payload, timestampUs, recordIndex });
}

function finishConversation(state: ConversationState): TcpConversation {
  const clientToServer = reassemble(state.toServer);
  const serverToClient = reassemble(state.toClient);
  const carriedData = clientToServer.payload.length > 0 || serverToClient.payload.length > 0;
  return {
    client: state.client,
    server: state.server,
    established: state.synAckSeen || carriedData,
    reset: state.reset,
    firstTimestampUs: state.firstTimestampUs,
    firstRecordIndex: state.firstRecordIndex,
    clientToServer,
    serverToClient,
  };
}

/** Signed distance from sequence number `from` to `to`, modulo 2^32. */
function sequenceDistance(from: number, to: number): number {
  return (to - from) | 0;
}

interface ReceivedChunk extends TcpStreamChunk {
  data: Buffer;
}

function reassemble(direction: DirectionState): TcpStream {
  const chunks: ReceivedChunk[] = [];
  const baseSeq = streamBaseSeq(direction);
  for (const segment of direction.received) {
    let start = sequenceDistance(baseSeq, segment.dataSeq);
    let data = segment.payload;
    if (start + data.length <= 0) continue; // wholly before the stream start
    if (start < 0) {
      data = data.subarray(-start);
      start = 0;
    }
    insertUncovered(chunks, start, data, segment.timestampUs, segment.recordIndex);
  }
  const contiguous: ReceivedChunk[] = [];
  let end = 0;
  for (const chunk of chunks) {
    if (chunk.offset !== end) break;
    contiguous.push(chunk);
    end += chunk.length;
  }
  return {
    payload: Buffer.concat(contiguous.map((chunk) => chunk.data)),
    chunks: contiguous.map(({ offset, length, timestampUs, recordIndex }) => ({ offset, length, timestampUs, recordIndex })),
    hasGap: contiguous.length < chunks.length,
    finished: direction.finished,
  };
}

/** The sequence number of stream offset 0: after the SYN, or the lowest one seen without it. */
function streamBaseSeq(direction: DirectionState): number {
  if (direction.initialSeq !== undefined) return (direction.initialSeq + 1) >>> 0;
  let base = direction.received[0]?.dataSeq ?? 0;
  for (const segment of direction.received) {
    if (sequenceDistance(base, segment.dataSeq) < 0) base = segment.dataSeq;
  }
  return base;
}

/**
 * Adds the parts of [start, start + data.length) that no chunk covers yet to `chunks` (sorted by
 * offset, non-overlapping), so the first captured copy of every byte wins.
 */
function insertUncovered(chunks: ReceivedChunk[], start: number, data: Buffer, timestampUs: number, recordIndex: number): void {
  const end = start + data.length;
  const piece = (from: number, to: number): ReceivedChunk => ({
    offset: from, length: to - from, timestampUs, recordIndex, data: data.subarray(from - start, to - start),
  });
  let index = firstChunkEndingAfter(chunks, start);
  let cursor = start;
  while (cursor < end) {
    const next = chunks[index];
    if (next === undefined || next.offset >= end) {
      chunks.splice(index, 0, piece(cursor, end));
      return;
    }
    if (next.offset > cursor) {
      chunks.splice(index, 0, piece(cursor, next.offset));
      index++;
    }
    cursor = Math.max(cursor, next.offset + next.length);
    index++;
  }
}

/** Binary search: index of the first chunk whose end is after `offset`. */
function firstChunkEndingAfter(chunks: readonly ReceivedChunk[], offset: number): number {
  let low = 0;
  let high = chunks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const chunk = chunks[middle]!;
    if (chunk.offset + chunk.length <= offset) low = middle + 1;
    else high = middle;
  }
  return low;
}

/* ---- frame decoding: link layer -> IP -> TCP; undefined = skip this frame ---- */

function decodeTcpSegment(record: PcapRecord): TcpSegment | undefined {
  const packet = decodeNetworkPacket(record.linkType, record.data);
  if (packet === undefined || packet.protocol !== IPPROTO_TCP) return undefined;
  const tcp = packet.payload;
  if (tcp.length < 20) return undefined;
  const headerLength = (tcp[12]! >> 4) * 4;
  if (headerLength < 20 || headerLength > tcp.length) return undefined;
  return {
    source: { address: packet.source, port: tcp.readUInt16BE(0) },
    destination: { address: packet.destination, port: tcp.readUInt16BE(2) },
    seq: tcp.readUInt32BE(4),
    flags: tcp[13]!,
    payload: tcp.subarray(headerLength),
  };
}

function decodeNetworkPacket(linkType: number, frame: Buffer): NetworkPacket | undefined {
  const located = locateNetworkLayer(linkType, frame);
  if (located === undefined) return undefined;
  const packet = frame.subarray(located.offset);
  if (located.etherType === ETHERTYPE_IPV4) return decodeIpv4(packet);
  if (located.etherType === ETHERTYPE_IPV6) return decodeIpv6(packet);
  return undefined;
}

/** Where the IP header starts and which protocol the link layer says it is. */
function locateNetworkLayer(linkType: number, frame: Buffer): { etherType: number; offset: number } | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return locateInEthernet(frame);
    case LINKTYPE_LINUX_SLL:
      return frame.length >= 16 ? { etherType: frame.readUInt16BE(14), offset: 16 } : undefined;
    case LINKTYPE_LINUX_SLL2:
      return frame.length >= 20 ? { etherType: frame.readUInt16BE(0), offset: 20 } : undefined;
    case LINKTYPE_NULL:
      return frame.length >= 4 ? locateAfterLoopbackFamily(frame) : undefined;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return frame.length >= 1 ? { etherType: etherTypeFromIpVersion(frame[0]! >> 4), offset: 0 } : undefined;
    default:
      return undefined;
  }
}

function locateInEthernet(frame: Buffer): { etherType: number; offset: number } | undefined {
  let offset = 12;
  if (frame.length < offset + 2) return undefined;
  let etherType = frame.readUInt16BE(offset);
  while (ETHERTYPE_VLAN_TAGS.has(etherType)) {
    offset += 4;
    if (frame.length < offset + 2) return undefined;
    etherType = frame.readUInt16BE(offset);
  }
  return { etherType, offset: offset + 2 };
}

/** BSD loopback: a 4-byte address family in the capturing host's byte order. */
function locateAfterLoopbackFamily(frame: Buffer): { etherType: number; offset: number } {
  const family = Math.min(frame.readUInt32LE(0), frame.readUInt32BE(0));
  const AF_INET = 2;
  const AF_INET6_VALUES = [10, 24, 28, 30]; // Linux, NetBSD/OpenBSD, FreeBSD, macOS
  const etherType = family === AF_INET ? ETHERTYPE_IPV4 : AF_INET6_VALUES.includes(family) ? ETHERTYPE_IPV6 : 0;
  return { etherType, offset: 4 };
}

function etherTypeFromIpVersion(version: number): number {
  return version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
}

function decodeIpv4(packet: Buffer): NetworkPacket | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return undefined;
  const headerLength = (packet[0]! & 0x0f) * 4;
  const totalLength = packet.readUInt16BE(2);
  // The total length trims Ethernet padding; a packet cut by the snap length is unusable.
  if (headerLength < 20 || totalLength < headerLength || totalLength > packet.length) return undefined;
  const fragmented = (packet.readUInt16BE(6) & 0x3fff) !== 0; // MF flag or a fragment offset
  if (fragmented) return undefined;
  return {
    source: formatIpv4(packet, 12),
    destination: formatIpv4(packet, 16),
    protocol: packet[9]!,
    payload: packet.subarray(headerLength, totalLength),
  };
}

const IPV6_SKIPPABLE_EXTENSION_HEADERS = new Set([0, 43, 60]); // hop-by-hop, routing, destination

function decodeIpv6(packet: Buffer): NetworkPacket | undefined {
  if (packet.length < 40 || packet[0]! >> 4 !== 6) return undefined;
  const end = 40 + packet.readUInt16BE(4);
  if (end > packet.length) return undefined;
  let protocol = packet[6]!;
  let offset = 40;
  while (IPV6_SKIPPABLE_EXTENSION_HEADERS.has(protocol)) {
    if (offset + 8 > end) return undefined;
    protocol = packet[offset]!;
    offset += (packet[offset + 1]! + 1) * 8;
  }
  if (offset > end) return undefined;
  return {
    source: formatIpv6(packet, 8),
    destination: formatIpv6(packet, 24),
    protocol,
    payload: packet.subarray(offset, end),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 3: OpenFlow messages                                                                  */
/* ------------------------------------------------------------------------------------------ */

export interface SplitOpenFlowMessagesResult {
  /** Whole messages, in stream order (views into `stream`). */
  messages: Buffer[];
  /** The bytes after the last whole message: an incomplete message, or everything after a bad header. */
  rest: Buffer;
  /** Splitting stopped at a header whose length is below 8, the size of the header itself. */
  badLength: boolean;
}

/** Cuts a reassembled stream into OpenFlow messages by the big-endian length at offset 2. */
export function splitOpenFlowMessages(stream: Buffer): SplitOpenFlowMessagesResult {
  const messages: Buffer[] = [];
  let offset = 0;
  while (offset + OFP_HEADER_LEN <= stream.length) {
    const length = stream.readUInt16BE(offset + 2);
    if (length < OFP_HEADER_LEN) return { messages, rest: stream.subarray(offset), badLength: true };
    if (offset + length > stream.length) break;
    messages.push(stream.subarray(offset, offset + length));
    offset += length;
  }
  return { messages, rest: stream.subarray(offset), badLength: false };
}

export interface OpenFlowSessionMessage {
  /** The message went to `port` (the controller), so the switch sent it. */
  fromSwitch: boolean;
  bytes: Buffer;
  /** Capture time of the segment that completed the message. */
  timestampUs: number;
  /** 0-based index among the established TCP connections to or from `port`, in capture order. */
  connection: number;
}

/**
 * All OpenFlow messages of all TCP connections to or from `port` in a pcap or pcapng capture, both
 * directions interleaved in the order their last byte arrived (timestamp, then position in the
 * file). An incomplete message at the end of a stream, or the bytes after a header with a bad
 * length, are left out. Throws `PcapFormatError` if the container is damaged.
 */
export function readOpenFlowSession(buf: Buffer, port: number): OpenFlowSessionMessage[] {
  const conversations = extractTcpStreams(readPcap(buf), { port }).filter((conversation) => conversation.established);
  const found: Array<{ message: OpenFlowSessionMessage; recordIndex: number }> = [];
  conversations.forEach((conversation, connection) => {
    const directions = [
      { stream: conversation.clientToServer, fromSwitch: conversation.server.port === port },
      { stream: conversation.serverToClient, fromSwitch: conversation.client.port === port },
    ];
    for (const { stream, fromSwitch } of directions) {
      for (const { bytes, completedBy } of messagesWithCompletion(stream)) {
        found.push({ message: { fromSwitch, bytes, timestampUs: completedBy.timestampUs, connection }, recordIndex: completedBy.recordIndex });
      }
    }
  });
  // Array.prototype.sort is stable: messages completed by one segment keep their stream order.
  found.sort((a, b) => a.message.timestampUs - b.message.timestampUs || a.recordIndex - b.recordIndex);
  return found.map((entry) => entry.message);
}

/**
 * The messages of one stream, each with the segment that completed it: the latest-captured
 * segment among those carrying its bytes or any byte before it (a segment that arrived early,
 * out of order, cannot complete anything until the hole before it is filled).
 */
function messagesWithCompletion(stream: TcpStream): Array<{ bytes: Buffer; completedBy: TcpStreamChunk }> {
  const result: Array<{ bytes: Buffer; completedBy: TcpStreamChunk }> = [];
  let chunkIndex = 0;
  let latest: TcpStreamChunk | undefined;
  let end = 0;
  for (const bytes of splitOpenFlowMessages(stream.payload).messages) {
    end += bytes.length;
    while (chunkIndex < stream.chunks.length && stream.chunks[chunkIndex]!.offset < end) {
      const chunk = stream.chunks[chunkIndex++]!;
      if (latest === undefined || chunk.recordIndex > latest.recordIndex) latest = chunk;
    }
    // Every message has at least 8 bytes, so at least one chunk has been consumed.
    result.push({ bytes, completedBy: latest! });
  }
  return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing: OpenFlow messages as one synthetic loopback TCP connection                         */
/* ------------------------------------------------------------------------------------------ */

export interface OpenFlowCaptureMessage {
  /** The switch sent it (to the controller); otherwise the controller sent it. */
  fromSwitch: boolean;
  bytes: Buffer;
  /** Capture time; when absent, 1 ms after the previous message. */
  timestampUs?: number;
}

export interface WriteOpenFlowPcapOptions {
  /** The controller's (server's) TCP port; default 6653. */
  controllerPort?: number;
  /** The switch's (client's) ephemeral TCP port; default 40000. */
  switchPort?: number;
  /** Largest TCP payload per segment; messages longer than this span several segments. */
  maxSegment?: number;
}

/** IPv4 total length is 16 bits; 40 of them go to the IPv4 and TCP headers. */
export const MAX_IPV4_TCP_PAYLOAD = 0xffff - 40;
const LOOPBACK_ADDRESS = '127.0.0.1';
/** 2023-11-14T22:13:20Z, a fixed start so that written files are reproducible. */
const DEFAULT_START_US = 1_700_000_000_000_000;
const SYNTHETIC_MESSAGE_GAP_US = 1000;
/*
 * Initial sequence numbers. The switch's is 4 KiB short of 2^32, so a session of a few kilobytes
 * wraps around, which exercises the modular arithmetic of whoever reads the file.
 */
const SWITCH_INITIAL_SEQ = 0xfffff000;
const CONTROLLER_INITIAL_SEQ = 0x10000000;
const TCP_WINDOW = 0xffff;

export interface Ipv4TcpFrameFields {
  source: TcpEndpoint;
  destination: TcpEndpoint;
  seq: number;
  ack: number;
  /** TCP_* flag bits. */
  flags: number;
  payload?: Buffer;
  /** IPv4 identification; default 0. */
  ipId?: number;
  /** Default 65535. */
  window?: number;
}

/** An Ethernet (zero MACs) + IPv4 + TCP frame with correct IPv4 and TCP checksums. */
export function buildIpv4TcpFrame(fields: Ipv4TcpFrameFields): Buffer {
  const payload = fields.payload ?? Buffer.alloc(0);
  if (payload.length > MAX_IPV4_TCP_PAYLOAD) {
    throw new RangeError(`TCP payload of ${payload.length} bytes does not fit one IPv4 packet`);
  }
  const frame = Buffer.alloc(14 + 20 + 20 + payload.length);
  frame.writeUInt16BE(ETHERTYPE_IPV4, 12);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45; // version 4, 5-word header
  ip.writeUInt16BE(40 + payload.length, 2);
  ip.writeUInt16BE((fields.ipId ?? 0) & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64; // TTL
  ip[9] = IPPROTO_TCP;
  writeIpv4(fields.source.address, ip, 12);
  writeIpv4(fields.destination.address, ip, 16);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  const tcp = frame.subarray(34);
  tcp.writeUInt16BE(fields.source.port, 0);
  tcp.writeUInt16BE(fields.destination.port, 2);
  tcp.writeUInt32BE(fields.seq >>> 0, 4);
  tcp.writeUInt32BE(fields.ack >>> 0, 8);
  tcp[12] = 5 << 4; // 5-word header, no options
  tcp[13] = fields.flags;
  tcp.writeUInt16BE(fields.window ?? TCP_WINDOW, 14);
  payload.copy(tcp, 20);
  tcp.writeUInt16BE(internetChecksum(tcp, ipv4PseudoHeaderSum(ip, tcp.length)), 16);
  return frame;
}

/** Sum of the TCP pseudo-header: addresses, protocol, TCP length. */
function ipv4PseudoHeaderSum(ip: Buffer, tcpLength: number): number {
  return onesComplementSum(ip.subarray(12, 20)) + IPPROTO_TCP + tcpLength;
}

function onesComplementSum(data: Buffer, initial = 0): number {
  let sum = initial;
  const evenEnd = data.length & ~1;
  for (let i = 0; i < evenEnd; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (evenEnd < data.length) sum += data[evenEnd]! << 8;
  return sum;
}

/** RFC 1071 checksum of `data` (whose checksum field must be zero) plus a partial sum. */
function internetChecksum(data: Buffer, initial = 0): number {
  let sum = onesComplementSum(data, initial);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** One end of the synthetic connection: its address, next sequence number and IP id counter. */
interface SyntheticPeer {
  endpoint: TcpEndpoint;
  nextSeq: number;
  nextIpId: number;
}

/** Builds the frames of the synthetic connection, stamping each with the current clock. */
class SyntheticConnection {
  readonly frames: Array<{ timestampUs: number; data: Buffer }> = [];
  clockUs: number;

  constructor(
    readonly switchSide: SyntheticPeer,
    readonly controllerSide: SyntheticPeer,
    startUs: number,
  ) {
    this.clockUs = startUs;
  }

  send(from: SyntheticPeer, flags: number, payload?: Buffer): void {
    const to = from === this.switchSide ? this.controllerSide : this.switchSide;
    // A SYN opens before the peer has a sequence number to acknowledge.
    const ack = (flags & TCP_ACK) !== 0 ? to.nextSeq : 0;
    const frameFields: Ipv4TcpFrameFields = { source: from.endpoint, destination: to.endpoint, seq: from.nextSeq, ack, flags, ipId: from.nextIpId };
    if (payload !== undefined) frameFields.payload = payload;
    this.frames.push({ timestampUs: this.clockUs, data: buildIpv4TcpFrame(frameFields) });
    from.nextIpId = (from.nextIpId + 1) & 0xffff;
    // SYN and FIN each consume one sequence number, like a byte of data.
    const consumed = (payload?.length ?? 0) + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
    from.nextSeq = (from.nextSeq + consumed) >>> 0;
  }

  /** Moves the clock to `timestampUs` (never backwards), or on by one message gap. */
  advanceClock(timestampUs: number | undefined): void {
    if (timestampUs !== undefined) checkTimestamp(timestampUs);
    this.clockUs = timestampUs === undefined ? this.clockUs + SYNTHETIC_MESSAGE_GAP_US : Math.max(this.clockUs, timestampUs);
  }
}

/**
 * Writes `messages` as a classic pcap of one TCP connection over 127.0.0.1 from the switch
 * (client) to the controller (server): handshake, each message as one or more PSH/ACK data
 * segments answered by one ACK, then FIN/ACK both ways and a last ACK. Frames carry the
 * timestamp of their message (the handshake that of the first message); a timestamp earlier than
 * the previous frame's is raised to it, so time never goes backwards. Empty messages are skipped.
 */
export function writeOpenFlowPcap(messages: readonly OpenFlowCaptureMessage[], options: WriteOpenFlowPcapOptions = {}): Buffer {
  const controllerPort = checkPort(options.controllerPort ?? 6653, 'controllerPort');
  const switchPort = checkPort(options.switchPort ?? 40000, 'switchPort');
  const maxSegment = options.maxSegment ?? MAX_IPV4_TCP_PAYLOAD;
  if (!Number.isInteger(maxSegment) || maxSegment < 1 || maxSegment > MAX_IPV4_TCP_PAYLOAD) {
    throw new RangeError(`maxSegment ${maxSegment} is not between 1 and ${MAX_IPV4_TCP_PAYLOAD}`);
  }
  const switchSide: SyntheticPeer = { endpoint: { address: LOOPBACK_ADDRESS, port: switchPort }, nextSeq: SWITCH_INITIAL_SEQ, nextIpId: 1 };
  const controllerSide: SyntheticPeer = { endpoint: { address: LOOPBACK_ADDRESS, port: controllerPort }, nextSeq: CONTROLLER_INITIAL_SEQ, nextIpId: 1 };
  const startUs = messages[0]?.timestampUs ?? DEFAULT_START_US;
  checkTimestamp(startUs);
  const connection = new SyntheticConnection(switchSide, controllerSide, startUs);

  connection.send(switchSide, TCP_SYN);
  connection.send(controllerSide, TCP_SYN | TCP_ACK);
  connection.send(switchSide, TCP_ACK);
  messages.forEach((message, index) => {
    // The first message shares the handshake's time unless it names its own.
    if (index > 0 || message.timestampUs !== undefined) connection.advanceClock(message.timestampUs);
    if (message.bytes.length === 0) return;
    const [sender, receiver] = message.fromSwitch ? [switchSide, controllerSide] : [controllerSide, switchSide];
    for (let offset = 0; offset < message.bytes.length; offset += maxSegment) {
      connection.send(sender, TCP_PSH | TCP_ACK, message.bytes.subarray(offset, offset + maxSegment));
    }
    connection.send(receiver, TCP_ACK);
  });
  connection.advanceClock(undefined);
  connection.send(switchSide, TCP_FIN | TCP_ACK);
  connection.send(controllerSide, TCP_FIN | TCP_ACK);
  connection.send(switchSide, TCP_ACK);
  return writePcap(connection.frames, { linkType: LINKTYPE_ETHERNET, snapLength: DEFAULT_SNAP_LENGTH });
}

function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`${name} ${port} is not a TCP port`);
  return port;
}
