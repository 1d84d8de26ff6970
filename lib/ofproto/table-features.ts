/*
 * The table features this switch really has (OFPMP_TABLE_FEATURES): every table takes every
 * instruction, all 16 actions in apply and write action lists, a goto to any later table,
 * and matches every OpenFlow-basic field (masked where the field can be), with set-field for
 * every field but the read-only ones. Fields are listed in Open vSwitch's order (its
 * meta-flow order: tunnel, pipeline, L2, L3, L4), which OpenFlow leaves free; the fields OVS
 * lacks sit next to their kin.
 */
import {
  ACTION_TYPE_CODES, basicOxmHeader, INSTRUCTION_TYPE_CODES, OXM_FIELDS, type OxmFieldName, type TableFeatureProperty,
  type TableFeatures,
} from '../../protocol/index.ts';
import { READ_ONLY_FIELDS } from './action-check.ts';
import { MAX_ENTRIES } from './flow-mod.ts';
import type { OfTable } from './rule.ts';

const FIELD_ORDER: readonly OxmFieldName[] = [
  'tunnel_id', 'metadata', 'in_port', 'in_phy_port', 'eth_src', 'eth_dst', 'eth_type', 'vlan_vid', 'vlan_pcp',
  'mpls_label', 'mpls_tc', 'mpls_bos', 'pbb_isid', 'ipv4_src', 'ipv4_dst', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel',
  'ipv6_exthdr', 'ip_proto', 'ip_dscp', 'ip_ecn', 'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'tcp_src',
  'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmpv4_type', 'icmpv4_code', 'icmpv6_type', 'icmpv6_code',
  'ipv6_nd_target', 'ipv6_nd_sll', 'ipv6_nd_tll',
];
const fields = FIELD_ORDER.map((name) => OXM_FIELDS.find((f) => f.name === name)!);
if (fields.length !== OXM_FIELDS.length) throw new Error('table-features: FIELD_ORDER must list every OXM field');

const instructionIds = Object.entries(INSTRUCTION_TYPE_CODES).filter(([n]) => n !== 'experimenter').map(([, type]) => ({ type }));
const actionIds = Object.entries(ACTION_TYPE_CODES).filter(([n]) => n !== 'experimenter').map(([, type]) => ({ type }))
  .sort((a, b) => a.type - b.type);
const matchIds = fields.map((f) => ({ header: basicOxmHeader(f.name, f.maskable) }));
const wildcardIds = fields.map((f) => ({ header: basicOxmHeader(f.name) }));
const setFieldIds = fields.filter((f) => !READ_ONLY_FIELDS.has(f.name)).map((f) => ({ header: basicOxmHeader(f.name) }));

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
