/*
 * The table features this switch really has (OFPMP_TABLE_FEATURES): every table takes every
 * instruction, all 16 actions in apply and write action lists, a goto to any later table,
 * and matches every OpenFlow-basic field (masked where the field can be), with set-field for
 * every field but the pipeline ones.
 */
import {
  ACTION_TYPE_CODES, basicOxmHeader, INSTRUCTION_TYPE_CODES, OXM_FIELDS, type OxmFieldName, type TableFeatureProperty,
  type TableFeatures,
} from '../../protocol/index.ts';
import { MAX_ENTRIES } from './flow-mod.ts';
import type { OfTable } from './rule.ts';

/** Fields a set_field cannot write: the physical port and the extension headers seen. */
const NOT_SETTABLE = new Set<OxmFieldName>(['in_phy_port', 'ipv6_exthdr']);

const instructionIds = Object.entries(INSTRUCTION_TYPE_CODES).filter(([n]) => n !== 'experimenter').map(([, type]) => ({ type }));
const actionIds = Object.entries(ACTION_TYPE_CODES).filter(([n]) => n !== 'experimenter').map(([, type]) => ({ type }))
  .sort((a, b) => a.type - b.type);
const matchIds = OXM_FIELDS.map((f) => ({ header: basicOxmHeader(f.name, f.maskable) }));
const wildcardIds = OXM_FIELDS.map((f) => ({ header: basicOxmHeader(f.name) }));
const setFieldIds = OXM_FIELDS.filter((f) => !NOT_SETTABLE.has(f.name)).map((f) => ({ header: basicOxmHeader(f.name) }));

function properties(tableId: number, nTables: number): TableFeatureProperty[] {
  const last = tableId === nTables - 1;
  const nextTables = Array.from({ length: nTables - tableId - 1 }, (_, i) => tableId + 1 + i);
  const instructions = last ? instructionIds.filter((i) => i.type !== INSTRUCTION_TYPE_CODES.goto_table) : instructionIds;
  // Open vSwitch's order: the six properties for flows, the same six for the table-miss flow,
  // then what the table matches on.
  const forFlows = (miss: '' | '_miss'): TableFeatureProperty[] => [
    { type: `instructions${miss}`, instructions }, { type: `next_tables${miss}`, tableIds: nextTables },
    { type: `write_actions${miss}`, actions: actionIds }, { type: `write_setfield${miss}`, oxmIds: setFieldIds },
    { type: `apply_actions${miss}`, actions: actionIds }, { type: `apply_setfield${miss}`, oxmIds: setFieldIds },
  ];
  return [
    ...forFlows(''), ...forFlows('_miss'),
    { type: 'match', oxmIds: matchIds }, { type: 'wildcards', oxmIds: wildcardIds },
  ];
}

export function tableFeatures(tables: OfTable[]): TableFeatures[] {
  return tables.map((t) => ({
    tableId: t.id, name: t.name, metadataMatch: 0xffffffffffffffffn, metadataWrite: 0xffffffffffffffffn, config: t.config,
    maxEntries: MAX_ENTRIES, properties: properties(t.id, tables.length),
  }));
}
