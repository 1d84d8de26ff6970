/*
 * A simulated host on a stream port, for tests: the other end of an Open vSwitch `dummy` port
 * or an ofswitch `stream` netdev, speaking the same framing (a 2-byte big-endian length, then
 * the Ethernet frame), implemented here independently of lib/netdev so that it can serve as a
 * second opinion on the wire format.
 *
 * The host has one MAC and one IPv4 address. It records every frame it receives, answers ARP
 * requests for its address and ICMP echo requests to it (with correct IPv4 and ICMP
 * checksums), learns the senders of ARP packets, and can ping: ARP request, wait for the reply,
 * ICMP echo request, wait for the echo reply. It never pads what it sends.
 *
 * `SimHost.connect(path)` connects to a port's `pstream=punix:PATH` socket;
 * `SimHost.listen(path)` listens on PATH for a port configured with `stream=unix:PATH`.
 * `close()` closes every socket the host opened. Times are milliseconds.
 *
 * The frame builders below are deliberately local (lib/packet is written separately).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';

export const ETH_TYPE_IPV4 = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const IP_PROTO_ICMP = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/* ------------------------------------------------------------------------------------------ */
/* Frame building and parsing                                                                  */
/* ------------------------------------------------------------------------------------------ */

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`bad MAC address "${mac}"`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(bytes: Buffer): string {
  return [...bytes.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function ipBytes(ip: string): Buffer {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`bad IPv4 address "${ip}"`);
  return Buffer.from(parts.map(Number));
}

export function ipString(bytes: Buffer): string {
  return [...bytes.subarray(0, 4)].join('.');
}

/** The Internet checksum (RFC 1071) of `data`. */
export function internetChecksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ethernetFrame(dst: string, src: string, ethType: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(14);
  macBytes(dst).copy(header, 0);
  macBytes(src).copy(header, 6);
  header.writeUInt16BE(ethType, 12);
  return Buffer.concat([header, payload]);
}

export interface ArpFields { op: number; sha: string; spa: string; tha: string; tpa: string }

export function arpFrame(ethDst: string, ethSrc: string, arp: ArpFields): Buffer {
  const body = Buffer.alloc(28);
  body.writeUInt16BE(1, 0); // hardware type: Ethernet
  body.writeUInt16BE(ETH_TYPE_IPV4, 2);
  body[4] = 6;
  body[5] = 4;
  body.writeUInt16BE(arp.op, 6);
  macBytes(arp.sha).copy(body, 8);
  ipBytes(arp.spa).copy(body, 14);
  macBytes(arp.tha).copy(body, 18);
  ipBytes(arp.tpa).copy(body, 24);
  return ethernetFrame(ethDst, ethSrc, ETH_TYPE_ARP, body);
}

/** An IPv4 header (no options) with its checksum, followed by `payload`. */
export function ipv4Packet(src: string, dst: string, protocol: number, payload: Buffer, options: { ttl?: number; id?: number } = {}): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + payload.length, 2);
  header.writeUInt16BE(options.id ?? 0, 4);
  header.writeUInt16BE(0x4000, 6); // DF
  header[8] = options.ttl ?? 64;
  header[9] = protocol;
  ipBytes(src).copy(header, 12);
  ipBytes(dst).copy(header, 16);
  header.writeUInt16BE(internetChecksum(header), 10);
  return Buffer.concat([header, payload]);
}

export function icmpEcho(type: number, id: number, seq: number, data: Buffer): Buffer {
  const icmp = Buffer.alloc(8 + data.length);
  icmp[0] = type;
  icmp.writeUInt16BE(id, 4);
  icmp.writeUInt16BE(seq, 6);
  data.copy(icmp, 8);
  icmp.writeUInt16BE(internetChecksum(icmp), 2);
  return icmp;
}

export interface ParsedFrame {
  dst: string;
  src: string;
  ethType: number;
  arp?: ArpFields;
  ipv4?: { src: string; dst: string; protocol: number; ttl: number; id: number; checksumOk: boolean; payload: Buffer };
  icmp?: { type: number; code: number; id: number; seq: number; checksumOk: boolean; data: Buffer };
}

/** Parses Ethernet, ARP, IPv4 and ICMP echo; ignores trailing padding (IPv4 total length bounds the packet). */
export function parseFrame(frame: Buffer): ParsedFrame | undefined {
  if (frame.length < 14) return undefined;
  const parsed: ParsedFrame = { dst: macString(frame.subarray(0, 6)), src: macString(frame.subarray(6, 12)), ethType: frame.readUInt16BE(12) };
  const body = frame.subarray(14);
  if (parsed.ethType === ETH_TYPE_ARP && body.length >= 28 && body.readUInt16BE(0) === 1 && body.readUInt16BE(2) === ETH_TYPE_IPV4) {
    parsed.arp = {
      op: body.readUInt16BE(6), sha: macString(body.subarray(8)), spa: ipString(body.subarray(14)),
      tha: macString(body.subarray(18)), tpa: ipString(body.subarray(24)),
    };
  } else if (parsed.ethType === ETH_TYPE_IPV4 && body.length >= 20 && body[0]! >> 4 === 4) {
    const headerLength = (body[0]! & 0x0f) * 4;
    const totalLength = body.readUInt16BE(2);
    if (headerLength >= 20 && totalLength >= headerLength && totalLength <= body.length) {
      const payload = body.subarray(headerLength, totalLength);
      parsed.ipv4 = {
        src: ipString(body.subarray(12)), dst: ipString(body.subarray(16)), protocol: body[9]!, ttl: body[8]!, id: body.readUInt16BE(4),
        checksumOk: internetChecksum(body.subarray(0, headerLength)) === 0, payload,
      };
      if (parsed.ipv4.protocol === IP_PROTO_ICMP && payload.length >= 8) {
        parsed.icmp = {
          type: payload[0]!, code: payload[1]!, id: payload.readUInt16BE(4), seq: payload.readUInt16BE(6),
          checksumOk: internetChecksum(payload) === 0, data: payload.subarray(8),
        };
      }
    }
  }
  return parsed;
}

/* ------------------------------------------------------------------------------------------ */
/* The host                                                                                    */
/* ------------------------------------------------------------------------------------------ */

export interface HostOptions {
  mac: string;
  ip: string;
  /** For messages. */
  name?: string;
}

interface Waiter {
  predicate: (frame: Buffer) => boolean;
  resolve: (frame: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class SimHost {
  readonly mac: string;
  readonly ip: string;
  readonly name: string;
  /** Every frame received, in order, as it arrived (padding included). */
  readonly received: Buffer[] = [];
  /** Frames sent, in order. */
  readonly sent: Buffer[] = [];
  /** IPv4 address -> MAC, learned from ARP. */
  readonly arpCache = new Map<string, string>();
  /** How many ARP requests and ICMP echo requests this host answered. */
  readonly answered = { arp: 0, echo: 0 };

  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private listenPath: string | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly pending = new Map<Socket, Buffer>();
  private pingId: number;
  private pingSeq = 0;
  private closed = false;

  private constructor(options: HostOptions) {
    macBytes(options.mac);
    ipBytes(options.ip);
    this.mac = options.mac.toLowerCase();
    this.ip = options.ip;
    this.name = options.name ?? options.ip;
    this.pingId = (ipBytes(options.ip).readUInt16BE(2) ^ 0x5a5a) & 0xffff;
  }

  /** Connects to a port listening on the unix socket `path` (the port's `pstream=punix:PATH`). */
  static async connect(path: string, options: HostOptions, timeoutMs = 5000): Promise<SimHost> {
    const host = new SimHost(options);
    const socket = createConnection({ path });
    host.attach(socket);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${host.name}: connecting to ${path} timed out after ${timeoutMs} ms`)), timeoutMs);
        socket.once('connect', () => { clearTimeout(timer); resolve(); });
        socket.once('error', (e) => { clearTimeout(timer); reject(new Error(`${host.name}: connecting to ${path}: ${e.message}`)); });
      });
    } catch (e) {
      await host.close();
      throw e;
    }
    return host;
  }

  /** Listens on the unix socket `path` for a port configured with `stream=unix:PATH`. */
  static async listen(path: string, options: HostOptions): Promise<SimHost> {
    const host = new SimHost(options);
    try {
      if (lstatSync(path, { throwIfNoEntry: false })?.isSocket()) unlinkSync(path);
    } catch { /* not there */ }
    const server = createServer((socket) => {
      if (host.closed) socket.destroy();
      else host.attach(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    host.server = server;
    host.listenPath = path;
    return host;
  }

  /** Connected sockets (0 or 1 for a connecting host; any number for a listening one). */
  get connections(): number { return this.sockets.size; }

  /** Resolves once at least one peer is connected. */
  async waitConnected(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size === 0) {
      if (this.closed) throw new Error(`${this.name}: closed`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no peer connected within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends a raw frame, exactly as given, to every connected peer. */
  send(frame: Buffer): void {
    if (frame.length > 0xffff) throw new Error(`${this.name}: frame of ${frame.length} bytes cannot be framed`);
    const wire = Buffer.alloc(2 + frame.length);
    wire.writeUInt16BE(frame.length, 0);
    frame.copy(wire, 2);
    this.sent.push(Buffer.from(frame));
    for (const socket of this.sockets) socket.write(wire);
  }

  /** Index of the next frame to be received: pass it to waitFor() as `since` to ignore what came before. */
  mark(): number {
    return this.received.length;
  }

  /**
   * Resolves with the first frame received at index `since` or later (by default, any frame
   * received so far or later) that satisfies `predicate`; rejects after `timeoutMs`.
   */
  waitFor(predicate: (frame: Buffer) => boolean, timeoutMs: number, since = 0): Promise<Buffer> {
    for (let i = since; i < this.received.length; i++) {
      if (predicate(this.received[i]!)) return Promise.resolve(this.received[i]!);
    }
    if (this.closed) return Promise.reject(new Error(`${this.name}: closed`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate, resolve, reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`${this.name}: no matching frame within ${timeoutMs} ms (${this.received.length - since} frames received meanwhile)`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Finds the MAC of `ip` with an ARP request (or the cache). */
  async resolve(ip: string, timeoutMs: number): Promise<string> {
    const cached = this.arpCache.get(ip);
    if (cached) return cached;
    const since = this.mark();
    this.send(arpFrame(BROADCAST_MAC, this.mac, { op: ARP_OP_REQUEST, sha: this.mac, spa: this.ip, tha: '00:00:00:00:00:00', tpa: ip }));
    try {
      const reply = await this.waitFor((frame) => {
        const arp = parseFrame(frame)?.arp;
        return arp !== undefined && arp.op === ARP_OP_REPLY && arp.spa === ip && arp.tpa === this.ip;
      }, timeoutMs, since);
      return parseFrame(reply)!.arp!.sha;
    } catch {
      throw new Error(`${this.name}: ARP for ${ip}: no reply within ${timeoutMs} ms`);
    }
  }

  /** ARP (unless cached), then one ICMP echo; resolves with the round-trip time in ms of the echo. */
  async ping(targetIp: string, options: { timeoutMs?: number; payloadLength?: number } = {}): Promise<number> {
    const timeoutMs = options.timeoutMs ?? 2000;
    const deadline = Date.now() + timeoutMs;
    const mac = await this.resolve(targetIp, timeoutMs);
    const seq = this.pingSeq = (this.pingSeq + 1) & 0xffff;
    const data = Buffer.alloc(options.payloadLength ?? 56);
    for (let i = 0; i < data.length; i++) data[i] = (i + 0x10) & 0xff;
    const since = this.mark();
    const start = performance.now();
    this.send(ethernetFrame(mac, this.mac, ETH_TYPE_IPV4,
      ipv4Packet(this.ip, targetIp, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, this.pingId, seq, data), { id: seq })));
    try {
      await this.waitFor((frame) => {
        const parsed = parseFrame(frame);
        return parsed?.icmp !== undefined && parsed.ipv4!.src === targetIp && parsed.ipv4!.dst === this.ip
          && parsed.icmp.type === ICMP_ECHO_REPLY && parsed.icmp.id === this.pingId && parsed.icmp.seq === seq
          && parsed.icmp.checksumOk && parsed.ipv4!.checksumOk && parsed.icmp.data.equals(data);
      }, Math.max(1, deadline - Date.now()), since);
    } catch {
      throw new Error(`${this.name}: ping ${targetIp} (icmp_seq=${seq}): no echo reply within ${timeoutMs} ms`);
    }
    return performance.now() - start;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${this.name}: closed`));
    }
    this.waiters.clear();
    const closing: Promise<void>[] = [];
    for (const socket of this.sockets) {
      if (!socket.closed) closing.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.destroy();
    }
    if (this.server) {
      const server = this.server;
      closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closing);
    if (this.listenPath) {
      try { unlinkSync(this.listenPath); } catch { /* libuv removed it */ }
    }
  }

  private attach(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => { /* 'close' follows */ });
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.pending.delete(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      let data = this.pending.has(socket) ? Buffer.concat([this.pending.get(socket)!, chunk]) : chunk;
      this.pending.delete(socket);
      while (data.length >= 2) {
        const length = data.readUInt16BE(0);
        if (data.length < 2 + length) break;
        this.receive(Buffer.from(data.subarray(2, 2 + length)));
        data = data.subarray(2 + length);
      }
      if (data.length > 0) this.pending.set(socket, Buffer.from(data));
    });
  }

  private receive(frame: Buffer): void {
    if (this.closed) return;
    this.received.push(frame);
    this.answer(frame);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(frame)) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  }

  private answer(frame: Buffer): void {
    const parsed = parseFrame(frame);
    if (!parsed) return;
    const forMe = parsed.dst === this.mac || parsed.dst === BROADCAST_MAC;
    if (parsed.arp) {
      const arp = parsed.arp;
      if (arp.spa !== '0.0.0.0' && (arp.tpa === this.ip || this.arpCache.has(arp.spa))) this.arpCache.set(arp.spa, arp.sha);
      if (forMe && arp.op === ARP_OP_REQUEST && arp.tpa === this.ip) {
        this.answered.arp++;
        this.send(arpFrame(arp.sha, this.mac, { op: ARP_OP_REPLY, sha: this.mac, spa: this.ip, tha: arp.sha, tpa: arp.spa }));
      }
      return;
    }
    const { ipv4, icmp } = parsed;
    if (forMe && ipv4 && icmp && ipv4.dst === this.ip && icmp.type === ICMP_ECHO_REQUEST && icmp.code === 0 && ipv4.checksumOk && icmp.checksumOk) {
      this.answered.echo++;
      this.send(ethernetFrame(parsed.src, this.mac, ETH_TYPE_IPV4,
        ipv4Packet(this.ip, ipv4.src, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REPLY, icmp.id, icmp.seq, icmp.data), { id: ipv4.id })));
    }
  }
}
