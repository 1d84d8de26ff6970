/*
 * A recording switch: the smallest fake OpenFlow 1.3 switch that lets a real client (such as
 * `ovs-ofctl`) finish its commands, while recording every message the client sends.
 *
 * It listens on a unix socket. Each accepted connection gets a connection index (0, 1, ...,
 * in accept order). Bytes are cut into messages with OfpFramer; every message is recorded
 * raw, in arrival order, before anything else looks at it. Replies are built with our codec's
 * encodeMessage(), but what to answer is decided from the raw header (OpenFlow type,
 * multipart type, bundle control type) and never from decodeMessage(), so that a decoder bug
 * cannot stop a recording: it must show up in the tests that replay the recording.
 *
 * What it answers:
 *   HELLO -> HELLO (version bitmap 1.3); ECHO_REQUEST -> ECHO_REPLY; FEATURES_REQUEST ->
 *   FEATURES_REPLY; GET_CONFIG_REQUEST -> GET_CONFIG_REPLY; BARRIER_REQUEST -> BARRIER_REPLY;
 *   QUEUE_GET_CONFIG_REQUEST -> a reply without queues; ROLE_REQUEST -> ROLE_REPLY;
 *   GET_ASYNC_REQUEST -> GET_ASYNC_REPLY; MULTIPART_REQUEST -> a reply of the same type
 *   (port_desc lists ports 1, 2, 3 and LOCAL; table_features describes 254 tables, one per
 *   message; other fixed-size bodies are filled in; list bodies are empty), except
 *   experimenter multipart requests, which get an OFPBRC_BAD_EXPERIMENTER error; ONF bundle
 *   control requests -> the matching *_REPLY. SET_CONFIG is remembered for GET_CONFIG.
 *   Everything else (flow/group/meter/port/table mods, set-config, Nicira extensions, ...)
 *   gets no reply: the client follows such messages with a barrier and waits for that.
 *
 * recordOvsOfctl() runs one real `ovs-ofctl -O OpenFlow13` command against the switch and
 * returns the messages it sent (used by fixtures/record-ovs-ofctl.ts and the interop test).
 * Times are in milliseconds.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import {
  MULTIPART_TYPE_CODES, OFP_VERSION, OFPAT_GROUP, OFPAT_OUTPUT, OFPAT_POP_VLAN, OFPAT_PUSH_VLAN, OFPAT_SET_FIELD,
  OFPBRC_BAD_EXPERIMENTER, OFPET_BAD_REQUEST, OFPIT_APPLY_ACTIONS, OFPIT_CLEAR_ACTIONS, OFPIT_GOTO_TABLE, OFPIT_METER,
  OFPIT_WRITE_ACTIONS, OFPIT_WRITE_METADATA, OFPP_LOCAL, OFPT_BARRIER_REQUEST, OFPT_ECHO_REQUEST, OFPT_EXPERIMENTER,
  OFPT_FEATURES_REQUEST, OFPT_GET_ASYNC_REQUEST, OFPT_GET_CONFIG_REQUEST, OFPT_HELLO, OFPT_MULTIPART_REQUEST,
  OFPT_QUEUE_GET_CONFIG_REQUEST, OFPT_ROLE_REQUEST, OFPT_SET_CONFIG, ONF_EXPERIMENTER_ID, ONFT_BUNDLE_CONTROL,
  OfpFramer, basicOxmHeader, encodeMessage, multipartTypeName, type MultipartReplyBody, type OfpMessage, type Port,
  type TableFeatures,
} from '../../protocol/index.ts';

/** One message as the client sent it. */
export interface RecordedMessage {
  /** Index of the connection it arrived on, in accept order from 0. */
  connection: number;
  /** The whole message, header included, exactly as received. */
  bytes: Buffer;
}

interface SwitchConfig {
  flags: number;
  missSendLen: number;
}

const OFPMPF_REQ_MORE = 1;
const OFPMPF_REPLY_MORE = 1;
/** How much of an offending request an error message quotes. */
const OFP_ERROR_DATA_LEN = 64;
/** Tables announced in FEATURES_REPLY and described in TABLE_FEATURES replies. */
const RECORDING_SWITCH_N_TABLES = 254;
/** A bundle control reply's type is its request's type plus one (OPEN_REQUEST 0 -> OPEN_REPLY 1, ...). */
const BUNDLE_REPLY_OFFSET = 1;

/** The ports the fake switch owns: 1, 2, 3 and the bridge's LOCAL port. */
export const RECORDING_SWITCH_PORTS: readonly Port[] = [
  recordingPort(1, '00:00:00:00:00:01', 'p1'),
  recordingPort(2, '00:00:00:00:00:02', 'p2'),
  recordingPort(3, '00:00:00:00:00:03', 'p3'),
  recordingPort(OFPP_LOCAL, '00:00:00:00:00:fe', 'br0'),
];

function recordingPort(portNo: number, hwAddr: string, name: string): Port {
  // 1 Gb/s full duplex copper, link up and live.
  const features = (1 << 5) | (1 << 11);
  return {
    portNo, hwAddr, name, config: 0, state: 1 << 2, curr: features, advertised: features,
    supported: features, peer: 0, currSpeed: 1_000_000, maxSpeed: 1_000_000,
  };
}

/**
 * The tables the fake switch describes in table-features replies, one table per reply
 * message (REPLY_MORE on all but the last). `ovs-ofctl` refuses an empty reply and a table
 * without the eight required properties; it reads table names from them.
 */
export const RECORDING_SWITCH_TABLES: readonly TableFeatures[] = Array.from(
  { length: RECORDING_SWITCH_N_TABLES }, (_, tableId) => recordingTable(tableId));

function recordingTable(tableId: number): TableFeatures {
  const instructions = [OFPIT_GOTO_TABLE, OFPIT_WRITE_METADATA, OFPIT_WRITE_ACTIONS, OFPIT_APPLY_ACTIONS,
    OFPIT_CLEAR_ACTIONS, OFPIT_METER].map((type) => ({ type }));
  const actions = [OFPAT_OUTPUT, OFPAT_GROUP, OFPAT_SET_FIELD, OFPAT_PUSH_VLAN, OFPAT_POP_VLAN].map((type) => ({ type }));
  const fields = (['in_port', 'eth_dst', 'eth_src', 'eth_type', 'ipv4_src', 'ipv4_dst'] as const)
    .map((name) => ({ header: basicOxmHeader(name) }));
  return {
    tableId, name: `table${tableId}`, metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn,
    config: 0, maxEntries: 1_000_000,
    properties: [
      { type: 'instructions', instructions },
      { type: 'next_tables', tableIds: tableId + 1 < RECORDING_SWITCH_N_TABLES ? [tableId + 1] : [] },
      { type: 'write_actions', actions },
      { type: 'apply_actions', actions },
      { type: 'match', oxmIds: fields },
      { type: 'wildcards', oxmIds: fields },
      { type: 'write_setfield', oxmIds: fields },
      { type: 'apply_setfield', oxmIds: fields },
    ],
  };
}

export class RecordingSwitch {
  /** Every message received, on every connection, in arrival order. */
  readonly messages: RecordedMessage[] = [];
  /** Framing errors, by connection (the connection is closed when one happens). */
  readonly framingErrors: Array<{ connection: number; error: Error }> = [];

  private server: Server | undefined;
  private path: string | undefined;
  private readonly sockets = new Set<Socket>();
  private connectionCount = 0;
  private idleWaiters: Array<() => void> = [];
  /** The switch configuration, as last set by OFPT_SET_CONFIG (shared by all connections). */
  private config: SwitchConfig = { flags: 0, missSendLen: 128 };

  /** Number of connections accepted so far. */
  get connections(): number {
    return this.connectionCount;
  }

  /** Number of connections currently open. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Starts listening on the unix socket `path` (an existing socket file there is replaced). */
  async start(path: string): Promise<void> {
    if (this.server) throw new Error('recording switch already started');
    if (existsSync(path)) rmSync(path);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    this.path = path;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Closes every connection and the listening socket, and removes the socket file. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.wakeIdleWaiters();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.path && existsSync(this.path)) rmSync(this.path);
    this.path = undefined;
  }

  /**
   * Resolves once no connection is open (every byte a client sent before closing has then
   * been recorded), or after `timeoutMs` milliseconds, whichever is first.
   */
  async whenIdle(timeoutMs = 2000): Promise<void> {
    if (this.sockets.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private accept(socket: Socket): void {
    const connection = this.connectionCount++;
    const framer = new OfpFramer();
    this.sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = framer.push(chunk);
      } catch (error) {
        this.framingErrors.push({ connection, error: error as Error });
        socket.destroy();
        return;
      }
      for (const bytes of messages) {
        this.messages.push({ connection, bytes });
        if (bytes[1] === OFPT_SET_CONFIG && bytes.length >= 12) {
          this.config = { flags: bytes.readUInt16BE(8), missSendLen: bytes.readUInt16BE(10) };
        }
        for (const reply of replyTo(bytes, this.config)) {
          if (!socket.destroyed) socket.write(encodeMessage(reply));
        }
      }
    });
    // A client that half-closes gets its socket closed too.
    socket.on('end', () => socket.end());
    socket.on('error', () => { /* the client went away; 'close' follows */ });
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.sockets.size === 0) this.wakeIdleWaiters();
    });
  }
}

/** The replies the recording switch sends to one raw message (usually zero or one). */
function replyTo(bytes: Buffer, config: SwitchConfig): OfpMessage[] {
  const type = bytes[1]!;
  const xid = bytes.readUInt32BE(4);
  const version = OFP_VERSION;
  switch (type) {
    case OFPT_HELLO:
      return [{ type: 'hello', version, xid, elements: [{ type: 'versionbitmap', bitmaps: [1 << OFP_VERSION] }] }];
    case OFPT_ECHO_REQUEST:
      return [{ type: 'echo_reply', version, xid, data: bytes.subarray(8) }];
    case OFPT_FEATURES_REQUEST:
      return [{
        type: 'features_reply', version, xid, datapathId: 1n, nBuffers: 256, nTables: RECORDING_SWITCH_N_TABLES,
        auxiliaryId: 0, capabilities: 0x4f, reserved: 0,
      }];
    case OFPT_GET_CONFIG_REQUEST:
      return [{ type: 'get_config_reply', version, xid, ...config }];
    case OFPT_BARRIER_REQUEST:
      return [{ type: 'barrier_reply', version, xid }];
    case OFPT_QUEUE_GET_CONFIG_REQUEST:
      return bytes.length >= 12 ? [{ type: 'queue_get_config_reply', version, xid, port: bytes.readUInt32BE(8), queues: [] }] : [];
    case OFPT_ROLE_REQUEST:
      return bytes.length >= 24
        ? [{ type: 'role_reply', version, xid, role: bytes.readUInt32BE(8), generationId: bytes.readBigUInt64BE(16) }]
        : [];
    case OFPT_GET_ASYNC_REQUEST:
      return [{
        type: 'get_async_reply', version, xid, packetInMask: [0x3, 0], portStatusMask: [0x7, 0x7], flowRemovedMask: [0xf, 0],
      }];
    case OFPT_MULTIPART_REQUEST: {
      if (bytes.length < 16) return [];
      const mpType = multipartTypeName(bytes.readUInt16BE(8));
      const flags = bytes.readUInt16BE(10);
      // Answer a multi-message request once, after its last part.
      if (mpType === undefined || (flags & OFPMPF_REQ_MORE) !== 0) return [];
      if (mpType === 'table_features') {
        return RECORDING_SWITCH_TABLES.map((table, i) => ({
          type: 'multipart_reply', version, xid,
          flags: i + 1 < RECORDING_SWITCH_TABLES.length ? OFPMPF_REPLY_MORE : 0,
          body: { mpType, tables: [table] },
        }));
      }
      const body = multipartReplyBody(mpType);
      if (body) return [{ type: 'multipart_reply', version, xid, flags: 0, body }];
      // Experimenter statistics (Nicira's IPFIX statistics, say) are refused, so that the
      // client reports an error at once instead of waiting for a reply.
      return [{
        type: 'error', version, xid, errType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_EXPERIMENTER,
        data: bytes.subarray(0, Math.min(bytes.length, OFP_ERROR_DATA_LEN)),
      }];
    }
    case OFPT_EXPERIMENTER: {
      if (bytes.length < 24) return [];
      if (bytes.readUInt32BE(8) !== ONF_EXPERIMENTER_ID || bytes.readUInt32BE(12) !== ONFT_BUNDLE_CONTROL) return [];
      const controlType = bytes.readUInt16BE(20);
      // Requests are the even control types; each reply is the request's type + 1.
      if (controlType % 2 !== 0) return [];
      return [{
        type: 'bundle_control', version, xid, bundleId: bytes.readUInt32BE(16),
        controlType: controlType + BUNDLE_REPLY_OFFSET, flags: bytes.readUInt16BE(22), properties: Buffer.alloc(0),
      }];
    }
    default:
      return [];
  }
}

function multipartReplyBody(mpType: keyof typeof MULTIPART_TYPE_CODES): MultipartReplyBody | undefined {
  switch (mpType) {
    case 'desc':
      return {
        mpType, mfrDesc: 'ofswitch', hwDesc: 'recording switch', swDesc: 'test/helpers/recording-switch.ts',
        serialNum: '1', dpDesc: 'br0',
      };
    case 'flow': return { mpType, flows: [] };
    case 'aggregate': return { mpType, packetCount: 0n, byteCount: 0n, flowCount: 0 };
    case 'table': return { mpType, tables: [] };
    case 'port_stats': return { mpType, ports: [] };
    case 'queue': return { mpType, queues: [] };
    case 'group': return { mpType, groups: [] };
    case 'group_desc': return { mpType, groups: [] };
    case 'group_features':
      return {
        mpType, types: 0xf, capabilities: 0x3, maxGroups: [1024, 1024, 1024, 1024],
        actions: [0x1ffff, 0x1ffff, 0x1ffff, 0x1ffff],
      };
    case 'meter': return { mpType, meters: [] };
    case 'meter_config': return { mpType, meters: [] };
    case 'meter_features':
      return { mpType, maxMeter: 1024, bandTypes: (1 << 1) | (1 << 2), capabilities: 0xf, maxBands: 8, maxColor: 0 };
    case 'table_features': return { mpType, tables: [...RECORDING_SWITCH_TABLES] };
    case 'port_desc': return { mpType, ports: [...RECORDING_SWITCH_PORTS] };
    case 'experimenter': return undefined;
  }
}

// ---- running a real client against the recording switch ----

/**
 * One `ovs-ofctl` invocation. `args` follow `ovs-ofctl -O OpenFlow13`; the word SWITCH in
 * them stands for `unix:<socket of the recording switch>`. `stdin` is fed to the process
 * (for `add-flows SWITCH -` and the like).
 */
export interface OvsOfctlCommand {
  args: readonly string[];
  stdin?: string;
}

export interface OvsOfctlRun {
  /** The command as a reader would type it, with SWITCH for the socket. */
  command: string;
  /** Exit status; null when the process was killed (see `timedOut`). */
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** What the process sent, in order, on every connection it opened. */
  messages: RecordedMessage[];
}

export const OVS_OFCTL = '/usr/bin/ovs-ofctl';
export const SWITCH_PLACEHOLDER = 'SWITCH';

/** Quotes one argument the way a POSIX shell would need it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The human-readable form of a command (used as the fixture's "command" and in test names). */
export function describeOvsOfctlCommand(c: OvsOfctlCommand): string {
  const text = ['ovs-ofctl', '-O', 'OpenFlow13', ...c.args].map(shellQuote).join(' ');
  return c.stdin === undefined ? text : `${text} <<< ${shellQuote(c.stdin)}`;
}

/**
 * Runs one `ovs-ofctl` command against the recording switch listening at `socketPath` and
 * returns what it sent. The process is killed after `timeoutMs` milliseconds. The child runs
 * asynchronously (never execFileSync): the switch lives on this process's event loop, so a
 * synchronous child would wait forever for the switch's HELLO.
 */
export async function recordOvsOfctl(
  sw: RecordingSwitch, socketPath: string, c: OvsOfctlCommand, timeoutMs = 5000,
): Promise<OvsOfctlRun> {
  const before = sw.messages.length;
  const args = ['-O', 'OpenFlow13', ...c.args.map((a) => (a === SWITCH_PLACEHOLDER ? `unix:${socketPath}` : a))];
  const child = spawn(OVS_OFCTL, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin.on('error', () => { /* the process may exit without reading its input */ });
  child.stdin.end(c.stdin ?? '');
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      stderr += String(e);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  // The process is gone. Let the switch accept a connection still in the listen backlog,
  // then wait until it has read everything the process sent before closing.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await sw.whenIdle();
  return {
    command: describeOvsOfctlCommand(c), exitCode, timedOut, stdout, stderr, messages: sw.messages.slice(before),
  };
}
