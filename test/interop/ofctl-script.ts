/*
 * The command script of the differential test (differential-ofctl.test.ts): real
 * `ovs-ofctl -O OpenFlow13` commands, run in this order against Open vSwitch 3.1 and against
 * ofswitchd, each switch started with datapath id 1 and ports p1..p4 numbered 1..4.
 *
 * Each entry is one ovs-ofctl invocation. `TARGET` in `args` becomes the switch
 * (`unix:<rundir>/br0.mgmt`); `FILE` becomes a temporary file holding `file` (what
 * add-flows, replace-flows and diff-flows read); `stdin` is piped in (`add-flows TARGET -`).
 *
 * `expectFail` marks a command meant to fail: on Open vSwitch it exits non-zero or prints an
 * OpenFlow error (ovs-ofctl exits 0 after printing the error of a statistics request). Every
 * other command must succeed cleanly on Open vSwitch; the test checks both, so that a typo
 * here cannot pass for a difference. `clientSide` marks a failure that ovs-ofctl itself
 * reports before sending anything: the same on both switches, kept because the switch must not
 * be reached (and to document what ovs-ofctl refuses).
 *
 * The script is stateful: later dumps see earlier mutations, and dumps are interleaved with
 * mutations so that the two switches' states are compared often. Where ofswitch deliberately
 * differs (see DELIBERATE_DIFFERENCES in the test), the next command brings both switches
 * back to the same state. Nothing here sends traffic: packet and byte counters stay 0.
 *
 * Observations on Open vSwitch 3.1 that the script relies on are noted next to the commands.
 */

export interface OfctlCommand {
  /** ovs-ofctl arguments after `-O OpenFlow13`. */
  args: string[];
  /** Contents of the file that `FILE` in `args` names. */
  file?: string;
  /** Piped to ovs-ofctl's standard input. */
  stdin?: string;
  /** Meant to fail on Open vSwitch (non-zero exit or an OpenFlow error printed). */
  expectFail?: boolean;
  /** Refused by ovs-ofctl before it talks to the switch. */
  clientSide?: boolean;
  note?: string;
}

export const TARGET = 'TARGET';
export const FILE = 'FILE';
const T = TARGET;

/** The text that names a command in reports and in DELIBERATE_DIFFERENCES: its arguments. */
export function commandText(command: OfctlCommand): string {
  return command.args.map((a) => (/[\s"'()]/.test(a) ? `'${a}'` : a)).join(' ');
}

const add = (flow: string, extra: Partial<OfctlCommand> = {}): OfctlCommand => ({ args: ['add-flow', T, flow], ...extra });
const dumpFlows = (...filter: string[]): OfctlCommand => ({ args: ['dump-flows', T, ...filter] });
const DUMP_FLOWS = dumpFlows();
const DUMP_GROUPS: OfctlCommand = { args: ['dump-groups', T] };
const DUMP_METERS: OfctlCommand = { args: ['dump-meters', T] };

export const OFCTL_SCRIPT: OfctlCommand[] = [
  // ---- 1. A fresh switch: what it says about itself, and empty tables. ----
  { args: ['show', T] },
  { args: ['dump-desc', T] },
  { args: ['dump-ports-desc', T] },
  { args: ['dump-ports', T] },
  { args: ['dump-ports', T, '2'] },
  { args: ['dump-ports', T, 'LOCAL'] },
  { args: ['dump-ports', T, '9'], note: 'an unknown port: OVS replies with 0 ports, no error' },
  { args: ['dump-tables', T] },
  { args: ['dump-table-features', T] },
  DUMP_FLOWS,
  { args: ['dump-aggregate', T] },
  DUMP_GROUPS,
  { args: ['dump-group-stats', T] },
  { args: ['dump-group-features', T] },
  DUMP_METERS,
  { args: ['meter-stats', T] },
  { args: ['meter-features', T] },
  { args: ['queue-stats', T] },
  { args: ['queue-stats', T, '1', '0'] },
  { args: ['queue-stats', T, '1', '5'], expectFail: true, note: 'OFPQOFC_BAD_QUEUE, printed; ovs-ofctl exits 0' },
  { args: ['queue-get-config', T] },
  { args: ['queue-get-config', T, '1'] },
  { args: ['queue-get-config', T, '9'], expectFail: true, note: 'OFPQOFC_BAD_PORT, printed; ovs-ofctl exits 0' },
  { args: ['get-frags', T] },
  { args: ['set-frags', T, 'drop'] },
  { args: ['get-frags', T] },
  { args: ['set-frags', T, 'reassemble'], expectFail: true, note: 'OVS keeps "normal"; ovs-ofctl reads the config back and complains' },
  { args: ['set-frags', T, 'normal'] },
  { args: ['probe', T] },

  // ---- 2. add-flow: match fields (OpenFlow-basic OXM), priorities, cookies. ----
  add('priority=100,in_port=1,actions=output:2'),
  add('priority=100,in_port=2,actions=output:1'),
  add('priority=110,cookie=0x1,in_port=3,dl_src=00:00:00:00:00:01,actions=output:4'),
  add('priority=120,cookie=0x2,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop'),
  add('priority=130,cookie=0x3,dl_type=0x88cc,actions=drop'),
  add('priority=140,cookie=0x10,dl_vlan=10,dl_vlan_pcp=3,actions=pop_vlan,output:3'),
  add('priority=140,cookie=0x11,vlan_tci=0x1000/0x1000,actions=drop', { note: 'any VLAN: vlan_vid=0x1000/0x1000' }),
  add('priority=140,cookie=0x12,vlan_tci=0/0x1fff,actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:4', { note: 'no VLAN: vlan_vid=0' }),
  add('priority=150,cookie=0x20,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,actions=dec_ttl,output:2'),
  add('priority=150,cookie=0x21,ip,ip_dscp=46,ip_ecn=1,actions=set_field:10->ip_dscp,mod_nw_ecn:2,output:1', { note: 'printed back as nw_tos=184,nw_ecn=1' }),
  add('priority=150,cookie=0x22,tcp,tp_src=1024,tp_dst=80,actions=set_field:8080->tcp_dst,output:3'),
  add('priority=150,cookie=0x23,tcp,tp_dst=0x1000/0xf000,actions=drop', { note: 'masked transport port (OVS accepts the mask)' }),
  add('priority=150,cookie=0x24,udp,udp_src=53,actions=set_field:99->udp_src,output:1'),
  add('priority=150,cookie=0x25,sctp,sctp_src=1,sctp_dst=2,actions=drop'),
  add('priority=150,cookie=0x26,icmp,icmp_type=8,icmp_code=0,actions=output:controller'),
  add('priority=150,cookie=0x27,ip,actions=set_field:10.0.0.1->ip_src,mod_nw_dst:10.0.0.2,mod_nw_ttl:9,output:1'),
  DUMP_FLOWS,
  add('priority=160,cookie=0x30,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00/ff:00:00:00:00:00,actions=drop'),
  add('priority=160,cookie=0x31,arp,actions=set_field:2->arp_op,set_field:10.1.1.1->arp_spa,output:1'),
  add('priority=170,cookie=0x40,ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1,ipv6_label=0x12345,actions=drop'),
  add('priority=170,cookie=0x41,ipv6,ipv6_label=0x12345/0xff,actions=set_field:2001:db8::5->ipv6_dst,set_field:0x1->ipv6_label,output:1', { note: 'printed back as 0x00045/0x000ff' }),
  add('priority=170,cookie=0x42,icmp6,icmpv6_type=135,nd_target=2001:db8::1,nd_sll=00:11:22:33:44:55,actions=drop'),
  add('priority=170,cookie=0x43,icmp6,icmpv6_type=136,nd_target=2001:db8::/64,nd_tll=00:11:22:33:44:66,actions=drop'),
  add('priority=180,cookie=0x50,mpls,mpls_label=100,mpls_tc=3,mpls_bos=1,actions=pop_mpls:0x0800,output:2'),
  add('priority=180,cookie=0x51,mpls,actions=dec_mpls_ttl,set_mpls_ttl:5,output:1'),
  add('priority=180,cookie=0x52,ip,nw_proto=17,actions=push_mpls:0x8847,set_field:10->mpls_label,output:2'),
  add('priority=190,cookie=0x60,tun_id=0x5,actions=drop'),
  add('priority=190,cookie=0x61,tun_id=0x500/0xff00,actions=set_queue:3,output:1'),
  add('priority=200,cookie=0x70,in_port=LOCAL,actions=output:1'),
  add('priority=200,cookie=0x71,in_port=4,actions=output:in_port,output:all,flood,local,normal'),
  add('priority=200,cookie=0x72,in_port=1,dl_vlan=5,actions=mod_dl_src:00:00:00:00:00:09,mod_dl_dst:00:00:00:00:00:08,output:4'),
  add('priority=0,actions=controller:128', { note: 'a table-miss flow' }),
  add('actions=output:9', { note: 'OVS accepts output to a port that does not exist (yet): no OFPBAC_BAD_OUT_PORT' }),
  DUMP_FLOWS,
  { args: ['dump-aggregate', T] },
  { args: ['dump-tables', T] },
  dumpFlows('cookie=0x20/0xf0'),
  dumpFlows('cookie=0x1/-1'),
  dumpFlows('out_port=1'),
  dumpFlows('ip'),
  dumpFlows('tcp,tp_dst=80'),
  dumpFlows('in_port=1'),
  { args: ['--no-stats', 'dump-flows', T, 'ipv6'] },
  { args: ['dump-aggregate', T, 'ipv6'] },

  // ---- 3. Identical flows replace; flags; timeouts; check_overlap. ----
  add('priority=100,in_port=1,actions=output:3', { note: 'same match and priority: replaces the flow' }),
  add('priority=300,cookie=0x80,send_flow_rem,idle_timeout=300,hard_timeout=600,in_port=2,dl_type=0x0800,actions=output:4'),
  add('priority=300,cookie=0x81,reset_counts,no_packet_counts,no_byte_counts,in_port=3,dl_type=0x0800,actions=drop'),
  add('priority=310,cookie=0x82,check_overlap,ip,nw_dst=10.1.0.0/16,actions=drop'),
  add('priority=310,cookie=0x83,check_overlap,ip,nw_dst=10.1.2.0/24,actions=drop', { expectFail: true, note: 'OFPFMFC_OVERLAP: a packet may match both, same priority' }),
  add('priority=311,cookie=0x83,check_overlap,ip,nw_dst=10.1.2.0/24,actions=drop', { note: 'another priority: no overlap' }),
  add('priority=310,cookie=0x84,check_overlap,ip,nw_dst=10.2.0.0/16,actions=drop', { note: 'disjoint: no overlap' }),
  add('priority=310,cookie=0x85,check_overlap,ip,nw_dst=10.1.0.0/16,actions=output:1', { note: 'OVS: an identical flow is not an overlap; it is replaced' }),
  dumpFlows('ip,nw_dst=10.1.0.0/16'),
  // Back to the same state on both switches whatever the answer above was.
  { args: ['--strict', 'del-flows', T, 'priority=310,ip,nw_dst=10.1.0.0/16'] },
  add('priority=310,cookie=0x85,ip,nw_dst=10.1.0.0/16,actions=output:1'),
  add('priority=310,cookie=0x86,check_overlap,tcp,actions=drop', { expectFail: true, note: 'OFPFMFC_OVERLAP with 10.1.0.0/16 and 10.2.0.0/16' }),
  DUMP_FLOWS,
  dumpFlows('cookie=0x80/0xf0'),

  // ---- 4. More tables: goto_table, metadata, write/clear actions, table names. ----
  add('table=0,priority=400,cookie=0x90,in_port=3,dl_type=0x86dd,actions=write_metadata:0x5/0xff,goto_table:1'),
  add('table=1,priority=10,cookie=0x91,metadata=0x5/0xff,actions=clear_actions,write_actions(output:2),goto_table:2'),
  add('table=2,priority=10,cookie=0x92,actions=write_actions(set_field:00:00:00:00:00:07->eth_dst,output:3)'),
  add('table=2,priority=20,cookie=0x93,ip,actions=apply_actions(dec_ttl),write_actions(group:1)', { expectFail: true, note: 'group 1 does not exist yet: OFPBAC_BAD_OUT_GROUP' }),
  add('table=2,priority=20,cookie=0x93,ip,actions=meter:1,output:1', { expectFail: true, note: 'meter 1 does not exist yet: OFPMMFC_INVALID_METER' }),
  add('table=100,priority=5,cookie=0x94,actions=goto_table:200'),
  add('table=200,priority=5,cookie=0x95,actions=drop'),
  add('table=252,priority=5,cookie=0x96,actions=goto_table:253'),
  add('table=253,priority=5,cookie=0x97,actions=goto_table:254', { note: 'OVS accepts a goto into its hidden table 254 (it has 255 tables, shows 254)' }),
  add('table=254,actions=drop', { expectFail: true, note: 'OVS: OFPBRC_EPERM (table 254 is its hidden internal table)' }),
  add('table=3,priority=5,actions=goto_table:1', { expectFail: true, clientSide: true, note: 'goto_table backwards' }),
  add('table=0,actions=goto_table:0', { expectFail: true, clientSide: true }),
  add('table=5,priority=1,cookie=0x98,in_port=1,tcp,actions=output:2'),
  add('table=5,priority=1,cookie=0x99,in_port=2,tcp,actions=output:1'),
  DUMP_FLOWS,
  dumpFlows('table=1'),
  dumpFlows('table=5'),
  dumpFlows('table=253'),
  { args: ['del-flows', T, 'table=253'], note: 'back to the same state whatever the goto_table:254 above gave' },
  { args: ['dump-aggregate', T, 'table=5'] },
  { args: ['dump-tables', T] },
  { args: ['mod-table', T, '1', 'name:classifier'], note: 'in OpenFlow 1.3, ovs-ofctl reads the table features and writes them back with the new name' },
  { args: ['mod-table', T, '0', 'evict'], expectFail: true, clientSide: true, note: 'needs OpenFlow 1.4' },
  { args: ['mod-table', T, '0', 'drop'], expectFail: true, clientSide: true, note: 'OpenFlow 1.1/1.2 only' },
  { args: ['dump-table-features', T] },

  // ---- 5. mod-flows: loose and strict, cookie filters, tables. ----
  { args: ['mod-flows', T, 'in_port=2,actions=output:3'], note: 'every flow with in_port=2 (and more fields), any priority' },
  DUMP_FLOWS,
  { args: ['--strict', 'mod-flows', T, 'priority=100,in_port=1,actions=output:4'] },
  { args: ['--strict', 'mod-flows', T, 'priority=101,in_port=1,actions=output:4'], note: 'no such flow: OF1.3 modify adds nothing' },
  { args: ['mod-flows', T, 'cookie=0x20/0xf0,actions=output:4'] },
  { args: ['mod-flows', T, 'cookie=0x1/-1,actions=output:1'] },
  { args: ['mod-flows', T, 'cookie=0x999/-1,actions=output:1'], note: 'no flow has this cookie' },
  { args: ['mod-flows', T, 'table=5,tcp,actions=drop'] },
  { args: ['mod-flows', T, 'in_port=3,send_flow_rem,actions=output:2'], note: 'OVS keeps the old flags on modify' },
  { args: ['mod-flows', T, 'cookie=0x81/-1,reset_counts,actions=output:1'] },
  { args: ['--strict', 'mod-flows', T, 'table=5,priority=1,in_port=1,tcp,actions=output:3'] },
  DUMP_FLOWS,

  // ---- 6. del-flows: by match, strict, out_port, cookie/mask, table. ----
  { args: ['del-flows', T, 'tun_id=0x5'], note: 'loose: deletes the tun_id=0x5 flow, not the masked one' },
  { args: ['--strict', 'del-flows', T, 'priority=101,in_port=1'], note: 'nothing matches strictly' },
  { args: ['--strict', 'del-flows', T, 'priority=100,in_port=2'] },
  { args: ['del-flows', T, 'out_port=4'] },
  DUMP_FLOWS,
  { args: ['del-flows', T, 'cookie=0x40/0xf0'] },
  { args: ['del-flows', T, 'cookie=0x7'], expectFail: true, clientSide: true, note: 'a cookie without a mask is refused' },
  { args: ['del-flows', T, 'table=5'] },
  { args: ['del-flows', T, 'table=254'], expectFail: true, note: 'OVS: OFPBRC_EPERM' },
  { args: ['--strict', 'del-flows', T, 'table=2,priority=10'] },
  { args: ['del-flows', T, 'ip,nw_dst=10.1.0.0/16'], note: 'loose: also the 10.1.2.0/24 flow' },
  DUMP_FLOWS,
  { args: ['dump-aggregate', T] },

  // ---- 7. Files, stdin, bundles (atomic), replace-flows, diff-flows. ----
  {
    args: ['add-flows', T, FILE],
    file: '# a comment, then a blank line\n\npriority=500,in_port=1,udp,actions=output:2\ntable=7,priority=501,in_port=2,actions=output:1\n'
      + 'priority=502,cookie=0xa0,in_port=3,udp,tp_dst=4789,actions=drop\n',
  },
  {
    args: ['add-flows', T, '-'],
    stdin: 'priority=510,cookie=0xa1,in_port=4,udp,actions=output:1\npriority=511,cookie=0xa2,in_port=4,tcp,actions=output:2\n',
  },
  {
    args: ['add-flows', T, FILE],
    file: 'priority=520,cookie=0xa3,in_port=1,icmp,actions=output:3\npriority=521,cookie=0xa4,in_port=1,icmp,actions=group:99\npriority=522,cookie=0xa5,in_port=2,icmp,actions=output:3\n',
    expectFail: true,
    note: 'not a bundle: the first flow is added, the second fails (OFPBAC_BAD_OUT_GROUP) and ovs-ofctl stops',
  },
  DUMP_FLOWS,
  {
    args: ['--bundle', 'add-flows', T, FILE],
    file: 'priority=530,cookie=0xb0,in_port=1,arp,actions=output:2\ntable=8,priority=531,cookie=0xb1,arp,actions=output:1\n',
  },
  {
    args: ['--bundle', 'add-flows', T, FILE],
    file: 'priority=540,cookie=0xb2,in_port=2,arp,actions=output:3\npriority=541,cookie=0xb3,in_port=3,arp,actions=group:98\npriority=542,cookie=0xb4,in_port=4,arp,actions=output:1\n',
    expectFail: true,
    note: 'atomic: OFPBAC_BAD_OUT_GROUP for the second flow, then OFPBFC_MSG_FAILED for the commit; nothing is added',
  },
  {
    args: ['--bundle', 'add-flows', T, FILE],
    file: 'priority=550,cookie=0xb5,in_port=2,arp,actions=output:3\ntable=254,priority=551,cookie=0xb6,arp,actions=drop\n',
    expectFail: true,
    note: 'OVS refuses the table-254 flow already at BUNDLE_ADD (OFPBRC_EPERM) and ovs-ofctl then gives up: no commit error',
  },
  DUMP_FLOWS,
  {
    args: ['--bundle', 'add-flows', T, FILE],
    file: 'add priority=560,cookie=0xb7,in_port=1,sctp,actions=output:2\nmodify cookie=0xb0/-1,actions=output:4\ndelete table=8\n'
      + 'delete_strict priority=500,in_port=1,udp\n',
    note: 'add, modify, delete and delete_strict in one atomic bundle',
  },
  DUMP_FLOWS,
  {
    args: ['diff-flows', T, FILE],
    file: 'priority=560,cookie=0xb7,in_port=1,sctp,actions=output:2\npriority=999,in_port=1,actions=drop\n',
    expectFail: true,
    note: 'prints the differences and exits 2',
  },
  {
    args: ['--bundle', 'replace-flows', T, FILE],
    file: 'priority=600,cookie=0xc0,in_port=1,actions=output:2\npriority=601,cookie=0xc1,in_port=2,actions=output:1\ntable=9,priority=602,cookie=0xc2,ip,actions=drop\n'
      + 'priority=0,actions=controller:128\n',
    note: 'replace every flow: ovs-ofctl dumps the flows, then sends the difference in one bundle',
  },
  DUMP_FLOWS,
  {
    args: ['replace-flows', T, FILE],
    file: 'priority=600,cookie=0xc0,in_port=1,actions=output:3\npriority=601,cookie=0xc1,in_port=2,actions=output:1\npriority=0,actions=controller:128\n',
  },
  DUMP_FLOWS,
  {
    args: ['diff-flows', T, FILE],
    file: 'priority=600,cookie=0xc0,in_port=1,actions=output:3\npriority=601,cookie=0xc1,in_port=2,actions=output:1\npriority=0,actions=controller:128\n',
    note: 'no difference: exits 0',
  },

  // ---- 8. Groups: all, select (weights), indirect, fast failover; chains; errors. ----
  { args: ['add-group', T, 'group_id=1,type=all,bucket=output:1,bucket=output:2'] },
  { args: ['add-group', T, 'group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2'] },
  { args: ['add-group', T, 'group_id=3,type=indirect,bucket=output:3'] },
  { args: ['add-group', T, 'group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2'] },
  { args: ['add-group', T, 'group_id=5,type=all,bucket=group:3,bucket=output:4'], note: 'a chain: group 5 outputs to group 3' },
  { args: ['add-group', T, 'group_id=6,type=select,bucket=output:1,bucket=output:2'], note: 'ovs-ofctl sends weight 1 when none is given' },
  { args: ['add-group', T, 'group_id=7,type=ff,bucket=watch_group:3,output:3,bucket=watch_port:4,output:4'] },
  { args: ['add-group', T, 'group_id=8,type=all'], note: 'no buckets' },
  { args: ['add-group', T, 'group_id=9,type=all,bucket=set_field:00:00:00:00:00:01->eth_dst,output:3,bucket=push_vlan:0x8100,set_field:4097->vlan_vid,output:4'] },
  { args: ['add-group', T, 'group_id=4294967040,type=indirect,bucket=output:1'], note: 'OFPG_MAX is a valid id' },
  DUMP_GROUPS,
  { args: ['dump-group-stats', T] },
  { args: ['dump-group-stats', T, 'group_id=2'] },
  { args: ['dump-group-stats', T, 'group_id=999'], note: 'an unknown group: empty reply, no error' },
  { args: ['add-group', T, 'group_id=1,type=all,bucket=output:3'], expectFail: true, note: 'OFPGMFC_GROUP_EXISTS' },
  { args: ['add-group', T, 'group_id=all,type=all,bucket=output:1'], expectFail: true, note: 'OFPGMFC_INVALID_GROUP (OFPG_ALL)' },
  { args: ['add-group', T, 'group_id=20,type=all,bucket=watch_port:1,output:1'], expectFail: true, note: 'OFPGMFC_WATCH_UNSUPPORTED; ovs-ofctl cannot decode the echoed request and prints it in hex' },
  { args: ['del-groups', T, 'group_id=20'], note: 'back to the same state whatever the answer above was' },
  { args: ['add-group', T, 'group_id=21,type=indirect,bucket=output:1,bucket=output:2'], expectFail: true, clientSide: true },
  { args: ['add-group', T, 'group_id=22,type=ff,bucket=output:1'], expectFail: true, clientSide: true },
  { args: ['add-group', T, 'group_id=23,type=all,bucket=weight:5,output:1'], expectFail: true, clientSide: true },
  { args: ['add-group', T, 'group_id=24,type=all,bucket=group:99'], note: 'OVS does not check that a chained group exists' },
  { args: ['del-groups', T, 'group_id=24'], note: 'back to the same state whatever the answer above was' },
  { args: ['mod-group', T, 'group_id=55,type=all,bucket=output:1'], expectFail: true, note: 'OFPGMFC_UNKNOWN_GROUP' },
  { args: ['mod-group', T, 'group_id=3,type=indirect,bucket=output:2'] },
  { args: ['mod-group', T, 'group_id=6,type=select,bucket=weight:3,output:3,bucket=weight:7,output:4'] },
  { args: ['mod-group', T, 'group_id=8,type=indirect,bucket=output:1'], note: 'modify may change the type' },
  DUMP_GROUPS,
  // Deliberate differences (see the test): loops and zero weights.
  { args: ['add-group', T, 'group_id=30,type=all,bucket=output:1'] },
  { args: ['mod-group', T, 'group_id=30,type=all,bucket=group:30'], note: 'deliberate: a group that chains to itself' },
  { args: ['del-groups', T, 'group_id=30'], note: 'back to the same state on both switches' },
  { args: ['mod-group', T, 'group_id=3,type=indirect,bucket=group:5'], note: 'deliberate: 5 -> 3 -> 5 would loop' },
  { args: ['mod-group', T, 'group_id=3,type=indirect,bucket=output:2'], note: 'back to the same state on both switches' },
  { args: ['add-group', T, 'group_id=31,type=select,bucket=weight:0,output:1,bucket=weight:0,output:2'], note: 'deliberate: select buckets with weight 0' },
  { args: ['del-groups', T, 'group_id=31'], note: 'back to the same state on both switches' },
  DUMP_GROUPS,
  // Flows that use groups; out_group filters; deleting a group deletes its flows.
  add('priority=700,cookie=0xd0,in_port=1,actions=group:1'),
  add('priority=700,cookie=0xd1,in_port=2,actions=group:5'),
  add('priority=700,cookie=0xd2,in_port=3,actions=write_actions(group:3)'),
  add('priority=700,cookie=0xd3,in_port=4,actions=group:2'),
  add('priority=701,cookie=0xd4,in_port=4,actions=group:98', { expectFail: true, note: 'OFPBAC_BAD_OUT_GROUP' }),
  dumpFlows('out_group=1'),
  dumpFlows('out_group=3'),
  { args: ['dump-aggregate', T, 'out_group=5'] },
  { args: ['dump-group-stats', T], note: 'ref_count counts the flows that use a group (not the groups)' },
  { args: ['del-flows', T, 'out_group=2'] },
  { args: ['add-group', T, 'group_id=10,type=indirect,bucket=output:4'] },
  add('priority=702,cookie=0xd5,in_port=1,tcp,actions=group:10'),
  add('priority=702,cookie=0xd6,in_port=2,tcp,actions=write_actions(group:10)'),
  { args: ['del-groups', T, 'group_id=10'], note: 'deletes the two flows that use group 10' },
  DUMP_FLOWS,
  { args: ['del-groups', T, 'group_id=3'], note: 'group 5 chains to group 3: OVS deletes group 3 (and flow 0xd2 that uses it), leaving group 5 with a dangling group:3' },
  DUMP_GROUPS,
  // Back to the same state on both switches, whatever the answer above was.
  { args: ['del-groups', T, 'group_id=5'] },
  { args: ['del-groups', T, 'group_id=3'] },
  { args: ['del-groups', T, 'group_id=333'], note: 'an unknown group: OVS says nothing' },
  DUMP_FLOWS,
  DUMP_GROUPS,
  { args: ['dump-group-stats', T] },
  { args: ['dump-group-features', T] },

  // ---- 9. Meters: kbps, pktps, burst, stats, several bands; flows that use them. ----
  { args: ['add-meter', T, 'meter=1,kbps,band=type=drop,rate=1000'] },
  { args: ['add-meter', T, 'meter=2,pktps,burst,stats,band=type=drop,rate=100,burst_size=50'] },
  { args: ['add-meter', T, 'meter=3,kbps,burst,band=type=drop,rate=1000,burst_size=200'] },
  { args: ['add-meter', T, 'meter=4,kbps,stats,band=type=drop,rate=2000,type=drop,rate=500'], note: 'bands are kept in the order given' },
  { args: ['add-meter', T, 'meter=65536,pktps,band=type=drop,rate=7'] },
  DUMP_METERS,
  { args: ['dump-meter', T, 'meter=2'] },
  { args: ['dump-meter', T, 'meter=999'], expectFail: true, note: 'OFPMMFC_UNKNOWN_METER, printed; ovs-ofctl exits 0' },
  { args: ['meter-stats', T] },
  { args: ['meter-stats', T, 'meter=3'] },
  { args: ['meter-stats', T, 'meter=999'], expectFail: true, note: 'OFPMMFC_UNKNOWN_METER, printed; ovs-ofctl exits 0' },
  { args: ['add-meter', T, 'meter=1,kbps,band=type=drop,rate=1000'], expectFail: true, note: 'OFPMMFC_METER_EXISTS' },
  { args: ['add-meter', T, 'meter=7,kbps,pktps,band=type=drop,rate=10'], expectFail: true, note: 'OFPMMFC_BAD_FLAGS' },
  { args: ['add-meter', T, 'meter=0,kbps,band=type=drop,rate=10'], expectFail: true, clientSide: true },
  { args: ['add-meter', T, 'meter=8,kbps,band=type=drop,rate=0'], expectFail: true, clientSide: true },
  { args: ['add-meter', T, 'meter=9,kbps,burst,band=type=drop,rate=10'], expectFail: true, clientSide: true },
  { args: ['mod-meter', T, 'meter=1,pktps,stats,band=type=drop,rate=5'] },
  { args: ['mod-meter', T, 'meter=99,pktps,band=type=drop,rate=5'], expectFail: true, note: 'OFPMMFC_UNKNOWN_METER' },
  // Deliberate difference (see the test): DSCP_REMARK bands.
  { args: ['add-meter', T, 'meter=40,kbps,band=type=dscp_remark,rate=1000,prec_level=1'], note: 'deliberate: OVS userspace refuses DSCP_REMARK' },
  { args: ['dump-meter', T, 'meter=40'], note: 'deliberate: follows from the add' },
  { args: ['del-meter', T, 'meter=40'], note: 'back to the same state on both switches' },
  add('priority=800,cookie=0xe0,in_port=1,ip,actions=meter:1,output:2'),
  add('priority=800,cookie=0xe1,in_port=2,ip,actions=meter:1,output:1'),
  add('priority=800,cookie=0xe2,in_port=3,ip,actions=meter:2,write_actions(output:4)'),
  add('priority=800,cookie=0xe3,in_port=4,ip,actions=meter:77,output:1', { expectFail: true, note: 'OFPMMFC_INVALID_METER' }),
  { args: ['meter-stats', T], note: 'flow_count counts the flows that use each meter' },
  DUMP_METERS,
  { args: ['del-meter', T, 'meter=2'], note: 'deletes the flow that uses meter 2' },
  { args: ['del-meter', T, 'meter=333'], note: 'an unknown meter: OVS says nothing' },
  DUMP_FLOWS,
  DUMP_METERS,
  { args: ['meter-features', T] },

  // ---- 10. Ports: mod-port and what the descriptions and statistics say. ----
  { args: ['mod-port', T, 'p2', 'down'] },
  { args: ['mod-port', T, '3', 'no-receive'] },
  { args: ['mod-port', T, '3', 'no-forward'] },
  { args: ['mod-port', T, '3', 'no-packet-in'] },
  { args: ['mod-port', T, 'p4', 'no-flood'] },
  { args: ['dump-ports-desc', T] },
  { args: ['show', T] },
  { args: ['mod-port', T, '2', 'up'] },
  { args: ['mod-port', T, '3', 'receive'] },
  { args: ['mod-port', T, '3', 'forward'] },
  { args: ['mod-port', T, '3', 'packet-in'] },
  { args: ['mod-port', T, '4', 'flood'] },
  { args: ['mod-port', T, '9', 'up'], expectFail: true, clientSide: true, note: 'ovs-ofctl looks the port up in the port descriptions first' },
  { args: ['mod-port', T, 'LOCAL', 'down'], expectFail: true, clientSide: true, note: 'ovs-ofctl finds LOCAL only by its name, br0' },
  { args: ['dump-ports-desc', T] },
  { args: ['dump-ports', T, '3'] },
  { args: ['queue-stats', T, '2'] },

  // ---- 11. More failures that both switches must refuse. ----
  add('actions=output:65280', { expectFail: true, clientSide: true, note: 'OFPBAC_BAD_OUT_PORT, found by ovs-ofctl' }),
  add('actions=set_field:80->tcp_dst', { expectFail: true, clientSide: true, note: 'missing prerequisites' }),
  add('ip,actions=set_field:0x86dd->eth_type', { expectFail: true, clientSide: true, note: 'read-only for OVS; the spec case is in the raw part of the test' }),
  add('ip,actions=set_field:6->ip_proto', { expectFail: true, clientSide: true }),
  add('mpls,actions=set_field:1->mpls_bos', { expectFail: true, clientSide: true }),
  add('actions=push_pbb:0x88e7', { expectFail: true, clientSide: true, note: 'ovs-ofctl has no PBB' }),
  add('pbb_isid=5,actions=drop', { expectFail: true, clientSide: true }),
  add('actions=copy_ttl_in', { expectFail: true, clientSide: true }),
  add('ipv6,ipv6_exthdr=0x1,actions=drop', { expectFail: true, clientSide: true }),
  add('actions=write_metadata:0x1,write_metadata:0x2', { expectFail: true, clientSide: true }),
  add('actions=write_actions(output:1),apply_actions(output:2)', { expectFail: true, clientSide: true, note: 'instruction order' }),
  add('tcp,actions=meter:1,meter:1', { expectFail: true, clientSide: true }),
  add('priority=65536,actions=drop', { expectFail: true, clientSide: true }),
  add('table=1,idle_timeout=65536,actions=drop', { expectFail: true, clientSide: true }),
  DUMP_FLOWS,

  // ---- 12. Clean up: everything deleted, everything empty. ----
  { args: ['del-flows', T, 'table=0'] },
  { args: ['dump-aggregate', T] },
  { args: ['del-flows', T] },
  { args: ['del-groups', T] },
  { args: ['del-meters', T] },
  DUMP_FLOWS,
  DUMP_GROUPS,
  DUMP_METERS,
  { args: ['dump-tables', T] },
  { args: ['dump-aggregate', T] },
];
