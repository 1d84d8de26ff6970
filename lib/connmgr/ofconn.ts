/*
 * One OpenFlow connection (Open vSwitch's ofconn over a vconn): it frames the byte stream,
 * negotiates the version with HELLO, decodes each message and hands it to the switch in
 * order, and answers malformed input with the OpenFlow error the codec names, echoing the
 * offending message as Open vSwitch does.
 *
 * States: 'hello' (our HELLO sent, waiting for the peer's), 'active' (version 1.3 agreed),
 * 'closed'. A peer with no common version gets OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE with
 * a text reason and is disconnected; anything but HELLO first is a protocol error and
 * closes the connection.
 */
import type { Socket } from 'node:net';
import {
  type AsyncConfig, decodeMessage, encodeMessage, MultipartAssembler, OFP_VERSION, OFPMPF_REQ_MORE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_SLAVE, OfpError, OfpFramer, OfpFramingError, type OfpMessage, OFPET_HELLO_FAILED,
  OFPHFC_INCOMPATIBLE, OFPT_HELLO,
} from '../../protocol/index.ts';
import { coverageInc } from '../util/coverage.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('ofconn');

export type OfconnState = 'hello' | 'active' | 'closed';
/** Primary connections are controllers the switch connects to or that configured services accept;
 *  service connections are management clients such as ovs-ofctl on the bridge's .mgmt socket;
 *  snoop connections (ovs-ofctl snoop on .snoop) only watch a copy of a controller's traffic. */
export type OfconnType = 'primary' | 'service' | 'snoop';

/**
 * Bytes of packet-ins that may wait in a connection's send buffer: beyond, new packet-ins to
 * it are dropped and counted (Open vSwitch bounds each connection's packet-in queue), so a
 * stuck controller never makes memory grow and never holds the datapath up.
 */
export const PACKET_IN_QUEUE_BYTES = 256 * 1024;

/** Packet-in rate limiting (controller_rate_limit / controller_burst_limit): a token bucket. */
export interface PacketInLimit {
  /** Packet-ins per second, at least 100 (as Open vSwitch requires). */
  rate: number;
  /** Packet-ins that may go at once after a quiet time; default rate / 4, at least 25. */
  burst: number;
}

/** Kinds of asynchronous message, each filtered by its own mask of reasons. */
export type AsyncKind = 'packet_in' | 'port_status' | 'flow_removed';

/** Open vSwitch's OpenFlow 1.3 defaults (ofputil_async_cfg_default): [master/equal, slave]. */
export function defaultAsyncConfig(): AsyncConfig {
  return { packetInMask: [0x3, 0], portStatusMask: [0x7, 0x7], flowRemovedMask: [0xf, 0] };
}

/** Our supported versions: OpenFlow 1.3 only. */
const ALLOWED_VERSIONS = 1 << OFP_VERSION;
/** OFP_DEFAULT_MISS_SEND_LEN for controllers; service connections get no packet data by default. */
const DEFAULT_MISS_SEND_LEN = 128;
/** Corked output beyond this leaves at once (about four 64 KiB multipart parts). */
const FLUSH_CORKED_BYTES = 256 * 1024;

export interface OfconnHandler {
  /** A decoded request. Throw OfpError to have it answered with that error. */
  handleMessage(conn: Ofconn, message: OfpMessage, raw: Buffer): void;
  /** The OpenFlow version was agreed: the connection is usable. */
  connectionActive?(conn: Ofconn): void;
  connectionClosed?(conn: Ofconn): void;
  /** Any message arrived (for inactivity probes). */
  activity?(conn: Ofconn): void;
  /** A whole message crossed the connection, either way (for snoop monitors). */
  traffic?(conn: Ofconn, raw: Buffer): void;
}

function formatVersion(v: number): string {
  return `0x${v.toString(16).padStart(2, '0')}`;
}

/** "version 0x04", "version 0x04 and earlier" or "versions 0x01, 0x04", as Open vSwitch words it. */
export function describeVersions(bitmap: number): string {
  const versions: number[] = [];
  for (let v = 0; v < 32; v++) if (bitmap & (1 << v)) versions.push(v);
  if (versions.length === 1) return `version ${formatVersion(versions[0]!)}`;
  const top = versions[versions.length - 1]!;
  if (versions.length > 1 && bitmap === ((1 << (top + 1)) - 2)) return `version ${formatVersion(top)} and earlier`;
  return `versions ${versions.map(formatVersion).join(', ')}`;
}

/** The versions a peer's HELLO offers: its bitmap, or every version up to its header's. */
export function peerVersions(hello: Extract<OfpMessage, { type: 'hello' }>): number {
  const element = hello.elements.find((e) => e.type === 'versionbitmap');
  if (element && element.type === 'versionbitmap' && element.bitmaps.length) return element.bitmaps[0]! >>> 0;
  const v = hello.version ?? OFP_VERSION;
  return v >= 31 ? 0xfffffffe : ((1 << (v + 1)) - 2) >>> 0;
}

export class Ofconn {
  state: OfconnState = 'hello';
  /** Bytes of packet data a packet-in may carry (OFPT_SET_CONFIG sets it per connection). */
  missSendLen: number;
  /** Which asynchronous messages this connection wants (OFPT_SET_ASYNC). */
  asyncConfig: AsyncConfig = defaultAsyncConfig();
  /** OFPCR_ROLE_EQUAL, MASTER or SLAVE. */
  role = OFPCR_ROLE_EQUAL;
  /** Packet-ins dropped because the connection fell behind or went over its rate limit. */
  packetInDrops = 0;
  packetInsSent = 0;
  private limit: PacketInLimit | undefined;
  private tokens = 0;
  private tokensAtMs = 0;
  private readonly framer = new OfpFramer();
  /** Multipart requests sent in several parts (REQ_MORE) are joined before they are handled. */
  private readonly multipart = new MultipartAssembler();
  private nextXid = 1;

  constructor(
    readonly name: string,
    readonly type: OfconnType,
    private readonly socket: Socket,
    private readonly handler: OfconnHandler,
  ) {
    this.missSendLen = type === 'primary' ? DEFAULT_MISS_SEND_LEN : 0;
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', (err) => log.dbg(`${name}: ${err.message}`));
    socket.on('close', () => this.closed());
    this.sendMessage({ type: 'hello', xid: this.allocateXid(), elements: [{ type: 'versionbitmap', bitmaps: [ALLOWED_VERSIONS] }] });
  }

  /**
   * Whether this connection is sent an asynchronous message of `kind` for `reason`. As in
   * Open vSwitch, service connections (ovs-ofctl) get none until they set a nonzero
   * miss_send_len, as `ovs-ofctl monitor` does.
   */
  receivesAsync(kind: AsyncKind, reason: number): boolean {
    if (this.state !== 'active') return false;
    if (this.type === 'service' && this.missSendLen === 0) return false;
    const masks = kind === 'packet_in' ? this.asyncConfig.packetInMask
      : kind === 'port_status' ? this.asyncConfig.portStatusMask : this.asyncConfig.flowRemovedMask;
    const mask = masks[this.role === OFPCR_ROLE_SLAVE ? 1 : 0];
    return reason < 32 && (mask & (1 << reason)) !== 0;
  }

  allocateXid(): number {
    const xid = this.nextXid;
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return xid;
  }

  /** Sends a message; replies to a connection that is gone are dropped silently. */
  sendMessage(message: OfpMessage): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.write(encodeMessage(message));
  }

  /** Sends bytes that already are whole OpenFlow messages (pre-encoded replies). */
  sendRaw(bytes: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.write(bytes);
  }

  private write(bytes: Buffer): void {
    this.socket.write(bytes);
    this.handler.traffic?.(this, bytes);
    // Replies are corked while a chunk is handled (see receive); a long one (a big flow dump)
    // leaves as it grows, so that the peer reads the first parts while later ones are made.
    if (this.socket.writableCorked && this.socket.writableLength >= FLUSH_CORKED_BYTES) {
      this.socket.uncork();
      this.socket.cork();
    }
  }

  setPacketInLimit(limit: PacketInLimit | undefined): void {
    this.limit = limit;
    this.tokens = limit?.burst ?? 0;
    this.tokensAtMs = performance.now();
  }

  /**
   * Sends a packet-in unless the connection is behind (its queue full) or over its rate
   * limit; a packet-in not sent is counted in packetInDrops.
   */
  sendPacketIn(message: OfpMessage): boolean {
    if (this.state !== 'active' || this.socket.destroyed) return false;
    if (this.socket.writableLength > PACKET_IN_QUEUE_BYTES || !this.takeToken()) {
      this.packetInDrops++;
      coverageInc('connmgr_packet_in_drop');
      return false;
    }
    this.packetInsSent++;
    this.sendMessage(message);
    return true;
  }

  private takeToken(): boolean {
    if (!this.limit) return true;
    const now = performance.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.tokensAtMs) / 1000) * this.limit.rate);
    this.tokensAtMs = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Copies a message that crossed another connection to this (snoop) one. */
  sendCopy(bytes: Buffer): void {
    if (this.state !== 'active' || this.socket.destroyed) return;
    // A snoop that does not keep up loses copies rather than growing memory.
    if (this.socket.writableLength > PACKET_IN_QUEUE_BYTES) return;
    this.socket.write(bytes);
  }

  /** Answers `raw` (the offending request) with an OpenFlow error, echoing the request. */
  sendError(error: OfpError, raw: Buffer, xid: number, version = OFP_VERSION): void {
    // The error header is 12 bytes (16 for experimenter errors); the echo fills the rest.
    const room = 0xffff - (error.errType === 0xffff ? 16 : 12);
    this.sendMessage({
      type: 'error', version, xid, errType: error.errType, code: error.errCode, data: raw.subarray(0, room),
      ...(error.errType === 0xffff ? { experimenter: error.experimenter ?? 0 } : {}),
    });
  }

  close(): void {
    if (this.state === 'closed') return;
    this.socket.end();
    this.closed();
  }

  private closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.socket.destroy();
    this.handler.connectionClosed?.(this);
  }

  private receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.framer.push(chunk);
    } catch (e) {
      if (!(e instanceof OfpFramingError)) throw e;
      log.warnRl(`${this.name}: ${e.message}, closing connection`);
      this.close();
      return;
    }
    // Replies to everything this chunk held leave in one write.
    this.socket.cork();
    try {
      for (const raw of messages) {
        if (this.state === 'closed') return;
        if (this.state === 'hello') this.receiveHello(raw);
        else this.receiveMessage(raw);
      }
    } finally {
      this.socket.uncork();
    }
  }

  private receiveHello(raw: Buffer): void {
    const decoded = decodeMessage(raw);
    if (!decoded.ok || decoded.message.type !== 'hello') {
      log.warnRl(`${this.name}: received message while expecting hello (type ${raw[1]}), closing connection`);
      this.close();
      return;
    }
    const theirs = peerVersions(decoded.message);
    if ((theirs & ALLOWED_VERSIONS) === 0) {
      const reason = `We support ${describeVersions(ALLOWED_VERSIONS)}, you support ${describeVersions(theirs)}, no common versions.`;
      log.warnRl(`${this.name}: version negotiation failed (we support ${describeVersions(ALLOWED_VERSIONS)}, peer supports ${describeVersions(theirs)})`);
      // HELLO_FAILED is sent in the peer's own version so that it can read it.
      const peerVersion = 31 - Math.clz32(theirs);
      this.sendMessage({
        type: 'error', version: Math.min(peerVersion, OFP_VERSION), xid: decoded.message.xid, errType: OFPET_HELLO_FAILED,
        code: OFPHFC_INCOMPATIBLE, data: Buffer.from(reason),
      });
      this.close();
      return;
    }
    this.state = 'active';
    log.dbg(`${this.name}: negotiated OpenFlow version 0x04`);
    this.handler.connectionActive?.(this);
  }

  private receiveMessage(raw: Buffer): void {
    this.handler.activity?.(this);
    this.handler.traffic?.(this, raw);
    // A snoop connection only watches: what its client says is not a request to the switch.
    if (this.type === 'snoop') return;
    const decoded = decodeMessage(raw);
    if (!decoded.ok) {
      log.dbgRl(`${this.name}: ${decoded.error.message}`);
      coverageInc('ofconn_decode_error');
      // A HELLO after negotiation is harmless; anything else malformed gets its error.
      if (decoded.msgType !== OFPT_HELLO) this.sendError(decoded.error, raw, decoded.xid);
      return;
    }
    if (decoded.message.type === 'hello') return;
    try {
      let message = decoded.message;
      if (message.type === 'multipart_request' && (message.flags & OFPMPF_REQ_MORE || this.multipart.pending)) {
        const whole = this.multipart.add(message, raw.length);
        if (!whole) return;
        message = whole;
      }
      this.handler.handleMessage(this, message, raw);
    } catch (e) {
      if (!(e instanceof OfpError)) throw e;
      log.dbgRl(`${this.name}: ${decoded.message.type} refused: ${e.message}`);
      this.sendError(e, raw, decoded.message.xid);
    }
  }
}
