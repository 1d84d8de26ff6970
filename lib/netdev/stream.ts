/*
 * Stream netdevs: frames over unix or TCP stream sockets, wire-compatible with Open vSwitch's
 * `dummy` netdev (lib/netdev-dummy.c, `dummy_packet_stream`). The `internal` type (a bridge's
 * LOCAL port) is the same device with no required options, as Open vSwitch treats internal
 * ports as dummies under --enable-dummy=override.
 *
 * Framing: each frame is a 2-byte big-endian length followed by that many bytes of Ethernet
 * frame (no FCS). A length below 14 (an Ethernet header) is a protocol error and the peer's
 * connection is dropped, exactly as Open vSwitch does (EPROTO); a length cannot exceed 65535.
 *
 * Options (Interface options:..., as in Open vSwitch):
 *   pstream=punix:PATH | ptcp:PORT[:IP]   listen; any number of peers. A frame sent goes to
 *                                         every connected peer; frames from any peer are received.
 *                                         A socket file already at PATH (a stale one left by a
 *                                         process that died) is unlinked first, as Open vSwitch
 *                                         does; the file is removed on close.
 *   stream=unix:PATH | tcp:HOST:PORT      connect; while not connected, retry with backoff
 *                                         1 s..8 s (see reconnect.ts).
 *   carrier=always | connected            ofswitch only (Open vSwitch ignores unknown dummy
 *                                         options). `always` (default) mirrors Open vSwitch:
 *                                         netdev-dummy has no get_carrier, so netdev_get_carrier()
 *                                         reports the link up whether or not a peer is connected
 *                                         and ovs-ofctl shows `state: LIVE` on an unconnected
 *                                         dummy port. `connected`: carrier is up while at least
 *                                         one peer is connected, and onCarrierChange fires on
 *                                         each change (for tests of PORT_STATUS/LINK_DOWN).
 *   pad=true | false                      ofswitch only. `true` (default): a frame shorter than
 *                                         60 bytes is padded with zeros to 60 when sent, as an
 *                                         Ethernet wire would. `false`: frames are sent exactly
 *                                         as given, as Open vSwitch's dummy does (its recorded
 *                                         OFTest fixtures show short frames unpadded).
 * `stream` requires exactly one of pstream/stream; `internal` takes at most one.
 *
 * Transmission: frames shorter than 14 bytes or longer than 65535 are dropped (Open vSwitch
 * refuses frames shorter than the Ethernet header with EMSGSIZE). With no peer connected a frame
 * is dropped (txDropped; Open vSwitch counts it in tx_packets and discards it). A peer whose
 * unsent data exceeds STREAM_TX_QUEUE_BYTES gets no more frames until it drains: memory never
 * grows without bound (Open vSwitch bounds each peer at 100 queued frames). A frame is counted
 * transmitted if at least one peer took it, dropped otherwise. Received frames are passed up as
 * they arrived, padding included.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import { parseTarget, TargetError, type Target } from '../util/target.ts';
import { Vlog } from '../util/vlog.ts';
import {
  checkOptionKeys, hwAddrForName, newNetdevStats, NetdevError,
  type Netdev, type NetdevContext, type NetdevProvider, type NetdevStats,
} from './provider.ts';
import { Reconnect } from './reconnect.ts';

const log = new Vlog('netdev_stream');

/** Bytes of the length prefix in front of each frame. */
export const STREAM_FRAME_HEADER_LENGTH = 2;
/** The smallest frame either side accepts: an Ethernet header. */
export const ETH_HEADER_LENGTH = 14;
/** Frames shorter than this are padded with zeros when sent (pad=true): 64-byte minimum less the FCS. */
export const ETH_MIN_FRAME_LENGTH = 60;
/** The largest frame the 16-bit length prefix can carry. */
export const STREAM_MAX_FRAME_LENGTH = 0xffff;
/** Per peer: while more than this many bytes wait to be written, frames for that peer are dropped. */
export const STREAM_TX_QUEUE_BYTES = 1024 * 1024;

type CarrierMode = 'always' | 'connected';

/** Rare paths, countable (Open vSwitch's COVERAGE_DEFINE). */
export interface StreamCoverage {
  /** Peers dropped for a frame length below 14. */
  framingErrors: number;
  /** Frames not given to one peer because its queue was full. */
  peerQueueDrops: number;
  /** Connection attempts that failed (active side). */
  connectFailures: number;
  /** Connections accepted (passive side) or established (active side). */
  connections: number;
  /** Exceptions thrown by onReceive. */
  receiveExceptions: number;
}

/**
 * Splits a byte stream into frames. Holds at most one incomplete frame (< 65537 bytes).
 * A delivered frame is a view of the chunk when it is most of it, else a copy, so a kept frame
 * never pins a much larger read buffer.
 */
export class FrameDecoder {
  private partial: Buffer | undefined;

  /** Bytes of an incomplete frame held back. */
  get pendingBytes(): number { return this.partial?.length ?? 0; }

  /** Feeds bytes, calling `deliver` for each whole frame; returns a message for bad framing (drop the stream), else undefined. */
  push(chunk: Buffer, deliver: (frame: Buffer) => void): string | undefined {
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = undefined;
    }
    let offset = 0;
    while (data.length - offset >= STREAM_FRAME_HEADER_LENGTH) {
      const length = data.readUInt16BE(offset);
      if (length < ETH_HEADER_LENGTH) return `bad frame length ${length} (shorter than a ${ETH_HEADER_LENGTH}-byte Ethernet header)`;
      const start = offset + STREAM_FRAME_HEADER_LENGTH;
      const end = start + length;
      if (end > data.length) break;
      const view = data.subarray(start, end);
      deliver(length * 2 >= data.length ? view : Buffer.from(view));
      offset = end;
    }
    if (offset < data.length) this.partial = Buffer.from(data.subarray(offset));
    return undefined;
  }
}

/** Frames `frame` for the wire, padding it to `minLength` with zeros. */
export function encodeStreamFrame(frame: Buffer, minLength = 0): Buffer {
  const wireLength = Math.max(frame.length, minLength);
  const out = Buffer.allocUnsafe(STREAM_FRAME_HEADER_LENGTH + wireLength);
  out.writeUInt16BE(wireLength, 0);
  frame.copy(out, STREAM_FRAME_HEADER_LENGTH);
  if (wireLength > frame.length) out.fill(0, STREAM_FRAME_HEADER_LENGTH + frame.length);
  return out;
}

interface StreamPeer {
  readonly socket: Socket;
  readonly name: string;
  readonly decoder: FrameDecoder;
  /** Set once the peer is gone (closed or dropped); its socket events are then ignored. */
  gone: boolean;
}

interface StreamConfig {
  passive?: Extract<Target, { kind: 'punix' | 'ptcp' }>;
  active?: Extract<Target, { kind: 'unix' | 'tcp' }>;
  carrierMode: CarrierMode;
  pad: boolean;
}

const STREAM_OPTIONS = ['pstream', 'stream', 'carrier', 'pad'] as const;

function parseStreamOptions(type: 'stream' | 'internal', name: string, options: Record<string, string>): StreamConfig {
  checkOptionKeys(name, type, options, STREAM_OPTIONS);
  const { pstream, stream, carrier = 'always', pad = 'true' } = options;
  if (pstream !== undefined && stream !== undefined) {
    throw new NetdevError('BAD_OPTIONS', name, `${type} netdev: both pstream (${pstream}) and stream (${stream}) are configured; give one`);
  }
  if (type === 'stream' && pstream === undefined && stream === undefined) {
    throw new NetdevError('BAD_OPTIONS', name, 'stream netdev: needs options:pstream=punix:PATH|ptcp:PORT[:IP] or options:stream=unix:PATH|tcp:HOST:PORT');
  }
  if (carrier !== 'always' && carrier !== 'connected') {
    throw new NetdevError('BAD_OPTIONS', name, `${type} netdev: carrier must be "always" or "connected", not "${carrier}"`);
  }
  if (pad !== 'true' && pad !== 'false') {
    throw new NetdevError('BAD_OPTIONS', name, `${type} netdev: pad must be "true" or "false", not "${pad}"`);
  }
  const config: StreamConfig = { carrierMode: carrier, pad: pad === 'true' };
  const parse = (key: string, value: string): Target => {
    try {
      return parseTarget(value);
    } catch (e) {
      if (e instanceof TargetError) throw new NetdevError('BAD_OPTIONS', name, `options:${key}: ${e.message}`, { cause: e });
      throw e;
    }
  };
  if (pstream !== undefined) {
    const target = parse('pstream', pstream);
    if (target.kind !== 'punix' && target.kind !== 'ptcp') {
      throw new NetdevError('BAD_OPTIONS', name, `options:pstream=${pstream}: a listening target is punix:PATH or ptcp:PORT[:IP]`);
    }
    config.passive = target;
  }
  if (stream !== undefined) {
    const target = parse('stream', stream);
    if (target.kind !== 'unix' && target.kind !== 'tcp') {
      throw new NetdevError('BAD_OPTIONS', name, `options:stream=${stream}: a connecting target is unix:PATH or tcp:HOST:PORT`);
    }
    config.active = target;
  }
  return config;
}

function now(): number {
  return performance.now();
}

function describe(target: Target): string {
  switch (target.kind) {
    case 'punix': case 'unix': return `${target.kind}:${target.path}`;
    case 'ptcp': case 'pssl': return `${target.kind}:${target.port}:${target.host}`;
    case 'tcp': case 'ssl': return `${target.kind}:${target.host}:${target.port}`;
  }
}

export class StreamNetdev implements Netdev {
  readonly hwAddr: string;
  readonly stats: NetdevStats = newNetdevStats();
  readonly coverage: StreamCoverage = { framingErrors: 0, peerQueueDrops: 0, connectFailures: 0, connections: 0, receiveExceptions: 0 };
  onReceive: ((frame: Buffer) => void) | undefined = undefined;
  onCarrierChange: ((up: boolean) => void) | undefined = undefined;

  private readonly peers = new Set<StreamPeer>();
  private server: Server | undefined;
  /** The unix socket file this netdev created, and its inode, to remove on close. */
  private socketFile: { path: string; ino: number } | undefined;
  private reconnect: Reconnect | undefined;
  private attemptTimer: NodeJS.Timeout | undefined;
  private activeSocket: Socket | undefined;
  private lastCarrier: boolean;
  private closing: Promise<void> | undefined;
  private acceptCount = 0;

  private constructor(readonly name: string, readonly type: 'stream' | 'internal', private readonly config: StreamConfig, private readonly context: NetdevContext) {
    this.hwAddr = hwAddrForName(name);
    this.lastCarrier = this.carrier;
  }

  static async open(type: 'stream' | 'internal', name: string, options: Record<string, string>, context: NetdevContext): Promise<StreamNetdev> {
    const config = parseStreamOptions(type, name, options);
    const netdev = new StreamNetdev(name, type, config, context);
    if (config.passive) await netdev.listen(config.passive);
    if (config.active) netdev.startConnecting(config.active);
    return netdev;
  }

  get carrier(): boolean {
    return this.config.carrierMode === 'always' || this.peers.size > 0;
  }

  /** Connected peers. */
  get peerCount(): number { return this.peers.size; }

  /** The listening target actually bound (`ptcp:PORT:IP` with the real port), if passive. */
  get listenName(): string | undefined {
    const passive = this.config.passive;
    if (!passive) return undefined;
    return passive.kind === 'ptcp' ? `ptcp:${this.boundPort ?? passive.port}:${passive.host}` : describe(passive);
  }

  /** The TCP port bound by a `ptcp:` listener (useful with ptcp:0). */
  get boundPort(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  /** Bytes written to peers' sockets but not yet taken by the kernel, summed over the peers. */
  get queuedBytes(): number {
    let bytes = 0;
    for (const peer of this.peers) bytes += peer.socket.writableLength;
    return bytes;
  }

  /** The reconnect state of an active (stream=) netdev: CONNECTING, ACTIVE, BACKOFF or VOID. */
  get connectionState(): string | undefined {
    return this.reconnect ? Reconnect.stateName(this.reconnect.state) : undefined;
  }

  /** The current reconnect backoff in ms (active side). */
  get backoffMs(): number | undefined { return this.reconnect?.backoffMs; }

  send(frame: Buffer): void {
    const stats = this.stats;
    if (this.closing || this.peers.size === 0 || frame.length < ETH_HEADER_LENGTH || frame.length > STREAM_MAX_FRAME_LENGTH) {
      stats.txDropped++;
      if (frame.length < ETH_HEADER_LENGTH || frame.length > STREAM_MAX_FRAME_LENGTH) {
        log.warnRl(`${this.name}: dropping a ${frame.length}-byte frame (must be ${ETH_HEADER_LENGTH}..${STREAM_MAX_FRAME_LENGTH} bytes)`);
      }
      return;
    }
    const wire = encodeStreamFrame(frame, this.config.pad ? ETH_MIN_FRAME_LENGTH : 0);
    let taken = false;
    for (const peer of this.peers) {
      if (peer.socket.writableLength > STREAM_TX_QUEUE_BYTES) {
        this.coverage.peerQueueDrops++;
        log.warnRl(`${this.name}: ${peer.name}: transmit queue full (${peer.socket.writableLength} bytes unsent), dropping frame`);
        continue;
      }
      peer.socket.write(wire);
      taken = true;
    }
    if (taken) {
      stats.txPackets++;
      stats.txBytes += frame.length;
    } else {
      stats.txDropped++;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.context.release(this);
    this.reconnect?.disable(now());
    clearTimeout(this.attemptTimer);
    this.attemptTimer = undefined;
    const closed: Promise<void>[] = [];
    const sockets = new Set<Socket>([...[...this.peers].map((peer) => peer.socket), ...(this.activeSocket ? [this.activeSocket] : [])]);
    for (const peer of this.peers) peer.gone = true;
    this.peers.clear();
    for (const socket of sockets) {
      if (!socket.closed) closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.destroy();
    }
    if (this.server) {
      const server = this.server;
      closed.push(new Promise((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closed);
    this.removeSocketFile();
  }

  /* Passive side. */

  private async listen(target: Extract<Target, { kind: 'punix' | 'ptcp' }>): Promise<void> {
    if (target.kind === 'punix') this.unlinkStaleSocket(target.path);
    const server = createServer((socket) => this.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        if (target.kind === 'punix') server.listen(target.path, () => resolve());
        else server.listen(target.port, target.host, () => resolve());
      });
    } catch (e) {
      throw new NetdevError('OPEN_FAILED', this.name, `${describe(target)}: listen failed (${(e as Error).message})`, { cause: e });
    }
    server.on('error', (e) => log.warnRl(`${this.name}: ${describe(target)}: ${e.message}`));
    this.server = server;
    if (target.kind === 'punix') {
      try {
        this.socketFile = { path: target.path, ino: lstatSync(target.path).ino };
      } catch { /* removed under us; nothing to clean up */ }
    }
    log.dbg(`${this.name}: listening on ${this.listenName}`);
  }

  /** Open vSwitch unlinks whatever is at a punix path before binding; ofswitch only unlinks sockets. */
  private unlinkStaleSocket(path: string): void {
    let isSocket: boolean;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      return; // nothing there
    }
    if (!isSocket) {
      throw new NetdevError('OPEN_FAILED', this.name, `punix:${path}: exists and is not a socket; not removing it`);
    }
    try {
      unlinkSync(path);
      log.info(`${this.name}: removed stale socket ${path}`);
    } catch (e) {
      log.warn(`${this.name}: unlinking "${path}": ${(e as Error).message}`);
    }
  }

  private removeSocketFile(): void {
    const file = this.socketFile;
    if (!file) return;
    this.socketFile = undefined;
    try {
      // Only our own socket: another listener may have taken the path since.
      if (lstatSync(file.path).ino === file.ino) unlinkSync(file.path);
    } catch { /* already gone (libuv unlinks a listening pipe on close) */ }
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const name = `${this.listenName}#${++this.acceptCount}`;
    log.dbg(`${this.name}: accepted ${name}`);
    this.addPeer(socket, name);
  }

  /* Active side. */

  private startConnecting(target: Extract<Target, { kind: 'unix' | 'tcp' }>): void {
    this.reconnect = new Reconnect(now());
    this.attempt(target);
  }

  private scheduleAttempt(target: Extract<Target, { kind: 'unix' | 'tcp' }>): void {
    const reconnect = this.reconnect!;
    this.attemptTimer = setTimeout(() => {
      this.attemptTimer = undefined;
      this.attempt(target);
    }, reconnect.delayUntilAttempt(now()));
  }

  private attempt(target: Extract<Target, { kind: 'unix' | 'tcp' }>): void {
    const reconnect = this.reconnect!;
    if (this.closing) return;
    reconnect.connecting(now());
    const where = describe(target);
    const socket = target.kind === 'unix' ? createConnection({ path: target.path }) : createConnection({ host: target.host, port: target.port });
    this.activeSocket = socket;
    let error: Error | undefined;
    let peer: StreamPeer | undefined;
    const timer = setTimeout(() => socket.destroy(new Error('connection attempt timed out')), reconnect.connectTimeoutMs());
    socket.once('connect', () => {
      clearTimeout(timer);
      reconnect.connected(now());
      this.coverage.connections++;
      log.info(`${this.name}: ${where}: connected`);
      peer = this.addPeer(socket, where);
    });
    socket.on('error', (e) => { error = e; });
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.activeSocket === socket) this.activeSocket = undefined;
      if (this.closing) return;
      const wasConnected = reconnect.state === 'active';
      if (!wasConnected) this.coverage.connectFailures++;
      reconnect.disconnected(now());
      if (wasConnected) {
        log.info(`${this.name}: ${where}: connection ${error ? `dropped (${error.message})` : 'closed by peer'}`);
      } else if (reconnect.backoffMs < reconnect.maxBackoffMs) {
        log.info(`${this.name}: ${where}: connection attempt failed (${error?.message ?? 'closed'}), waiting ${reconnect.backoffMs / 1000} s`);
      }
      if (peer) this.removePeer(peer);
      this.scheduleAttempt(target);
    });
  }

  /* Both sides. */

  private addPeer(socket: Socket, name: string): StreamPeer {
    const peer: StreamPeer = { socket, name, decoder: new FrameDecoder(), gone: false };
    if (this.config.passive?.kind === 'ptcp' || this.config.active?.kind === 'tcp') socket.setNoDelay(true);
    if (this.config.passive) this.coverage.connections++;
    this.peers.add(peer);
    const deliver = (frame: Buffer): void => this.receive(frame);
    socket.on('data', (chunk: Buffer) => {
      if (peer.gone) return;
      const problem = peer.decoder.push(chunk, deliver);
      if (problem !== undefined) {
        this.coverage.framingErrors++;
        log.warnRl(`${this.name}: ${name}: closing connection (${problem})`);
        this.removePeer(peer);
        socket.destroy();
      }
    });
    if (this.config.passive) {
      socket.on('error', (e) => log.dbg(`${this.name}: ${name}: ${e.message}`));
      socket.once('close', () => {
        log.dbg(`${this.name}: ${name}: closed`);
        this.removePeer(peer);
      });
    }
    this.updateCarrier();
    return peer;
  }

  private removePeer(peer: StreamPeer): void {
    if (peer.gone) return;
    peer.gone = true;
    this.peers.delete(peer);
    this.updateCarrier();
  }

  private receive(frame: Buffer): void {
    if (this.closing) return;
    const onReceive = this.onReceive;
    if (!onReceive) {
      this.stats.rxDropped++;
      return;
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += frame.length;
    try {
      onReceive(frame);
    } catch (e) {
      this.coverage.receiveExceptions++;
      log.warnRl(`${this.name}: onReceive threw: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private updateCarrier(): void {
    if (this.closing) return;
    const carrier = this.carrier;
    if (carrier === this.lastCarrier) return;
    this.lastCarrier = carrier;
    log.info(`${this.name}: carrier ${carrier ? 'up' : 'down'}`);
    this.onCarrierChange?.(carrier);
  }
}

export const streamProvider: NetdevProvider = {
  type: 'stream',
  open: (name, options, context) => StreamNetdev.open('stream', name, options, context),
};

export const internalProvider: NetdevProvider = {
  type: 'internal',
  open: (name, options, context) => StreamNetdev.open('internal', name, options, context),
};
