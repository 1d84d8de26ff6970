/*
 * Flow text, both ways, table-driven: Open vSwitch flow syntax parsed into a packet and that
 * packet's flow printed back as ofproto/trace's `Flow:` line; flows refused with a one-line
 * reason; matches (value, mask) printed as ovs-ofctl prints them (shorthands, masks, the VLAN
 * forms, fields a protocol cannot have left out); datapath actions as Open vSwitch lists them.
 */
import t from 'tap';
import { OFPP_LOCAL, OFPR_ACTION, OFPR_NO_MATCH, oxmValueBytes } from '../../protocol/index.ts';
import { matchToMaskedKey } from '../../lib/classifier/index.ts';
import type { DpAction } from '../../lib/datapath/index.ts';
import { NW_TTL_OFFSET } from '../../lib/packet/index.ts';
import { formatDpActions, formatFlow, formatMatch, parseTraceFlow, traceFlowKey } from '../../lib/unixctl/index.ts';

const Z = 'dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00';

function flowLine(flow: string, packet?: string): string {
  return formatFlow(traceFlowKey(parseTraceFlow(flow, packet, (name) => (name === 'p1' ? 1 : undefined))));
}

t.test('flow syntax to packet and back', async (t) => {
  const rows: Array<[string, string]> = [
    ['in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80',
      `tcp,in_port=1,vlan_tci=0x0000,${Z},nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst=80`],
    ['in_port=2,udp,udp_src=5,udp_dst=53,nw_tos=32,nw_ecn=1,nw_ttl=3',
      `udp,in_port=2,vlan_tci=0x0000,${Z},nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=32,nw_ecn=1,nw_ttl=3,nw_frag=no,tp_src=5,tp_dst=53`],
    ['in_port=1,dl_src=0:1:2:3:4:AB,dl_dst=ff:ff:ff:ff:ff:ff',
      'in_port=1,vlan_tci=0x0000,dl_src=00:01:02:03:04:ab,dl_dst=ff:ff:ff:ff:ff:ff,dl_type=0x05ff'],
    ['in_port=1,dl_type=0x88cc', `in_port=1,vlan_tci=0x0000,${Z},dl_type=0x88cc`],
    ['in_port=LOCAL,icmp,icmp_type=8,icmp_code=0,dl_vlan=10,dl_vlan_pcp=5',
      `icmp,in_port=LOCAL,dl_vlan=10,dl_vlan_pcp=5,${Z},nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0`],
    ['in_port=p1,vlan_tci=0x7005,ip,ip_proto=89,ip_dscp=46',
      `ip,in_port=1,dl_vlan=5,dl_vlan_pcp=3,${Z},nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_proto=89,nw_tos=184,nw_ecn=0,nw_ttl=64,nw_frag=no`],
    ['in_port=1,arp,arp_op=2,nw_src=10.0.0.1,arp_tpa=10.0.0.2,arp_sha=00:00:00:00:00:05',
      `arp,in_port=1,vlan_tci=0x0000,${Z},arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=2,arp_sha=00:00:00:00:00:05,arp_tha=00:00:00:00:00:00`],
    ['in_port=1,tcp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,ipv6_label=0x12345,tcp_dst=443',
      `tcp6,in_port=1,vlan_tci=0x0000,${Z},ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,ipv6_label=0x12345,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=443`],
    ['in_port=1,icmp6,icmp_type=136,nd_target=fe80::1,nd_tll=00:00:00:00:00:07',
      `icmp6,in_port=1,vlan_tci=0x0000,${Z},ipv6_src=::,ipv6_dst=::,ipv6_label=0x0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=136,icmp_code=0,nd_target=fe80::1,nd_tll=00:00:00:00:00:07`],
    ['in_port=1,sctp,tp_dst=9', `sctp,in_port=1,vlan_tci=0x0000,${Z},nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=0,tp_dst=9`],
    ['in_port=1,mpls,mpls_label=100,mpls_tc=2,mpls_ttl=9', `mpls,in_port=1,vlan_tci=0x0000,${Z},mpls_label=100,mpls_tc=2,mpls_ttl=9,mpls_bos=1`],
    ['in_port=1,metadata=0x5,tun_id=0x9', `tun_id=0x9,metadata=0x5,in_port=1,vlan_tci=0x0000,${Z},dl_type=0x05ff`],
  ];
  for (const [flow, line] of rows) t.equal(flowLine(flow), line, flow);

  const f = parseTraceFlow('in_port=1,metadata=0x5,tun_id=0x9', undefined);
  t.same([f.inPort, f.metadata, f.tunnelId], [1, 5n, 9n], 'the pipeline fields come with the flow');
  t.equal(flowLine('in_port=3', '50540000000a5054000000090800450000140000000040fd0000c0a80001c0a80002'),
    'ip,in_port=3,vlan_tci=0x0000,dl_src=50:54:00:00:00:09,dl_dst=50:54:00:00:00:0a,nw_src=192.168.0.1,nw_dst=192.168.0.2,nw_proto=253,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no',
    'a hex packet is traced as it is');
});

t.test('flows refused', async (t) => {
  const rows: Array<[string, string | undefined, RegExp]> = [
    ['in_port=1,foo=3', undefined, /^unknown field foo$/],
    ['in_port=1,nw_src=1.2.3.4', undefined, /^prerequisites not met for setting nw_src$/],
    ['in_port=1,ip,tp_dst=80', undefined, /^prerequisites not met for setting tp_dst$/],
    ['in_port=1,udp,tcp_dst=80', undefined, /^prerequisites not met for setting tcp_dst$/],
    ['in_port=1,arp,icmp_type=3', undefined, /^prerequisites not met for setting icmp_type$/],
    ['in_port=1,icmp6,icmp_type=135,nd_tll=00:00:00:00:00:01', undefined, /^prerequisites not met for setting nd_tll$/],
    ['in_port=1,tcp,udp', undefined, /^udp conflicts with an earlier nw_proto=6$/],
    ['in_port=1,dl_vlan=4096', undefined, /^dl_vlan: "4096" is not a number from 0 to 4095$/],
    ['in_port=1,ip,nw_tos=2', undefined, /not a multiple of 4/],
    ['in_port=1,dl_src=00:00:00:00:00', undefined, /^dl_src: .* is not an Ethernet address$/],
    ['in_port=1,ip,nw_dst=10.0.0.0/8', undefined, /exact values, not masks/],
    ['in_port=p9', undefined, /^in_port: unknown port "p9"$/],
    ['in_port=1,tcp', '000000000001', /with a packet, the flow gives only in_port, metadata and tun_id/],
    ['in_port=1', '0011zz', /is not hex bytes$/],
    ['in_port=1', '000000000001', /shorter than an Ethernet header/],
  ];
  for (const [flow, packet, error] of rows) {
    t.throws(() => parseTraceFlow(flow, packet), { message: error }, `${flow}${packet ? ` ${packet}` : ''}`);
  }
});

function masked(match: Parameters<typeof matchToMaskedKey>[0], extra?: (mask: Uint8Array, value: Uint8Array) => void): string {
  const { value, mask } = matchToMaskedKey(match);
  extra?.(mask, value);
  return formatMatch(value, mask);
}

t.test('matches as ovs-ofctl prints them', async (t) => {
  t.equal(masked([]), '', 'match everything');
  t.equal(masked([{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }]),
    'tcp,in_port=1,tp_dst=80', 'protocol shorthand');
  t.equal(masked([{ field: 'eth_type', value: 0x86dd }, { field: 'ip_proto', value: 99 }]), 'ipv6,nw_proto=99', 'a protocol without a shorthand');
  t.equal(masked([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.1.0.0', mask: '255.255.0.0' }]),
    'ip,nw_dst=10.1.0.0/16', 'a prefix mask');
  t.equal(masked([{ field: 'eth_dst', value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' }]),
    'dl_dst=01:00:00:00:00:00/01:00:00:00:00:00', 'a MAC mask');
  t.equal(masked([{ field: 'vlan_vid', value: 0x1000 | 7 }]), 'dl_vlan=7', 'a VLAN');
  t.equal(masked([{ field: 'vlan_vid', value: 0 }]), 'vlan_tci=0x0000/0x1fff', 'no VLAN tag');
  t.equal(masked([{ field: 'vlan_vid', value: 0x1000, mask: 0x1000 }]), 'vlan_tci=0x1000/0x1000', 'any VLAN tag');
  t.equal(masked([{ field: 'metadata', value: 0x10n, mask: 0xf0n }]), 'metadata=0x10/0xf0', 'masked metadata');
  t.equal(masked([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_dscp', value: 46 }]), 'ip,nw_tos=184', 'DSCP as nw_tos');
  t.equal(masked([{ field: 'in_port', value: OFPP_LOCAL }]), 'in_port=LOCAL', 'LOCAL');
  // A megaflow's mask: whole bytes, TTL, and fields of other protocols from the subtables looked at.
  t.equal(masked([{ field: 'in_port', value: 2 }, { field: 'vlan_vid', value: 0 }], (mask) => { mask.set([0xff, 0xff], 0); mask[NW_TTL_OFFSET] = 0xff; }),
    'in_port=2,vlan_tci=0x0000/0x1fff,nw_ttl=0', 'bits beyond a field\'s width are ignored; the TTL byte is nw_ttl');
  t.equal(masked([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 1 }, { field: 'tcp_dst', value: 0 }]),
    'icmp', 'a TCP port in an ICMP megaflow is no condition');
  t.equal(masked([{ field: 'eth_type', value: 0x0800 }, { field: 'tcp_dst', value: 0 }]),
    'ip,tcp_dst=0', 'where the protocol is open, the field keeps its own name');
});

t.test('datapath actions', async (t) => {
  const packetIn = { maxLen: 65535, tableId: 0, cookie: 0n, metadata: 0n, tunnelId: 0n };
  const rows: Array<[DpAction[], string]> = [
    [[], 'drop'],
    [[{ type: 'output', port: 2 }], '2'],
    [[{ type: 'set_field', field: 'eth_dst', value: oxmValueBytes('eth_dst', '00:00:00:00:00:99') }, { type: 'output', port: 2 }],
      'set(eth(dst=00:00:00:00:00:99)),2'],
    [[{ type: 'set_field', field: 'vlan_vid', value: oxmValueBytes('vlan_vid', 0x1000 | 10) }, { type: 'output', port: OFPP_LOCAL }],
      'set(vlan(vid=10)),LOCAL'],
    [[{ type: 'push_vlan', ethertype: 0x8100 }, { type: 'dec_nw_ttl' }, { type: 'pop_mpls', ethertype: 0x0800 }],
      'push_vlan(tpid=0x8100),dec_ttl,pop_mpls(eth_type=0x0800)'],
    [[{ type: 'controller', packetIn: { ...packetIn, reason: OFPR_NO_MATCH } }], 'userspace(controller(reason=no_match,table=0,cookie=0x0,max_len=65535))'],
    [[{ type: 'controller', packetIn: { ...packetIn, reason: OFPR_ACTION, tableId: 3, cookie: 0x5n, maxLen: 128 } }],
      'userspace(controller(reason=action,table=3,cookie=0x5,max_len=128))'],
    [[{ type: 'learn', mac: '00:00:00:00:00:01', vlan: 0, port: 1 }, { type: 'output', port: 3 }], '3'],
    [[{ type: 'clone', actions: [{ type: 'output', port: 3 }] }, { type: 'clone', actions: [{ type: 'set_field', field: 'ipv4_dst', value: oxmValueBytes('ipv4_dst', '10.0.0.9') }, { type: 'output', port: 4 }] }],
      '3,clone(set(ipv4(dst=10.0.0.9)),4)'],
    [[{ type: 'meter', meterId: 1 }, { type: 'output', port: 1 }], 'meter(1),1'],
  ];
  for (const [actions, text] of rows) t.equal(formatDpActions(actions), text, text);
});
