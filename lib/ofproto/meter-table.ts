/*
 * The meter table (OFPT_METER_MOD, meter stats, config and features). Meters have DROP and
 * DSCP_REMARK bands (Open vSwitch's userspace datapath has DROP only) and report the burst
 * size the controller set. Deleting a meter removes the flows that use it (reason
 * OFPRR_METER_DELETE). Rates are enforced by the datapath; here they are configuration.
 */
import {
  type MeterBand, type MeterConfig, type MeterMod, type MeterStats, OFPET_METER_MOD_FAILED, OfpError, OFPM_ALL, OFPM_MAX,
  OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMC_ADD, OFPMC_DELETE, OFPMC_MODIFY, OFPMF_BURST, OFPMF_KBPS, OFPMF_PKTPS,
  OFPMF_STATS, OFPMMFC_BAD_BAND, OFPMMFC_BAD_COMMAND, OFPMMFC_BAD_FLAGS, OFPMMFC_BAD_RATE, OFPMMFC_INVALID_METER,
  OFPMMFC_METER_EXISTS, OFPMMFC_OUT_OF_BANDS, OFPMMFC_OUT_OF_METERS, OFPMMFC_UNKNOWN_METER, OFPM_CONTROLLER, OFPM_SLOWPATH,
} from '../../protocol/index.ts';
import { duration } from './rule.ts';
import type { Transaction } from './transaction.ts';

export interface Meter {
  meterId: number;
  flags: number;
  bands: MeterBand[];
  createdMs: number;
  packetInCount: bigint;
  byteInCount: bigint;
  bandCounts: Array<{ packetBandCount: bigint; byteBandCount: bigint }>;
  /** Token bucket of each band: tokens in the meter's unit (kilobits or packets). */
  tokens: number[];
  refilledMs: number;
}

/** What a meter does with one packet. */
export type MeterVerdict = { pass: true; dscpRaise?: number } | { pass: false };

export interface MeterTableContext {
  now(): number;
  removeFlowsUsingMeter(meterId: number, txn: Transaction): void;
  flowsUsingMeter(meterId: number): number;
}

/** Meters the switch holds (Open vSwitch's userspace datapath: 2^18). */
export const MAX_METERS = 262144;
export const MAX_BANDS = 8;
const ALL_FLAGS = OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS;

/** A band's bucket size: its burst when the meter has OFPMF_BURST and one, else one second of its rate. */
function burstOf(flags: number, band: MeterBand): number {
  return flags & OFPMF_BURST && band.burstSize > 0 ? band.burstSize : band.rate;
}

function fail(code: number, detail: string): never {
  throw new OfpError(OFPET_METER_MOD_FAILED, code, detail);
}

export class MeterTable {
  readonly meters = new Map<number, Meter>();

  constructor(private readonly ctx: MeterTableContext) {}

  exists(meterId: number): boolean {
    return this.meters.has(meterId);
  }

  /**
   * Applies a METER_MOD inside `txn`, with Open vSwitch's checks in its order: command, both
   * rate units, band types; the meter id and band count; existence; then what its datapath
   * checks (one rate unit, at least one band, nonzero rates, known flags). DSCP_REMARK bands
   * are accepted (Open vSwitch's userspace datapath refuses them).
   */
  apply(mm: MeterMod, txn: Transaction): void {
    if (mm.command > OFPMC_DELETE) fail(OFPMMFC_BAD_COMMAND, `meter command ${mm.command}`);
    if (mm.command === OFPMC_DELETE) {
      this.delete(mm.meterId, txn);
      return;
    }
    if ((mm.flags & OFPMF_KBPS) && (mm.flags & OFPMF_PKTPS)) fail(OFPMMFC_BAD_FLAGS, 'both KBPS and PKTPS');
    for (const band of mm.bands) if (band.type === 'experimenter') fail(OFPMMFC_BAD_BAND, 'experimenter meter bands are not supported');
    if (mm.meterId === 0 || (mm.meterId > OFPM_MAX && mm.meterId !== OFPM_SLOWPATH && mm.meterId !== OFPM_CONTROLLER)) {
      fail(OFPMMFC_INVALID_METER, `meter id 0x${mm.meterId.toString(16)}`);
    }
    if (mm.bands.length > MAX_BANDS) fail(OFPMMFC_OUT_OF_BANDS, `${mm.bands.length} bands, at most ${MAX_BANDS}`);
    const old = this.meters.get(mm.meterId);
    if (mm.command === OFPMC_ADD && old) fail(OFPMMFC_METER_EXISTS, `meter ${mm.meterId} exists`);
    if (mm.command === OFPMC_MODIFY && !old) fail(OFPMMFC_UNKNOWN_METER, `meter ${mm.meterId} does not exist`);
    if (!old && this.meters.size >= MAX_METERS) fail(OFPMMFC_OUT_OF_METERS, 'out of meters');
    if (!(mm.flags & (OFPMF_KBPS | OFPMF_PKTPS))) fail(OFPMMFC_BAD_FLAGS, 'neither KBPS nor PKTPS');
    if (mm.bands.length === 0) fail(OFPMMFC_OUT_OF_BANDS, 'a meter needs a band');
    for (const band of mm.bands) if (band.rate === 0) fail(OFPMMFC_BAD_RATE, 'meter band rate 0');
    if (mm.flags & ~ALL_FLAGS) fail(OFPMMFC_BAD_FLAGS, `meter flags 0x${mm.flags.toString(16)}`);
    const now = this.ctx.now();
    const meter: Meter = {
      meterId: mm.meterId, flags: mm.flags, bands: mm.bands, createdMs: old?.createdMs ?? now,
      packetInCount: old?.packetInCount ?? 0n, byteInCount: old?.byteInCount ?? 0n,
      bandCounts: mm.bands.map(() => ({ packetBandCount: 0n, byteBandCount: 0n })),
      tokens: mm.bands.map((b) => burstOf(mm.flags, b)), refilledMs: now,
    };
    this.meters.set(mm.meterId, meter);
    txn.undo(() => (old ? this.meters.set(mm.meterId, old) : this.meters.delete(mm.meterId)));
  }

  private delete(meterId: number, txn: Transaction): void {
    // Deleting never fails: a missing meter is no error.
    const ids = meterId === OFPM_ALL ? [...this.meters.keys()] : this.meters.has(meterId) ? [meterId] : [];
    for (const id of ids) {
      const old = this.meters.get(id)!;
      this.ctx.removeFlowsUsingMeter(id, txn);
      this.meters.delete(id);
      txn.undo(() => this.meters.set(id, old));
    }
  }

  private selected(meterId: number): Meter[] {
    if (meterId === OFPM_ALL) return [...this.meters.values()].sort((a, b) => a.meterId - b.meterId);
    const meter = this.meters.get(meterId);
    return meter ? [meter] : [];
  }

  /**
   * Meters one packet of `bytes`: every band's token bucket refills at its rate up to its
   * burst; the band with the highest rate among those the packet exceeds applies (OpenFlow
   * 1.3 section 5.7.1): DROP drops it, DSCP_REMARK raises its drop precedence.
   */
  meterPacket(meterId: number, bytes: number): MeterVerdict {
    const meter = this.meters.get(meterId);
    if (!meter) return { pass: true };
    const now = this.ctx.now();
    const elapsedSec = Math.max(0, now - meter.refilledMs) / 1000;
    meter.refilledMs = now;
    const cost = meter.flags & OFPMF_PKTPS ? 1 : (bytes * 8) / 1000;
    meter.packetInCount++;
    meter.byteInCount += BigInt(bytes);
    let applied = -1;
    meter.bands.forEach((band, i) => {
      const tokens = Math.min(burstOf(meter.flags, band), meter.tokens[i]! + band.rate * elapsedSec);
      if (tokens >= cost) {
        meter.tokens[i] = tokens - cost;
      } else {
        meter.tokens[i] = tokens;
        if (applied < 0 || band.rate > meter.bands[applied]!.rate) applied = i;
      }
    });
    if (applied < 0) return { pass: true };
    meter.bandCounts[applied]!.packetBandCount++;
    meter.bandCounts[applied]!.byteBandCount += BigInt(bytes);
    const band = meter.bands[applied]!;
    if (band.type === 'dscp_remark') return { pass: true, dscpRaise: band.precLevel };
    return { pass: false };
  }

  config(meterId: number): MeterConfig[] {
    return this.selected(meterId).map((m) => ({ flags: m.flags, meterId: m.meterId, bands: m.bands }));
  }

  stats(meterId: number, nowMs: number): MeterStats[] {
    return this.selected(meterId).map((m) => ({
      meterId: m.meterId, flowCount: this.ctx.flowsUsingMeter(m.meterId), packetInCount: m.packetInCount,
      byteInCount: m.byteInCount, ...duration(m.createdMs, nowMs), bands: m.bandCounts,
    }));
  }

  features(): { maxMeter: number; bandTypes: number; capabilities: number; maxBands: number; maxColor: number } {
    return {
      maxMeter: MAX_METERS, bandTypes: (1 << OFPMBT_DROP) | (1 << OFPMBT_DSCP_REMARK), capabilities: ALL_FLAGS,
      maxBands: MAX_BANDS, maxColor: 0,
    };
  }
}
