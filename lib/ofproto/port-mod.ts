/*
 * Port configuration and counters: OFPT_PORT_MOD, port statistics, queue statistics and
 * queue descriptions, answered as Open vSwitch answers them for its ports: every port but
 * LOCAL has one queue, 0, with no properties and no per-queue counters; counters a port
 * does not keep are reported as all-ones ("unknown").
 */
import {
  OFPET_PORT_MOD_FAILED, OFPET_QUEUE_OP_FAILED, OfpError, type OfpMessage, OFPP_ANY, OFPP_LOCAL, OFPPC_NO_FWD,
  OFPPC_NO_PACKET_IN, OFPPC_NO_RECV, OFPPC_PORT_DOWN, OFPPMFC_BAD_HW_ADDR, OFPPMFC_BAD_PORT, OFPPS_LINK_DOWN, OFPPS_LIVE,
  OFPQ_ALL, OFPQOFC_BAD_PORT, OFPQOFC_BAD_QUEUE, type PacketQueue, type PortStats, type QueueStats,
} from '../../protocol/index.ts';
import { checkOutPort } from './action-check.ts';
import type { NetdevStats } from '../netdev/index.ts';
import type { OfPort } from './port.ts';
import { duration } from './rule.ts';

const SETTABLE_CONFIG = OFPPC_PORT_DOWN | OFPPC_NO_RECV | OFPPC_NO_FWD | OFPPC_NO_PACKET_IN;
const UNKNOWN = 0xffffffffffffffffn;
/** The one queue each port has. */
const DEFAULT_QUEUE = 0;

/**
 * The port's new description after a PORT_MOD, or undefined when nothing changes. The config
 * and advertised bits change, and LIVE with them (Open vSwitch's normalize_state); the link
 * state that follows from the config is the caller's (see linkState).
 */
export function applyPortMod(ports: Map<number, OfPort>, m: Extract<OfpMessage, { type: 'port_mod' }>): { before: OfPort; after: OfPort } | undefined {
  checkOutPort(m.portNo);
  const before = ports.get(m.portNo);
  if (!before) throw new OfpError(OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_PORT, `port ${m.portNo} does not exist`);
  if (before.hwAddr !== m.hwAddr) throw new OfpError(OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_HW_ADDR, `port ${m.portNo} has address ${before.hwAddr}`);
  // Bits OpenFlow 1.3 does not let a controller set are ignored, as Open vSwitch does.
  const mask = m.mask & SETTABLE_CONFIG;
  const config = (before.config & ~mask) | (m.config & mask);
  const advertised = m.advertise !== 0 ? m.advertise : before.advertised;
  if (config === before.config && advertised === before.advertised) return undefined;
  return { before, after: { ...before, config, advertised, state: withLive(config, before.state) } };
}

/** `state` with LIVE set exactly when the port is neither down nor without link. */
function withLive(config: number, state: number): number {
  const live = (config & OFPPC_PORT_DOWN) === 0 && (state & OFPPS_LINK_DOWN) === 0;
  return live ? state | OFPPS_LIVE : state & ~OFPPS_LIVE;
}

/**
 * The state bits of `port` given its device's carrier: a port brought down administratively
 * loses its link too, as a netdev does.
 */
export function linkState(port: OfPort, carrier: boolean): number {
  const linkUp = carrier && (port.config & OFPPC_PORT_DOWN) === 0;
  return withLive(port.config, linkUp ? port.state & ~OFPPS_LINK_DOWN : port.state | OFPPS_LINK_DOWN);
}

function selectPorts(ports: Map<number, OfPort>, portNo: number): OfPort[] {
  if (portNo === OFPP_ANY) return [...ports.values()].sort((a, b) => a.portNo - b.portNo);
  const port = ports.get(portNo);
  return port ? [port] : [];
}

export function portStats(
  ports: Map<number, OfPort>, createdMs: Map<number, number>, portNo: number, nowMs: number,
  devices: Map<number, { stats: NetdevStats }>,
): PortStats[] {
  checkOutPort(portNo);
  return selectPorts(ports, portNo).map((p) => {
    const s = devices.get(p.portNo)?.stats;
    return {
    portNo: p.portNo, rxPackets: BigInt(s?.rxPackets ?? 0), txPackets: BigInt(s?.txPackets ?? 0), rxBytes: BigInt(s?.rxBytes ?? 0),
    // Drops are reported unknown, as Open vSwitch's dummy ports do (the netdev keeps them for ofs-appctl).
    txBytes: BigInt(s?.txBytes ?? 0), rxDropped: UNKNOWN, txDropped: UNKNOWN,
    rxErrors: UNKNOWN, txErrors: UNKNOWN, rxFrameErr: UNKNOWN, rxOverErr: UNKNOWN, rxCrcErr: UNKNOWN, collisions: UNKNOWN,
    ...duration(createdMs.get(p.portNo) ?? nowMs, nowMs),
    };
  });
}

export function queueStats(ports: Map<number, OfPort>, portNo: number, queueId: number): QueueStats[] {
  checkOutPort(portNo);
  if (portNo !== OFPP_ANY && !ports.has(portNo)) throw new OfpError(OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT, `port ${portNo} does not exist`);
  if (queueId !== OFPQ_ALL && queueId !== DEFAULT_QUEUE) throw new OfpError(OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_QUEUE, `no queue ${queueId}`);
  return selectPorts(ports, portNo).map((p) => ({
    portNo: p.portNo, queueId: DEFAULT_QUEUE, txBytes: UNKNOWN, txPackets: UNKNOWN, txErrors: UNKNOWN,
    durationSec: 0xffffffff, durationNsec: 0xffffffff,
  }));
}

export function queueConfig(ports: Map<number, OfPort>, port: number): PacketQueue[] {
  if (port === OFPP_LOCAL || (port !== OFPP_ANY && !ports.has(port))) {
    throw new OfpError(OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT, `port ${port} has no queues`);
  }
  return selectPorts(ports, port).map((p) => ({ queueId: DEFAULT_QUEUE, port: p.portNo, properties: [] }));
}
