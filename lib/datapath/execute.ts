/*
 * Running datapath actions on a packet (Open vSwitch's odp-execute.c). Header rewrites are
 * done here with lib/packet; outputs, packet-ins, meters and learning are handed to the
 * caller's ActionSink, since they reach outside the packet.
 */
import {
  copyTtlIn, copyTtlOut, decMplsTtl, decNwTtl, type Packet, parsePacket, popMpls, popPbb, popVlan, pushMpls, pushPbb,
  pushVlan, setField, setMplsTtl, setNwTtl,
} from '../packet/index.ts';
import { FLOW_KEY_BYTES } from '../packet/index.ts';
import type { DpAction, PacketInSpec } from './actions.ts';

/** Actions that only rewrite headers. */
export const HEADER_ACTIONS = new Set<string>([
  'set_field', 'push_vlan', 'pop_vlan', 'push_mpls', 'pop_mpls', 'push_pbb', 'pop_pbb', 'dec_mpls_ttl', 'dec_nw_ttl',
  'copy_ttl_in', 'copy_ttl_out', 'set_mpls_ttl', 'set_nw_ttl',
]);
/**
 * Rewrites that remove a header and may bring to light one the flow key never held (an inner
 * VLAN tag, the IP header under MPLS, the customer frame under PBB).
 */
export const POP_ACTIONS = new Set<string>(['pop_vlan', 'pop_mpls', 'pop_pbb']);

export function applyHeaderAction(packet: Packet, a: DpAction): void {
  switch (a.type) {
    case 'set_field': setField(packet, a.field, a.value); break;
    case 'push_vlan': pushVlan(packet, a.ethertype); break;
    case 'pop_vlan': popVlan(packet); break;
    case 'push_mpls': pushMpls(packet, a.ethertype); break;
    case 'pop_mpls': popMpls(packet, a.ethertype); break;
    case 'push_pbb': pushPbb(packet, a.ethertype); break;
    case 'pop_pbb': popPbb(packet); break;
    case 'dec_mpls_ttl': decMplsTtl(packet); break;
    case 'dec_nw_ttl': decNwTtl(packet); break;
    case 'copy_ttl_in': copyTtlIn(packet); break;
    case 'copy_ttl_out': copyTtlOut(packet); break;
    case 'set_mpls_ttl': setMplsTtl(packet, a.ttl); break;
    case 'set_nw_ttl': setNwTtl(packet, a.ttl); break;
    default: break;
  }
}

/** What actions do beyond the packet's own bytes. */
export interface ActionSink {
  output(port: number, frame: Buffer): void;
  packetIn(spec: PacketInSpec, frame: Buffer): void;
  /** Whether the meter lets the packet through; may rewrite it (DSCP remark). */
  meter(meterId: number, packet: Packet): boolean;
  learn(mac: string, vlan: number, port: number): void;
}

const scratchKey = new Uint8Array(FLOW_KEY_BYTES);

/** Runs `actions` on `packet` (which they may change). Returns false if a meter dropped it. */
export function executeActions(packet: Packet, actions: readonly DpAction[], sink: ActionSink): boolean {
  for (const a of actions) {
    switch (a.type) {
      case 'output':
        sink.output(a.port, packet.data);
        break;
      case 'controller':
        sink.packetIn(a.packetIn, packet.data);
        break;
      case 'meter':
        if (!sink.meter(a.meterId, packet)) return false;
        break;
      case 'learn':
        sink.learn(a.mac, a.vlan, a.port);
        break;
      case 'clone': {
        const data = Buffer.from(packet.data);
        executeActions({ data, layout: parsePacket(data, scratchKey, 0) }, a.actions, sink);
        break;
      }
      default:
        applyHeaderAction(packet, a);
    }
  }
  return true;
}
