/*
 * Checks a flow's instructions and actions before it is installed, in the three stages
 * Open vSwitch 3.1 has for OpenFlow 1.3:
 *
 *  1. checkInstructionList — what its decoder refuses: a repeated instruction type,
 *     experimenter instructions and actions, output to a port number no port can have,
 *     push ethertypes, set-field of a field that cannot be written.
 *  2. validateInstructions — consistency with the match (ofpacts_check_consistency):
 *     goto_table must go forward, meter ids must be in range, a set-field needs its field's
 *     prerequisites; in apply-actions also pop_vlan needs a VLAN, TTL actions need IP or
 *     MPLS, and so on, as the actions before change the packet (OFPBAC_MATCH_INCONSISTENT).
 *  3. validateReferences — groups and meters named must exist.
 *
 * Where ofswitch implements what the specification has and Open vSwitch refuses (COPY_TTL,
 * PBB, set-field of eth_type, ip_proto and mpls_bos), it accepts.
 */
import {
  type Action, type Instruction, OFPBAC_BAD_ARGUMENT, OFPBAC_BAD_EXPERIMENTER, OFPBAC_BAD_OUT_GROUP, OFPBAC_BAD_OUT_PORT,
  OFPBAC_BAD_SET_ARGUMENT, OFPBAC_BAD_TAG, OFPBAC_MATCH_INCONSISTENT, OFPBIC_BAD_EXPERIMENTER, OFPBIC_BAD_TABLE_ID,
  OFPET_BAD_ACTION, OFPET_BAD_INSTRUCTION, OFPET_EXPERIMENTER, OFPET_METER_MOD_FAILED, OfpError, OFPM_MAX,
  OFPMMFC_INVALID_METER, OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NORMAL,
  OFPP_TABLE, OFPTT_ALL, OFPVID_PRESENT, ONF_EXPERIMENTER_ID, oxmFieldSpec, type OxmFieldName, type PrereqState,
} from '../../protocol/index.ts';
import { fieldSlot, type MaskedKey } from '../classifier/index.ts';

export interface ActionContext {
  readonly tables: readonly unknown[];
  groupExists(groupId: number): boolean;
  meterExists(meterId: number): boolean;
}

/** Open vSwitch numbers ports with 16 bits: physical ports below 0xff00. */
export const MAX_PORTS = 0xff00;
const RESERVED_OUTPUTS = new Set([OFPP_IN_PORT, OFPP_TABLE, OFPP_NORMAL, OFPP_FLOOD, OFPP_ALL, OFPP_CONTROLLER, OFPP_LOCAL]);
/** ONF's OpenFlow 1.3 code for OFPBIC_DUP_INST (an OpenFlow 1.4 error), as Open vSwitch sends it. */
const ONFERR_DUP_INSTRUCTION = 2600;
/** Fields a set-field may not write: the physical port and the extension headers seen. */
export const READ_ONLY_FIELDS = new Set<OxmFieldName>(['in_phy_port', 'ipv6_exthdr']);
/** VLAN tags a packet may carry at once. */
const MAX_VLAN_HEADERS = 2;

export function isValidOutputPort(port: number): boolean {
  return port < MAX_PORTS || RESERVED_OUTPUTS.has(port);
}

/** A port number in the band Open vSwitch cannot represent (its 16-bit ports). */
export function checkOutPort(port: number): void {
  if (port >= MAX_PORTS && port < 0xffffff00) throw new OfpError(OFPET_BAD_ACTION, OFPBAC_BAD_OUT_PORT, `port 0x${port.toString(16)}`);
}

function badAction(code: number, detail: string): never {
  throw new OfpError(OFPET_BAD_ACTION, code, detail);
}

/** Stage 1: the checks Open vSwitch makes while decoding actions. */
export function checkActionList(actions: Action[]): void {
  for (const a of actions) {
    switch (a.type) {
      case 'output':
        if (!isValidOutputPort(a.port)) badAction(OFPBAC_BAD_OUT_PORT, `output to port 0x${a.port.toString(16)}`);
        break;
      case 'push_vlan':
        if (a.ethertype !== 0x8100 && a.ethertype !== 0x88a8) badAction(OFPBAC_BAD_ARGUMENT, `push_vlan ethertype 0x${a.ethertype.toString(16)}`);
        break;
      case 'push_mpls':
        if (a.ethertype !== 0x8847 && a.ethertype !== 0x8848) badAction(OFPBAC_BAD_ARGUMENT, `push_mpls ethertype 0x${a.ethertype.toString(16)}`);
        break;
      case 'set_field':
        if (a.field.field === 'opaque') badAction(OFPBAC_BAD_SET_ARGUMENT, 'set-field of a field this switch does not have');
        if (READ_ONLY_FIELDS.has(a.field.field)) badAction(OFPBAC_BAD_SET_ARGUMENT, `${a.field.field} cannot be set`);
        if (a.field.field === 'vlan_vid' && !(a.field.value & OFPVID_PRESENT)) badAction(OFPBAC_BAD_SET_ARGUMENT, 'vlan_vid without OFPVID_PRESENT');
        break;
      case 'experimenter':
        badAction(OFPBAC_BAD_EXPERIMENTER, `experimenter 0x${a.experimenter.toString(16)}`);
        break;
      default:
        break;
    }
  }
}

/** Stage 1 for a whole instruction list. */
export function checkInstructionList(instructions: Instruction[]): void {
  const seen = new Set<string>();
  for (const ins of instructions) {
    if (ins.type === 'experimenter') {
      throw new OfpError(OFPET_BAD_INSTRUCTION, OFPBIC_BAD_EXPERIMENTER, `experimenter 0x${ins.experimenter.toString(16)}`);
    }
    if (seen.has(ins.type)) throw new OfpError(OFPET_EXPERIMENTER, ONFERR_DUP_INSTRUCTION, `${ins.type} twice`, ONF_EXPERIMENTER_ID);
    seen.add(ins.type);
    if (ins.type === 'apply_actions' || ins.type === 'write_actions') checkActionList(ins.actions);
  }
}

function exactField(key: MaskedKey, name: 'eth_type' | 'ip_proto' | 'icmpv6_type'): number | undefined {
  const slot = fieldSlot(name);
  let value = 0;
  for (let i = 0; i < slot.bytes; i++) {
    if (key.mask[slot.offset + i] !== slot.fullMask[i]) return undefined;
    value = value * 256 + key.value[slot.offset + i]!;
  }
  return value;
}

/** VLAN headers the match guarantees (0 or 1: OpenFlow matches the outer tag only). */
function vlanHeaders(key: MaskedKey): number {
  const slot = fieldSlot('vlan_vid');
  const present = OFPVID_PRESENT >> 8;
  return (key.mask[slot.offset]! & present) !== 0 && (key.value[slot.offset]! & present) !== 0 ? 1 : 0;
}

/** What the packet is known to be at a point of an action list. */
interface PacketState extends PrereqState {
  vlans: number;
}

function initialState(key: MaskedKey): PacketState {
  const vlans = vlanHeaders(key);
  return {
    ethType: exactField(key, 'eth_type'), ipProto: exactField(key, 'ip_proto'), icmpv6Type: exactField(key, 'icmpv6_type'),
    vlanPresent: vlans > 0, inPort: true, vlans,
  };
}

const isIp = (s: PrereqState): boolean => s.ethType === 0x0800 || s.ethType === 0x86dd;
const isMpls = (s: PrereqState): boolean => s.ethType === 0x8847 || s.ethType === 0x8848;

function inconsistent(detail: string): never {
  throw new OfpError(OFPET_BAD_ACTION, OFPBAC_MATCH_INCONSISTENT, detail);
}

/**
 * Stage 2 for one action list. `strict` (apply-actions) also refuses actions that make no
 * sense for the packet; an action set (write-actions) only has its set-fields checked.
 */
function checkConsistency(state: PacketState, actions: Action[], strict: boolean): void {
  for (const a of actions) {
    switch (a.type) {
      case 'push_vlan':
        if (state.vlans >= MAX_VLAN_HEADERS) badAction(OFPBAC_BAD_TAG, 'a third VLAN tag');
        state.vlans++;
        state.vlanPresent = true;
        break;
      case 'pop_vlan':
        if (strict && state.vlans === 0) inconsistent('pop_vlan on a packet without VLAN');
        state.vlans = Math.max(0, state.vlans - 1);
        state.vlanPresent = state.vlans > 0;
        break;
      case 'push_mpls':
        state.ethType = a.ethertype;
        state.ipProto = undefined;
        break;
      case 'pop_mpls':
        if (strict && !isMpls(state)) inconsistent('pop_mpls on a packet that is not MPLS');
        state.ethType = a.ethertype;
        state.ipProto = undefined;
        break;
      case 'set_mpls_ttl': case 'dec_mpls_ttl':
        if (strict && !isMpls(state)) inconsistent(`${a.type} on a packet that is not MPLS`);
        break;
      case 'set_nw_ttl': case 'dec_nw_ttl':
        if (strict && !isIp(state)) inconsistent(`${a.type} on a packet that is not IP`);
        break;
      case 'set_field': {
        if (a.field.field === 'opaque') break;
        const f = oxmFieldSpec(a.field.field);
        if (f.prereq && !f.prereq(state)) inconsistent(`set_field ${f.name} needs ${f.prereqText}`);
        if ((f.name === 'vlan_vid' || f.name === 'vlan_pcp') && !state.vlanPresent) inconsistent(`set_field ${f.name} on a packet without VLAN`);
        break;
      }
      default:
        break;
    }
  }
}

/** Stage 2: instructions against the match of a flow in table `tableId`. */
export function validateInstructions(ctx: ActionContext, tableId: number, key: MaskedKey, instructions: Instruction[]): void {
  for (const ins of instructions) {
    switch (ins.type) {
      case 'goto_table':
        // Forward only. Like Open vSwitch (whose hidden table 254 makes 255 tables), a goto
        // beyond the last table is accepted: the packet then meets an empty table and is dropped.
        if (tableId !== OFPTT_ALL && ins.tableId <= tableId) {
          throw new OfpError(OFPET_BAD_INSTRUCTION, OFPBIC_BAD_TABLE_ID, `goto_table ${ins.tableId} from table ${tableId}`);
        }
        break;
      case 'meter':
        if (ins.meterId === 0 || ins.meterId > OFPM_MAX) throw new OfpError(OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER, `meter ${ins.meterId}`);
        break;
      case 'apply_actions':
        checkConsistency(initialState(key), ins.actions, true);
        break;
      case 'write_actions':
        checkConsistency(initialState(key), ins.actions, false);
        break;
      default:
        break;
    }
  }
}

/** Stage 3: the groups and meters a flow names exist (Open vSwitch's ofproto_check_ofpacts). */
export function validateReferences(ctx: ActionContext, instructions: Instruction[]): void {
  for (const ins of instructions) {
    if (ins.type === 'meter' && !ctx.meterExists(ins.meterId)) {
      throw new OfpError(OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER, `meter ${ins.meterId} does not exist`);
    }
    if (ins.type === 'apply_actions' || ins.type === 'write_actions') {
      for (const a of ins.actions) {
        if (a.type === 'group' && !ctx.groupExists(a.groupId)) badAction(OFPBAC_BAD_OUT_GROUP, `group ${a.groupId} does not exist`);
      }
    }
  }
}

