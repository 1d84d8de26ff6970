/*
 * Packet buffers for packet-ins (Open vSwitch's pktbuf.c before 2.7, the seeds' design):
 * 256 slots used round robin. Saving takes the next slot; if that slot still holds a packet
 * saved less than 5 seconds ago, the packet is not buffered (the caller sends it whole with
 * OFP_NO_BUFFER) — the slot index advances either way, so 300 misses in 5 s give 256 buffered
 * and 44 unbuffered packet-ins. A buffer id is the slot index in the low 8 bits and the
 * slot's cookie (bumped on every save) above them, so an id that was reused is recognised as
 * stale. Retrieving a packet empties its slot: each buffer can be used once.
 *
 * Times are milliseconds on the monotonic clock.
 */
import { OFP_NO_BUFFER, OFPBRC_BUFFER_EMPTY, OFPBRC_BUFFER_UNKNOWN, OFPET_BAD_REQUEST, OfpError } from '../../protocol/index.ts';

export const PKTBUF_BITS = 8;
export const PKTBUF_CNT = 1 << PKTBUF_BITS;
const PKTBUF_MASK = PKTBUF_CNT - 1;
/** A saved packet is protected from being overwritten this long. */
export const OVERWRITE_MS = 5000;
/** Cookies are 24 bits; the all-ones id is OFP_NO_BUFFER, so the top cookie is never used. */
const COOKIE_MAX = (1 << (32 - PKTBUF_BITS)) - 1;

export interface BufferedPacket {
  data: Buffer;
  inPort: number;
}

interface Slot {
  packet: BufferedPacket | undefined;
  cookie: number;
  savedMs: number;
}

export class PacketBuffer {
  private readonly slots: Slot[] = Array.from({ length: PKTBUF_CNT }, () => ({ packet: undefined, cookie: 0, savedMs: 0 }));
  private next = 0;

  constructor(private readonly now: () => number) {}

  /** Saves a packet; returns its buffer id, or OFP_NO_BUFFER when no slot is free. */
  save(data: Buffer, inPort: number): number {
    const index = this.next;
    const slot = this.slots[index]!;
    this.next = (this.next + 1) & PKTBUF_MASK;
    const now = this.now();
    if (slot.packet && now < slot.savedMs + OVERWRITE_MS) return OFP_NO_BUFFER;
    slot.cookie = slot.cookie + 1 >= COOKIE_MAX ? 0 : slot.cookie + 1;
    slot.packet = { data, inPort };
    slot.savedMs = now;
    return ((slot.cookie << PKTBUF_BITS) | index) >>> 0;
  }

  /** Takes the packet out of its buffer; OFPBRC_BUFFER_EMPTY if already used, BUFFER_UNKNOWN if stale or never given. */
  retrieve(bufferId: number): BufferedPacket {
    const slot = this.slots[bufferId & PKTBUF_MASK]!;
    if (bufferId === OFP_NO_BUFFER || slot.cookie !== bufferId >>> PKTBUF_BITS || slot.cookie === 0) {
      throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_BUFFER_UNKNOWN, `no packet buffer ${bufferId}`);
    }
    const packet = slot.packet;
    if (!packet) throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_BUFFER_EMPTY, `packet buffer ${bufferId} was already used`);
    slot.packet = undefined;
    return packet;
  }
}
