/*
 * Datapath actions: what the translation of a flow through the OpenFlow pipeline reduces to
 * (Open vSwitch's ODP actions). A megaflow caches one list of them; the datapath runs it on
 * every packet the megaflow matches, in order, on the packet as the earlier actions left it.
 * Ports are the bridge's OpenFlow port numbers.
 */
import type { OxmFieldName } from '../../protocol/index.ts';

/** What a packet-in needs from the pipeline, fixed at translation time. */
export interface PacketInSpec {
  reason: number;
  maxLen: number;
  tableId: number;
  cookie: bigint;
  metadata: bigint;
  tunnelId: bigint;
}

export type DpAction =
  | { type: 'output'; port: number }
  | { type: 'set_field'; field: OxmFieldName; value: Uint8Array }
  | { type: 'push_vlan' | 'push_mpls' | 'pop_mpls' | 'push_pbb'; ethertype: number }
  | { type: 'pop_vlan' | 'pop_pbb' | 'dec_mpls_ttl' | 'dec_nw_ttl' | 'copy_ttl_in' | 'copy_ttl_out' }
  | { type: 'set_mpls_ttl' | 'set_nw_ttl'; ttl: number }
  /** Send the packet to the controllers (packet-in). */
  | { type: 'controller'; packetIn: PacketInSpec }
  /** Run a meter; the packet goes on only if the meter lets it. */
  | { type: 'meter'; meterId: number }
  /** Run `actions` on a copy of the packet (a group bucket), then go on with the original. */
  | { type: 'clone'; actions: DpAction[] }
  /** NORMAL's learning, refreshed by every packet of the megaflow. */
  | { type: 'learn'; mac: string; vlan: number; port: number };
