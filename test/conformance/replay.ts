/*
 * Replays one OFTest fixture (a pcapng recorded against Open vSwitch 3.1, see
 * ../shared/fixtures/oftest-ovs31/README.md) against a fresh ofswitchd, playing the tester's side:
 * OFTest is the OpenFlow controller (a TCP server the switch connects to) and the traffic source
 * and sink on the switch's four data ports.
 *
 * `loadFixture` rebuilds the tester's script from the recording:
 *   - every OpenFlow message the tester sent, in order, per TCP connection (raw bytes; only the
 *     xid is rewritten when played, so that even messages our codec refuses are sent as recorded);
 *   - every frame the tester sent into a port (epb_flags inbound), placed among the messages by
 *     the pcapng timestamps (all interfaces share one clock);
 *   - before each of these actions, how many switch outputs the recording shows before it: the
 *     switch's OpenFlow messages and the frames it emitted on each port. The player waits for
 *     that many before acting, which covers both "wait for the reply to a request" and "a frame
 *     sent after the switch answered something" (causal order; the capture is causal to within
 *     tens of microseconds, and outbound frames are stamped when the tester read them, which
 *     only makes the wait weaker, never a deadlock);
 *   - after a message that expects a reply (barrier, multipart request, echo request, features,
 *     get_config, role, get_async, queue_get_config), the player also waits for the switch's
 *     reply with that xid (the last part of a multipart reply, or an error), as OFTest does;
 *   - the switch's recorded outputs, for the comparer (./compare.ts).
 *
 * After sending a frame the player waits until the switch has taken it in (its port's
 * rx_packets, read through the management socket, counts it) before the next action: frames
 * and messages travel on different sockets, so on a loaded machine a frame could otherwise be
 * handled after a message the tester sent 10 ms later (say, a role change), which the recording
 * on an idle switch never shows.
 *
 * `replayFixture` plays the script against a fresh `ofswitchd` configured as the reference
 * switch: datapath id 0000000000000001, ports p1..p4 numbered 1..4 as stream ports
 * (pstream=punix, pad=false, so frames shorter than 60 bytes leave unpadded as from OVS's dummy
 * ports), fail mode secure, OpenFlow 1.3, one controller `tcp:127.0.0.1:<port we listen on>`,
 * max backoff 1000 ms as recorded, and `--no-buffering` (Open vSwitch 3.x: packet-ins carry
 * OFP_NO_BUFFER and the whole packet, as in the recordings).
 *
 * xids: the tester's recorded xids are mapped consistently to xids of our own (a recorded xid
 * used twice gets the same one); the comparer maps the switch's xids back.
 *
 * Switch-wide state carried over from earlier tests: the recording ran every fixture on one
 * switch, in MANIFEST order, and OVS keeps the last role-request generation id across
 * connections. `initialGenerationId` (computed from the preceding recordings by
 * `carriedGenerationIds` in ./fixtures.ts) is set before the replay through the management
 * socket (a role request SLAVE with that generation id on a service connection, which changes
 * no other connection's role). Port hardware addresses must differ: a PORT_MOD from the tester
 * carries the port's address, which is rewritten from the recorded address of that port to the
 * address ofswitchd gave it (asked on the management socket).
 *
 * Pauses: where the tester paused for more than a second between two actions (letting a flow's
 * idle or hard timeout run out, say), the player pauses as long; shorter gaps are not played,
 * since the waits above already keep the recording's order.
 *
 * Keepalives: an echo request from the switch (its inactivity probe) is answered and left out
 * of the comparison; none appears in the recordings.
 *
 * Bounds: each wait is bounded (`waitMs`, shortened after the first wait that timed out, since
 * the fixture then differs anyway), and the whole replay by `timeoutMs`. Times are milliseconds
 * unless a name ends in `Us` (microseconds, the capture's clock).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  decodeMessage, type GroupMod, OfpFramer, type Port,
} from '../../protocol/index.ts';
import { readCapture, readOpenFlowSession } from '../../protocol/pcap.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { startOfswitchd, type Daemon } from '../helpers/ofswitchd.ts';
import { Wire } from '../helpers/wire.ts';

/** The controller's port in the recordings (OFTest listening, the switch connecting). */
export const FIXTURE_CONTROLLER_PORT = 16663;
export const DATA_PORTS = [1, 2, 3, 4] as const;
const OFP_VERSION_13 = 4;

/** Message types after which the tester waits for the reply with the same xid. */
export const REQUEST_TYPES: ReadonlySet<number> = new Set([
  2, // ECHO_REQUEST
  5, // FEATURES_REQUEST
  7, // GET_CONFIG_REQUEST
  18, // MULTIPART_REQUEST
  20, // BARRIER_REQUEST
  22, // QUEUE_GET_CONFIG_REQUEST
  24, // ROLE_REQUEST
  26, // GET_ASYNC_REQUEST
]);
const OFPT_ECHO_REQUEST = 2;
const OFPT_ECHO_REPLY = 3;
const OFPT_PORT_MOD = 16;
const OFPT_MULTIPART_REQUEST = 18;
const OFPT_MULTIPART_REPLY = 19;
const OFPT_ROLE_REQUEST = 24;
const OFPMPF_REPLY_MORE = 1;

/** Switch outputs seen so far: OpenFlow messages (all connections) and frames per port. */
export interface OutputCounts {
  control: number;
  ports: Record<number, number>;
}

export type Step =
  | { kind: 'message'; connection: number; bytes: Buffer; xid: number; msgType: number; expectsReply: boolean; timestampUs: number; before: OutputCounts }
  | { kind: 'frame'; port: number; frame: Buffer; timestampUs: number; before: OutputCounts };

export interface ExpectedMessage {
  connection: number;
  bytes: Buffer;
  timestampUs: number;
}

export interface ExpectedFrame {
  frame: Buffer;
  timestampUs: number;
}

export interface Fixture {
  name: string;
  file: string;
  /** Established OpenFlow connections in the recording. */
  connections: number;
  steps: Step[];
  /** Every message the switch sent, in capture order. */
  expectedControl: ExpectedMessage[];
  /** Frames the switch emitted, per port, in capture order. */
  expectedFrames: Map<number, ExpectedFrame[]>;
  /** Every xid the tester used (replies carrying one of them are answers to the tester). */
  testerXids: Set<number>;
  /** Port number → hardware address, from the recorded switch's port descriptions. */
  recordedHwAddrs: Map<number, string>;
  /** The tester sent a role request (the carried-over generation id is visible). */
  usesRoles: boolean;
  /** The tester sent a port mod (port hardware addresses must be mapped). */
  usesPortMod: boolean;
  /** Groups left by earlier tests can show (the test does not delete all groups first). */
  groupsObservable: boolean;
  /**
   * Recorded xids of statistics requests that were polls: the tester's next action was the
   * same request again (OFTest's retry loops, e.g. verify_flow_stats). Their counters show how
   * far the switch had got with frames sent just before, a race in the recording.
   */
  intermediatePolls: Set<number>;
}

function emptyCounts(): OutputCounts {
  return { control: 0, ports: Object.fromEntries(DATA_PORTS.map((p) => [p, 0])) };
}

/** Reads a fixture into the tester's script and the switch's expected outputs. */
export function loadFixture(file: string): Fixture {
  const buf = readFileSync(file);
  const name = basename(file).replace(/\.pcapng$/, '');
  const session = readOpenFlowSession(buf, FIXTURE_CONTROLLER_PORT);
  const capture = readCapture(buf);
  type Event =
    | { at: number; order: number; kind: 'ctl'; fromSwitch: boolean; connection: number; bytes: Buffer }
    | { at: number; order: number; kind: 'frame'; inbound: boolean; port: number; frame: Buffer };
  const events: Event[] = [];
  session.forEach((m, i) => events.push({ at: m.timestampUs, order: i, kind: 'ctl', fromSwitch: m.fromSwitch, connection: m.connection, bytes: m.bytes }));
  capture.records.forEach((r, i) => {
    const port = r.interfaceId ?? 0;
    if (port === 0) return;
    if (r.direction !== 'inbound' && r.direction !== 'outbound') throw new Error(`${name}: frame ${i} on port ${port} has no direction`);
    events.push({ at: r.timestampUs, order: session.length + i, kind: 'frame', inbound: r.direction === 'inbound', port, frame: Buffer.from(r.data) });
  });
  // Stable order: by time; at equal times, control messages (capture order) before frames.
  events.sort((a, b) => a.at - b.at || a.order - b.order);

  const steps: Step[] = [];
  const expectedControl: ExpectedMessage[] = [];
  const expectedFrames = new Map<number, ExpectedFrame[]>(DATA_PORTS.map((p) => [p, []]));
  const counts = emptyCounts();
  const testerXids = new Set<number>();
  const recordedHwAddrs = new Map<number, string>();
  let usesRoles = false;
  let usesPortMod = false;
  let connections = 0;
  for (const e of events) {
    const before: OutputCounts = { control: counts.control, ports: { ...counts.ports } };
    if (e.kind === 'ctl') {
      connections = Math.max(connections, e.connection + 1);
      const msgType = e.bytes[1]!;
      const xid = e.bytes.readUInt32BE(4);
      if (e.fromSwitch) {
        expectedControl.push({ connection: e.connection, bytes: e.bytes, timestampUs: e.at });
        counts.control++;
        const decoded = decodeMessage(e.bytes);
        if (decoded.ok && decoded.message.type === 'multipart_reply' && decoded.message.body.mpType === 'port_desc') {
          for (const port of decoded.message.body.ports) recordedHwAddrs.set(port.portNo, port.hwAddr);
        }
      } else {
        testerXids.add(xid);
        if (msgType === OFPT_ROLE_REQUEST) usesRoles = true;
        if (msgType === OFPT_PORT_MOD) usesPortMod = true;
        steps.push({
          kind: 'message', connection: e.connection, bytes: e.bytes, xid, msgType,
          expectsReply: REQUEST_TYPES.has(msgType), timestampUs: e.at, before,
        });
      }
    } else if (e.inbound) {
      steps.push({ kind: 'frame', port: e.port, frame: e.frame, timestampUs: e.at, before });
    } else {
      expectedFrames.get(e.port)?.push({ frame: e.frame, timestampUs: e.at });
      counts.ports[e.port] = (counts.ports[e.port] ?? 0) + 1;
    }
  }
  const intermediatePolls = new Set<number>();
  steps.forEach((step, i) => {
    const next = steps[i + 1];
    if (step.kind !== 'message' || step.msgType !== OFPT_MULTIPART_REQUEST || next?.kind !== 'message') return;
    if (next.bytes.length === step.bytes.length && next.bytes.subarray(8).equals(step.bytes.subarray(8))
      && next.bytes.subarray(0, 4).equals(step.bytes.subarray(0, 4))) intermediatePolls.add(step.xid);
  });
  return {
    name, file, connections, steps, expectedControl, expectedFrames, testerXids, recordedHwAddrs, usesRoles, usesPortMod,
    groupsObservable: groupsObservable(steps), intermediatePolls,
  };
}

/**
 * False when the tester deletes every group (GROUP_MOD DELETE OFPG_ALL) before anything that
 * could show a group: a flow mod or packet out (a group action), another group mod, or a group
 * statistics, description or features request.
 */
function groupsObservable(steps: readonly Step[]): boolean {
  for (const step of steps) {
    if (step.kind !== 'message') continue;
    const d = decodeMessage(step.bytes);
    if (!d.ok) continue;
    const m = d.message;
    if (m.type === 'group_mod') return !(m.command === 2 && m.groupId === 0xfffffffc);
    if (m.type === 'flow_mod' || m.type === 'packet_out' || m.type === 'bundle_add') return true;
    if (m.type === 'multipart_request' && ['group', 'group_desc', 'group_features'].includes(m.body.mpType)) return true;
  }
  return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Playing                                                                                     */
/* ------------------------------------------------------------------------------------------ */

export interface ReplayOptions {
  /** Bound on the whole replay (default 10 s). */
  timeoutMs?: number;
  /** Bound on one wait for the switch (default 2 s; 50 ms once a wait has timed out). */
  waitMs?: number;
  /** After the last expected output, how long nothing more must arrive (default 100 ms). */
  quietMs?: number;
  /** The role-request generation id the reference switch had when the test started. */
  initialGenerationId?: bigint;
  /** Groups the reference switch had when the test started (GROUP_MOD adds). */
  initialGroups?: GroupMod[];
  /** Extra ofswitchd options. */
  extraArgs?: string[];
  /** Run without --no-buffering (ofswitch's own packet-in buffering; not like OVS 3.x). */
  buffering?: boolean;
  /** The tester's pauses longer than this are played (default 1000 ms; see Pauses above). */
  pausesOverMs?: number;
}

export interface ObservedMessage {
  connection: number;
  bytes: Buffer;
  /** Index of the last step played before it arrived (-1: before the first). */
  afterStep: number;
}

export interface ObservedFrame {
  frame: Buffer;
  afterStep: number;
}

export interface ReplayResult {
  control: ObservedMessage[];
  frames: Map<number, ObservedFrame[]>;
  /** Our xid → the recorded xid it stands for. */
  recordedXid: Map<number, number>;
  /** Port number → the hardware address ofswitchd gave it. */
  liveHwAddrs: Map<number, string>;
  /** Waits that timed out, in order (each says what it waited for). */
  timeouts: string[];
  /** Anything else worth knowing (connection closed early, undecodable stream, ...). */
  notes: string[];
  elapsedMs: number;
  /** Daemon stderr, for diagnostics. */
  daemonOutput: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The tester's controller end of one OpenFlow connection. */
class ControllerConnection {
  private readonly framer = new OfpFramer();
  closed = false;

  constructor(
    readonly index: number,
    private readonly socket: Socket,
    private readonly onMessage: (connection: number, bytes: Buffer) => void,
    private readonly note: (text: string) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = this.framer.push(chunk);
      } catch (e) {
        this.note(`connection ${index}: ${(e as Error).message}`);
        socket.destroy();
        return;
      }
      for (const bytes of messages) {
        if (bytes[1] === OFPT_ECHO_REQUEST) {
          // The switch's inactivity probe: answer it, keep it out of the comparison.
          const reply = Buffer.from(bytes);
          reply[1] = OFPT_ECHO_REPLY;
          socket.write(reply);
          this.note(`connection ${index}: answered an echo request from the switch`);
          continue;
        }
        this.onMessage(index, bytes);
      }
    });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => undefined);
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Our xids start here, away from small switch-chosen xids (hello, packet-in 0). */
const XID_BASE = 0x5e000001;

export async function replayFixture(fixture: Fixture, options: ReplayOptions = {}): Promise<ReplayResult> {
  const started = performance.now();
  const deadline = started + (options.timeoutMs ?? 10_000);
  let waitMs = options.waitMs ?? 2000;
  const quietMs = options.quietMs ?? 100;
  const timeouts: string[] = [];
  const notes: string[] = [];
  const control: ObservedMessage[] = [];
  const ourXid = new Map<number, number>();
  const recordedXid = new Map<number, number>();
  const liveHwAddrs = new Map<number, string>();
  let currentStep = -1;
  let lastOutputAt = performance.now();
  /**
   * Once a wait has timed out the replay already differs; from then on waits are short and
   * frames count over all ports together, so that a switch sending the right frames to other
   * ports (select groups) is still followed step by step instead of timing out at every step.
   */
  let degraded = false;

  const sockdir = mkdtempSync(join(tmpdir(), 'ofs-replay-'));
  const accepted: Socket[] = [];
  const server: Server = createServer((socket) => { accepted.push(socket); });
  const connections: ControllerConnection[] = [];
  const wires = new Map<number, Wire>();
  let daemon: Daemon | undefined;
  let daemonOutput = '';

  const remaining = (): number => Math.max(0, deadline - performance.now());
  /** A management connection that only asks port statistics (see frameTakenIn). */
  let probe: OfClient | undefined;
  const sentInto = new Map<number, number>();
  let probeXid = 1000;
  /** Whether the switch's port `port` has received `count` frames (within the usual wait). */
  const frameTakenIn = async (port: number, count: number): Promise<boolean> => {
    const limit = performance.now() + Math.min(2000, remaining());
    while (probe && performance.now() < limit) {
      const reply = await probe.request({ type: 'multipart_request', xid: ++probeXid, flags: 0, body: { mpType: 'port_stats', portNo: port } }, 2000)
        .catch(() => undefined);
      if (reply?.type !== 'multipart_reply' || reply.body.mpType !== 'port_stats') return false;
      if (Number(reply.body.ports[0]?.rxPackets ?? 0) >= count) return true;
      await sleep(1);
    }
    return false;
  };
  /** Waits until `check()` holds; on timeout records `what` and returns false. */
  const waitUntil = async (check: () => boolean, what: string): Promise<boolean> => {
    const begun = performance.now();
    const limit = begun + Math.min(waitMs, remaining());
    while (!check()) {
      const now = performance.now();
      // Answers usually take well under a millisecond: yield to I/O at first, then sleep.
      if (now - begun < 5) {
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (now >= limit) {
        timeouts.push(`${what} (step ${currentStep + 1} of ${fixture.steps.length})`);
        waitMs = Math.min(waitMs, 50);
        degraded = true;
        return false;
      }
      await sleep(1);
    }
    return true;
  };
  const observedFrames = new Map<number, ObservedFrame[]>(DATA_PORTS.map((p) => [p, []]));
  const framesOn = (port: number): ObservedFrame[] => observedFrames.get(port)!;
  /** Moves frames from the wires into `observedFrames`, stamping them with the current step. */
  const drainWires = (): void => {
    for (const [port, wire] of wires) {
      const got = wire.take();
      if (got.length) lastOutputAt = performance.now();
      for (const f of got) observedFrames.get(port)!.push({ frame: f.frame, afterStep: currentStep });
    }
  };
  const countsReached = (want: OutputCounts): boolean => {
    drainWires();
    if (control.length < want.control) return false;
    if (degraded) {
      const sum = (get: (p: number) => number): number => DATA_PORTS.reduce((n, p) => n + get(p), 0);
      return sum((p) => framesOn(p).length) >= sum((p) => want.ports[p] ?? 0);
    }
    return DATA_PORTS.every((p) => framesOn(p).length >= (want.ports[p] ?? 0));
  };
  const describeCounts = (want: OutputCounts): string => {
    const parts = [`control ${control.length}/${want.control}`];
    for (const p of DATA_PORTS) if (want.ports[p]) parts.push(`p${p} ${framesOn(p).length}/${want.ports[p]}`);
    return parts.join(', ');
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const controllerPort = (server.address() as { port: number }).port;
    const args = [
      '--datapath-id=0000000000000001',
      ...DATA_PORTS.map((p) => `--port=p${p}:${p},pstream=punix:${join(sockdir, `p${p}.sock`)},pad=false`),
      `--controller=tcp:127.0.0.1:${controllerPort}`,
      '--fail-mode=secure',
      '--max-backoff=1000',
      ...(options.buffering ? [] : ['--no-buffering']),
      ...(options.extraArgs ?? []),
    ];
    daemon = await startOfswitchd(args);
    for (const p of DATA_PORTS) wires.set(p, await Wire.connect(join(sockdir, `p${p}.sock`), `p${p}`));
    probe = await OfClient.connect(daemon.mgmt);
    await probe.next((m) => m.type === 'hello');

    const initialGroups = options.initialGroups ?? [];
    if (options.initialGenerationId !== undefined || fixture.usesPortMod || initialGroups.length) {
      const mgmt = await OfClient.connect(daemon.mgmt);
      try {
        await mgmt.next((m) => m.type === 'hello');
        if (options.initialGenerationId !== undefined) {
          const reply = await mgmt.request({ type: 'role_request', xid: 1, role: 3, generationId: options.initialGenerationId });
          if (reply.type !== 'role_reply') notes.push(`priming the generation id failed: ${reply.type}`);
        }
        if (initialGroups.length) {
          initialGroups.forEach((g, i) => mgmt.send({ ...g, xid: 100 + i }));
          await mgmt.request({ type: 'barrier_request', xid: 99 });
          for (const m of mgmt.received) if (m.type === 'error') notes.push(`setting up the inherited groups failed: error ${m.errType}/${m.code}`);
        }
        if (fixture.usesPortMod) {
          const reply = await mgmt.request({ type: 'multipart_request', xid: 2, flags: 0, body: { mpType: 'port_desc' } });
          if (reply.type === 'multipart_reply' && reply.body.mpType === 'port_desc') {
            for (const port of reply.body.ports as Port[]) liveHwAddrs.set(port.portNo, port.hwAddr);
          }
        }
      } finally {
        mgmt.close();
      }
    }

    const onMessage = (connection: number, bytes: Buffer): void => {
      control.push({ connection, bytes, afterStep: currentStep });
      lastOutputAt = performance.now();
    };
    const connectionFor = async (index: number): Promise<ControllerConnection | undefined> => {
      while (connections.length <= index) {
        const n = connections.length;
        if (n > 0) connections[n - 1]!.close(); // the tester ends a connection before the next
        const ok = await waitUntil(() => accepted.length > n, `switch connection ${n}`);
        if (!ok) return undefined;
        connections.push(new ControllerConnection(n, accepted[n]!, onMessage, (text) => notes.push(text)));
      }
      return connections[index];
    };

    // OFTest listens before the switch connects; the first connection is there from the start.
    if (fixture.connections > 0) await connectionFor(0);
    let nextXid = XID_BASE;
    const pausesOverUs = (options.pausesOverMs ?? 1000) * 1000;
    let previous: { recordedUs: number; playedAt: number } | undefined;
    for (let i = 0; i < fixture.steps.length; i++) {
      if (remaining() <= 0) {
        timeouts.push(`replay time limit reached before step ${i + 1} of ${fixture.steps.length}`);
        break;
      }
      const step = fixture.steps[i]!;
      if (!countsReached(step.before)) {
        await waitUntil(() => countsReached(step.before), `switch outputs before step ${i + 1} (${describeStep(step)}): ${describeCounts(step.before)}`);
      }
      const pauseUs = previous ? step.timestampUs - previous.recordedUs : 0;
      if (previous && pauseUs > pausesOverUs) await sleep(Math.min(remaining(), previous.playedAt + pauseUs / 1000 - performance.now()));
      previous = { recordedUs: step.timestampUs, playedAt: performance.now() };
      if (step.kind === 'message') {
        const conn = await connectionFor(step.connection);
        if (!conn) break;
        if (conn.closed) {
          notes.push(`connection ${step.connection} closed by the switch before step ${i + 1}`);
          break;
        }
        let xid = ourXid.get(step.xid);
        if (xid === undefined) {
          xid = nextXid++;
          ourXid.set(step.xid, xid);
          recordedXid.set(xid, step.xid);
        }
        const bytes = Buffer.from(step.bytes);
        bytes.writeUInt32BE(xid, 4);
        const out = step.msgType === OFPT_PORT_MOD ? rewritePortModHwAddr(bytes, fixture.recordedHwAddrs, liveHwAddrs, notes) : bytes;
        currentStep = i;
        conn.send(out);
        if (step.expectsReply) {
          const sent = xid;
          await waitUntil(() => control.some((m) => m.afterStep >= i && isFinalAnswer(m.bytes, sent)), `reply to step ${i + 1} (${describeStep(step)})`);
        }
      } else {
        currentStep = i;
        const wire = wires.get(step.port);
        if (!wire) throw new Error(`no wire on port ${step.port}`);
        wire.send(step.frame);
        const sent = (sentInto.get(step.port) ?? 0) + 1;
        sentInto.set(step.port, sent);
        if (!(await frameTakenIn(step.port, sent))) timeouts.push(`ofswitchd taking in frame ${sent} on p${step.port} (step ${i + 1})`);
      }
    }

    // The switch's remaining outputs, then nothing more for quietMs.
    const total: OutputCounts = {
      control: fixture.expectedControl.length,
      ports: Object.fromEntries(DATA_PORTS.map((p) => [p, fixture.expectedFrames.get(p)!.length])),
    };
    await waitUntil(() => countsReached(total), `switch outputs at the end: ${describeCounts(total)}`);
    lastOutputAt = Math.max(lastOutputAt, performance.now());
    while (performance.now() - lastOutputAt < quietMs && remaining() > 0) {
      await sleep(Math.min(10, quietMs));
      drainWires();
    }
  } finally {
    probe?.close();
    for (const c of connections) c.close();
    for (const s of accepted) s.destroy();
    drainWires();
    for (const w of wires.values()) w.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    daemonOutput = daemon?.output() ?? '';
    if (daemon) await daemon.stop();
    rmSync(sockdir, { recursive: true, force: true });
  }
  return {
    control, frames: observedFrames, recordedXid, liveHwAddrs, timeouts, notes,
    elapsedMs: performance.now() - started, daemonOutput,
  };
}

/** A reply with this xid that completes the answer: not a REPLY_MORE part. */
function isFinalAnswer(bytes: Buffer, xid: number): boolean {
  if (bytes.readUInt32BE(4) !== xid) return false;
  if (bytes[1] === OFPT_MULTIPART_REPLY && bytes.length >= 12) return (bytes.readUInt16BE(10) & OFPMPF_REPLY_MORE) === 0;
  return true;
}

/** PORT_MOD carries the port's hardware address at offset 16 (after port_no and pad). */
function rewritePortModHwAddr(bytes: Buffer, recorded: Map<number, string>, live: Map<number, string>, notes: string[]): Buffer {
  if (bytes.length < 22 || bytes[0] !== OFP_VERSION_13) return bytes;
  const portNo = bytes.readUInt32BE(8);
  const have = [...bytes.subarray(16, 22)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  const want = live.get(portNo);
  if (want === undefined) {
    notes.push(`port_mod for port ${portNo}: ofswitchd's hardware address unknown, sent as recorded`);
    return bytes;
  }
  if (recorded.get(portNo) !== have) return bytes; // deliberately wrong address: keep it wrong
  Buffer.from(want.replace(/:/g, ''), 'hex').copy(bytes, 16);
  return bytes;
}

export function describeStep(step: Step): string {
  if (step.kind === 'frame') return `frame into p${step.port}, ${step.frame.length} bytes`;
  const decoded = decodeMessage(step.bytes);
  return decoded.ok ? `${decoded.message.type}${decoded.message.type === 'multipart_request' ? ` ${decoded.message.body.mpType}` : ''}` : `message type ${step.msgType}`;
}
