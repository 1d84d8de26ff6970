/*
 * Codec benchmark: decode and encode rates of our OpenFlow 1.3 codec next to os-ken's parser
 * (Debian python3-os-ken, run with /usr/bin/python3), on the same bytes, in one run.
 * A benchmark, not a test: `npm run bench` (or `npx tsx bench/codec.ts [--json]`); the test
 * suite never runs it.
 *
 * Two messages:
 *   flow_mod  - a FLOW_MOD adding a flow with a 5-field match (in_port, eth_type=0x0800,
 *               ip_proto=6, ipv4_dst/24, tcp_dst) and one apply_actions instruction holding
 *               set_field(eth_dst) and output;
 *   packet_in - a table-miss PACKET_IN (reason no_match, buffer id set, match in_port) carrying
 *               a 128-byte Ethernet/IPv4/TCP frame with correct checksums.
 * We encode each once; bench/osken_codec_bench.py builds the same message with os-ken (the
 * flow-mod with its serialize(), the packet-in from its struct layouts and OFPMatch.serialize(),
 * the frame with os_ken.lib.packet) and refuses to measure unless the bytes are identical.
 *
 * What each rate counts (messages per second):
 *   decode - ofswitch: decodeMessage(bytes) to a typed message, with all its validation;
 *            os-ken: ofproto_parser.header(bytes) then ofproto_parser.msg(...), as os-ken's
 *            Datapath does for each message it receives.
 *   encode - ofswitch: encodeMessage() of the decoded message object;
 *            os-ken: serialize() of the message object os-ken parsed from the same bytes
 *            (serialize() rebuilds msg.buf from the object's fields on every call).
 *            os-ken has no PACKET_IN serializer (a controller never sends one): n/a.
 * Each rate is the median of REPEATS timed runs of RUN_SECONDS of wall-clock time each, after
 * a WARMUP_SECONDS warm-up, one measurement at a time (ours first, then os-ken's), so the two
 * never compete for a CPU. Times are from process.hrtime.bigint() and time.perf_counter().
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OFP_NO_BUFFER, OFPFC_ADD, OFPFF_SEND_FLOW_REM, OFPG_ANY, OFPP_ANY, OFPR_NO_MATCH,
  decodeMessage, encodeMessage, type FlowMod, type OfpMessage, type PacketIn,
} from '../protocol/index.ts';

const RUN_SECONDS = 1.5;
const REPEATS = 3;
const WARMUP_SECONDS = 0.3;
const PYTHON = '/usr/bin/python3';
const OSKEN_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'osken_codec_bench.py');

type MessageName = 'flow_mod' | 'packet_in';
const OPERATIONS = ['decode', 'encode'] as const;
type Operation = (typeof OPERATIONS)[number];

// ---- the messages ----

/** The ones'-complement sum of `data` as 16-bit words, folded into 16 bits. */
function onesComplementSum(data: Buffer, sum: number): number {
  for (let i = 0; i < data.length; i += 2) sum += (data[i]! << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The RFC 1071 checksum over `parts` (each but the last of even length). */
const internetChecksum = (...parts: Buffer[]): number =>
  ~parts.reduce((sum, part) => onesComplementSum(part, sum), 0) & 0xffff;

/** 10.0.0.1:51234 -> 10.1.2.7:80, an HTTP GET with PSH|ACK: 14 + 20 + 20 + 74 = 128 bytes. */
function tcpFrame(): Buffer {
  const payload = Buffer.from('GET /ip HTTP/1.1\r\nHost: 10.1.2.7\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');
  const frame = Buffer.alloc(14 + 20 + 20 + payload.length);
  frame.write('0a1b2c3d4e5f' + '001122334455' + '0800', 0, 'hex');
  const ip = frame.subarray(14, 34);
  ip.write('45000000' + '1c464000' + '40060000' + '0a000001' + '0a010207', 'hex');
  ip.writeUInt16BE(frame.length - 14, 2);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  const tcp = frame.subarray(34);
  tcp.write('c8220050' + '3b9aca01' + '0000a001' + '501801f6' + '00000000', 'hex');
  payload.copy(tcp, 20);
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6, tcp.length >> 8, tcp.length & 0xff])]);
  tcp.writeUInt16BE(internetChecksum(pseudo, tcp), 16);
  if (frame.length !== 128) throw new Error(`frame is ${frame.length} bytes, not 128`);
  return frame;
}

const FLOW_MOD: FlowMod = {
  type: 'flow_mod', xid: 0x1234, cookie: 0x0123456789abcdefn, cookieMask: 0n, tableId: 0, command: OFPFC_ADD,
  idleTimeout: 60, hardTimeout: 0, priority: 1000, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY,
  flags: OFPFF_SEND_FLOW_REM,
  match: [
    { field: 'in_port', value: 1 },
    { field: 'eth_type', value: 0x0800 },
    { field: 'ip_proto', value: 6 },
    { field: 'ipv4_dst', value: '10.1.2.0', mask: '255.255.255.0' },
    { field: 'tcp_dst', value: 80 },
  ],
  instructions: [{
    type: 'apply_actions',
    actions: [
      { type: 'set_field', field: { field: 'eth_dst', value: '02:00:00:00:00:02' } },
      { type: 'output', port: 2, maxLen: 0 },
    ],
  }],
};

const FRAME = tcpFrame();
const PACKET_IN: PacketIn = {
  type: 'packet_in', xid: 0x1235, bufferId: 0x100, totalLen: FRAME.length, reason: OFPR_NO_MATCH, tableId: 0,
  cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: FRAME,
};

const MESSAGES: Record<MessageName, OfpMessage> = { flow_mod: FLOW_MOD, packet_in: PACKET_IN };

// ---- timing ----

/** Results of the timed operations, summed so that no call can be optimized away. */
let sink = 0;

/** Calls `op` in batches until `seconds` have passed; returns calls per second. */
function timedRun(op: () => number, seconds: number): number {
  const batch = 200;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let calls = 0;
  for (;;) {
    for (let i = 0; i < batch; i++) sink += op();
    calls += batch;
    const now = process.hrtime.bigint();
    if (now >= deadline) return calls / (Number(now - start) / 1e9);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function rate(op: () => number): number {
  timedRun(op, WARMUP_SECONDS);
  return median(Array.from({ length: REPEATS }, () => timedRun(op, RUN_SECONDS)));
}

// ---- the two sides ----

type Rates = Record<MessageName, Record<Operation, number | null>>;

function measureOfswitch(wire: Record<MessageName, Buffer>): Rates {
  const rates = {} as Rates;
  for (const name of Object.keys(wire) as MessageName[]) {
    const bytes = wire[name];
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) throw new Error(`${name}: our codec rejects its own bytes: ${decoded.error.message}`);
    if (!encodeMessage(decoded.message).equals(bytes)) throw new Error(`${name}: decode/encode does not round-trip`);
    const message = decoded.message;
    process.stderr.write(`ofswitch ${name}...\n`);
    rates[name] = {
      decode: rate(() => (decodeMessage(bytes).ok ? 1 : 0)),
      encode: rate(() => encodeMessage(message).length),
    };
  }
  return rates;
}

interface OskenReport {
  python: string;
  osken: string;
  rates: Rates;
  notes: string[];
}

/** Runs the os-ken side on the same bytes; returns its report, or why it could not run. */
function measureOsken(wire: Record<MessageName, Buffer>): OskenReport | { unavailable: string } {
  if (!existsSync(PYTHON)) return { unavailable: `${PYTHON} not found` };
  const input = {
    runSeconds: RUN_SECONDS, repeats: REPEATS, warmupSeconds: WARMUP_SECONDS,
    messages: Object.fromEntries(Object.entries(wire).map(([name, bytes]) => [name, bytes.toString('hex')])),
  };
  const child = spawnSync(PYTHON, [OSKEN_SCRIPT], {
    input: JSON.stringify(input), encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'], timeout: 120_000,
  });
  if (child.error) throw child.error;
  if (child.status !== 0) throw new Error(`${OSKEN_SCRIPT} exited with ${child.status ?? child.signal}`);
  return JSON.parse(child.stdout) as OskenReport | { unavailable: string };
}

// ---- report ----

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

const perSecond = (r: number | null): string => (r === null ? 'n/a' : Math.round(r).toLocaleString('en-US'));

function main(): void {
  const json = process.argv.includes('--json');
  const wire = { flow_mod: encodeMessage(MESSAGES.flow_mod), packet_in: encodeMessage(MESSAGES.packet_in) };
  const ours = measureOfswitch(wire);
  const osken = measureOsken(wire);
  if (sink === 0) throw new Error('nothing was measured');

  const available = !('unavailable' in osken);
  const rows = (Object.keys(MESSAGES) as MessageName[]).flatMap((message) => OPERATIONS.map((operation) => {
    const ofswitchPerSecond = ours[message][operation]!;
    const oskenPerSecond = available ? osken.rates[message][operation] : null;
    const ratio = oskenPerSecond === null ? null : ofswitchPerSecond / oskenPerSecond;
    return { message, operation, ofswitchPerSecond, oskenPerSecond, ratio };
  }));
  const environment = {
    node: process.version,
    python: available ? osken.python : null,
    osken: available ? osken.osken : null,
    cpu: cpuModel(),
    date: new Date().toISOString().replace(/:\d\d\.\d+Z$/, 'Z'),
  };
  const method = `median of ${REPEATS} runs of ${RUN_SECONDS} s each after a ${WARMUP_SECONDS} s warm-up`;

  if (json) {
    const oskenStatus = available ? { notes: osken.notes } : { unavailable: osken.unavailable };
    process.stdout.write(JSON.stringify({ ...environment, method, bytes: {
      flow_mod: wire.flow_mod.length, packet_in: wire.packet_in.length,
    }, ...oskenStatus, results: rows }, null, 2) + '\n');
    return;
  }
  const versions = available
    ? `Python ${osken.python}, os-ken ${osken.osken}`
    : `os-ken not found: ${osken.unavailable}`;
  const lines = [
    `Node ${environment.node}, ${versions}, ${environment.cpu}, ${environment.date}`,
    '',
    '| message | operation | ofswitch msgs/s | os-ken msgs/s | ratio |',
    '|---|---|--:|--:|--:|',
    ...rows.map((r) => `| ${r.message} (${wire[r.message].length} B) | ${r.operation} | `
      + `${perSecond(r.ofswitchPerSecond)} | ${perSecond(r.oskenPerSecond)} | `
      + `${r.ratio === null ? 'n/a' : `${r.ratio.toFixed(1)}x`} |`),
    '',
    `Each rate: ${method}${available ? ', on identical bytes' : ''}.`,
    ...(available ? osken.notes : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main();
