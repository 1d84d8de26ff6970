/*
 * The comparer's capability normalisation (./compare.ts, normaliseCapabilities): it takes out
 * only vendor-extension fields and ofswitch's documented OpenFlow 1.3 extras, so that
 *   - ofswitch's real table features equal an Open vSwitch-like reply that has the same OpenFlow
 *     1.3 fields plus Nicira fields and without the extras;
 *   - a standard field, action or mask OVS lists and ofswitch lacks still differs, and so does an
 *     order change or a capability bit outside the extras.
 */
import t from 'tap';
import { newTable } from '../../lib/ofproto/rule.ts';
import { tableFeatures } from '../../lib/ofproto/table-features.ts';
import {
  basicOxmHeader, encodeMessage, type MultipartReplyBody, OFPAT_COPY_TTL_OUT, OFPAT_OUTPUT, OFPAT_POP_PBB,
  OFPMBT_DROP, OFPMBT_DSCP_REMARK, type OxmFieldName, type OxmId, type TableFeatures,
} from '../../protocol/index.ts';
import { firstDifference, normaliseSwitchMessage } from './compare.ts';

const NXM_REG0 = 0x00010004;
const ONF_ACTSET_OUTPUT = { header: 0xffff5604 >>> 0, experimenter: 0x4f4e4600 };
const PACKET_TYPE = 0x80005804;
const headers = (names: OxmFieldName[]): number[] => names.flatMap((n) => [basicOxmHeader(n), basicOxmHeader(n, true)]);
/** ofswitch's OpenFlow 1.3 extras, written out again here (compare.ts has them as OFSWITCH_ONLY). */
const EXTRA_FIELDS = new Set(headers(['in_phy_port', 'pbb_isid', 'ipv6_exthdr']));
const EXTRA_SETFIELDS = new Set(headers(['eth_type', 'ip_proto', 'mpls_bos', 'pbb_isid']));
const EXTRA_ACTIONS = new Set([11, 12, 26, 27]);

function normalised(body: MultipartReplyBody): unknown {
  const bytes = encodeMessage({ type: 'multipart_reply', xid: 1, flags: 0, body });
  return normaliseSwitchMessage(bytes, () => 1);
}

/** A table-features list as OVS would send it for ofswitch's tables: extras out, extensions in. */
function ovsLike(tables: TableFeatures[]): TableFeatures[] {
  return tables.map((table) => ({
    ...table,
    properties: table.properties.map((p) => {
      if ('actions' in p) return { ...p, actions: p.actions.filter((a) => !EXTRA_ACTIONS.has(a.type)) };
      if (!('oxmIds' in p)) return p;
      const setField = p.type.includes('setfield');
      const ids: OxmId[] = p.oxmIds
        .filter((id) => !EXTRA_FIELDS.has(id.header) && !(setField && EXTRA_SETFIELDS.has(id.header)))
        .map((id) => (id.header === basicOxmHeader('vlan_pcp', true) ? { header: basicOxmHeader('vlan_pcp') } : id));
      return { ...p, oxmIds: [{ header: NXM_REG0 }, ...ids, ONF_ACTSET_OUTPUT, { header: PACKET_TYPE }] };
    }),
  }));
}

const tables = (): TableFeatures[] => tableFeatures([newTable(0), newTable(1)]);

t.test('table features: equal once extensions and the documented extras are out', async (t) => {
  const ours = tables();
  t.notSame(ours, ovsLike(ours), 'the raw replies differ');
  t.equal(firstDifference(normalised({ mpType: 'table_features', tables: ovsLike(ours) }) as never,
    normalised({ mpType: 'table_features', tables: ours }) as never), undefined, 'normalised: identical');
});

t.test('table features: what OVS lists beyond the extras still differs', async (t) => {
  const ours = tables();
  const ovs = ovsLike(ours);
  const withoutTcpSrc = ours.map((table) => ({
    ...table,
    properties: table.properties.map((p) => ('oxmIds' in p ? { ...p, oxmIds: p.oxmIds.filter((id) => id.header !== basicOxmHeader('tcp_src', true)) } : p)),
  }));
  t.ok(firstDifference(normalised({ mpType: 'table_features', tables: ovs }) as never,
    normalised({ mpType: 'table_features', tables: withoutTcpSrc }) as never), 'a missing masked tcp_src match differs');

  const withoutOutput = ours.map((table) => ({
    ...table, properties: table.properties.map((p) => ('actions' in p ? { ...p, actions: p.actions.filter((a) => a.type !== OFPAT_OUTPUT) } : p)),
  }));
  t.ok(firstDifference(normalised({ mpType: 'table_features', tables: ovs }) as never,
    normalised({ mpType: 'table_features', tables: withoutOutput }) as never), 'a missing output action differs');

  const reordered = ours.map((table) => ({
    ...table, properties: table.properties.map((p) => ('oxmIds' in p && p.type === 'match' ? { ...p, oxmIds: [...p.oxmIds].reverse() } : p)),
  }));
  t.ok(firstDifference(normalised({ mpType: 'table_features', tables: ovs }) as never,
    normalised({ mpType: 'table_features', tables: reordered }) as never), 'another field order differs');
});

t.test('group and meter features: only the extra bits are out', async (t) => {
  const base = { types: 0xf, capabilities: 0xf, maxGroups: [16, 16, 16, 16] };
  const ovsActions = [1 << OFPAT_OUTPUT, 1 << OFPAT_OUTPUT, 1 << OFPAT_OUTPUT, 1 << OFPAT_OUTPUT];
  const ours = ovsActions.map((bits) => bits | (1 << OFPAT_COPY_TTL_OUT) | (1 << OFPAT_POP_PBB));
  const group = (actions: number[]): unknown => normalised({ mpType: 'group_features', ...base, actions });
  t.equal(firstDifference(group(ovsActions) as never, group(ours) as never), undefined, 'COPY_TTL_OUT and POP_PBB are out');
  t.ok(firstDifference(group(ovsActions) as never, group(ours.map((b) => b | (1 << 16))) as never), 'another action bit differs');

  const meter = (bandTypes: number): unknown => normalised({ mpType: 'meter_features', maxMeter: 100, bandTypes, capabilities: 0xf, maxBands: 1, maxColor: 0 });
  const drop = 1 << OFPMBT_DROP;
  t.equal(firstDifference(meter(drop) as never, meter(drop | (1 << OFPMBT_DSCP_REMARK)) as never), undefined, 'DSCP_REMARK is out');
  t.ok(firstDifference(meter(drop) as never, meter(1 << OFPMBT_DSCP_REMARK) as never), 'a missing DROP band differs');
});
