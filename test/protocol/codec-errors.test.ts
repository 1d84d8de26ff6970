/*
 * Table-driven: malformed or invalid messages and the OpenFlow error the specification
 * assigns to each (type and code), as decodeMessage reports them.
 */
import t from 'tap';
import {
  type Action, decodeMessage, encodeMessage, errorName, type Instruction, type Match, type OfpMessage, OFP_NO_BUFFER,
  OFPG_ANY, OFPP_ANY,
} from '../../protocol/index.ts';

const flowMod = (match: Match, instructions: Instruction[] = []): OfpMessage => ({
  type: 'flow_mod', xid: 1, cookie: 0n, cookieMask: 0n, tableId: 0, command: 0, idleTimeout: 0, hardTimeout: 0,
  priority: 1, bufferId: OFP_NO_BUFFER, outPort: OFPP_ANY, outGroup: OFPG_ANY, flags: 0, match, instructions,
});
const apply = (...actions: Action[]): Instruction[] => [{ type: 'apply_actions', actions }];
const bytes = (m: OfpMessage): Buffer => encodeMessage(m);
/** Flow-mod bytes with the match region (after the 56-byte fixed part) replaced. */
function withRawMatch(rawMatch: string, tail = ''): Buffer {
  const head = bytes(flowMod([])).subarray(0, 48);
  const b = Buffer.concat([head, Buffer.from(rawMatch + tail, 'hex')]);
  b.writeUInt16BE(b.length, 2);
  return b;
}
/** Flow-mod bytes whose single apply-actions instruction holds `rawActions`. */
function withRawActions(rawActions: string): Buffer {
  const actions = Buffer.from(rawActions, 'hex');
  const ins = Buffer.alloc(8);
  ins.writeUInt16BE(4, 0);
  ins.writeUInt16BE(8 + actions.length, 2);
  const b = Buffer.concat([bytes(flowMod([])), ins, actions]);
  b.writeUInt16BE(b.length, 2);
  return b;
}
const IPV4 = { field: 'eth_type', value: 0x0800 } as const;

const CASES: Array<[string, Buffer, string]> = [
  ['message shorter than a header', Buffer.from('040000', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
  ['header length disagrees with the message', Buffer.from('0402000c00000001', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
  ['OpenFlow 1.0 echo on a 1.3 connection', Buffer.from('0102000800000001', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_VERSION'],
  ['unknown message type', Buffer.from('0420000800000001', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE'],
  ['unknown multipart type', Buffer.from('041200100000000100630000' + '00000000', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_MULTIPART'],
  ['features request with a body', Buffer.from('0405000c0000000100000000', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
  ['set_config cut short', Buffer.from('0409000a000000010000', 'hex'), 'OFPET_BAD_REQUEST/OFPBRC_BAD_LEN'],
  ['OFPMT_STANDARD match', withRawMatch('0000000800000000'), 'OFPET_BAD_MATCH/OFPBMC_BAD_TYPE'],
  ['match length beyond the message', withRawMatch('00010040'), 'OFPET_BAD_MATCH/OFPBMC_BAD_LEN'],
  ['OXM entry overrunning the match', withRawMatch('0001000c800000080000000100000000'), 'OFPET_BAD_MATCH/OFPBMC_BAD_LEN'],
  ['OXM with the wrong length for its field', withRawMatch('0001000b8000000300000100000000'.padEnd(32, '0')), 'OFPET_BAD_MATCH/OFPBMC_BAD_LEN'],
  ['unknown OpenFlow-basic field', withRawMatch('0001000a80005402000000000000'.padEnd(32, '0')), 'OFPET_BAD_MATCH/OFPBMC_BAD_FIELD'],
  ['prerequisite missing', bytes(flowMod([{ field: 'ipv4_src', value: '1.2.3.4' }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ'],
  ['prerequisite listed after the field', bytes(flowMod([{ field: 'ipv4_src', value: '1.2.3.4' }, IPV4])), 'OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ'],
  ['tcp port with UDP as ip_proto', bytes(flowMod([IPV4, { field: 'ip_proto', value: 17 }, { field: 'tcp_dst', value: 80 }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ'],
  ['vlan_pcp without a VLAN', bytes(flowMod([{ field: 'vlan_vid', value: 0 }, { field: 'vlan_pcp', value: 1 }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_PREREQ'],
  ['field listed twice', bytes(flowMod([{ field: 'in_port', value: 1 }, { field: 'in_port', value: 2 }])), 'OFPET_BAD_MATCH/OFPBMC_DUP_FIELD'],
  ['value bits outside the mask', bytes(flowMod([IPV4, { field: 'ipv4_dst', value: '10.0.0.1', mask: '255.0.0.0' }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_WILDCARDS'],
  ['mask on a field that cannot be masked', bytes(flowMod([{ field: 'eth_type', value: 0x0800, mask: 0x0f00 }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_MASK'],
  ['vlan_vid out of range', bytes(flowMod([{ field: 'vlan_vid', value: 0x2000 }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_VALUE'],
  ['ip_dscp out of range', bytes(flowMod([IPV4, { field: 'ip_dscp', value: 64 }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_VALUE'],
  ['in_port in the band no port can have', bytes(flowMod([{ field: 'in_port', value: 0x10000 }])), 'OFPET_BAD_MATCH/OFPBMC_BAD_VALUE'],
  ['unknown instruction', withRawMatch('0001000400000000', '0007000800000000'), 'OFPET_BAD_INSTRUCTION/OFPBIC_UNKNOWN_INST'],
  ['instruction length not a multiple of 8', withRawMatch('0001000400000000', '000100060000'), 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_LEN'],
  ['goto_table with a wrong length', withRawMatch('0001000400000000', '0001001000000000' + '0000000000000000'), 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_LEN'],
  ['unknown action', withRawActions('0063000800000000'), 'OFPET_BAD_ACTION/OFPBAC_BAD_TYPE'],
  ['output action of 8 bytes', withRawActions('0000000800000001'), 'OFPET_BAD_ACTION/OFPBAC_BAD_LEN'],
  ['action longer than its list', withRawActions('0000002000000001ffff000000000000'), 'OFPET_BAD_ACTION/OFPBAC_BAD_LEN'],
  ['set_field of an unknown field', withRawActions('0019001080005402000000000000' + '0000'), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_TYPE'],
  // eth_dst (field 3) with the hasmask bit: header 0x8000070c, value, mask, 4 bytes of padding.
  ['set_field with a mask', withRawActions('00190018' + '8000070c' + '0000000000ff' + 'ffffffffffff' + '00000000'), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_ARGUMENT'],
  // vlan_vid (field 6): header 0x80000c02, value 0x1064, then padding that is not zero.
  ['set_field with padding that is not zero', withRawActions('00190010' + '80000c02' + '1064' + 'ffff' + '00000000'), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_ARGUMENT'],
  ['set_field with a wrong OXM length', withRawActions('00190010' + '80000c03' + '106400' + '00' + '00000000'), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_LEN'],
  ['set_field value out of range', bytes(flowMod([], apply({ type: 'set_field', field: { field: 'vlan_pcp', value: 9 } }))), 'OFPET_BAD_ACTION/OFPBAC_BAD_SET_ARGUMENT'],
  ['group bucket shorter than its header', Buffer.from('040f0018000000010000000000000001' + '0008000000000000', 'hex'), 'OFPET_GROUP_MOD_FAILED/OFPGMFC_BAD_BUCKET'],
  ['meter band of an unknown type', Buffer.from('041d0020000000010000000100000001' + '0009001000000001000000000000000000'.slice(0, 32), 'hex'), 'OFPET_METER_MOD_FAILED/OFPMMFC_BAD_BAND'],
  ['table feature property of an unknown type', (() => {
    const m = bytes({ type: 'multipart_request', xid: 1, flags: 0, body: { mpType: 'table_features', tables: [{ tableId: 0, name: 't', metadataMatch: 0n, metadataWrite: 0n, config: 0, maxEntries: 1, properties: [{ type: 'next_tables', tableIds: [1, 2, 3, 4] }] }] } });
    m.writeUInt16BE(0x0009, 16 + 64); // property type 9 is not assigned
    return m;
  })(), 'OFPET_TABLE_FEATURES_FAILED/OFPTFFC_BAD_TYPE'],
];

for (const [what, input, expected] of CASES) {
  const result = decodeMessage(input);
  t.equal(result.ok ? 'decoded' : errorName(result.error.errType, result.error.errCode), expected, what);
}

t.test('an error result carries the header fields the answer needs', async (t) => {
  const input = bytes(flowMod([{ field: 'in_port', value: 1 }, { field: 'in_port', value: 1 }]));
  input.writeUInt32BE(0xabcdef, 4);
  const result = decodeMessage(input);
  t.notOk(result.ok);
  if (!result.ok) t.same([result.version, result.msgType, result.xid], [4, 14, 0xabcdef]);
});
