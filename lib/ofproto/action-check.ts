/*
 * Checks a flow's instructions and actions before it is installed, as Open vSwitch's
 * ofpacts_check does: output ports must be valid port numbers, groups and meters must
 * exist, goto_table must go forward, and every action must make sense for the packet the
 * match describes as the actions before it have changed it (pop_vlan needs a VLAN,
 * dec_ttl needs IP, a set_field needs its field's prerequisites): OFPBAC_MATCH_INCONSISTENT
 * otherwise.
 */
import {
  type Action, type Instruction, OFPBAC_BAD_ARGUMENT, OFPBAC_BAD_OUT_GROUP, OFPBAC_BAD_OUT_PORT,
  OFPBAC_MATCH_INCONSISTENT, OFPBIC_BAD_TABLE_ID, OFPET_BAD_ACTION, OFPET_BAD_INSTRUCTION, OFPET_METER_MOD_FAILED,
  OfpError, OFPMMFC_UNKNOWN_METER, OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NORMAL,
  OFPP_TABLE, OFPVID_PRESENT, oxmFieldSpec, type PrereqState,
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

export function isValidOutputPort(port: number): boolean {
  return port < MAX_PORTS || RESERVED_OUTPUTS.has(port);
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

function vlanPresent(key: MaskedKey): boolean {
  const slot = fieldSlot('vlan_vid');
  const present = OFPVID_PRESENT >> 8;
  return (key.mask[slot.offset]! & present) !== 0 && (key.value[slot.offset]! & present) !== 0;
}

/** What the packet is known to be at a point of the action list. */
function initialState(key: MaskedKey): PrereqState {
  return {
    ethType: exactField(key, 'eth_type'), ipProto: exactField(key, 'ip_proto'),
    icmpv6Type: exactField(key, 'icmpv6_type'), vlanPresent: vlanPresent(key), inPort: true,
  };
}

const isIp = (s: PrereqState): boolean => s.ethType === 0x0800 || s.ethType === 0x86dd;
const isMpls = (s: PrereqState): boolean => s.ethType === 0x8847 || s.ethType === 0x8848;

function inconsistent(detail: string): never {
  throw new OfpError(OFPET_BAD_ACTION, OFPBAC_MATCH_INCONSISTENT, detail);
}

function checkActions(ctx: ActionContext, state: PrereqState, actions: Action[]): void {
  for (const a of actions) {
    switch (a.type) {
      case 'output':
        if (!isValidOutputPort(a.port)) throw new OfpError(OFPET_BAD_ACTION, OFPBAC_BAD_OUT_PORT, `output to port 0x${a.port.toString(16)}`);
        break;
      case 'group':
        if (!ctx.groupExists(a.groupId)) throw new OfpError(OFPET_BAD_ACTION, OFPBAC_BAD_OUT_GROUP, `group ${a.groupId} does not exist`);
        break;
      case 'push_vlan':
        if (a.ethertype !== 0x8100 && a.ethertype !== 0x88a8) throw new OfpError(OFPET_BAD_ACTION, OFPBAC_BAD_ARGUMENT, `push_vlan ethertype 0x${a.ethertype.toString(16)}`);
        state.vlanPresent = true;
        break;
      case 'pop_vlan':
        if (!state.vlanPresent) inconsistent('pop_vlan on a packet without VLAN');
        state.vlanPresent = false;
        break;
      case 'push_mpls':
        if (a.ethertype !== 0x8847 && a.ethertype !== 0x8848) throw new OfpError(OFPET_BAD_ACTION, OFPBAC_BAD_ARGUMENT, `push_mpls ethertype 0x${a.ethertype.toString(16)}`);
        state.ethType = a.ethertype;
        state.ipProto = undefined;
        break;
      case 'pop_mpls':
        if (!isMpls(state)) inconsistent('pop_mpls on a packet that is not MPLS');
        state.ethType = a.ethertype;
        state.ipProto = undefined;
        break;
      case 'set_mpls_ttl': case 'dec_mpls_ttl': case 'copy_ttl_in': case 'copy_ttl_out':
        if (!isMpls(state)) inconsistent(`${a.type} on a packet that is not MPLS`);
        break;
      case 'set_nw_ttl': case 'dec_nw_ttl':
        if (!isIp(state)) inconsistent(`${a.type} on a packet that is not IP`);
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

/** Throws the OpenFlow error for the first thing wrong with `instructions` in table `tableId`. */
export function validateInstructions(ctx: ActionContext, tableId: number, key: MaskedKey, instructions: Instruction[]): void {
  for (const ins of instructions) {
    switch (ins.type) {
      case 'goto_table':
        if (ins.tableId <= tableId || ins.tableId >= ctx.tables.length) {
          throw new OfpError(OFPET_BAD_INSTRUCTION, OFPBIC_BAD_TABLE_ID, `goto_table ${ins.tableId} from table ${tableId}`);
        }
        break;
      case 'meter':
        if (!ctx.meterExists(ins.meterId)) throw new OfpError(OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, `meter ${ins.meterId} does not exist`);
        break;
      case 'apply_actions': case 'write_actions':
        checkActions(ctx, initialState(key), ins.actions);
        break;
      default:
        break;
    }
  }
}
