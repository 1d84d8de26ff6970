/*
 * Port configuration and counters: OFPT_PORT_MOD, port statistics and queue descriptions.
 * Ports have no queues yet, so queue requests are answered with empty lists.
 */
import {
  OFPET_PORT_MOD_FAILED, OFPET_QUEUE_OP_FAILED, OfpError, type OfpMessage, OFPP_ANY, OFPPC_NO_FWD, OFPPC_NO_PACKET_IN,
  OFPPC_NO_RECV, OFPPC_PORT_DOWN, OFPPMFC_BAD_CONFIG, OFPPMFC_BAD_HW_ADDR, OFPPMFC_BAD_PORT, OFPPS_LINK_DOWN,
  OFPPS_LIVE, OFPQOFC_BAD_PORT, type PacketQueue, type PortStats,
} from '../../protocol/index.ts';
import type { OfPort } from './port.ts';
import { duration } from './rule.ts';

const SETTABLE_CONFIG = OFPPC_PORT_DOWN | OFPPC_NO_RECV | OFPPC_NO_FWD | OFPPC_NO_PACKET_IN;

/** The port's new description after a PORT_MOD, or undefined when nothing changes. */
export function applyPortMod(ports: Map<number, OfPort>, m: Extract<OfpMessage, { type: 'port_mod' }>): { before: OfPort; after: OfPort } | undefined {
  const before = ports.get(m.portNo);
  if (!before) throw new OfpError(OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_PORT, `port ${m.portNo} does not exist`);
  if (before.hwAddr !== m.hwAddr) throw new OfpError(OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_HW_ADDR, `port ${m.portNo} has address ${before.hwAddr}`);
  if (m.mask & ~SETTABLE_CONFIG) throw new OfpError(OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_CONFIG, `config mask 0x${m.mask.toString(16)}`);
  const config = (before.config & ~m.mask) | (m.config & m.mask);
  const advertised = m.advertise !== 0 ? m.advertise : before.advertised;
  if (config === before.config && advertised === before.advertised) return undefined;
  // A port brought down administratively also loses its link, as a netdev does.
  const down = (config & OFPPC_PORT_DOWN) !== 0;
  const state = down ? (before.state | OFPPS_LINK_DOWN) & ~OFPPS_LIVE : (before.state & ~OFPPS_LINK_DOWN) | OFPPS_LIVE;
  return { before, after: { ...before, config, advertised, state } };
}

export function portStats(ports: Map<number, OfPort>, createdMs: Map<number, number>, portNo: number, nowMs: number): PortStats[] {
  const selected = portNo === OFPP_ANY ? [...ports.values()].sort((a, b) => a.portNo - b.portNo) : ports.has(portNo) ? [ports.get(portNo)!] : [];
  return selected.map((p) => ({
    portNo: p.portNo, rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n, rxDropped: 0n, txDropped: 0n, rxErrors: 0n,
    txErrors: 0n, rxFrameErr: 0n, rxOverErr: 0n, rxCrcErr: 0n, collisions: 0n, ...duration(createdMs.get(p.portNo) ?? nowMs, nowMs),
  }));
}

export function queueConfig(ports: Map<number, OfPort>, port: number): PacketQueue[] {
  if (port !== OFPP_ANY && !ports.has(port)) throw new OfpError(OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT, `port ${port} does not exist`);
  return [];
}
