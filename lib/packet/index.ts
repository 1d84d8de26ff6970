/*
 * lib/packet: Ethernet frames as the switch sees them (Open vSwitch's lib/flow.c,
 * lib/packets.c, lib/odp-execute.c). Pure code over Buffers, no I/O.
 *
 *   - the flow-key layout: every OpenFlow-basic field at a fixed offset (flow-layout.ts);
 *   - parsePacket: a frame into a flow key and a PacketLayout (where each header is);
 *   - header rewrites on a Packet (frame + layout): setField, push/pop of VLAN, MPLS and PBB
 *     tags, the TTL actions, each keeping checksums and the layout right;
 *   - Open vSwitch's flow hashes, which pick SELECT group buckets;
 *   - buildFrame and badChecksums for tests.
 */
export {
  FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, MPLS_TTL_OFFSET, NW_FRAG_OFFSET, NW_TTL_OFFSET, type FieldSlot, VLAN_COUNT_OFFSET,
} from './flow-layout.ts';
export { ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_VLAN_8021Q } from './headers.ts';
export { FRAG_ANY, FRAG_LATER, type NetworkHeader, type Packet, PacketLayout } from './layout.ts';
export { parsePacket, reparse } from './parse.ts';
export { setField } from './set-field.ts';
export { popMpls, popPbb, popVlan, pushMpls, pushPbb, pushVlan } from './tags.ts';
export { copyTtlIn, copyTtlOut, decMplsTtl, decNwTtl, setMplsTtl, setNwTtl } from './ttl.ts';
export { hashInt, symmetricL3L4Hash, symmetricL4Hash } from './hash.ts';
export {
  buildFrame, type ArpSpec, type FrameSpec, type IcmpSpec, type Icmpv6Spec, type Ipv4Spec, type Ipv6ExtHeader,
  type Ipv6Spec, type MplsEntry, type PbbTag, type SctpSpec, type TcpSpec, type UdpSpec, type VlanTag,
} from './build.ts';
export { badChecksums } from './verify.ts';
