#!/usr/bin/python3
"""An OpenFlow 1.3 message corpus produced by os-ken (Debian python3-os-ken), the oracle
for test/protocol/osken-oracle.test.ts.

Each message is built with os_ken.ofproto.ofproto_v1_3_parser and printed as one JSON object
per line:

    {"name": ..., "origin": "serialize" | "pack", "hex": ..., "header": {...}, "json": ...}

origin "serialize": os-ken's own msg.serialize() produced the bytes, and "json" is that
    message object's to_jsondict().
origin "pack": os-ken is a controller library and cannot serialize what a switch sends (see
    NOT_SERIALIZABLE below). For those messages the bytes are assembled from os-ken's own
    struct layouts (the ofproto_v1_3 *_PACK_STR strings) and from the serialize() methods
    os-ken does have for the parts (OFPMatch, instructions, actions, buckets, meter bands,
    table features, experimenter multipart bodies); os-ken's parser then reads the bytes
    back, and "json" is the parsed message's to_jsondict(). The values compared are thus
    the ones os-ken itself decodes from those bytes.

"header" holds what to_jsondict() leaves out: version, msg_type, msg_len and xid as os-ken
has them after serializing (or parsing) the message.

JSON-safety: bytes are hex strings; integers outside +-(2**53 - 1) are decimal strings (a
JavaScript number cannot hold them); tuples are lists.

Usage:
    /usr/bin/python3 test/oracles/osken_corpus.py            # the full records, on stdout
    /usr/bin/python3 test/oracles/osken_corpus.py --write fixtures/codec-corpus/osken.jsonl
        # only {"name", "hex"} per line, for the shared codec corpus

Match field order: OFPMatch(**kwargs) sorts fields by OXM number. For the 40 OpenFlow-basic
fields that happens to put every prerequisite first (each prerequisite field -- in_port,
eth_type, vlan_vid, ip_proto, icmpv6_type -- has a lower number than the fields needing it),
but we build every match with OFPMatch(_ordered_fields=[...]) anyway so that the list order is
ours and explicit: each field after its prerequisites, as our codec (like Open vSwitch) checks
them in list order. No field needed a prerequisite that os-ken could not put before it.
_ordered_fields skips os-ken's value&mask normalization, so masked values below are chosen
with no bits outside their masks.

NOT_SERIALIZABLE (os-ken has no _serialize_body for these, so serialize() would emit only
the 8-byte header, silently dropping the body; they are built with origin "pack" instead):
    OFPHello elements (OFPHello.serialize() drops them: a bare hello is serialized, a hello
        with a version bitmap is packed), OFPSwitchFeatures, OFPGetConfigReply, OFPPacketIn,
    OFPFlowRemoved, OFPPortStatus, every OFPMultipartReply subclass (OFPDescStatsReply,
    OFPFlowStatsReply, OFPAggregateStatsReply, OFPTableStatsReply, OFPPortStatsReply,
    OFPQueueStatsReply, OFPGroupStatsReply, OFPGroupDescStatsReply,
    OFPGroupFeaturesStatsReply, OFPMeterStatsReply, OFPMeterConfigStatsReply,
    OFPMeterFeaturesStatsReply, OFPTableFeaturesStatsReply, OFPPortDescStatsReply,
    OFPExperimenterStatsReply), OFPQueueGetConfigReply (and OFPQueueProp*: only their
    header has serialize()), OFPRoleReply, OFPGetAsyncReply.
Not serializable at all and therefore absent:
    OFPExperimenterOxmId.serialize() returns None (a missing `return buf`), so table
    features properties cannot list experimenter OXM ids.
    OFPInstruction has no experimenter instruction class in os-ken's OpenFlow 1.3 parser.
os-ken parser limits that shape the packed corpus:
    a hello version bitmap longer than 4 bytes needs padding, and os-ken's hello parser
        advances by the unpadded length (then loops forever on the zero padding), so packed
        hellos carry exactly one bitmap word;
    OFPExperimenterMultipart.parser sets length to 16 whatever the body is, so experimenter
        multipart replies carry at most 8 bytes of data;
    OFPPacketIn.parser cuts data to total_len, so total_len >= len(data) throughout.

OS-KEN BUGS met while building the corpus (left out of it, since the bytes are wrong):
    OFPPacketOut(actions=[], data=...) appends the data right after the 8-byte header and then
        packs the 16-byte packet-out header (buffer_id, in_port, actions_len, pad) at offset 8,
        over the first 16 bytes of the data: msg_len comes out 16 bytes short and the frame
        loses its first 16 bytes. With at least one action, or without data, it is correct.
    OFPExperimenterOxmId.serialize() returns None (see above).
"""
import json
import struct
import sys

from os_ken.lib import addrconv
from os_ken.lib import stringify
from os_ken.ofproto import ofproto_parser
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser


class DP(object):
    """The stub datapath os-ken messages need: serialize() reads only ofproto."""
    ofproto = ofp
    ofproto_parser = parser
    id = 1


def _hex_encode(b):
    return bytes(b).hex().encode('ascii')


# Nested to_jsondict() calls take the default encoder; make it hex instead of base64.
stringify.StringifyMixin.to_jsondict.__defaults__ = (_hex_encode,)

MAX_SAFE = 2 ** 53 - 1


def json_safe(v):
    if isinstance(v, dict):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, bool) or v is None or isinstance(v, float):
        return v
    if isinstance(v, int):
        return str(v) if abs(v) > MAX_SAFE else v
    if isinstance(v, str):
        return v
    if hasattr(v, 'to_jsondict'):
        return json_safe(v.to_jsondict())
    raise TypeError('not JSON-safe: %r' % (v,))


records = []
_next_xid = [0x1000]


def next_xid():
    _next_xid[0] += 7
    return _next_xid[0]


def _record(name, origin, buf, msg):
    assert all(r['name'] != name for r in records), 'duplicate name ' + name
    records.append({
        'name': name,
        'origin': origin,
        'hex': bytes(buf).hex(),
        'header': {'version': msg.version, 'msg_type': msg.msg_type, 'msg_len': msg.msg_len, 'xid': msg.xid},
        'json': json_safe(msg.to_jsondict()),
    })


def add(name, msg):
    """A message os-ken serializes itself."""
    if msg.xid is None:
        msg.set_xid(next_xid())
    msg.serialize()
    assert len(msg.buf) == msg.msg_len, name
    _record(name, 'serialize', msg.buf, msg)


def add_packed(name, msg_type, body):
    """A message assembled from os-ken's layouts, then parsed by os-ken."""
    xid = next_xid()
    buf = bytearray(struct.pack(ofp.OFP_HEADER_PACK_STR, ofp.OFP_VERSION, msg_type, ofp.OFP_HEADER_SIZE + len(body), xid))
    buf += body
    msg = ofproto_parser.msg(DP(), ofp.OFP_VERSION, msg_type, len(buf), xid, bytes(buf))
    assert msg is not None, 'os-ken could not parse ' + name
    _record(name, 'pack', buf, msg)


# ---- building blocks (os-ken serializers for the parts) ----

def match(*fields):
    return parser.OFPMatch(_ordered_fields=list(fields))


def match_bytes(m):
    buf = bytearray()
    m.serialize(buf, 0)
    return bytes(buf)


def instructions_bytes(insts):
    buf = bytearray()
    off = 0
    for i in insts:
        i.serialize(buf, off)
        off += i.len
    return bytes(buf[:off])


def buckets_bytes(buckets):
    buf = bytearray()
    off = 0
    for b in buckets:
        b.serialize(buf, off)
        off += b.len
    return bytes(buf[:off])


def bands_bytes(bands):
    buf = bytearray()
    off = 0
    for b in bands:
        b.serialize(buf, off)
        off += b.len
    return bytes(buf[:off])


def port_bytes(port_no, hw_addr, name, config, state, curr, advertised, supported, peer, curr_speed, max_speed):
    return struct.pack(ofp.OFP_PORT_PACK_STR, port_no, addrconv.mac.text_to_bin(hw_addr), name, config, state, curr,
                       advertised, supported, peer, curr_speed, max_speed)


def apply(*actions):
    return parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, list(actions))


def write(*actions):
    return parser.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS, list(actions))


def flow_mod(match_=None, instructions=None, **kw):
    return parser.OFPFlowMod(DP(), match=match_ if match_ is not None else parser.OFPMatch(),
                             instructions=instructions or [], **kw)


# ofp_table_config: os-ken's ofproto_v1_3 does not define it.
OFPTC_DEPRECATED_MASK = 3

ETH_IP = ('eth_type', 0x0800)
ETH_IPV6 = ('eth_type', 0x86dd)
ETH_ARP = ('eth_type', 0x0806)
OUT1 = apply(parser.OFPActionOutput(1))

# A TCP/IPv4 frame, used as packet data.
FRAME = bytes.fromhex(
    '0a1b2c3d4e5f' '001122334455' '0800'
    '4500002800014000400600000a0000010a000002'
    '04d20050000000010000000050022000917c0000')


def build():
    p = parser
    D = DP()

    # ---- symmetric and handshake messages ----
    add('hello/bare', p.OFPHello(D))
    add_packed('hello/versionbitmap_1_to_4', ofp.OFPT_HELLO,
               struct.pack('!HHI', ofp.OFPHET_VERSIONBITMAP, 8, 0b10010))
    add_packed('hello/versionbitmap_1.3_only', ofp.OFPT_HELLO,
               struct.pack('!HHI', ofp.OFPHET_VERSIONBITMAP, 8, 1 << 4))
    add('error/bad_request_bad_type', p.OFPErrorMsg(D, type_=ofp.OFPET_BAD_REQUEST, code=ofp.OFPBRC_BAD_TYPE,
                                                    data=bytes.fromhex('0400001000000042deadbeefcafebabe')))
    add('error/bad_match_bad_prereq', p.OFPErrorMsg(D, type_=ofp.OFPET_BAD_MATCH, code=ofp.OFPBMC_BAD_PREREQ,
                                                    data=bytes.fromhex('040e0008000000aa')))
    add('error/hello_failed_text', p.OFPErrorMsg(D, type_=ofp.OFPET_HELLO_FAILED, code=ofp.OFPHFC_INCOMPATIBLE,
                                                 data=b'no common version'))
    add('error/empty_data', p.OFPErrorMsg(D, type_=ofp.OFPET_METER_MOD_FAILED, code=ofp.OFPMMFC_UNKNOWN_METER, data=b''))
    add('error/experimenter', p.OFPErrorMsg(D, type_=ofp.OFPET_EXPERIMENTER, exp_type=0x1234,
                                            experimenter=0x00002320, data=bytes.fromhex('0102030405')))
    add('error/experimenter_no_data', p.OFPErrorExperimenterMsg(D, exp_type=7, experimenter=0x4f4e4600, data=b''))
    add('echo_request/data', p.OFPEchoRequest(D, data=b'ping \x00\x01\x02'))
    add('echo_request/empty', p.OFPEchoRequest(D))
    add('echo_reply/data', p.OFPEchoReply(D, data=bytes(range(32))))
    add('echo_reply/empty', p.OFPEchoReply(D, data=b''))
    add('experimenter/data', p.OFPExperimenter(D, experimenter=0x00abcdef, exp_type=42, data=b'\x01\x02\x03\x04\x05'))
    add('experimenter/empty', p.OFPExperimenter(D, experimenter=0x0000ffff, exp_type=0, data=b''))
    add('experimenter/bundle_control_open', p.ONFBundleCtrlMsg(D, bundle_id=7, type_=ofp.ONF_BCT_OPEN_REQUEST,
                                                              flags=ofp.ONF_BF_ATOMIC, properties=[]))
    add('experimenter/bundle_control_commit', p.ONFBundleCtrlMsg(D, bundle_id=0xfffffff0, type_=ofp.ONF_BCT_COMMIT_REQUEST,
                                                                flags=ofp.ONF_BF_ATOMIC | ofp.ONF_BF_ORDERED,
                                                                properties=[]))
    add('experimenter/bundle_add_flow_mod', p.ONFBundleAddMsg(
        D, bundle_id=7, flags=ofp.ONF_BF_ATOMIC,
        message=flow_mod(match(('in_port', 3), ETH_IP, ('ipv4_dst', '192.168.1.1')), [OUT1], priority=100),
        properties=[]))
    add('experimenter/bundle_add_group_mod', p.ONFBundleAddMsg(
        D, bundle_id=8, flags=0,
        message=p.OFPGroupMod(D, ofp.OFPGC_ADD, ofp.OFPGT_INDIRECT, 5,
                              [p.OFPBucket(actions=[p.OFPActionOutput(2)])]),
        properties=[]))
    add('experimenter/nicira_set_packet_in_format', p.NXTSetPacketInFormatMsg(D, 1))
    add('features_request', p.OFPFeaturesRequest(D))
    add_packed('features_reply/typical', ofp.OFPT_FEATURES_REPLY,
               struct.pack(ofp.OFP_SWITCH_FEATURES_PACK_STR, 0x0000aabbccddeeff, 256, 254, 0,
                           ofp.OFPC_FLOW_STATS | ofp.OFPC_TABLE_STATS | ofp.OFPC_PORT_STATS | ofp.OFPC_GROUP_STATS
                           | ofp.OFPC_QUEUE_STATS | ofp.OFPC_PORT_BLOCKED, 0))
    add_packed('features_reply/auxiliary_big_dpid', ofp.OFPT_FEATURES_REPLY,
               struct.pack(ofp.OFP_SWITCH_FEATURES_PACK_STR, 0xfedcba9876543210, 0, 255, 3,
                           ofp.OFPC_IP_REASM, 0))
    add('get_config_request', p.OFPGetConfigRequest(D))
    add_packed('get_config_reply/normal', ofp.OFPT_GET_CONFIG_REPLY,
               struct.pack(ofp.OFP_SWITCH_CONFIG_PACK_STR, ofp.OFPC_FRAG_NORMAL, 128))
    add_packed('get_config_reply/reasm_no_buffer', ofp.OFPT_GET_CONFIG_REPLY,
               struct.pack(ofp.OFP_SWITCH_CONFIG_PACK_STR, ofp.OFPC_FRAG_REASM, ofp.OFPCML_NO_BUFFER))
    add('set_config/normal', p.OFPSetConfig(D, ofp.OFPC_FRAG_NORMAL, 128))
    add('set_config/drop_max', p.OFPSetConfig(D, ofp.OFPC_FRAG_DROP, 0xffe5))

    # ---- asynchronous messages from the switch (packed) ----
    pin_match = match(('in_port', 7), ('eth_dst', '0a:1b:2c:3d:4e:5f'), ('eth_src', '00:11:22:33:44:55'), ETH_IP,
                      ('ip_proto', 6), ('ipv4_src', '10.0.0.1'), ('ipv4_dst', '10.0.0.2'),
                      ('tcp_src', 1234), ('tcp_dst', 80))
    add_packed('packet_in/no_buffer_full_match', ofp.OFPT_PACKET_IN,
               struct.pack(ofp.OFP_PACKET_IN_PACK_STR, ofp.OFP_NO_BUFFER, len(FRAME), ofp.OFPR_NO_MATCH, 0, 0)
               + match_bytes(pin_match) + b'\x00\x00' + FRAME)
    add_packed('packet_in/buffered_action_cookie', ofp.OFPT_PACKET_IN,
               struct.pack(ofp.OFP_PACKET_IN_PACK_STR, 0x17, 1500, ofp.OFPR_ACTION, 3, 0xfedcba9876543210)
               + match_bytes(match(('in_port', 2), ('tunnel_id', 0x1122334455667788),
                                   ('metadata', 0xffffffffffffffff)))
               + b'\x00\x00' + FRAME[:14])
    add_packed('packet_in/invalid_ttl_in_port_only', ofp.OFPT_PACKET_IN,
               struct.pack(ofp.OFP_PACKET_IN_PACK_STR, ofp.OFP_NO_BUFFER, len(FRAME), ofp.OFPR_INVALID_TTL, 254, 1)
               + match_bytes(match(('in_port', ofp.OFPP_LOCAL))) + b'\x00\x00' + FRAME)
    add_packed('packet_in/empty_match_no_data', ofp.OFPT_PACKET_IN,
               struct.pack(ofp.OFP_PACKET_IN_PACK_STR, 5, 0, ofp.OFPR_NO_MATCH, 0, 0)
               + match_bytes(match()) + b'\x00\x00')
    add_packed('packet_in/ipv6_vlan', ofp.OFPT_PACKET_IN,
               struct.pack(ofp.OFP_PACKET_IN_PACK_STR, ofp.OFP_NO_BUFFER, 64, ofp.OFPR_NO_MATCH, 1, 0)
               + match_bytes(match(('in_port', 9), ('vlan_vid', 0x1000 | 42), ('vlan_pcp', 5), ETH_IPV6,
                                   ('ip_proto', 58), ('ipv6_src', 'fe80::1'), ('ipv6_dst', 'ff02::1:ff00:2'),
                                   ('icmpv6_type', 135), ('icmpv6_code', 0), ('ipv6_nd_target', 'fe80::2'),
                                   ('ipv6_nd_sll', '00:00:5e:00:53:01')))
               + b'\x00\x00' + bytes(range(64)))
    add_packed('packet_in/nicira_reg_and_onf_tcp_flags', ofp.OFPT_PACKET_IN,
               struct.pack(ofp.OFP_PACKET_IN_PACK_STR, ofp.OFP_NO_BUFFER, len(FRAME), ofp.OFPR_ACTION, 0, 0)
               + match_bytes(match(('in_port', 1), ('reg0', 0x12345678), ETH_IP, ('ip_proto', 6),
                                   ('tcp_flags', 0x012), ('actset_output', 3), ('pbb_uca', 1),
                                   ('xreg0', (0x8000000000000001, 0xffffffffffffffff)), ('reg1', 7)))
               + b'\x00\x00' + FRAME)
    flow_removed_body = struct.pack(ofp.OFP_FLOW_REMOVED_PACK_STR0, 0x0102030405060708, 100, ofp.OFPRR_IDLE_TIMEOUT, 3,
                                    61, 500000000, 60, 0, 1000, 123456)
    add_packed('flow_removed/idle_timeout', ofp.OFPT_FLOW_REMOVED,
               flow_removed_body + match_bytes(match(('in_port', 1), ETH_IP, ('ipv4_dst', ('10.1.0.0', '255.255.0.0')))))
    add_packed('flow_removed/delete_big_counters', ofp.OFPT_FLOW_REMOVED,
               struct.pack(ofp.OFP_FLOW_REMOVED_PACK_STR0, 0xffffffffffffffff, 0, ofp.OFPRR_DELETE, 0,
                           0xffffffff, 999999999, 0, 300, 0xfffffffffffffffe, 0x8000000000000001)
               + match_bytes(match()))
    add_packed('flow_removed/group_delete_ipv6', ofp.OFPT_FLOW_REMOVED,
               struct.pack(ofp.OFP_FLOW_REMOVED_PACK_STR0, 9, 65535, ofp.OFPRR_GROUP_DELETE, 200,
                           1, 2, 3, 4, 5, 6)
               + match_bytes(match(ETH_IPV6, ('ipv6_dst', ('2001:db8::', 'ffff:ffff::')), ('ip_proto', 17),
                                   ('udp_dst', 53))))
    add_packed('port_status/add', ofp.OFPT_PORT_STATUS,
               struct.pack('!B7x', ofp.OFPPR_ADD)
               + port_bytes(1, '02:00:00:00:00:01', b'eth1', 0, ofp.OFPPS_LIVE,
                            ofp.OFPPF_10GB_FD | ofp.OFPPF_FIBER, ofp.OFPPF_10GB_FD, ofp.OFPPF_1GB_FD | ofp.OFPPF_10GB_FD,
                            0, 10000000, 10000000))
    add_packed('port_status/delete_down', ofp.OFPT_PORT_STATUS,
               struct.pack('!B7x', ofp.OFPPR_DELETE)
               + port_bytes(0xfffffff0, 'fe:dc:ba:98:76:54', b'a-fifteen-chars', ofp.OFPPC_PORT_DOWN | ofp.OFPPC_NO_FWD,
                            ofp.OFPPS_LINK_DOWN, 0, 0, 0, 0, 0, 0))
    add_packed('port_status/add_utf8_name', ofp.OFPT_PORT_STATUS,
               struct.pack('!B7x', ofp.OFPPR_ADD)
               + port_bytes(6, '02:00:00:00:00:06', 'br-\u00e9t\u00e9'.encode('utf-8'), 0, ofp.OFPPS_LIVE,
                            0, 0, 0, 0, 0, 0))
    add_packed('port_status/modify_local', ofp.OFPT_PORT_STATUS,
               struct.pack('!B7x', ofp.OFPPR_MODIFY)
               + port_bytes(ofp.OFPP_LOCAL, '0a:00:27:00:00:00', b'br0', ofp.OFPPC_NO_PACKET_IN, ofp.OFPPS_BLOCKED,
                            ofp.OFPPF_COPPER | ofp.OFPPF_AUTONEG, 0, 0, ofp.OFPPF_PAUSE, 1, 2))

    # ---- packet-out ----
    add('packet_out/data_output', p.OFPPacketOut(D, buffer_id=ofp.OFP_NO_BUFFER, in_port=ofp.OFPP_CONTROLLER,
                                                  actions=[p.OFPActionOutput(2, 0)], data=FRAME))
    add('packet_out/buffered_table', p.OFPPacketOut(D, buffer_id=0x42, in_port=3,
                                                    actions=[p.OFPActionOutput(ofp.OFPP_TABLE, 0)]))
    # Not packet_out with data and no actions: os-ken then packs the packet-out header over the
    # first 16 bytes of the data (see OS-KEN BUGS above).
    add('packet_out/buffered_no_actions', p.OFPPacketOut(D, buffer_id=0x99, in_port=ofp.OFPP_ANY, actions=[]))
    add('packet_out/many_actions', p.OFPPacketOut(
        D, buffer_id=ofp.OFP_NO_BUFFER, in_port=1,
        actions=[p.OFPActionPushVlan(0x8100), p.OFPActionSetField(vlan_vid=0x1000 | 7),
                 p.OFPActionSetField(eth_src='00:00:00:00:00:aa'), p.OFPActionSetQueue(1),
                 p.OFPActionGroup(9), p.OFPActionOutput(ofp.OFPP_FLOOD, 0)],
        data=FRAME))

    # ---- flow-mod: one per OpenFlow-basic OXM field, prerequisites first ----
    matches = {
        'in_port': [('in_port', 1)],
        'in_port_controller': [('in_port', ofp.OFPP_CONTROLLER)],
        'in_phy_port': [('in_port', 1), ('in_phy_port', 2)],
        'metadata': [('metadata', 0x0123456789abcdef)],
        'metadata_masked': [('metadata', (0x0000000000000f00, 0x0000000000000f0f))],
        'metadata_max': [('metadata', 0xffffffffffffffff)],
        'eth_dst_src': [('eth_dst', 'ff:ff:ff:ff:ff:ff'), ('eth_src', '00:1a:2b:3c:4d:5e')],
        'eth_dst_src_masked': [('eth_dst', ('01:00:00:00:00:00', '01:00:00:00:00:00')),
                               ('eth_src', ('00:1a:2b:00:00:00', 'ff:ff:ff:00:00:00'))],
        'eth_type': [('eth_type', 0x88cc)],
        'vlan_vid': [('vlan_vid', 0x1000 | 5)],
        'vlan_vid_none': [('vlan_vid', 0x0000)],
        'vlan_vid_masked_present': [('vlan_vid', (0x1000, 0x1000))],
        'vlan_vid_masked': [('vlan_vid', (0x1000 | 0x010, 0x1ff0))],
        'vlan_pcp': [('vlan_vid', 0x1000 | 10), ('vlan_pcp', 3)],
        'vlan_pcp_masked': [('vlan_vid', 0x1000 | 10), ('vlan_pcp', (3, 3))],
        'ip_dscp_ecn_proto_v4': [ETH_IP, ('ip_dscp', 46), ('ip_ecn', 2), ('ip_proto', 6)],
        'ip_dscp_ecn_proto_v6': [ETH_IPV6, ('ip_dscp', 63), ('ip_ecn', 3), ('ip_proto', 17)],
        'ipv4_src_dst': [ETH_IP, ('ipv4_src', '192.168.0.1'), ('ipv4_dst', '10.20.30.40')],
        'ipv4_src_dst_masked': [ETH_IP, ('ipv4_src', ('192.168.0.0', '255.255.255.0')),
                                ('ipv4_dst', ('10.0.0.0', '255.0.0.0'))],
        'ipv4_noncontiguous_mask': [ETH_IP, ('ipv4_src', ('10.0.0.1', '255.0.0.255'))],
        'tcp_src_dst': [ETH_IP, ('ip_proto', 6), ('tcp_src', 1234), ('tcp_dst', 80)],
        'tcp_masked_v6': [ETH_IPV6, ('ip_proto', 6), ('tcp_src', (0x0400, 0xfc00)), ('tcp_dst', (0x1f90, 0xffff))],
        'udp_src_dst_v6': [ETH_IPV6, ('ip_proto', 17), ('udp_src', 546), ('udp_dst', 547)],
        'udp_masked': [ETH_IP, ('ip_proto', 17), ('udp_src', (0x1000, 0xf000)), ('udp_dst', (0x0035, 0x00ff))],
        'sctp_src_dst': [ETH_IP, ('ip_proto', 132), ('sctp_src', 2905), ('sctp_dst', 3868)],
        'sctp_masked': [ETH_IPV6, ('ip_proto', 132), ('sctp_src', (0x0b00, 0xff00)), ('sctp_dst', (0, 0))],
        'icmpv4_type_code': [ETH_IP, ('ip_proto', 1), ('icmpv4_type', 3), ('icmpv4_code', 4)],
        'arp_fields': [ETH_ARP, ('arp_op', 1), ('arp_spa', '10.0.0.1'), ('arp_tpa', '10.0.0.254'),
                       ('arp_sha', '00:11:22:33:44:55'), ('arp_tha', '00:00:00:00:00:00')],
        'arp_fields_masked': [ETH_ARP, ('arp_spa', ('10.0.0.0', '255.255.255.0')),
                              ('arp_tpa', ('172.16.0.0', '255.240.0.0')),
                              ('arp_sha', ('00:11:22:00:00:00', 'ff:ff:ff:00:00:00')),
                              ('arp_tha', ('00:00:00:00:00:01', '00:00:00:00:00:ff'))],
        'rarp_op': [('eth_type', 0x8035), ('arp_op', 3)],
        'ipv6_src_dst': [ETH_IPV6, ('ipv6_src', '2001:db8:bd05:1d2:288a:1fc0:1:10ee'), ('ipv6_dst', '::1')],
        'ipv6_src_dst_masked': [ETH_IPV6, ('ipv6_src', ('2001:db8:bd05:1d2::', 'ffff:ffff:ffff:ffff::')),
                                ('ipv6_dst', ('fe80::', 'ffc0::'))],
        'ipv6_flabel': [ETH_IPV6, ('ipv6_flabel', 0xabcde)],
        'ipv6_flabel_masked': [ETH_IPV6, ('ipv6_flabel', (0x12300, 0xfff00))],
        'icmpv6_type_code': [ETH_IPV6, ('ip_proto', 58), ('icmpv6_type', 128), ('icmpv6_code', 0)],
        'ipv6_nd_target_sll': [ETH_IPV6, ('ip_proto', 58), ('icmpv6_type', 135),
                               ('ipv6_nd_target', '2001:db8::2'), ('ipv6_nd_sll', '00:00:5e:00:53:aa')],
        'ipv6_nd_target_tll': [ETH_IPV6, ('ip_proto', 58), ('icmpv6_type', 136),
                               ('ipv6_nd_target', ('2001:db8::', 'ffff:ffff:ffff:ffff::')),
                               ('ipv6_nd_tll', '00:00:5e:00:53:bb')],
        'ipv6_nd_sll_masked': [ETH_IPV6, ('ip_proto', 58), ('icmpv6_type', 135),
                               ('ipv6_nd_sll', ('00:00:5e:00:00:00', 'ff:ff:ff:00:00:00'))],
        'ipv6_nd_tll_masked': [ETH_IPV6, ('ip_proto', 58), ('icmpv6_type', 136), ('icmpv6_code', 0),
                               ('ipv6_nd_tll', ('00:00:5e:00:53:00', 'ff:ff:ff:ff:ff:00'))],
        'mpls_label_tc_bos': [('eth_type', 0x8847), ('mpls_label', 0xfffff), ('mpls_tc', 5), ('mpls_bos', 1)],
        'mpls_multicast': [('eth_type', 0x8848), ('mpls_label', 16), ('mpls_bos', 0)],
        'pbb_isid': [('eth_type', 0x88e7), ('pbb_isid', 0xabcdef)],
        'pbb_isid_masked': [('eth_type', 0x88e7), ('pbb_isid', (0x120000, 0xff0000))],
        'tunnel_id': [('tunnel_id', 0x8000000000000001)],
        'tunnel_id_masked': [('tunnel_id', (0x0000000000001000, 0x000000000000ff00))],
        'ipv6_exthdr': [ETH_IPV6, ('ipv6_exthdr', 0x0104)],
        'ipv6_exthdr_masked': [ETH_IPV6, ('ipv6_exthdr', (0x0100, 0x0180))],
        'kitchen_sink_v4': [('in_port', 4), ('in_phy_port', 4), ('metadata', (0x10, 0xff)),
                            ('eth_dst', '0a:1b:2c:3d:4e:5f'), ('eth_src', '00:11:22:33:44:55'),
                            ('vlan_vid', 0x1000 | 100), ('vlan_pcp', 7), ETH_IP, ('ip_dscp', 10), ('ip_ecn', 1),
                            ('ip_proto', 6), ('ipv4_src', '1.2.3.4'), ('ipv4_dst', ('5.6.0.0', '255.255.0.0')),
                            ('tcp_src', 1), ('tcp_dst', 65535), ('tunnel_id', 77)],
        # Non-basic classes (kept opaque by our codec): NXM_NX_REG0 and ONF EXT-109 tcp_flags.
        'nicira_reg0': [('reg0', (0x00000010, 0x000000f0))],
        'onf_tcp_flags': [ETH_IP, ('ip_proto', 6), ('tcp_flags', 0x002)],
        'onf_tcp_flags_masked': [ETH_IPV6, ('ip_proto', 6), ('tcp_flags', (0x010, 0x0ff))],
        'onf_actset_output': [('actset_output', 2)],
        'onf_pbb_uca_ext256_old': [('eth_type', 0x88e7), ('pbb_uca', 1)],
        'packet_regs_xreg': [('xreg0', 0x0123456789abcdef), ('xreg7', (0x10, 0xff))],
        'nicira_regs_mixed_with_basic': [('in_port', 1), ('reg1', 5), ETH_IP, ('reg2', (0x100, 0xf00)),
                                         ('ipv4_src', '10.0.0.1')],
        'empty': [],
    }
    for name, fields in matches.items():
        add('flow_mod/match/' + name, flow_mod(match(*fields), [OUT1], priority=1000))

    # ---- flow-mod header fields ----
    add('flow_mod/header/modify_strict_flags', flow_mod(
        match(('in_port', 1)), [OUT1], cookie=0xfedcba9876543210, cookie_mask=0xffffffff00000000, table_id=5,
        command=ofp.OFPFC_MODIFY_STRICT, idle_timeout=10, hard_timeout=30, priority=0xffff, buffer_id=0x1234,
        out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY,
        flags=ofp.OFPFF_SEND_FLOW_REM | ofp.OFPFF_CHECK_OVERLAP | ofp.OFPFF_RESET_COUNTS
        | ofp.OFPFF_NO_PKT_COUNTS | ofp.OFPFF_NO_BYT_COUNTS))
    add('flow_mod/header/delete_out_port_group', flow_mod(
        match(ETH_IP), [], table_id=ofp.OFPTT_ALL, command=ofp.OFPFC_DELETE, out_port=3, out_group=7))
    add('flow_mod/header/delete_strict', flow_mod(match(('in_port', 2)), [], command=ofp.OFPFC_DELETE_STRICT,
                                                  priority=0, out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY))
    add('flow_mod/header/modify', flow_mod(match(), [OUT1], command=ofp.OFPFC_MODIFY, cookie=1, cookie_mask=1))
    add('flow_mod/header/table_miss', flow_mod(match(), [apply(p.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                                                                  ofp.OFPCML_NO_BUFFER))],
                                               priority=0, table_id=254))

    # ---- instructions ----
    add('flow_mod/instructions/goto_table', flow_mod(match(), [p.OFPInstructionGotoTable(1)]))
    add('flow_mod/instructions/write_metadata', flow_mod(match(), [
        p.OFPInstructionWriteMetadata(0xfedcba9876543210, 0xffffffffffffffff), p.OFPInstructionGotoTable(2)]))
    add('flow_mod/instructions/write_actions', flow_mod(match(), [
        write(p.OFPActionSetQueue(3), p.OFPActionGroup(1), p.OFPActionOutput(5))]))
    add('flow_mod/instructions/clear_actions', flow_mod(match(), [
        p.OFPInstructionActions(ofp.OFPIT_CLEAR_ACTIONS, [])]))
    add('flow_mod/instructions/apply_actions_empty', flow_mod(match(), [apply()]))
    add('flow_mod/instructions/meter', flow_mod(match(), [p.OFPInstructionMeter(33), OUT1]))
    add('flow_mod/instructions/all_six', flow_mod(match(('in_port', 1)), [
        p.OFPInstructionMeter(ofp.OFPM_SLOWPATH), apply(p.OFPActionDecNwTtl()),
        p.OFPInstructionActions(ofp.OFPIT_CLEAR_ACTIONS, []), write(p.OFPActionOutput(2)),
        p.OFPInstructionWriteMetadata(1, 1), p.OFPInstructionGotoTable(200)]))

    # ---- actions, one flow-mod each ----
    actions = {
        'output': [p.OFPActionOutput(7, 128)],
        'output_controller_no_buffer': [p.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)],
        'output_reserved_ports': [p.OFPActionOutput(ofp.OFPP_IN_PORT), p.OFPActionOutput(ofp.OFPP_NORMAL),
                                  p.OFPActionOutput(ofp.OFPP_ALL), p.OFPActionOutput(ofp.OFPP_LOCAL)],
        'copy_ttl_out_in': [p.OFPActionCopyTtlOut(), p.OFPActionCopyTtlIn()],
        'set_mpls_ttl': [p.OFPActionSetMplsTtl(64)],
        'dec_mpls_ttl': [p.OFPActionDecMplsTtl()],
        'push_pop_vlan': [p.OFPActionPushVlan(0x88a8), p.OFPActionPushVlan(0x8100), p.OFPActionPopVlan()],
        'push_pop_mpls': [p.OFPActionPushMpls(0x8847), p.OFPActionPushMpls(0x8848), p.OFPActionPopMpls(0x0800),
                          p.OFPActionPopMpls(0x86dd)],
        'set_queue': [p.OFPActionSetQueue(0xfffffffe)],
        'group': [p.OFPActionGroup(0xfffffff0)],
        'set_nw_ttl': [p.OFPActionSetNwTtl(255)],
        'dec_nw_ttl': [p.OFPActionDecNwTtl()],
        'push_pop_pbb': [p.OFPActionPushPbb(0x88e7), p.OFPActionPopPbb()],
        'experimenter_unknown': [p.OFPActionExperimenterUnknown(0x00abcdef, bytes.fromhex('0102030405060708'))],
        'experimenter_nicira_resubmit': [p.NXActionResubmitTable(in_port=0xfff8, table_id=3)],
    }
    for name, acts in actions.items():
        add('flow_mod/action/' + name, flow_mod(match(), [apply(*acts)]))

    set_fields = {
        'in_port': 3, 'metadata': 0x0102030405060708, 'eth_dst': '0a:0b:0c:0d:0e:0f', 'eth_src': 'aa:bb:cc:dd:ee:ff',
        'vlan_vid': 0x1000 | 4094, 'vlan_pcp': 6, 'ip_dscp': 34, 'ip_ecn': 1, 'ipv4_src': '203.0.113.1',
        'ipv4_dst': '198.51.100.7', 'tcp_src': 8080, 'tcp_dst': 443, 'udp_src': 5353, 'udp_dst': 4789,
        'sctp_src': 1, 'sctp_dst': 65535, 'icmpv4_type': 8, 'icmpv4_code': 0, 'arp_op': 2, 'arp_spa': '10.9.8.7',
        'arp_tpa': '10.9.8.1', 'arp_sha': '02:00:00:00:00:01', 'arp_tha': '02:00:00:00:00:02',
        'ipv6_src': '2001:db8::a', 'ipv6_dst': 'ff02::fb', 'ipv6_flabel': 0x54321, 'icmpv6_type': 136,
        'icmpv6_code': 0, 'ipv6_nd_target': 'fe80::1234:5678', 'ipv6_nd_sll': '02:00:00:00:01:01',
        'ipv6_nd_tll': '02:00:00:00:02:02', 'mpls_label': 0x12345, 'mpls_tc': 3, 'mpls_bos': 1,
        'pbb_isid': 0x00beef, 'tunnel_id': 0xffffffffffffffff,
    }
    for field, value in set_fields.items():
        add('flow_mod/set_field/' + field, flow_mod(match(), [apply(p.OFPActionSetField(**{field: value}))]))
    add('flow_mod/action/every_kind_in_one_list', flow_mod(match(('in_port', 1)), [apply(
        p.OFPActionCopyTtlOut(), p.OFPActionCopyTtlIn(), p.OFPActionSetMplsTtl(3), p.OFPActionDecMplsTtl(),
        p.OFPActionPushVlan(0x8100), p.OFPActionPopVlan(), p.OFPActionPushMpls(0x8847), p.OFPActionPopMpls(0x0800),
        p.OFPActionSetQueue(2), p.OFPActionGroup(3), p.OFPActionSetNwTtl(9), p.OFPActionDecNwTtl(),
        p.OFPActionSetField(ipv4_dst='1.1.1.1'), p.OFPActionPushPbb(0x88e7), p.OFPActionPopPbb(),
        p.OFPActionExperimenterUnknown(0x00001234, b'\xaa' * 8), p.OFPActionOutput(4))]))

    # ---- group-mod ----
    add('group_mod/all_add', p.OFPGroupMod(D, ofp.OFPGC_ADD, ofp.OFPGT_ALL, 1, [
        p.OFPBucket(actions=[p.OFPActionOutput(1)]), p.OFPBucket(actions=[p.OFPActionOutput(2)]),
        p.OFPBucket(actions=[p.OFPActionSetField(vlan_vid=0x1000 | 3), p.OFPActionOutput(3)])]))
    add('group_mod/select_weights', p.OFPGroupMod(D, ofp.OFPGC_ADD, ofp.OFPGT_SELECT, 2, [
        p.OFPBucket(weight=10, actions=[p.OFPActionOutput(1)]),
        p.OFPBucket(weight=0xffff, actions=[p.OFPActionSetField(eth_dst='00:00:00:00:00:02'), p.OFPActionOutput(2)])]))
    add('group_mod/indirect', p.OFPGroupMod(D, ofp.OFPGC_ADD, ofp.OFPGT_INDIRECT, 3, [
        p.OFPBucket(actions=[p.OFPActionDecNwTtl(), p.OFPActionGroup(1)])]))
    add('group_mod/fast_failover_watch', p.OFPGroupMod(D, ofp.OFPGC_ADD, ofp.OFPGT_FF, 4, [
        p.OFPBucket(watch_port=1, watch_group=ofp.OFPG_ANY, actions=[p.OFPActionOutput(1)]),
        p.OFPBucket(watch_port=ofp.OFPP_ANY, watch_group=3, actions=[p.OFPActionGroup(3)])]))
    add('group_mod/modify_select_empty_bucket', p.OFPGroupMod(D, ofp.OFPGC_MODIFY, ofp.OFPGT_SELECT, 2, [
        p.OFPBucket(weight=1, actions=[])]))
    add('group_mod/delete_all', p.OFPGroupMod(D, ofp.OFPGC_DELETE, ofp.OFPGT_ALL, ofp.OFPG_ALL, []))

    # ---- port-mod, table-mod ----
    add('port_mod/down', p.OFPPortMod(D, 1, '02:00:00:00:00:01', ofp.OFPPC_PORT_DOWN, ofp.OFPPC_PORT_DOWN, 0))
    add('port_mod/advertise', p.OFPPortMod(D, 0xfffffff0, 'fe:dc:ba:98:76:54',
                                           ofp.OFPPC_NO_RECV | ofp.OFPPC_NO_FWD | ofp.OFPPC_NO_PACKET_IN,
                                           ofp.OFPPC_NO_RECV | ofp.OFPPC_NO_FWD | ofp.OFPPC_NO_PACKET_IN | ofp.OFPPC_PORT_DOWN,
                                           ofp.OFPPF_1GB_FD | ofp.OFPPF_AUTONEG | ofp.OFPPF_PAUSE_ASYM))
    add('table_mod/one', p.OFPTableMod(D, 1, 0))
    add('table_mod/all_deprecated_mask', p.OFPTableMod(D, ofp.OFPTT_ALL, OFPTC_DEPRECATED_MASK))

    # ---- multipart requests ----
    add('multipart_request/desc', p.OFPDescStatsRequest(D))
    add('multipart_request/flow_all', p.OFPFlowStatsRequest(D))
    add('multipart_request/flow_filtered', p.OFPFlowStatsRequest(
        D, 0, 3, 2, 5, 0x0123456789abcdef, 0xffffffffffffffff,
        match(('in_port', 1), ETH_IP, ('ipv4_dst', ('10.0.0.0', '255.0.0.0')))))
    add('multipart_request/aggregate', p.OFPAggregateStatsRequest(
        D, 0, ofp.OFPTT_ALL, ofp.OFPP_ANY, ofp.OFPG_ANY, 0, 0, match(ETH_IPV6, ('ip_proto', 58))))
    add('multipart_request/table', p.OFPTableStatsRequest(D))
    add('multipart_request/port_stats_any', p.OFPPortStatsRequest(D))
    add('multipart_request/port_stats_one', p.OFPPortStatsRequest(D, 0, 7))
    add('multipart_request/queue_all', p.OFPQueueStatsRequest(D))
    add('multipart_request/queue_one', p.OFPQueueStatsRequest(D, 0, 3, 1))
    add('multipart_request/group_all', p.OFPGroupStatsRequest(D))
    add('multipart_request/group_one', p.OFPGroupStatsRequest(D, 0, 12))
    add('multipart_request/group_desc', p.OFPGroupDescStatsRequest(D))
    add('multipart_request/group_features', p.OFPGroupFeaturesStatsRequest(D))
    add('multipart_request/meter_all', p.OFPMeterStatsRequest(D))
    add('multipart_request/meter_one', p.OFPMeterStatsRequest(D, 0, 5))
    add('multipart_request/meter_config', p.OFPMeterConfigStatsRequest(D, 0, ofp.OFPM_ALL))
    add('multipart_request/meter_features', p.OFPMeterFeaturesStatsRequest(D))
    add('multipart_request/table_features_query', p.OFPTableFeaturesStatsRequest(D))
    add('multipart_request/table_features_set', p.OFPTableFeaturesStatsRequest(D, 0, [
        table_features(0, b'classifier', 4),
        table_features(1, b'second', 0, minimal=True)]))
    add('multipart_request/table_features_set_more', p.OFPTableFeaturesStatsRequest(D, ofp.OFPMPF_REQ_MORE, [
        table_features(2, b'third', 1)]))
    add('multipart_request/port_desc', p.OFPPortDescStatsRequest(D))
    add('multipart_request/experimenter', p.OFPExperimenterStatsRequest(D, 0, 0x00abcdef, 3, b'\x01\x02\x03\x04'))
    add('multipart_request/experimenter_empty', p.OFPExperimenterStatsRequest(D, 0, 0x00002320, 0, b''))

    # ---- multipart replies (packed) ----
    def mp_reply(name, mp_type, body, flags=0):
        add_packed('multipart_reply/' + name, ofp.OFPT_MULTIPART_REPLY,
                   struct.pack(ofp.OFP_MULTIPART_REPLY_PACK_STR, mp_type, flags) + body)

    def pad_str(s, n):
        return s + b'\x00' * (n - len(s))

    mp_reply('desc', ofp.OFPMP_DESC, struct.pack(ofp.OFP_DESC_PACK_STR, b'Open vSwitch-like', b'ofswitch',
                                                  b'0.1.0', b'None', b'br0 datapath'))

    def flow_stats(table_id, priority, m, insts, cookie, packets, bytes_, flags=0):
        mb = match_bytes(m)
        ib = instructions_bytes(insts)
        length = ofp.OFP_FLOW_STATS_0_SIZE + len(mb) + len(ib)
        return struct.pack(ofp.OFP_FLOW_STATS_0_PACK_STR, length, table_id, 12, 345000000, priority, 10, 20, flags,
                           cookie, packets, bytes_) + mb + ib

    mp_reply('flow', ofp.OFPMP_FLOW,
             flow_stats(0, 100, match(('in_port', 1), ETH_IP, ('ipv4_src', '10.0.0.1')), [OUT1], 0xabcdef, 10, 1000,
                        ofp.OFPFF_SEND_FLOW_REM)
             + flow_stats(1, 0, match(), [p.OFPInstructionGotoTable(2)], 0, 0, 0)
             + flow_stats(2, 5, match(ETH_IPV6, ('ipv6_dst', 'ff02::1')),
                          [p.OFPInstructionMeter(1), write(p.OFPActionOutput(3)),
                           p.OFPInstructionWriteMetadata(5, 0xff)],
                          0xffffffffffffffff, 0xfffffffffffffff0, 0x7fffffffffffffff))
    mp_reply('flow_more', ofp.OFPMP_FLOW, flow_stats(3, 1, match(('eth_type', 0x88cc)), [], 1, 2, 3),
             ofp.OFPMPF_REPLY_MORE)
    mp_reply('flow_empty', ofp.OFPMP_FLOW, b'')
    mp_reply('aggregate', ofp.OFPMP_AGGREGATE, struct.pack(ofp.OFP_AGGREGATE_STATS_REPLY_PACK_STR,
                                                           0x123456789abcdef0, 0xfedcba9876543210, 42))
    mp_reply('table', ofp.OFPMP_TABLE, struct.pack(ofp.OFP_TABLE_STATS_PACK_STR, 0, 5, 1000, 900)
             + struct.pack(ofp.OFP_TABLE_STATS_PACK_STR, 254, 0, 0xffffffffffffffff, 0))
    mp_reply('port_stats', ofp.OFPMP_PORT_STATS,
             struct.pack(ofp.OFP_PORT_STATS_PACK_STR, 1, *range(1, 13), 100, 200)
             + struct.pack(ofp.OFP_PORT_STATS_PACK_STR, ofp.OFPP_LOCAL, *([0xffffffffffffffff] * 12), 0, 999999999))
    mp_reply('queue', ofp.OFPMP_QUEUE, struct.pack(ofp.OFP_QUEUE_STATS_PACK_STR, 1, 0, 1000, 10, 0, 5, 6)
             + struct.pack(ofp.OFP_QUEUE_STATS_PACK_STR, 2, 7, 0x100000000, 0x200000000, 3, 0xffffffff, 1))

    def group_stats(group_id, ref_count, counters):
        length = ofp.OFP_GROUP_STATS_SIZE + ofp.OFP_BUCKET_COUNTER_SIZE * len(counters)
        out = struct.pack(ofp.OFP_GROUP_STATS_PACK_STR, length, group_id, ref_count, 100, 6400, 30, 40)
        for c in counters:
            out += struct.pack(ofp.OFP_BUCKET_COUNTER_PACK_STR, *c)
        return out

    mp_reply('group', ofp.OFPMP_GROUP, group_stats(1, 2, [(60, 3840), (40, 2560)]) + group_stats(2, 0, []))

    def group_desc(group_type, group_id, buckets):
        bb = buckets_bytes(buckets)
        return struct.pack(ofp.OFP_GROUP_DESC_STATS_PACK_STR, ofp.OFP_GROUP_DESC_STATS_SIZE + len(bb), group_type,
                           group_id) + bb

    mp_reply('group_desc', ofp.OFPMP_GROUP_DESC,
             group_desc(ofp.OFPGT_SELECT, 1, [p.OFPBucket(weight=3, actions=[p.OFPActionOutput(1)]),
                                              p.OFPBucket(weight=5, actions=[p.OFPActionOutput(2)])])
             + group_desc(ofp.OFPGT_FF, 2, [p.OFPBucket(watch_port=4, actions=[p.OFPActionOutput(4)])])
             + group_desc(ofp.OFPGT_INDIRECT, 3, []))
    mp_reply('group_features', ofp.OFPMP_GROUP_FEATURES, struct.pack(
        ofp.OFP_GROUP_FEATURES_PACK_STR,
        (1 << ofp.OFPGT_ALL) | (1 << ofp.OFPGT_SELECT) | (1 << ofp.OFPGT_INDIRECT) | (1 << ofp.OFPGT_FF),
        ofp.OFPGFC_SELECT_WEIGHT | ofp.OFPGFC_CHAINING, 0xffffff00, 0xffffff00, 16, 32,
        0x03ff_ffff, 0x1, 0x1ffff, 0xfffe0001))

    def meter_stats(meter_id, bands):
        length = ofp.OFP_METER_STATS_SIZE + ofp.OFP_METER_BAND_STATS_SIZE * len(bands)
        out = struct.pack(ofp.OFP_METER_STATS_PACK_STR, meter_id, length, 2, 1000, 64000, 7, 8)
        for b in bands:
            out += struct.pack(ofp.OFP_METER_BAND_STATS_PACK_STR, *b)
        return out

    mp_reply('meter', ofp.OFPMP_METER, meter_stats(1, [(5, 320)]) + meter_stats(2, [(1, 2), (3, 4)])
             + meter_stats(3, []))

    def meter_config(flags, meter_id, bands):
        bb = bands_bytes(bands)
        return struct.pack(ofp.OFP_METER_CONFIG_PACK_STR, ofp.OFP_METER_CONFIG_SIZE + len(bb), flags, meter_id) + bb

    mp_reply('meter_config', ofp.OFPMP_METER_CONFIG,
             meter_config(ofp.OFPMF_KBPS, 1, [p.OFPMeterBandDrop(1000, 100)])
             + meter_config(ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS, 2,
                            [p.OFPMeterBandDscpRemark(500, 50, 1), p.OFPMeterBandDrop(2000, 0)])
             + meter_config(ofp.OFPMF_KBPS, 3, [p.OFPMeterBandExperimenter(10, 20, 0x00abcdef)]))
    mp_reply('meter_features', ofp.OFPMP_METER_FEATURES, struct.pack(
        ofp.OFP_METER_FEATURES_PACK_STR, 0xffff0000, (1 << ofp.OFPMBT_DROP) | (1 << ofp.OFPMBT_DSCP_REMARK),
        ofp.OFPMF_KBPS | ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS, 2, 63))
    mp_reply('table_features', ofp.OFPMP_TABLE_FEATURES,
             bytes(table_features(0, b'classifier', 0).serialize())
             + bytes(table_features(253, b'', 1, minimal=True).serialize()))
    mp_reply('table_features_more', ofp.OFPMP_TABLE_FEATURES,
             bytes(table_features(7, b'seven', 2).serialize()), ofp.OFPMPF_REPLY_MORE)
    mp_reply('port_desc', ofp.OFPMP_PORT_DESC,
             port_bytes(1, '02:00:00:00:00:01', b'eth1', 0, ofp.OFPPS_LIVE, ofp.OFPPF_1GB_FD | ofp.OFPPF_COPPER,
                        ofp.OFPPF_1GB_FD, ofp.OFPPF_1GB_FD, 0, 1000000, 1000000)
             + port_bytes(ofp.OFPP_LOCAL, '0a:00:27:00:00:00', b'br0', ofp.OFPPC_PORT_DOWN, ofp.OFPPS_LINK_DOWN,
                          0, 0, 0, 0, 0, 0)
             + port_bytes(0xfffffeff, '00:00:00:00:00:00', b'0123456789abcde', 0, 0, 0, 0, 0, 0, 0, 0))
    mp_reply('port_desc_empty', ofp.OFPMP_PORT_DESC, b'')
    # Names that are not ASCII: os-ken reads port and table names as UTF-8 (OFPPort._TYPE,
    # OFPTableFeaturesStats._TYPE), as Open vSwitch passes Linux interface names through.
    mp_reply('port_desc_utf8_name', ofp.OFPMP_PORT_DESC,
             port_bytes(5, '02:00:00:00:00:05', 'veth-\u00fc'.encode('utf-8'), 0, ofp.OFPPS_LIVE, 0, 0, 0, 0, 0, 0))
    mp_reply('table_features_utf8_name', ofp.OFPMP_TABLE_FEATURES,
             bytes(table_features(9, '\u0442\u0430\u0431\u043b\u0438\u0446\u0430'.encode('utf-8'), 0,
                                  minimal=True).serialize()))
    mp_reply('experimenter', ofp.OFPMP_EXPERIMENTER,
             bytes(p.OFPExperimenterMultipart(0x00abcdef, 9, b'\xde\xad\xbe\xef').serialize()))
    mp_reply('experimenter_no_data', ofp.OFPMP_EXPERIMENTER,
             bytes(p.OFPExperimenterMultipart(0x00002320, 0, b'').serialize()))

    # ---- barrier, queue config, role, async ----
    add('barrier_request', p.OFPBarrierRequest(D))
    add('barrier_reply', p.OFPBarrierReply(D))
    add('queue_get_config_request/one', p.OFPQueueGetConfigRequest(D, 1))
    add('queue_get_config_request/any', p.OFPQueueGetConfigRequest(D, ofp.OFPP_ANY))

    def queue_prop(prop, rate=None, experimenter=None, data=b''):
        if prop == ofp.OFPQT_EXPERIMENTER:
            length = ofp.OFP_QUEUE_PROP_EXPERIMENTER_SIZE + len(data)
            return (struct.pack(ofp.OFP_QUEUE_PROP_HEADER_PACK_STR, prop, length)
                    + struct.pack(ofp.OFP_QUEUE_PROP_EXPERIMENTER_PACK_STR, experimenter) + data)
        return (struct.pack(ofp.OFP_QUEUE_PROP_HEADER_PACK_STR, prop, ofp.OFP_QUEUE_PROP_MIN_RATE_SIZE)
                + struct.pack(ofp.OFP_QUEUE_PROP_MIN_RATE_PACK_STR, rate))

    def packet_queue(queue_id, port, props):
        body = b''.join(props)
        return struct.pack(ofp.OFP_PACKET_QUEUE_PACK_STR, queue_id, port, ofp.OFP_PACKET_QUEUE_SIZE + len(body)) + body

    add_packed('queue_get_config_reply/rates', ofp.OFPT_QUEUE_GET_CONFIG_REPLY,
               struct.pack(ofp.OFP_QUEUE_GET_CONFIG_REPLY_PACK_STR, 1)
               + packet_queue(0, 1, [queue_prop(ofp.OFPQT_MIN_RATE, 100), queue_prop(ofp.OFPQT_MAX_RATE, 900)])
               + packet_queue(1, 1, [queue_prop(ofp.OFPQT_MAX_RATE, 0xffff)])
               + packet_queue(2, 1, []))
    add_packed('queue_get_config_reply/experimenter_prop', ofp.OFPT_QUEUE_GET_CONFIG_REPLY,
               struct.pack(ofp.OFP_QUEUE_GET_CONFIG_REPLY_PACK_STR, 2)
               + packet_queue(5, 2, [queue_prop(ofp.OFPQT_EXPERIMENTER, experimenter=0x00abcdef,
                                                data=bytes.fromhex('0102030405060708'))]))
    add_packed('queue_get_config_reply/experimenter_prop_odd_length', ofp.OFPT_QUEUE_GET_CONFIG_REPLY,
               struct.pack(ofp.OFP_QUEUE_GET_CONFIG_REPLY_PACK_STR, 3)
               + packet_queue(6, 3, [queue_prop(ofp.OFPQT_EXPERIMENTER, experimenter=0x00002320, data=b'\x01\x02\x03'),
                                     queue_prop(ofp.OFPQT_MIN_RATE, 1)]))
    add_packed('queue_get_config_reply/empty', ofp.OFPT_QUEUE_GET_CONFIG_REPLY,
               struct.pack(ofp.OFP_QUEUE_GET_CONFIG_REPLY_PACK_STR, ofp.OFPP_ANY))
    add('role_request/master', p.OFPRoleRequest(D, ofp.OFPCR_ROLE_MASTER, 0x0123456789abcdef))
    add('role_request/nochange', p.OFPRoleRequest(D, ofp.OFPCR_ROLE_NOCHANGE, 0))
    add('role_request/slave_max_generation', p.OFPRoleRequest(D, ofp.OFPCR_ROLE_SLAVE, 0xffffffffffffffff))
    add_packed('role_reply/equal', ofp.OFPT_ROLE_REPLY,
               struct.pack(ofp.OFP_ROLE_REQUEST_PACK_STR, ofp.OFPCR_ROLE_EQUAL, 0xfedcba9876543210))
    add_packed('role_reply/master', ofp.OFPT_ROLE_REPLY,
               struct.pack(ofp.OFP_ROLE_REQUEST_PACK_STR, ofp.OFPCR_ROLE_MASTER, 1))
    add('get_async_request', p.OFPGetAsyncRequest(D))
    add_packed('get_async_reply', ofp.OFPT_GET_ASYNC_REPLY, struct.pack(
        ofp.OFP_ASYNC_CONFIG_PACK_STR,
        (1 << ofp.OFPR_NO_MATCH) | (1 << ofp.OFPR_ACTION), 0,
        0x7, 0x7, (1 << ofp.OFPRR_IDLE_TIMEOUT) | (1 << ofp.OFPRR_HARD_TIMEOUT) | (1 << ofp.OFPRR_DELETE), 0))
    add('set_async/typical', p.OFPSetAsync(D, [0x3, 0x0], [0x7, 0x7], [0xf, 0x0]))
    add('set_async/all_ones', p.OFPSetAsync(D, [0xffffffff, 0xffffffff], [0xffffffff, 0], [0, 0xffffffff]))

    # ---- meter-mod ----
    add('meter_mod/add_drop', p.OFPMeterMod(D, ofp.OFPMC_ADD, ofp.OFPMF_KBPS, 1, [p.OFPMeterBandDrop(10000, 1000)]))
    add('meter_mod/add_dscp_remark_burst_stats', p.OFPMeterMod(
        D, ofp.OFPMC_ADD, ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS, 2,
        [p.OFPMeterBandDscpRemark(100, 10, 2), p.OFPMeterBandDrop(1000, 100)]))
    add('meter_mod/modify_experimenter_band', p.OFPMeterMod(
        D, ofp.OFPMC_MODIFY, ofp.OFPMF_KBPS, 3, [p.OFPMeterBandExperimenter(5, 6, 0x00abcdef)]))
    add('meter_mod/delete', p.OFPMeterMod(D, ofp.OFPMC_DELETE, 0, ofp.OFPM_ALL, []))
    add('meter_mod/controller_meter', p.OFPMeterMod(D, ofp.OFPMC_ADD, ofp.OFPMF_PKTPS, ofp.OFPM_CONTROLLER,
                                                    [p.OFPMeterBandDrop(100, 0)]))


def table_features(table_id, name, variant, minimal=False):
    """An OFPTableFeaturesStats with every property type (all but the match-related ones if minimal)."""
    p = parser
    if minimal:
        props = [p.OFPTableFeaturePropNextTables(type_=ofp.OFPTFPT_NEXT_TABLES, table_ids=[]),
                 p.OFPTableFeaturePropInstructions(type_=ofp.OFPTFPT_INSTRUCTIONS, instruction_ids=[
                     p.OFPInstructionId(ofp.OFPIT_APPLY_ACTIONS)])]
        return p.OFPTableFeaturesStats(table_id=table_id, name=name, metadata_match=0, metadata_write=0, config=0,
                                       max_entries=0, properties=props)
    inst_ids = [p.OFPInstructionId(t) for t in (ofp.OFPIT_GOTO_TABLE, ofp.OFPIT_WRITE_METADATA,
                                                 ofp.OFPIT_WRITE_ACTIONS, ofp.OFPIT_APPLY_ACTIONS,
                                                 ofp.OFPIT_CLEAR_ACTIONS, ofp.OFPIT_METER)]
    action_ids = [p.OFPActionId(t) for t in (ofp.OFPAT_OUTPUT, ofp.OFPAT_COPY_TTL_OUT, ofp.OFPAT_COPY_TTL_IN,
                                              ofp.OFPAT_SET_MPLS_TTL, ofp.OFPAT_DEC_MPLS_TTL, ofp.OFPAT_PUSH_VLAN,
                                              ofp.OFPAT_POP_VLAN, ofp.OFPAT_PUSH_MPLS, ofp.OFPAT_POP_MPLS,
                                              ofp.OFPAT_SET_QUEUE, ofp.OFPAT_GROUP, ofp.OFPAT_SET_NW_TTL,
                                              ofp.OFPAT_DEC_NW_TTL, ofp.OFPAT_SET_FIELD, ofp.OFPAT_PUSH_PBB,
                                              ofp.OFPAT_POP_PBB)]
    match_ids = [p.OFPOxmId(n, hasmask=m) for n, m in (
        ('in_port', False), ('metadata', True), ('eth_dst', True), ('eth_src', True), ('eth_type', False),
        ('vlan_vid', True), ('ip_proto', False), ('ipv4_src', True), ('ipv4_dst', True), ('ipv6_src', True),
        ('tcp_src', False), ('tunnel_id', True))]
    set_ids = [p.OFPOxmId(n) for n in ('eth_dst', 'eth_src', 'vlan_vid', 'ipv4_dst', 'ipv6_nd_target', 'mpls_label')]
    next_tables = [t for t in range(table_id + 1, table_id + 1 + 3 + variant) if t < 255]
    props = [
        p.OFPTableFeaturePropInstructions(type_=ofp.OFPTFPT_INSTRUCTIONS, instruction_ids=inst_ids),
        p.OFPTableFeaturePropInstructions(type_=ofp.OFPTFPT_INSTRUCTIONS_MISS, instruction_ids=inst_ids[2:4]),
        p.OFPTableFeaturePropNextTables(type_=ofp.OFPTFPT_NEXT_TABLES, table_ids=next_tables),
        p.OFPTableFeaturePropNextTables(type_=ofp.OFPTFPT_NEXT_TABLES_MISS, table_ids=next_tables[:1]),
        p.OFPTableFeaturePropActions(type_=ofp.OFPTFPT_WRITE_ACTIONS, action_ids=action_ids),
        p.OFPTableFeaturePropActions(type_=ofp.OFPTFPT_WRITE_ACTIONS_MISS, action_ids=action_ids[:3]),
        p.OFPTableFeaturePropActions(type_=ofp.OFPTFPT_APPLY_ACTIONS, action_ids=action_ids[::2]),
        p.OFPTableFeaturePropActions(type_=ofp.OFPTFPT_APPLY_ACTIONS_MISS, action_ids=[]),
        p.OFPTableFeaturePropOxm(type_=ofp.OFPTFPT_MATCH, oxm_ids=match_ids),
        p.OFPTableFeaturePropOxm(type_=ofp.OFPTFPT_WILDCARDS, oxm_ids=match_ids[1:6]),
        p.OFPTableFeaturePropOxm(type_=ofp.OFPTFPT_WRITE_SETFIELD, oxm_ids=set_ids),
        p.OFPTableFeaturePropOxm(type_=ofp.OFPTFPT_WRITE_SETFIELD_MISS, oxm_ids=set_ids[:2]),
        p.OFPTableFeaturePropOxm(type_=ofp.OFPTFPT_APPLY_SETFIELD, oxm_ids=set_ids[variant:]),
        p.OFPTableFeaturePropOxm(type_=ofp.OFPTFPT_APPLY_SETFIELD_MISS, oxm_ids=[]),
        p.OFPTableFeaturePropExperimenter(type_=ofp.OFPTFPT_EXPERIMENTER, experimenter=0x00abcdef, exp_type=1,
                                          data=[0x01020304, 0xffffffff]),
        p.OFPTableFeaturePropExperimenter(type_=ofp.OFPTFPT_EXPERIMENTER_MISS, experimenter=0x00002320, exp_type=2,
                                          data=[]),
    ]
    return p.OFPTableFeaturesStats(table_id=table_id, name=name, metadata_match=0xffffffffffffffff,
                                   metadata_write=0x00000000ffffffff, config=OFPTC_DEPRECATED_MASK if variant else 0,
                                   max_entries=1000000 + variant, properties=props)


def main(argv):
    build()
    if len(argv) == 3 and argv[1] == '--write':
        with open(argv[2], 'w') as f:
            for r in records:
                f.write(json.dumps({'name': 'osken/' + r['name'], 'hex': r['hex']}) + '\n')
        return 0
    if len(argv) != 1:
        sys.stderr.write('usage: osken_corpus.py [--write FILE]\n')
        return 2
    for r in records:
        sys.stdout.write(json.dumps(r, sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
