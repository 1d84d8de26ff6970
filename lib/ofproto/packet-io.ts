/*
 * Packets between the switch and its controllers: the packet-in a controller gets (with a
 * buffer from its own pktbuf unless the action asked for the whole packet, or buffering is
 * off), and the checks of a packet-out's input port.
 *
 * A buffered packet-in carries the first max_len bytes and a buffer id; an unbuffered one
 * (max_len OFPCML_NO_BUFFER, buffering off, or no free buffer) carries the whole packet with
 * OFP_NO_BUFFER, as Open vSwitch's pktbuf-era code did.
 */
import {
  type Match, OFP_NO_BUFFER, OFPBRC_BAD_PORT, OFPCML_NO_BUFFER, OFPET_BAD_REQUEST, OfpError, OFPP_ANY, OFPP_CONTROLLER,
  OFPP_LOCAL, type PacketIn,
} from '../../protocol/index.ts';
import type { PacketInSpec } from '../datapath/index.ts';
import { fieldSlot, FLOW_KEY_BYTES, type Packet, parsePacket, setField } from '../packet/index.ts';
import { MAX_PORTS } from './action-check.ts';
import type { PacketBuffer } from './pktbuf.ts';

/** The pipeline fields a packet-in reports: in_port, and metadata and tunnel id when set. */
function packetInMatch(spec: PacketInSpec, inPort: number): Match {
  const match: Match = [{ field: 'in_port', value: inPort }];
  if (spec.metadata !== 0n) match.push({ field: 'metadata', value: spec.metadata });
  if (spec.tunnelId !== 0n) match.push({ field: 'tunnel_id', value: spec.tunnelId });
  return match;
}

export function buildPacketIn(spec: PacketInSpec, frame: Buffer, inPort: number, pktbuf: PacketBuffer | undefined): PacketIn {
  const bufferId = pktbuf && spec.maxLen !== OFPCML_NO_BUFFER ? pktbuf.save(frame, inPort) : OFP_NO_BUFFER;
  const data = bufferId === OFP_NO_BUFFER ? frame : frame.subarray(0, Math.min(spec.maxLen, frame.length));
  return {
    type: 'packet_in', xid: 0, bufferId, totalLen: frame.length, reason: spec.reason, tableId: spec.tableId,
    cookie: spec.cookie, match: packetInMatch(spec, inPort), data,
  };
}

/** A packet-out's in_port: a port number, LOCAL, CONTROLLER, or ANY (none). */
export function checkPacketOutInPort(inPort: number): void {
  if (inPort < MAX_PORTS || inPort === OFPP_LOCAL || inPort === OFPP_CONTROLLER || inPort === OFPP_ANY) return;
  throw new OfpError(OFPET_BAD_REQUEST, OFPBRC_BAD_PORT, `packet-out in_port 0x${inPort.toString(16)}`);
}

const IP_DSCP = fieldSlot('ip_dscp');
const ETH_TYPE = fieldSlot('eth_type');

/**
 * DSCP_REMARK: raises the drop precedence of an Assured Forwarding DSCP (AFxy, RFC 2597:
 * class x in bits 5-3, drop precedence y in bits 2-1) by `levels`, at most to 3. Other code
 * points have no drop precedence and are left alone.
 */
export function raiseDropPrecedence(packet: Packet, levels: number): void {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  packet.layout = parsePacket(packet.data, key, 0);
  const ethType = (key[ETH_TYPE.offset]! << 8) | key[ETH_TYPE.offset + 1]!;
  if (ethType !== 0x0800 && ethType !== 0x86dd) return;
  const dscp = key[IP_DSCP.offset]!;
  const afClass = dscp >> 3;
  const precedence = (dscp >> 1) & 3;
  if (afClass < 1 || afClass > 4 || (dscp & 1) || precedence === 0) return;
  const raised = (afClass << 3) | (Math.min(3, precedence + levels) << 1);
  if (raised !== dscp) setField(packet, 'ip_dscp', Uint8Array.of(raised));
}
