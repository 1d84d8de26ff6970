/*
 * OpenFlow 1.3 actions (ofp_action_*): the 16 standard actions plus experimenter actions,
 * which are kept as opaque bytes. Action lists appear in instructions, packet-outs and
 * group buckets; their errors are OFPET_BAD_ACTION codes.
 */
import { namesByCode } from './code-table.ts';
import * as C from './constants.ts';
import {
  OFPBAC_BAD_LEN, OFPBAC_BAD_SET_ARGUMENT, OFPBAC_BAD_SET_LEN, OFPBAC_BAD_SET_TYPE, OFPBAC_BAD_TYPE,
  OFPET_BAD_ACTION, OfpDecodeError, OfpEncodeError,
} from './errors.ts';
import { type BasicOxm, decodeOxm, encodeOxm, type OxmErrors, type OxmField } from './oxm.ts';
import { padLength, WireReader, WireWriter } from './wire.ts';

export type Action =
  | { type: 'output'; port: number; maxLen: number }
  | { type: 'copy_ttl_out' }
  | { type: 'copy_ttl_in' }
  | { type: 'set_mpls_ttl'; ttl: number }
  | { type: 'dec_mpls_ttl' }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  | { type: 'push_mpls'; ethertype: number }
  | { type: 'pop_mpls'; ethertype: number }
  | { type: 'set_queue'; queueId: number }
  | { type: 'group'; groupId: number }
  | { type: 'set_nw_ttl'; ttl: number }
  | { type: 'dec_nw_ttl' }
  | { type: 'set_field'; field: OxmField }
  | { type: 'push_pbb'; ethertype: number }
  | { type: 'pop_pbb' }
  | { type: 'experimenter'; experimenter: number; data: Buffer };

export type ActionType = Action['type'];

export const ACTION_TYPE_CODES: Readonly<Record<ActionType, number>> = {
  output: C.OFPAT_OUTPUT, copy_ttl_out: C.OFPAT_COPY_TTL_OUT, copy_ttl_in: C.OFPAT_COPY_TTL_IN,
  set_mpls_ttl: C.OFPAT_SET_MPLS_TTL, dec_mpls_ttl: C.OFPAT_DEC_MPLS_TTL, push_vlan: C.OFPAT_PUSH_VLAN,
  pop_vlan: C.OFPAT_POP_VLAN, push_mpls: C.OFPAT_PUSH_MPLS, pop_mpls: C.OFPAT_POP_MPLS,
  set_queue: C.OFPAT_SET_QUEUE, group: C.OFPAT_GROUP, set_nw_ttl: C.OFPAT_SET_NW_TTL,
  dec_nw_ttl: C.OFPAT_DEC_NW_TTL, set_field: C.OFPAT_SET_FIELD, push_pbb: C.OFPAT_PUSH_PBB,
  pop_pbb: C.OFPAT_POP_PBB, experimenter: C.OFPAT_EXPERIMENTER,
};
const ACTION_TYPE_NAMES = namesByCode(ACTION_TYPE_CODES);

export function actionTypeName(code: number): ActionType | undefined {
  return ACTION_TYPE_NAMES.get(code);
}

/** Fixed lengths of the non-variable actions; set_field and experimenter are variable. */
const FIXED_LEN: Partial<Record<ActionType, number>> = {
  output: 16, copy_ttl_out: 8, copy_ttl_in: 8, set_mpls_ttl: 8, dec_mpls_ttl: 8, push_vlan: 8,
  pop_vlan: 8, push_mpls: 8, pop_mpls: 8, set_queue: 8, group: 8, set_nw_ttl: 8, dec_nw_ttl: 8,
  push_pbb: 8, pop_pbb: 8,
};

const SET_FIELD_ERRORS: OxmErrors = {
  errType: OFPET_BAD_ACTION, badLen: OFPBAC_BAD_SET_LEN, badField: OFPBAC_BAD_SET_TYPE,
  badMask: OFPBAC_BAD_SET_ARGUMENT, badValue: OFPBAC_BAD_SET_ARGUMENT, badWildcards: OFPBAC_BAD_SET_ARGUMENT,
};

const ACTION_LEN_ERROR = { errType: OFPET_BAD_ACTION, errCode: OFPBAC_BAD_LEN };

function badLen(detail: string): never {
  throw new OfpDecodeError(OFPET_BAD_ACTION, OFPBAC_BAD_LEN, detail);
}

function decodeAction(r: WireReader): Action {
  if (r.remaining < 8) badLen(`partial action header (${r.remaining} bytes)`);
  const typeCode = r.buf.readUInt16BE(r.pos);
  const len = r.buf.readUInt16BE(r.pos + 2);
  if (len < 8 || len % 8 !== 0 || len > r.remaining) badLen(`action type ${typeCode} has length ${len}`);
  const a = r.sub(len, ACTION_LEN_ERROR);
  a.skip(4);
  const type = ACTION_TYPE_NAMES.get(typeCode);
  if (type === undefined) throw new OfpDecodeError(OFPET_BAD_ACTION, OFPBAC_BAD_TYPE, `unknown action type ${typeCode}`);
  const fixed = FIXED_LEN[type];
  if (fixed !== undefined && len !== fixed) badLen(`${type} action has length ${len}, expected ${fixed}`);
  switch (type) {
    case 'output': {
      const port = a.u32();
      const maxLen = a.u16();
      return { type, port, maxLen };
    }
    case 'copy_ttl_out': case 'copy_ttl_in': case 'dec_mpls_ttl': case 'pop_vlan': case 'dec_nw_ttl': case 'pop_pbb':
      return { type };
    case 'set_mpls_ttl': case 'set_nw_ttl':
      return { type, ttl: a.u8() };
    case 'push_vlan': case 'push_mpls': case 'pop_mpls': case 'push_pbb':
      return { type, ethertype: a.u16() };
    case 'set_queue':
      return { type, queueId: a.u32() };
    case 'group':
      return { type, groupId: a.u32() };
    case 'set_field': {
      const field = decodeOxm(a, SET_FIELD_ERRORS, false, false);
      // The rest is padding to 8 bytes and must be zero (as Open vSwitch requires).
      const consumed = a.pos - (a.end - len);
      if (padLength(consumed) !== len) {
        throw new OfpDecodeError(OFPET_BAD_ACTION, OFPBAC_BAD_SET_LEN, `set_field length ${len} for a ${consumed - 4}-byte OXM`);
      }
      for (let i = a.pos; i < a.end; i++) {
        if (a.buf[i] !== 0) throw new OfpDecodeError(OFPET_BAD_ACTION, OFPBAC_BAD_SET_ARGUMENT, 'set_field padding not zero');
      }
      return { type, field };
    }
    case 'experimenter': {
      const experimenter = a.u32();
      return { type, experimenter, data: a.rest() };
    }
  }
}

/** Decodes the action list that fills reader `r` entirely. */
export function decodeActions(r: WireReader): Action[] {
  const actions: Action[] = [];
  while (r.remaining > 0) actions.push(decodeAction(r));
  return actions;
}

export function encodeAction(w: WireWriter, action: Action): void {
  const start = w.pos;
  w.u16(ACTION_TYPE_CODES[action.type]);
  w.u16(0);
  switch (action.type) {
    case 'output':
      w.u32(action.port); w.u16(action.maxLen); w.zeros(6);
      break;
    case 'copy_ttl_out': case 'copy_ttl_in': case 'dec_mpls_ttl': case 'pop_vlan': case 'dec_nw_ttl': case 'pop_pbb':
      w.zeros(4);
      break;
    case 'set_mpls_ttl': case 'set_nw_ttl':
      w.u8(action.ttl); w.zeros(3);
      break;
    case 'push_vlan': case 'push_mpls': case 'pop_mpls': case 'push_pbb':
      w.u16(action.ethertype); w.zeros(2);
      break;
    case 'set_queue':
      w.u32(action.queueId);
      break;
    case 'group':
      w.u32(action.groupId);
      break;
    case 'set_field':
      if (action.field.field !== 'opaque' && (action.field as BasicOxm).mask !== undefined) {
        throw new OfpEncodeError('an OpenFlow 1.3 set_field action cannot carry a mask');
      }
      encodeOxm(w, action.field);
      w.padTo(start, 8);
      break;
    case 'experimenter':
      w.u32(action.experimenter);
      w.bytes(action.data);
      if ((w.pos - start) % 8 !== 0) throw new OfpEncodeError('experimenter action length must be a multiple of 8');
      break;
  }
  w.patchU16(start + 2, w.pos - start);
}

export function encodeActions(w: WireWriter, actions: readonly Action[]): void {
  for (const a of actions) encodeAction(w, a);
}
