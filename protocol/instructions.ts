/*
 * OpenFlow 1.3 instructions (ofp_instruction_*): the 6 standard instructions plus
 * experimenter instructions kept as opaque bytes. Errors are OFPET_BAD_INSTRUCTION codes,
 * except inside an action list, whose errors are OFPET_BAD_ACTION.
 */
import { namesByCode } from './code-table.ts';
import { type Action, decodeActions, encodeActions } from './actions.ts';
import * as C from './constants.ts';
import { OFPBIC_BAD_LEN, OFPBIC_UNKNOWN_INST, OFPET_BAD_INSTRUCTION, OfpDecodeError } from './errors.ts';
import { WireReader, WireWriter } from './wire.ts';

export type Instruction =
  | { type: 'goto_table'; tableId: number }
  | { type: 'write_metadata'; metadata: bigint; metadataMask: bigint }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'meter'; meterId: number }
  | { type: 'experimenter'; experimenter: number; data: Buffer };

export type InstructionType = Instruction['type'];

export const INSTRUCTION_TYPE_CODES: Readonly<Record<InstructionType, number>> = {
  goto_table: C.OFPIT_GOTO_TABLE, write_metadata: C.OFPIT_WRITE_METADATA, write_actions: C.OFPIT_WRITE_ACTIONS,
  apply_actions: C.OFPIT_APPLY_ACTIONS, clear_actions: C.OFPIT_CLEAR_ACTIONS, meter: C.OFPIT_METER,
  experimenter: C.OFPIT_EXPERIMENTER,
};
const INSTRUCTION_TYPE_NAMES = namesByCode(INSTRUCTION_TYPE_CODES);

export function instructionTypeName(code: number): InstructionType | undefined {
  return INSTRUCTION_TYPE_NAMES.get(code);
}

const FIXED_LEN: Partial<Record<InstructionType, number>> = {
  goto_table: 8, write_metadata: 24, clear_actions: 8, meter: 8,
};

const INSTRUCTION_LEN_ERROR = { errType: OFPET_BAD_INSTRUCTION, errCode: OFPBIC_BAD_LEN };

function badLen(detail: string): never {
  throw new OfpDecodeError(OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN, detail);
}

function decodeInstruction(r: WireReader): Instruction {
  if (r.remaining < 4) badLen(`partial instruction header (${r.remaining} bytes)`);
  const typeCode = r.buf.readUInt16BE(r.pos);
  const len = r.buf.readUInt16BE(r.pos + 2);
  if (len < 8 || len % 8 !== 0 || len > r.remaining) badLen(`instruction type ${typeCode} has length ${len}`);
  const ins = r.sub(len, INSTRUCTION_LEN_ERROR);
  ins.skip(4);
  const type = INSTRUCTION_TYPE_NAMES.get(typeCode);
  if (type === undefined) {
    throw new OfpDecodeError(OFPET_BAD_INSTRUCTION, OFPBIC_UNKNOWN_INST, `unknown instruction type ${typeCode}`);
  }
  const fixed = FIXED_LEN[type];
  if (fixed !== undefined && len !== fixed) badLen(`${type} instruction has length ${len}, expected ${fixed}`);
  switch (type) {
    case 'goto_table':
      return { type, tableId: ins.u8() };
    case 'write_metadata': {
      ins.skip(4);
      const metadata = ins.u64();
      return { type, metadata, metadataMask: ins.u64() };
    }
    case 'write_actions': case 'apply_actions':
      ins.skip(4);
      return { type, actions: decodeActions(ins.sub(ins.remaining)) };
    case 'clear_actions':
      return { type };
    case 'meter':
      return { type, meterId: ins.u32() };
    case 'experimenter':
      return { type, experimenter: ins.u32(), data: ins.rest() };
  }
}

/** Decodes the instruction list that fills reader `r` entirely. */
export function decodeInstructions(r: WireReader): Instruction[] {
  const list: Instruction[] = [];
  while (r.remaining > 0) list.push(decodeInstruction(r));
  return list;
}

export function encodeInstruction(w: WireWriter, ins: Instruction): void {
  const start = w.pos;
  w.u16(INSTRUCTION_TYPE_CODES[ins.type]);
  w.u16(0);
  switch (ins.type) {
    case 'goto_table':
      w.u8(ins.tableId); w.zeros(3);
      break;
    case 'write_metadata':
      w.zeros(4); w.u64(ins.metadata); w.u64(ins.metadataMask);
      break;
    case 'write_actions': case 'apply_actions':
      w.zeros(4); encodeActions(w, ins.actions);
      break;
    case 'clear_actions':
      w.zeros(4);
      break;
    case 'meter':
      w.u32(ins.meterId);
      break;
    case 'experimenter':
      w.u32(ins.experimenter); w.bytes(ins.data); w.padTo(start, 8);
      break;
  }
  w.patchU16(start + 2, w.pos - start);
}

export function encodeInstructions(w: WireWriter, list: readonly Instruction[]): void {
  for (const ins of list) encodeInstruction(w, ins);
}
