/**
 * Tests for protocol/pcap.ts: capture containers (classic pcap, pcapng), TCP reassembly,
 * OpenFlow framing, and the synthetic-session writer, checked against real readers (tshark,
 * ovs-ofctl) and against the OFTest/Open vSwitch 3.1 fixtures in ../shared.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  PcapFormatError,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  buildIpv4TcpFrame,
  extractTcpStreams,
  readCapture,
  readOpenFlowSession,
  readPcap,
  readPcapInterfaces,
  splitOpenFlowMessages,
  writeOpenFlowPcap,
  writePcap,
  type OpenFlowCaptureMessage,
  type PcapRecord,
  type TcpEndpoint,
} from '../../protocol/pcap.ts';
import { prng } from '../helpers/prng.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = resolve(REPO_ROOT, '../shared/fixtures/oftest-ovs31');
const FIXTURES_SKIP = existsSync(join(FIXTURES, 'MANIFEST.tsv')) ? false : `no ../shared fixtures at ${FIXTURES}`;
const TSHARK = '/usr/bin/tshark';
const OVS_OFCTL = '/usr/bin/ovs-ofctl';
const FIXTURE_CONTROLLER_PORT = 16663;

/* ---------------------------------------------------------------------------------------- */
/* OpenFlow 1.3 messages as raw bytes                                                        */
/* ---------------------------------------------------------------------------------------- */

function ofMessage(type: number, xid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 0x04;
  header[1] = type;
  header.writeUInt16BE(8 + body.length, 2);
  header.writeUInt32BE(xid, 4);
  return Buffer.concat([header, body]);
}

const OFPT_HELLO = 0;
const OFPT_ECHO_REQUEST = 2;
const OFPT_ECHO_REPLY = 3;
const OFPT_EXPERIMENTER = 4;
const OFPT_FEATURES_REQUEST = 5;
const OFPT_FEATURES_REPLY = 6;
const OFPT_BARRIER_REQUEST = 20;
const OFPT_BARRIER_REPLY = 21;

const HELLO = Buffer.from('04000010000000010001000800000010', 'hex');
const ECHO_DATA = Buffer.from('ping!!!!');
const FEATURES_REPLY_BODY = Buffer.from('0000000000000001' + '00000100' + 'fe' + '00' + '0000' + '0000004f' + '00000000', 'hex');

/**
 * A 5000-byte experimenter message that ovs-ofctl can print: Nicira (0x00002320) NXT_PACKET_IN2
 * (subtype 30) whose only property is NXPINT_PACKET (type 0) carrying a 4976-byte frame.
 */
function largeExperimenterMessage(xid: number): Buffer {
  const frameLength = 4976;
  const frame = Buffer.alloc(frameLength);
  frame.writeUInt16BE(0x88b5, 12); // local experimental ethertype
  for (let i = 14; i < frameLength; i++) frame[i] = (i * 7) & 0xff;
  const property = Buffer.alloc(4 + frameLength + 4); // padded to a multiple of 8
  property.writeUInt16BE(0, 0);
  property.writeUInt16BE(4 + frameLength, 2);
  frame.copy(property, 4);
  const experimenter = Buffer.alloc(8);
  experimenter.writeUInt32BE(0x00002320, 0);
  experimenter.writeUInt32BE(30, 4);
  return ofMessage(OFPT_EXPERIMENTER, xid, Buffer.concat([experimenter, property]));
}

interface SessionRow extends OpenFlowCaptureMessage {
  /** How ovs-ofctl names it. */
  ovsName: string;
}

const SESSION: SessionRow[] = [
  { fromSwitch: true, bytes: HELLO, ovsName: 'OFPT_HELLO' },
  { fromSwitch: false, bytes: HELLO, ovsName: 'OFPT_HELLO' },
  { fromSwitch: false, bytes: ofMessage(OFPT_FEATURES_REQUEST, 2), ovsName: 'OFPT_FEATURES_REQUEST' },
  { fromSwitch: true, bytes: ofMessage(OFPT_FEATURES_REPLY, 2, FEATURES_REPLY_BODY), ovsName: 'OFPT_FEATURES_REPLY' },
  { fromSwitch: false, bytes: ofMessage(OFPT_ECHO_REQUEST, 3, ECHO_DATA), ovsName: 'OFPT_ECHO_REQUEST' },
  { fromSwitch: true, bytes: ofMessage(OFPT_ECHO_REPLY, 3, ECHO_DATA), ovsName: 'OFPT_ECHO_REPLY' },
  { fromSwitch: true, bytes: largeExperimenterMessage(9), ovsName: 'NXT_PACKET_IN2' },
  { fromSwitch: false, bytes: ofMessage(OFPT_BARRIER_REQUEST, 5), ovsName: 'OFPT_BARRIER_REQUEST' },
  { fromSwitch: true, bytes: ofMessage(OFPT_BARRIER_REPLY, 5), ovsName: 'OFPT_BARRIER_REPLY' },
];

function sessionPcap(): Buffer {
  return writeOpenFlowPcap(SESSION, { maxSegment: 1000 });
}

/* ---------------------------------------------------------------------------------------- */
/* Writer and round trip                                                                     */
/* ---------------------------------------------------------------------------------------- */

t.test('round trip: written messages read back identically', async (t) => {
  const withTimestamps = SESSION.map((message, index) => ({ ...message, timestampUs: 1_600_000_000_000_000 + index * 250 }));
  const cases: Array<{ name: string; messages: OpenFlowCaptureMessage[]; options: Parameters<typeof writeOpenFlowPcap>[1]; port: number }> = [
    { name: 'default options', messages: SESSION, options: {}, port: 6653 },
    { name: 'maxSegment 1000', messages: SESSION, options: { maxSegment: 1000 }, port: 6653 },
    { name: 'maxSegment 3 (headers split)', messages: SESSION, options: { maxSegment: 3 }, port: 6653 },
    { name: 'other ports', messages: SESSION, options: { controllerPort: 16663, switchPort: 51234, maxSegment: 1500 }, port: 16663 },
    { name: 'given timestamps', messages: withTimestamps, options: { maxSegment: 1000 }, port: 6653 },
  ];
  for (const row of cases) {
    const read = readOpenFlowSession(writeOpenFlowPcap(row.messages, row.options), row.port);
    t.equal(read.length, row.messages.length, `${row.name}: message count`);
    row.messages.forEach((expected, i) => {
      const got = read[i];
      t.ok(got !== undefined && got.bytes.equals(expected.bytes), `${row.name}: message ${i} bytes`);
      t.equal(got?.fromSwitch, expected.fromSwitch, `${row.name}: message ${i} direction`);
      t.equal(got?.connection, 0, `${row.name}: message ${i} connection`);
      if (expected.timestampUs !== undefined) t.equal(got?.timestampUs, expected.timestampUs, `${row.name}: message ${i} timestamp`);
    });
    const times = read.map((message) => message.timestampUs);
    t.same(times, [...times].sort((a, b) => a - b), `${row.name}: timestamps non-decreasing`);
  }
});

t.test('writer: pcap header, TCP conversation shape and checksums', async (t) => {
  const buf = sessionPcap();
  t.same([...buf.subarray(0, 4)], [0xd4, 0xc3, 0xb2, 0xa1], 'magic a1b2c3d4 (little-endian)');
  const capture = readCapture(buf);
  t.equal(capture.format, 'pcap');
  t.equal(capture.interfaces[0]?.linkType, LINKTYPE_ETHERNET, 'LINKTYPE_ETHERNET');
  t.equal(capture.interfaces[0]?.snapLength, 262144, 'snaplen 262144');

  const frames = capture.records.map((record) => parseFrame(record.data));
  for (const [i, frame] of frames.entries()) {
    t.ok(frame.ipChecksumOk, `frame ${i}: IPv4 header checksum`);
    t.ok(frame.tcpChecksumOk, `frame ${i}: TCP checksum`);
    t.ok(frame.zeroMacs && frame.etherType === 0x0800, `frame ${i}: zero MACs, ethertype 0x0800`);
  }
  t.same(frames.slice(0, 3).map((frame) => frame.flags), [TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK], 'handshake');
  t.same(frames.slice(-3).map((frame) => frame.flags), [TCP_FIN | TCP_ACK, TCP_FIN | TCP_ACK, TCP_ACK], 'teardown');
  t.equal(frames[0]?.srcPort, 40000, 'switch is the client on port 40000');
  t.equal(frames[0]?.dstPort, 6653, 'controller on port 6653');
  const largest = Math.max(...frames.map((frame) => frame.payloadLength));
  t.equal(largest, 1000, 'segments are cut at maxSegment');
  t.same(sequenceProblems(frames), [], 'every seq/ack continues the previous ones');

  const times = capture.records.map((record) => record.timestampUs);
  t.same(times, [...times].sort((a, b) => a - b), 'timestamps non-decreasing');
  t.ok(times[times.length - 1]! > times[0]!, 'timestamps advance');

  const [conversation, ...others] = extractTcpStreams(capture.records);
  t.equal(others.length, 0, 'one TCP connection');
  t.same(conversation?.client, { address: '127.0.0.1', port: 40000 });
  t.same(conversation?.server, { address: '127.0.0.1', port: 6653 });
  t.ok(conversation?.established && conversation.clientToServer.finished && conversation.serverToClient.finished, 'established and closed');
  const switchBytes = Buffer.concat(SESSION.filter((m) => m.fromSwitch).map((m) => m.bytes));
  t.ok(conversation?.clientToServer.payload.equals(switchBytes), 'switch stream reassembled across the 2^32 sequence wrap');
});

t.test('writer rejects bad arguments with RangeError', async (t) => {
  const rows: Array<[string, () => unknown]> = [
    ['maxSegment 0', () => writeOpenFlowPcap(SESSION, { maxSegment: 0 })],
    ['maxSegment 70000', () => writeOpenFlowPcap(SESSION, { maxSegment: 70000 })],
    ['controller port 0', () => writeOpenFlowPcap(SESSION, { controllerPort: 0 })],
    ['switch port 65536', () => writeOpenFlowPcap(SESSION, { switchPort: 65536 })],
    ['negative timestamp', () => writeOpenFlowPcap([{ fromSwitch: true, bytes: HELLO, timestampUs: -1 }])],
    ['fractional timestamp', () => writeOpenFlowPcap([{ fromSwitch: true, bytes: HELLO, timestampUs: 1.5 }])],
  ];
  for (const [name, run] of rows) t.throws(run, RangeError, name);
});

/* ---------------------------------------------------------------------------------------- */
/* Real readers as oracles                                                                   */
/* ---------------------------------------------------------------------------------------- */

function withTempFile<T>(contents: Buffer, use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'ofswitch-pcap-'));
  try {
    const path = join(dir, 'session.pcap');
    writeFileSync(path, contents);
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a tool and returns stdout and stderr; fails the caller on a non-zero exit or timeout. */
function run(command: string, args: string[]): { stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${command} exited ${result.status}: ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

const TSHARK_CHECKSUM_ARGS = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-d', 'tcp.port==6653,openflow'];
const TSHARK_PROBLEMS = ['Malformed', 'Expert Info (Error', 'Expert Info (Warning', 'Status: Bad', 'status: Bad', 'incorrect, should be'];

t.test('tshark reads the written session', { skip: existsSync(TSHARK) ? false : `no ${TSHARK}` }, async (t) => {
  const buf = sessionPcap();
  const frameCount = readPcap(buf).length;
  withTempFile(buf, (path) => {
    const types = run(TSHARK, ['-r', path, ...TSHARK_CHECKSUM_ARGS, '-T', 'fields', '-e', 'openflow_v4.type']).stdout
      .split('\n').filter((line) => line.trim() !== '').flatMap((line) => line.split(',').map(Number));
    t.same(types, SESSION.map((message) => message.bytes[1]), 'openflow_v4.type of every message, in order');

    const verbose = run(TSHARK, ['-r', path, ...TSHARK_CHECKSUM_ARGS, '-V']).stdout;
    for (const problem of TSHARK_PROBLEMS) t.notOk(verbose.includes(problem), `no "${problem}"`);
    t.equal(count(verbose, '[Checksum Status: Good]'), frameCount, 'every TCP checksum verified good');
    t.equal(count(verbose, '[Header checksum status: Good]'), frameCount, 'every IPv4 header checksum verified good');
  });
});

t.test('tshark flags a corrupted checksum (the oracle is live)', { skip: existsSync(TSHARK) ? false : `no ${TSHARK}` }, async (t) => {
  const buf = Buffer.from(sessionPcap());
  const firstDataFrame = readPcap(buf)[3]!;
  // Flip the TCP checksum (frame offset 14 + 20 + 16) of the first data segment.
  firstDataFrame.data[14 + 20 + 16]! ^= 0xff;
  withTempFile(buf, (path) => {
    const verbose = run(TSHARK, ['-r', path, ...TSHARK_CHECKSUM_ARGS, '-V']).stdout;
    t.ok(verbose.includes('[Checksum Status: Bad]'), 'bad TCP checksum reported');
    t.ok(verbose.includes('Expert Info (Error'), 'as an error');
  });
});

t.test('ovs-ofctl ofp-parse-pcap decodes every written message', { skip: existsSync(OVS_OFCTL) ? false : `no ${OVS_OFCTL}` }, async (t) => {
  withTempFile(sessionPcap(), (path) => {
    const { stdout, stderr } = run(OVS_OFCTL, ['ofp-parse-pcap', path, '6653']);
    // Output: "<src>.<port> > <dst>.<port>:" then the decoded message, for each message.
    const decoded = [...stdout.matchAll(/^127\.0\.0\.1\.(\d+) > 127\.0\.0\.1\.(\d+):\n(\w+) \(OF1\.3\)/gm)]
      .map((match) => ({ fromSwitch: match[2] === '6653', name: match[3] }));
    t.same(decoded, SESSION.map(({ fromSwitch, ovsName }) => ({ fromSwitch, name: ovsName })), 'every message, direction and order');
    const problems = `${stdout}\n${stderr}`.split('\n').filter((line) => /error|bad|warn/i.test(line));
    t.same(problems, [], 'no error/bad/warning lines');
  });
});

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Classic pcap variants                                                                     */
/* ---------------------------------------------------------------------------------------- */

/** A classic pcap in any byte order and resolution, written independently of the module. */
function classicPcap(records: Array<{ timestampUs: number; data: Buffer }>, littleEndian: boolean, nanoseconds: boolean, linkType = 1): Buffer {
  const u16 = (value: number): Buffer => { const b = Buffer.alloc(2); littleEndian ? b.writeUInt16LE(value) : b.writeUInt16BE(value); return b; };
  const u32 = (value: number): Buffer => { const b = Buffer.alloc(4); littleEndian ? b.writeUInt32LE(value) : b.writeUInt32BE(value); return b; };
  const parts = [u32(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(linkType)];
  for (const record of records) {
    const fraction = record.timestampUs % 1e6;
    parts.push(u32(Math.floor(record.timestampUs / 1e6)), u32(nanoseconds ? fraction * 1000 + 999 : fraction));
    parts.push(u32(record.data.length), u32(record.data.length + 10), record.data);
  }
  return Buffer.concat(parts);
}

t.test('readPcap: classic pcap in both byte orders and resolutions', async (t) => {
  const records = [
    { timestampUs: 1_700_000_000_123_456, data: Buffer.from('first frame') },
    { timestampUs: 1_700_000_001_000_001, data: Buffer.from('second') },
    { timestampUs: 1_700_000_001_000_001, data: Buffer.alloc(0) },
  ];
  for (const littleEndian of [true, false]) {
    for (const nanoseconds of [false, true]) {
      const name = `${littleEndian ? 'little' : 'big'}-endian, ${nanoseconds ? 'nano' : 'micro'}seconds`;
      const read = readPcap(classicPcap(records, littleEndian, nanoseconds, LINKTYPE_LINUX_SLL));
      t.same(
        read.map((r) => ({ timestampUs: r.timestampUs, data: r.data.toString(), linkType: r.linkType, originalLength: r.originalLength })),
        records.map((r) => ({ timestampUs: r.timestampUs, data: r.data.toString(), linkType: LINKTYPE_LINUX_SLL, originalLength: r.data.length + 10 })),
        name,
      );
      t.equal(read[0]?.interfaceId, undefined, `${name}: no interface id outside pcapng`);
    }
  }
});

/* ---------------------------------------------------------------------------------------- */
/* pcapng                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/** Writes pcapng blocks in one byte order, independently of the module under test. */
class PcapngBuilder {
  private readonly blocks: Buffer[] = [];

  constructor(private readonly littleEndian: boolean) {}

  u16(value: number): Buffer { const b = Buffer.alloc(2); this.littleEndian ? b.writeUInt16LE(value) : b.writeUInt16BE(value); return b; }
  u32(value: number): Buffer { const b = Buffer.alloc(4); this.littleEndian ? b.writeUInt32LE(value) : b.writeUInt32BE(value); return b; }

  option(code: number, value: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  }

  block(type: number, body: Buffer): this {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const length = padded.length + 12;
    this.blocks.push(Buffer.concat([this.u32(type), this.u32(length), padded, this.u32(length)]));
    return this;
  }

  section(): this {
    const sectionLength = Buffer.alloc(8, 0xff); // -1: unspecified
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), sectionLength, this.option(4, Buffer.from('test')), this.u32(0)]));
  }

  interface(linkType: number, name: string, tsresol?: number): this {
    const options = [this.option(2, Buffer.from(name)), this.option(3, Buffer.from(`${name} description`))];
    if (tsresol !== undefined) options.push(this.option(9, Buffer.from([tsresol])));
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(0), ...options, this.u32(0)]));
  }

  enhanced(interfaceId: number, ticks: bigint, data: Buffer, flags?: number): this {
    const options = flags === undefined ? [] : [this.option(2, this.u32(flags)), this.u32(0)];
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    const head = [this.u32(interfaceId), this.u32(Number(ticks >> 32n)), this.u32(Number(ticks & 0xffffffffn)), this.u32(data.length), this.u32(data.length)];
    return this.block(6, Buffer.concat([...head, padded, ...options]));
  }

  simple(data: Buffer): this {
    return this.block(3, Buffer.concat([this.u32(data.length), data]));
  }

  build(): Buffer {
    return Buffer.concat(this.blocks);
  }
}

t.test('readCapture: synthetic pcapng in both byte orders', async (t) => {
  const frame = Buffer.from('000102030405060708090a0b0800', 'hex');
  // (tsresol option, ticks, expected microseconds)
  const resolutions: Array<{ tsresol: number | undefined; ticks: bigint; expectedUs: number }> = [
    { tsresol: undefined, ticks: 1_700_000_000_123_456n, expectedUs: 1_700_000_000_123_456 },
    { tsresol: 6, ticks: 1_700_000_000_123_456n, expectedUs: 1_700_000_000_123_456 },
    { tsresol: 9, ticks: 1_700_000_000_123_456_789n, expectedUs: 1_700_000_000_123_456 },
    { tsresol: 3, ticks: 1_700_000_000_123n, expectedUs: 1_700_000_000_123_000 },
    { tsresol: 0x80 | 10, ticks: 1024n * 1_700_000_000n + 512n, expectedUs: 1_700_000_000_500_000 }, // 2^-10 s
  ];
  for (const littleEndian of [true, false]) {
    for (const { tsresol, ticks, expectedUs } of resolutions) {
      const name = `${littleEndian ? 'LE' : 'BE'}, tsresol ${tsresol ?? 'default'}`;
      const buf = new PcapngBuilder(littleEndian)
        .section()
        .interface(LINKTYPE_ETHERNET, 'eth0', tsresol)
        .block(0x00000bad, Buffer.from('an unknown block type is skipped'))
        .interface(LINKTYPE_LINUX_SLL, 'any', tsresol)
        .enhanced(0, ticks, frame, 0x1)
        .enhanced(1, ticks, frame, 0x2)
        .enhanced(1, ticks, frame)
        .simple(frame)
        .block(5, Buffer.alloc(8)) // interface statistics: skipped
        .section() // a second section restarts interface numbering
        .interface(LINKTYPE_ETHERNET, 'second')
        .enhanced(0, 5n, frame, 0x3)
        .build();
      const capture = readCapture(buf);
      t.equal(capture.format, 'pcapng', `${name}: format`);
      t.same(capture.interfaces.map((i) => [i.section, i.id, i.name, i.linkType, i.description]), [
        [0, 0, 'eth0', LINKTYPE_ETHERNET, 'eth0 description'],
        [0, 1, 'any', LINKTYPE_LINUX_SLL, 'any description'],
        [1, 0, 'second', LINKTYPE_ETHERNET, 'second description'],
      ], `${name}: interfaces`);
      t.same(readPcapInterfaces(buf), capture.interfaces, `${name}: readPcapInterfaces agrees`);
      t.same(capture.records.map((r) => [r.interfaceId, r.interfaceName, r.direction, r.linkType, r.timestampUs]), [
        [0, 'eth0', 'inbound', LINKTYPE_ETHERNET, expectedUs],
        [1, 'any', 'outbound', LINKTYPE_LINUX_SLL, expectedUs],
        [1, 'any', undefined, LINKTYPE_LINUX_SLL, expectedUs],
        [0, 'eth0', undefined, LINKTYPE_ETHERNET, expectedUs], // simple packet: previous timestamp
        [0, 'second', undefined, LINKTYPE_ETHERNET, 5], // flags 3 is no direction; default tsresol
      ], `${name}: records`);
      t.ok(capture.records.every((r) => r.data.equals(frame) && r.originalLength === frame.length), `${name}: data`);
    }
  }
});

/* ---------------------------------------------------------------------------------------- */
/* TCP reassembly                                                                            */
/* ---------------------------------------------------------------------------------------- */

const CLIENT: TcpEndpoint = { address: '10.0.0.1', port: 51000 };
const SERVER: TcpEndpoint = { address: '10.0.0.2', port: 6653 };

interface SegmentSpec {
  toServer: boolean;
  seq: number;
  flags?: number;
  payload?: Buffer;
}

/** Records of a client/server exchange; timestamp = 1000 µs * position. */
function tcpRecords(segments: SegmentSpec[]): PcapRecord[] {
  return segments.map((segment, index) => {
    const data = buildIpv4TcpFrame({
      source: segment.toServer ? CLIENT : SERVER,
      destination: segment.toServer ? SERVER : CLIENT,
      seq: segment.seq,
      ack: 0,
      flags: segment.flags ?? (segment.payload === undefined ? TCP_ACK : TCP_PSH | TCP_ACK),
      payload: segment.payload ?? Buffer.alloc(0),
    });
    return { timestampUs: (index + 1) * 1000, linkType: LINKTYPE_ETHERNET, data, originalLength: data.length };
  });
}

const ISN_CLIENT = 100;
const ISN_SERVER = 0xfffffff0; // so the server's stream wraps around 2^32
const HANDSHAKE: SegmentSpec[] = [
  { toServer: true, seq: ISN_CLIENT, flags: TCP_SYN },
  { toServer: false, seq: ISN_SERVER, flags: TCP_SYN | TCP_ACK },
  { toServer: true, seq: ISN_CLIENT + 1, flags: TCP_ACK },
];

const A = ofMessage(OFPT_ECHO_REQUEST, 1, Buffer.from('aaaa'));
const B = ofMessage(OFPT_ECHO_REQUEST, 2, Buffer.from('bbbbbbbb'));
const C = ofMessage(OFPT_BARRIER_REQUEST, 3);
const ABC = Buffer.concat([A, B, C]);
const at = (offset: number): number => ISN_CLIENT + 1 + offset;
const fromServerAt = (offset: number): number => (ISN_SERVER + 1 + offset) >>> 0;

t.test('extractTcpStreams + readOpenFlowSession: reassembly cases', async (t) => {
  const rows: Array<{ name: string; segments: SegmentSpec[]; stream: Buffer; hasGap?: boolean; completedBy: number[] }> = [
    {
      name: 'in order, one message per segment',
      segments: [...HANDSHAKE, { toServer: true, seq: at(0), payload: A }, { toServer: true, seq: at(A.length), payload: B }, { toServer: true, seq: at(A.length + B.length), payload: C }],
      stream: ABC,
      completedBy: [3, 4, 5],
    },
    {
      name: 'several messages packed in one segment, one split across two',
      segments: [...HANDSHAKE, { toServer: true, seq: at(0), payload: ABC.subarray(0, 20) }, { toServer: true, seq: at(20), payload: ABC.subarray(20) }],
      stream: ABC,
      completedBy: [3, 4, 4],
    },
    {
      name: 'out of order: a message waits for the hole before it',
      segments: [...HANDSHAKE, { toServer: true, seq: at(A.length), payload: Buffer.concat([B, C]) }, { toServer: true, seq: at(0), payload: A }],
      stream: ABC,
      completedBy: [4, 4, 4],
    },
    {
      name: 'retransmission and pure ACKs add nothing',
      segments: [
        ...HANDSHAKE,
        { toServer: true, seq: at(0), payload: A },
        { toServer: false, seq: fromServerAt(0) },
        { toServer: true, seq: at(0), payload: A },
        { toServer: true, seq: at(A.length), payload: Buffer.concat([B, C]) },
        { toServer: true, seq: at(A.length), payload: Buffer.concat([B, C]) },
      ],
      stream: ABC,
      completedBy: [3, 6, 6],
    },
    {
      name: 'overlap: the first captured copy of a byte wins',
      segments: [
        ...HANDSHAKE,
        { toServer: true, seq: at(0), payload: ABC.subarray(0, 15) },
        { toServer: true, seq: at(10), payload: Buffer.concat([Buffer.alloc(5, 0xee), ABC.subarray(15)]) },
      ],
      stream: ABC,
      completedBy: [3, 4, 4],
    },
    {
      name: 'a retransmission that starts before the SYN+1 is trimmed',
      segments: [...HANDSHAKE, { toServer: true, seq: at(-3), payload: Buffer.concat([Buffer.alloc(3), A]) }, { toServer: true, seq: at(A.length), payload: Buffer.concat([B, C]) }],
      stream: ABC,
      completedBy: [3, 4, 4],
    },
    {
      name: 'missing segment: stream stops at the gap',
      segments: [...HANDSHAKE, { toServer: true, seq: at(0), payload: A }, { toServer: true, seq: at(A.length + B.length), payload: C }],
      stream: A,
      hasGap: true,
      completedBy: [3],
    },
    {
      name: 'capture starts mid-connection (no handshake)',
      segments: [{ toServer: true, seq: 5000 + A.length, payload: Buffer.concat([B, C]) }, { toServer: true, seq: 5000, payload: A }],
      stream: ABC,
      completedBy: [1, 1, 1],
    },
  ];
  for (const row of rows) {
    const records = tcpRecords(row.segments);
    const conversations = extractTcpStreams(records);
    t.equal(conversations.length, 1, `${row.name}: one conversation`);
    const stream = conversations[0]!.clientToServer;
    t.ok(stream.payload.equals(row.stream), `${row.name}: reassembled bytes`);
    t.equal(stream.hasGap, row.hasGap ?? false, `${row.name}: hasGap`);
    t.same(conversations[0]!.client, CLIENT, `${row.name}: client`);
    const messages = readOpenFlowSession(writePcap(records), SERVER.port);
    t.same(messages.map((m) => m.timestampUs), row.completedBy.map((index) => (index + 1) * 1000), `${row.name}: completing segment of each message`);
    t.ok(messages.every((m) => m.fromSwitch), `${row.name}: all toward the port`);
  }
});

t.test('extractTcpStreams: both directions interleave by completion time', async (t) => {
  const records = tcpRecords([
    ...HANDSHAKE,
    { toServer: true, seq: at(0), payload: A },
    { toServer: false, seq: fromServerAt(0), payload: B.subarray(0, 10) },
    { toServer: true, seq: at(A.length), payload: C },
    { toServer: false, seq: fromServerAt(10), payload: B.subarray(10) }, // crosses 2^32
  ]);
  const messages = readOpenFlowSession(writePcap(records), SERVER.port);
  t.same(messages.map((m) => [m.fromSwitch, m.bytes.toString('hex')]), [
    [true, A.toString('hex')],
    [true, C.toString('hex')],
    [false, B.toString('hex')],
  ]);
  const [conversation] = extractTcpStreams(records);
  t.ok(conversation?.serverToClient.payload.equals(B), 'server stream across the sequence wrap');
  t.same(conversation?.serverToClient.chunks.map((c) => [c.offset, c.length, c.recordIndex]), [[0, 10, 4], [10, B.length - 10, 6]], 'chunks');
});

t.test('extractTcpStreams: connections on one 4-tuple, ports and roles', async (t) => {
  const second = 90000;
  const records = tcpRecords([
    ...HANDSHAKE,
    { toServer: true, seq: ISN_CLIENT, flags: TCP_SYN }, // retransmitted SYN: same connection
    { toServer: true, seq: at(0), payload: A },
    { toServer: true, seq: at(A.length), flags: TCP_FIN | TCP_ACK },
    { toServer: true, seq: second, flags: TCP_SYN }, // new ISN: a new connection
    { toServer: false, seq: 7, flags: TCP_SYN | TCP_ACK },
    { toServer: true, seq: second + 1, payload: B },
  ]);
  const conversations = extractTcpStreams(records);
  t.equal(conversations.length, 2, 'two connections');
  t.ok(conversations[0]?.clientToServer.payload.equals(A) && conversations[0].clientToServer.finished, 'first carries A, then FIN');
  t.ok(conversations[1]?.clientToServer.payload.equals(B), 'second carries B');
  t.same(readOpenFlowSession(writePcap(records), SERVER.port).map((m) => m.connection), [0, 1], 'connection numbers');

  t.same(extractTcpStreams(records, { port: 1234 }), [], 'port filter drops other conversations');
  const byClientPort = extractTcpStreams(records, { port: CLIENT.port });
  t.same(byClientPort[0]?.server, CLIENT, 'the side with the given port is the server');
  t.ok(byClientPort[0]?.serverToClient.payload.equals(A), 'and directions follow the roles');
  const session = readOpenFlowSession(writePcap(records), CLIENT.port);
  t.same(session.map((m) => m.fromSwitch), [false, false], 'fromSwitch = sent to the given port');
});

t.test('extractTcpStreams: refused attempt is not established', async (t) => {
  const records = tcpRecords([{ toServer: true, seq: 1, flags: TCP_SYN }, { toServer: false, seq: 0, flags: 0x04 | TCP_ACK }]);
  const [conversation] = extractTcpStreams(records);
  t.equal(conversation?.established, false);
  t.equal(conversation?.reset, true);
  t.same(readOpenFlowSession(writePcap(records), SERVER.port), []);
});

t.test('extractTcpStreams: link layers and frames that are skipped', async (t) => {
  const [synthetic] = tcpRecords([{ toServer: true, seq: 5000, payload: A }]);
  const ethernet = synthetic!.data;
  const ip = ethernet.subarray(14);
  const sll = Buffer.concat([Buffer.from('0000030400060000000000000000', 'hex'), Buffer.from([0x08, 0x00]), ip]);
  const vlan = Buffer.concat([ethernet.subarray(0, 12), Buffer.from('8100000a0800', 'hex'), ip]);
  const padded = Buffer.concat([ethernet, Buffer.alloc(6)]);
  const udp = Buffer.from(ethernet);
  udp[14 + 9] = 17;
  const fragment = Buffer.from(ethernet);
  fragment.writeUInt16BE(0x2000, 14 + 6); // more fragments
  const ipv6 = ipv6TcpFrame(ip.subarray(20), '2001:db8::1', '2001:db8::2');
  const rows: Array<{ name: string; linkType: number; data: Buffer; expected: Buffer | undefined; client?: string }> = [
    { name: 'Ethernet', linkType: LINKTYPE_ETHERNET, data: ethernet, expected: A },
    { name: 'Linux cooked SLL', linkType: LINKTYPE_LINUX_SLL, data: sll, expected: A },
    { name: 'raw IPv4', linkType: 101, data: ip, expected: A },
    { name: '802.1Q VLAN', linkType: LINKTYPE_ETHERNET, data: vlan, expected: A },
    { name: 'Ethernet padding after IP', linkType: LINKTYPE_ETHERNET, data: padded, expected: A },
    { name: 'IPv6', linkType: LINKTYPE_ETHERNET, data: ipv6, expected: A, client: '2001:db8::1' },
    { name: 'UDP', linkType: LINKTYPE_ETHERNET, data: udp, expected: undefined },
    { name: 'IPv4 fragment', linkType: LINKTYPE_ETHERNET, data: fragment, expected: undefined },
    { name: 'cut by snap length', linkType: LINKTYPE_ETHERNET, data: ethernet.subarray(0, 60), expected: undefined },
    { name: 'truncated TCP header', linkType: LINKTYPE_ETHERNET, data: ethernet.subarray(0, 40), expected: undefined },
    { name: 'unknown link type', linkType: 147, data: ethernet, expected: undefined },
  ];
  for (const row of rows) {
    const conversations = extractTcpStreams([{ timestampUs: 1, linkType: row.linkType, data: row.data, originalLength: row.data.length }]);
    if (row.expected === undefined) {
      t.equal(conversations.length, 0, `${row.name}: skipped`);
    } else {
      t.ok(conversations[0]?.clientToServer.payload.equals(row.expected), `${row.name}: payload`);
      t.equal(conversations[0]?.client.address, row.client ?? CLIENT.address, `${row.name}: address`);
    }
  }
});

function ipv6TcpFrame(tcp: Buffer, source: string, destination: string): Buffer {
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  header.writeUInt16BE(tcp.length, 4);
  header[6] = 6;
  header[7] = 64;
  ipv6Bytes(source).copy(header, 8);
  ipv6Bytes(destination).copy(header, 24);
  return Buffer.concat([Buffer.from('00000000000000000000000086dd', 'hex'), header, tcp]);
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.split('::') as [string, string];
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(group, i * 2));
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* OpenFlow framing                                                                          */
/* ---------------------------------------------------------------------------------------- */

t.test('splitOpenFlowMessages', async (t) => {
  const badHeader = Buffer.from('0400000400000009', 'hex'); // length 4 < 8
  const rows: Array<{ name: string; stream: Buffer; messages: Buffer[]; rest: Buffer; badLength: boolean }> = [
    { name: 'empty', stream: Buffer.alloc(0), messages: [], rest: Buffer.alloc(0), badLength: false },
    { name: 'one message', stream: A, messages: [A], rest: Buffer.alloc(0), badLength: false },
    { name: 'three messages', stream: ABC, messages: [A, B, C], rest: Buffer.alloc(0), badLength: false },
    { name: 'partial header', stream: Buffer.concat([A, B.subarray(0, 5)]), messages: [A], rest: B.subarray(0, 5), badLength: false },
    { name: 'partial body', stream: Buffer.concat([A, B.subarray(0, 12)]), messages: [A], rest: B.subarray(0, 12), badLength: false },
    { name: 'length below 8', stream: Buffer.concat([A, badHeader, C]), messages: [A], rest: Buffer.concat([badHeader, C]), badLength: true },
    { name: 'length exactly 8', stream: Buffer.concat([C, C]), messages: [C, C], rest: Buffer.alloc(0), badLength: false },
  ];
  for (const row of rows) {
    const result = splitOpenFlowMessages(row.stream);
    t.same(result.messages.map((m) => m.toString('hex')), row.messages.map((m) => m.toString('hex')), `${row.name}: messages`);
    t.equal(result.rest.toString('hex'), row.rest.toString('hex'), `${row.name}: rest`);
    t.equal(result.badLength, row.badLength, `${row.name}: badLength`);
  }
});

/* ---------------------------------------------------------------------------------------- */
/* OFTest / Open vSwitch 3.1 fixtures                                                        */
/* ---------------------------------------------------------------------------------------- */

interface ManifestRow {
  test: string;
  ofMsgsToSwitch: number;
  ofMsgsFromSwitch: number;
  framesIntoSwitch: number;
  framesFromSwitch: number;
  tcpConnections: number;
}

function readManifest(): ManifestRow[] {
  const [header, ...lines] = readFileSync(join(FIXTURES, 'MANIFEST.tsv'), 'utf8').trimEnd().split('\n');
  const columns = header!.split('\t');
  const column = (cells: string[], name: string): string => cells[columns.indexOf(name)] ?? '';
  return lines.map((line) => {
    const cells = line.split('\t');
    return {
      test: column(cells, 'test'),
      ofMsgsToSwitch: Number(column(cells, 'of_msgs_to_switch')),
      ofMsgsFromSwitch: Number(column(cells, 'of_msgs_from_switch')),
      framesIntoSwitch: Number(column(cells, 'frames_into_switch')),
      framesFromSwitch: Number(column(cells, 'frames_from_switch')),
      tcpConnections: Number(column(cells, 'tcp_connections')),
    };
  });
}

function readFixture(test: string): Buffer {
  return readFileSync(join(FIXTURES, `${test}.pcapng`));
}

t.test('fixture basic.Echo.pcapng', { skip: FIXTURES_SKIP }, async (t) => {
  const buf = readFixture('basic.Echo');
  const capture = readCapture(buf);
  t.equal(capture.format, 'pcapng');
  t.same(capture.interfaces.map((i) => i.name), ['openflow', 'p1', 'p2', 'p3', 'p4'], 'interface names');
  t.ok(capture.interfaces.every((i) => i.linkType === LINKTYPE_ETHERNET && i.timestampResolution === 6), 'Ethernet, microseconds');
  t.same(capture.interfaces.map((i) => i.snapLength), [262144, 0, 0, 0, 0], 'snap lengths');
  t.ok(capture.records.every((r) => r.interfaceName === capture.interfaces[r.interfaceId ?? -1]?.name), 'records name their interface');
  const times = capture.records.map((r) => r.timestampUs);
  t.same(times, [...times].sort((a, b) => a - b), 'timestamps non-decreasing');
  t.ok(times[0]! > Date.UTC(2020, 0) * 1000, 'timestamps are microseconds since the epoch');

  const session = readOpenFlowSession(buf, FIXTURE_CONTROLLER_PORT);
  const typeOf = (m: { bytes: Buffer }): number | undefined => m.bytes[1];
  t.same(session.slice(0, 2).map((m) => [m.fromSwitch, typeOf(m)]), [[true, OFPT_HELLO], [false, OFPT_HELLO]], 'session opens with both HELLOs');
  const request = session.find((m) => !m.fromSwitch && typeOf(m) === OFPT_ECHO_REQUEST);
  const reply = session.find((m) => m.fromSwitch && typeOf(m) === OFPT_ECHO_REPLY);
  t.ok(request !== undefined && reply !== undefined, 'an echo request and its reply');
  t.equal(reply?.bytes.readUInt32BE(4), request?.bytes.readUInt32BE(4), 'the reply carries the request xid');
  t.ok(reply !== undefined && request !== undefined && reply.bytes.subarray(8).equals(request.bytes.subarray(8)), 'and its data');
  t.ok(session.indexOf(reply!) > session.indexOf(request!), 'the reply comes after the request');
  t.ok(session.every((m) => m.bytes[0] === 4 && m.bytes.readUInt16BE(2) === m.bytes.length), 'every message is OpenFlow 1.3, length as framed');

  const conversations = extractTcpStreams(capture.records, { port: FIXTURE_CONTROLLER_PORT });
  t.ok(conversations.length > 1, 'refused connection attempts appear as conversations');
  t.equal(conversations.filter((c) => c.established).length, 1, 'one established connection');
  t.ok(conversations.filter((c) => !c.established).every((c) => c.reset), 'the refused ones were reset');
  t.ok(conversations.every((c) => c.server.port === FIXTURE_CONTROLLER_PORT && c.client.address === '127.0.0.1'), 'the switch is the client');
});

t.test('fixture match.EthDst.pcapng: data-plane frames', { skip: FIXTURES_SKIP }, async (t) => {
  const records = readPcap(readFixture('match.EthDst'));
  const dataFrames = records.filter((r) => (r.interfaceId ?? 0) > 0);
  t.ok(dataFrames.length > 0, 'has data frames');
  t.ok(dataFrames.every((r) => r.direction !== undefined && ['p1', 'p2', 'p3', 'p4'].includes(r.interfaceName ?? '')), 'every data frame has a port and a direction');
  t.ok(records.filter((r) => r.interfaceId === 0).every((r) => r.direction === undefined), 'no direction on the control channel');
  t.ok(dataFrames.every((r) => r.data.length === r.originalLength), 'data frames are captured whole');
});

t.test('fixtures agree with MANIFEST.tsv', { skip: FIXTURES_SKIP }, async (t) => {
  const rows = readManifest().filter((row) => row.tcpConnections > 0);
  t.ok(rows.length >= 20, `at least 20 manifest rows with a connection (${rows.length})`);
  for (const row of rows) {
    const buf = readFixture(row.test);
    const capture = readCapture(buf);
    const session = readOpenFlowSession(buf, FIXTURE_CONTROLLER_PORT);
    const dataFrames = capture.records.filter((r) => r.interfaceId !== undefined && r.interfaceId >= 1 && r.interfaceId <= 4);
    const established = extractTcpStreams(capture.records, { port: FIXTURE_CONTROLLER_PORT }).filter((c) => c.established);
    t.same(
      {
        toSwitch: session.filter((m) => !m.fromSwitch).length,
        fromSwitch: session.filter((m) => m.fromSwitch).length,
        framesIn: dataFrames.filter((r) => r.direction === 'inbound').length,
        framesOut: dataFrames.filter((r) => r.direction === 'outbound').length,
        connections: established.length,
        leftovers: established.filter((c) => !c.clientToServer.hasGap && splitOpenFlowMessages(c.clientToServer.payload).rest.length > 0).length,
      },
      {
        toSwitch: row.ofMsgsToSwitch,
        fromSwitch: row.ofMsgsFromSwitch,
        framesIn: row.framesIntoSwitch,
        framesOut: row.framesFromSwitch,
        connections: row.tcpConnections,
        leftovers: 0,
      },
      row.test,
    );
  }
});

/* ---------------------------------------------------------------------------------------- */
/* Malformed input                                                                           */
/* ---------------------------------------------------------------------------------------- */

t.test('malformed captures throw PcapFormatError with a code', async (t) => {
  const pcap = sessionPcap();
  const pcapng = new PcapngBuilder(true).section().interface(LINKTYPE_ETHERNET, 'eth0').enhanced(0, 1n, Buffer.from('frame'), 1).build();
  const patched = (buf: Buffer, offset: number, value: number): Buffer => {
    const copy = Buffer.from(buf);
    copy.writeUInt32LE(value, offset);
    return copy;
  };
  const epbOffset = pcapng.length - pcapng.readUInt32LE(pcapng.length - 4); // the last block, an EPB
  const rows: Array<{ name: string; buf: Buffer; code: string }> = [
    { name: 'empty', buf: Buffer.alloc(0), code: 'PCAP_TRUNCATED' },
    { name: 'bad magic', buf: Buffer.from('this is not a capture file at all'), code: 'PCAP_BAD_MAGIC' },
    { name: 'pcap header truncated', buf: pcap.subarray(0, 20), code: 'PCAP_TRUNCATED' },
    { name: 'pcap record header truncated', buf: pcap.subarray(0, 24 + 10), code: 'PCAP_TRUNCATED' },
    { name: 'pcap record data truncated', buf: pcap.subarray(0, pcap.length - 1), code: 'PCAP_TRUNCATED' },
    { name: 'pcap version 3', buf: Buffer.concat([pcap.subarray(0, 4), Buffer.from([3, 0]), pcap.subarray(6)]), code: 'PCAP_UNSUPPORTED_VERSION' },
    { name: 'pcapng truncated section header', buf: pcapng.subarray(0, 20), code: 'PCAP_TRUNCATED' },
    { name: 'pcapng bad byte-order magic', buf: patched(pcapng, 8, 0x12345678), code: 'PCAP_BAD_MAGIC' },
    { name: 'pcapng block length 0', buf: patched(pcapng, epbOffset + 4, 0), code: 'PCAP_BAD_BLOCK_LENGTH' },
    { name: 'pcapng block length not a multiple of 4', buf: patched(pcapng, epbOffset + 4, 38), code: 'PCAP_BAD_BLOCK_LENGTH' },
    { name: 'pcapng block runs past the end', buf: patched(pcapng, epbOffset + 4, 400), code: 'PCAP_TRUNCATED' },
    { name: 'pcapng trailing length mismatch', buf: patched(pcapng, pcapng.length - 4, 44), code: 'PCAP_BAD_BLOCK_LENGTH' },
    { name: 'pcapng packet on an unknown interface', buf: patched(pcapng, epbOffset + 8, 7), code: 'PCAP_UNKNOWN_INTERFACE' },
    { name: 'pcapng captured length overruns block', buf: patched(pcapng, epbOffset + 20, 100), code: 'PCAP_BAD_BLOCK_LENGTH' },
    { name: 'pcapng option overruns block', buf: patched(pcapng, epbOffset + 36, 0x00400002), code: 'PCAP_BAD_OPTION' },
    { name: 'pcapng without a section header', buf: pcapng.subarray(epbOffset), code: 'PCAP_BAD_MAGIC' },
  ];
  for (const row of rows) {
    t.throws(() => readCapture(row.buf), { name: 'PcapFormatError', code: row.code }, row.name);
  }
  t.ok(new PcapFormatError('PCAP_TRUNCATED', 'x') instanceof Error, 'PcapFormatError is an Error');
});

function mutate(original: Buffer, random: () => number): Buffer {
  const pick = (n: number): number => Math.floor(random() * n);
  let buf = Buffer.from(original);
  const kind = pick(3);
  if (kind !== 1) buf = buf.subarray(0, pick(buf.length + 1)); // truncate
  if (kind !== 0) {
    const flips = 1 + pick(4);
    for (let i = 0; i < flips && buf.length > 0; i++) buf[pick(buf.length)] = pick(256);
  }
  return buf;
}

t.test('fuzz: truncations and byte flips only ever throw PcapFormatError', async (t) => {
  const inputs: Array<{ name: string; buf: Buffer; port: number }> = [
    { name: 'written pcap', buf: writeOpenFlowPcap(SESSION.slice(0, 6), { maxSegment: 12 }), port: 6653 },
    {
      name: 'synthetic pcapng',
      buf: new PcapngBuilder(false).section().interface(LINKTYPE_ETHERNET, 'eth0', 9)
        .enhanced(0, 1n, readPcap(sessionPcap())[3]!.data, 2).simple(readPcap(sessionPcap())[5]!.data).build(),
      port: 6653,
    },
  ];
  if (FIXTURES_SKIP === false) inputs.push({ name: 'basic.Echo.pcapng', buf: readFixture('basic.Echo'), port: FIXTURE_CONTROLLER_PORT });
  const iterations = 1500;
  for (const [index, input] of inputs.entries()) {
    const random = prng(0x5eed + index);
    const unexpected: string[] = [];
    const codes = new Set<string>();
    let succeeded = 0;
    const started = performance.now();
    for (let i = 0; i < iterations; i++) {
      const buf = mutate(input.buf, random);
      try {
        readOpenFlowSession(buf, input.port);
        extractTcpStreams(readPcap(buf));
        succeeded++;
      } catch (error) {
        if (error instanceof PcapFormatError) codes.add(error.code);
        else unexpected.push(`iteration ${i}: ${String(error)}`);
      }
    }
    const elapsedMs = performance.now() - started;
    t.same(unexpected.slice(0, 5), [], `${input.name}: no other exceptions`);
    t.ok(succeeded > 0 && codes.size > 0, `${input.name}: mutations both pass and fail (${succeeded} read, codes ${[...codes].join(' ')})`);
    t.ok(elapsedMs < 20_000, `${input.name}: ${iterations} mutations in ${elapsedMs.toFixed(0)} ms`);
  }
});

/* ---------------------------------------------------------------------------------------- */
/* Frame checks used by the writer test, independent of the module                           */
/* ---------------------------------------------------------------------------------------- */

interface ParsedFrame {
  zeroMacs: boolean;
  etherType: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payloadLength: number;
  ipChecksumOk: boolean;
  tcpChecksumOk: boolean;
}

function parseFrame(frame: Buffer): ParsedFrame {
  const ip = frame.subarray(14, 34);
  const tcp = frame.subarray(34, 14 + ip.readUInt16BE(2));
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6]), Buffer.from([tcp.length >> 8, tcp.length & 0xff])]);
  return {
    zeroMacs: frame.subarray(0, 12).every((byte) => byte === 0),
    etherType: frame.readUInt16BE(12),
    srcPort: tcp.readUInt16BE(0),
    dstPort: tcp.readUInt16BE(2),
    seq: tcp.readUInt32BE(4),
    ack: tcp.readUInt32BE(8),
    flags: tcp[13]!,
    payloadLength: tcp.length - (tcp[12]! >> 4) * 4,
    ipChecksumOk: foldedSum(ip) === 0xffff,
    tcpChecksumOk: foldedSum(Buffer.concat([pseudo, tcp])) === 0xffff,
  };
}

function foldedSum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i]! << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Replays the connection: each side's seq must be its next byte, each ack the peer's. */
function sequenceProblems(frames: ParsedFrame[]): string[] {
  const next = new Map<number, number>(); // port -> next sequence number it will send
  const problems: string[] = [];
  frames.forEach((frame, i) => {
    const expectedSeq = next.get(frame.srcPort);
    if (expectedSeq !== undefined && frame.seq !== expectedSeq) problems.push(`frame ${i}: seq ${frame.seq}, expected ${expectedSeq}`);
    const peerNext = next.get(frame.dstPort);
    if ((frame.flags & TCP_ACK) !== 0 && frame.ack !== peerNext) problems.push(`frame ${i}: ack ${frame.ack}, expected ${peerNext}`);
    const consumed = frame.payloadLength + (frame.flags & TCP_SYN ? 1 : 0) + (frame.flags & TCP_FIN ? 1 : 0);
    next.set(frame.srcPort, (frame.seq + consumed) >>> 0);
  });
  return problems;
}
