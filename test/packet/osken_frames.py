#!/usr/bin/python3
"""Reference frames for test/packet/parse-osken.test.ts, built with os-ken's packet library
(Debian python3-os-ken), with the OpenFlow 1.3 flow-key fields each one should give.

Prints one JSON object per line:

    {"name": ..., "hex": <the frame>, "fields": {<OXM field name>: value, ...},
     "nw_ttl": n, "mpls_ttl": n}

Values are numbers, or text for MAC and IP addresses. Fields not listed must be zero in the
key (in_port and in_phy_port come from the test, which parses every frame on port 7). The
expected values are the ones handed to os-ken's constructors, mapped to OpenFlow's fields by
hand here (vlan_vid with OFPVID_PRESENT, ip_dscp/ip_ecn from the TOS byte, the
ipv6_exthdr bits of OpenFlow 1.3 section 7.2.3.8), so the parser is checked against values
it did not compute.
"""
import json
import struct

from os_ken.lib.packet import arp, ethernet, icmp, icmpv6, ipv4, ipv6, llc, mpls, packet, pbb, sctp, tcp, udp, vlan
from os_ken.lib.packet import ether_types as ether
from os_ken.lib.packet import in_proto as inet

SRC = '00:11:22:33:44:55'
DST = '66:77:88:99:aa:bb'

OFPVID_PRESENT = 0x1000
NONEXT, ESP, AUTH, DEST, FRAG, ROUTER, HOP, UNREP, UNSEQ = (1 << i for i in range(9))

CASES = []


def case(name, protocols, fields, nw_ttl=0, mpls_ttl=0, raw_tail=b'', nw_frag=0):
    pkt = packet.Packet()
    for p in protocols:
        pkt.add_protocol(p)
    pkt.serialize()
    data = bytes(pkt.data) + raw_tail
    base = {'eth_dst': DST, 'eth_src': SRC}
    base.update(fields)
    CASES.append({'name': name, 'hex': data.hex(), 'fields': base, 'nw_ttl': nw_ttl, 'mpls_ttl': mpls_ttl, 'nw_frag': nw_frag})


def eth(ethertype):
    return ethernet.ethernet(dst=DST, src=SRC, ethertype=ethertype)


def ip4(proto, src='10.0.0.1', dst='10.0.0.2', tos=0, ttl=64, flags=0, offset=0, option=None):
    return ipv4.ipv4(header_length=5 + len(option or b'') // 4, tos=tos, ttl=ttl, proto=proto, src=src, dst=dst,
                     flags=flags, offset=offset, option=option)


def ip4_fields(proto, src='10.0.0.1', dst='10.0.0.2', tos=0):
    return {'eth_type': 0x0800, 'ip_proto': proto, 'ipv4_src': src, 'ipv4_dst': dst, 'ip_dscp': tos >> 2,
            'ip_ecn': tos & 3}


def ip6(nxt, ext_hdrs=None, src='2001:db8::1', dst='2001:db8::2', tc=0, flabel=0, hlim=64):
    return ipv6.ipv6(traffic_class=tc, flow_label=flabel, nxt=nxt, hop_limit=hlim, src=src, dst=dst,
                     ext_hdrs=ext_hdrs or [])


def ip6_fields(proto, exthdr=0, src='2001:db8::1', dst='2001:db8::2', tc=0, flabel=0):
    return {'eth_type': 0x86dd, 'ip_proto': proto, 'ipv6_src': src, 'ipv6_dst': dst, 'ip_dscp': tc >> 2,
            'ip_ecn': tc & 3, 'ipv6_flabel': flabel, 'ipv6_exthdr': exthdr}


def tcp_(src=1234, dst=80):
    return tcp.tcp(src_port=src, dst_port=dst, seq=1, ack=0, offset=0, bits=tcp.TCP_SYN, window_size=8192)


# --- Layer 2 -------------------------------------------------------------------------------
case('ethernet, unknown ethertype', [eth(0x88b5), b'\x01\x02\x03\x04'], {'eth_type': 0x88b5})
case('802.3 with LLC, no SNAP', [ethernet.ethernet(dst=DST, src=SRC, ethertype=40),
                                llc.llc(llc.SAP_BPDU, llc.SAP_BPDU, llc.ControlFormatU()), b'\x00' * 37],
     {'eth_type': 0x05ff})


def raw_case(name, data, fields, nw_ttl=0, mpls_ttl=0, nw_frag=0):
    base = {'eth_dst': DST, 'eth_src': SRC}
    base.update(fields)
    CASES.append({'name': name, 'hex': data.hex(), 'fields': base, 'nw_ttl': nw_ttl, 'mpls_ttl': mpls_ttl, 'nw_frag': nw_frag})


def serialized(protocols):
    pkt = packet.Packet()
    for p in protocols:
        pkt.add_protocol(p)
    pkt.serialize()
    return bytes(pkt.data)


_inner = serialized([eth(0x0800), ip4(17), udp.udp(src_port=53, dst_port=5353), b'12345678'])[14:]
_snap = b'\xaa\xaa\x03\x00\x00\x00\x08\x00' + _inner
raw_case('802.3 with SNAP, IPv4 UDP inside',
         bytes.fromhex(DST.replace(':', '')) + bytes.fromhex(SRC.replace(':', '')) + struct.pack('!H', len(_snap))
         + _snap, dict(ip4_fields(17), udp_src=53, udp_dst=5353), nw_ttl=64)

case('VLAN, IPv4 TCP', [eth(ether.ETH_TYPE_8021Q), vlan.vlan(pcp=5, cfi=0, vid=100, ethertype=0x0800),
                        ip4(6, tos=0xb9), tcp_(), b'payload'],
     dict(ip4_fields(6, tos=0xb9), vlan_vid=OFPVID_PRESENT | 100, vlan_pcp=5, tcp_src=1234, tcp_dst=80), nw_ttl=64)
case('VLAN 0 (priority tag), ARP', [eth(ether.ETH_TYPE_8021Q), vlan.vlan(pcp=3, vid=0, ethertype=0x0806),
                                    arp.arp(opcode=1, src_mac=SRC, src_ip='10.0.0.1', dst_mac='00:00:00:00:00:00',
                                            dst_ip='10.0.0.2')],
     {'vlan_vid': OFPVID_PRESENT, 'vlan_pcp': 3, 'eth_type': 0x0806, 'arp_op': 1, 'arp_spa': '10.0.0.1',
      'arp_tpa': '10.0.0.2', 'arp_sha': SRC, 'arp_tha': '00:00:00:00:00:00'})
case('QinQ 802.1ad + 802.1Q, IPv4 UDP', [eth(ether.ETH_TYPE_8021AD),
                                         vlan.svlan(pcp=2, cfi=0, vid=300, ethertype=ether.ETH_TYPE_8021Q),
                                         vlan.vlan(pcp=6, cfi=0, vid=42, ethertype=0x0800),
                                         ip4(17, ttl=7), udp.udp(src_port=68, dst_port=67), b'x' * 10],
     dict(ip4_fields(17), vlan_vid=OFPVID_PRESENT | 300, vlan_pcp=2, udp_src=68, udp_dst=67), nw_ttl=7)
case('three VLAN tags, IPv6 UDP', [eth(ether.ETH_TYPE_8021Q), vlan.vlan(pcp=1, vid=4095, ethertype=0x8100),
                                   vlan.vlan(vid=2, ethertype=0x88a8), vlan.svlan(vid=3, ethertype=0x86dd),
                                   ip6(17), udp.udp(src_port=1, dst_port=2)],
     dict(ip6_fields(17), vlan_vid=OFPVID_PRESENT | 4095, vlan_pcp=1, udp_src=1, udp_dst=2), nw_ttl=64)

# --- ARP --------------------------------------------------------------------------------------
case('ARP reply', [eth(0x0806), arp.arp(opcode=2, src_mac=SRC, src_ip='192.168.1.1', dst_mac=DST,
                                        dst_ip='192.168.1.2')],
     {'eth_type': 0x0806, 'arp_op': 2, 'arp_spa': '192.168.1.1', 'arp_tpa': '192.168.1.2', 'arp_sha': SRC,
      'arp_tha': DST})
case('RARP request', [eth(0x8035), arp.arp(opcode=3, src_mac=SRC, src_ip='0.0.0.0', dst_mac=SRC,
                                           dst_ip='0.0.0.0')],
     {'eth_type': 0x8035, 'arp_op': 3, 'arp_sha': SRC, 'arp_tha': SRC})
case('ARP with a big opcode', [eth(0x0806), arp.arp(opcode=0x1234, src_mac=SRC, src_ip='1.2.3.4', dst_mac=DST,
                                                    dst_ip='5.6.7.8')],
     {'eth_type': 0x0806, 'arp_op': 0x1234, 'arp_spa': '1.2.3.4', 'arp_tpa': '5.6.7.8', 'arp_sha': SRC,
      'arp_tha': DST})
case('ARP for another protocol (not IPv4): no ARP fields',
     [eth(0x0806), arp.arp(proto=0x86dd, opcode=1, src_mac=SRC, src_ip='1.2.3.4', dst_mac=DST, dst_ip='5.6.7.8')],
     {'eth_type': 0x0806})

# --- IPv4 -------------------------------------------------------------------------------------
case('IPv4 UDP', [eth(0x0800), ip4(17, src='172.16.0.1', dst='224.0.0.251', tos=0x02, ttl=255),
                  udp.udp(src_port=5353, dst_port=5353), b'abc'],
     dict(ip4_fields(17, src='172.16.0.1', dst='224.0.0.251', tos=0x02), udp_src=5353, udp_dst=5353), nw_ttl=255)
case('IPv4 ICMP echo', [eth(0x0800), ip4(1, ttl=1), icmp.icmp(type_=8, code=0, data=icmp.echo(id_=1, seq=2))],
     dict(ip4_fields(1), icmpv4_type=8, icmpv4_code=0), nw_ttl=1)
case('IPv4 ICMP unreachable', [eth(0x0800), ip4(1, ttl=0),
                               icmp.icmp(type_=3, code=13, data=icmp.dest_unreach(data=b'\x45' + b'\x00' * 27))],
     dict(ip4_fields(1), icmpv4_type=3, icmpv4_code=13), nw_ttl=0)
case('IPv4 SCTP', [eth(0x0800), ip4(132), sctp.sctp(src_port=2905, dst_port=2906, vtag=7,
                                                    chunks=[sctp.chunk_data(payload_data=b'hello')])],
     dict(ip4_fields(132), sctp_src=2905, sctp_dst=2906), nw_ttl=64)
case('IPv4 with options, TCP', [eth(0x0800), ip4(6, option=b'\x94\x04\x00\x00' + b'\x01\x01\x01\x00'),
                                tcp_(src=22, dst=40000)],
     dict(ip4_fields(6), tcp_src=22, tcp_dst=40000), nw_ttl=64)
case('IPv4 first fragment, TCP', [eth(0x0800), ip4(6, flags=1, offset=0), tcp_(src=1, dst=2), b'z' * 16],
     dict(ip4_fields(6), tcp_src=1, tcp_dst=2), nw_ttl=64, nw_frag=1)
case('IPv4 later fragment: no ports', [eth(0x0800), ip4(6, flags=0, offset=185), b'z' * 24],
     ip4_fields(6), nw_ttl=64, nw_frag=3)
case('IPv4 GRE (no transport fields)', [eth(0x0800), ip4(47), b'\x00\x00\x08\x00' + b'q' * 20],
     ip4_fields(47), nw_ttl=64)

# --- MPLS and PBB -----------------------------------------------------------------------------
case('MPLS one label, IPv4', [eth(0x8847), mpls.mpls(label=1000, exp=5, bsb=1, ttl=33), ip4(6), tcp_()],
     {'eth_type': 0x8847, 'mpls_label': 1000, 'mpls_tc': 5, 'mpls_bos': 1}, mpls_ttl=33)
case('MPLS two labels', [eth(0x8847), mpls.mpls(label=0xfffff, exp=7, bsb=0, ttl=255),
                         mpls.mpls(label=16, exp=0, bsb=1, ttl=9), ip4(17), udp.udp()],
     {'eth_type': 0x8847, 'mpls_label': 0xfffff, 'mpls_tc': 7, 'mpls_bos': 0}, mpls_ttl=255)
case('VLAN, multicast MPLS', [eth(0x8100), vlan.vlan(vid=7, pcp=0, ethertype=0x8848),
                              mpls.mpls(label=3, exp=1, bsb=1, ttl=1), b'\x60' + b'\x00' * 39],
     {'eth_type': 0x8848, 'vlan_vid': OFPVID_PRESENT | 7, 'mpls_label': 3, 'mpls_tc': 1, 'mpls_bos': 1}, mpls_ttl=1)
case('PBB I-TAG over a customer frame', [eth(0x88e7), pbb.itag(pcp=3, dei=0, uca=0, sid=0xabcdef),
                                         ethernet.ethernet(dst='00:00:00:00:00:aa', src='00:00:00:00:00:bb',
                                                           ethertype=0x0800), ip4(6), tcp_()],
     {'eth_type': 0x88e7, 'pbb_isid': 0xabcdef})
case('B-TAG, PBB', [eth(0x88a8), vlan.svlan(vid=99, pcp=4, ethertype=0x88e7), pbb.itag(sid=1),
                    ethernet.ethernet(ethertype=0x88b5), b'\x00' * 8],
     {'eth_type': 0x88e7, 'pbb_isid': 1, 'vlan_vid': OFPVID_PRESENT | 99, 'vlan_pcp': 4})

# --- IPv6 -------------------------------------------------------------------------------------
case('IPv6 TCP', [eth(0x86dd), ip6(6, tc=0x2a, flabel=0xabcde, hlim=200), tcp_(src=443, dst=51000)],
     dict(ip6_fields(6, tc=0x2a, flabel=0xabcde), tcp_src=443, tcp_dst=51000), nw_ttl=200)
case('IPv6 SCTP', [eth(0x86dd), ip6(132), sctp.sctp(src_port=9, dst_port=10, chunks=[sctp.chunk_data(payload_data=b'x')])],
     dict(ip6_fields(132), sctp_src=9, sctp_dst=10), nw_ttl=64)
case('IPv6 hop-by-hop, UDP', [eth(0x86dd), ip6(0, [ipv6.hop_opts(nxt=17, data=[ipv6.option(type_=5, len_=2, data=b'\x00\x00'), ipv6.option(type_=1, len_=0)])]),
                             udp.udp(src_port=547, dst_port=546)],
     dict(ip6_fields(17, HOP), udp_src=547, udp_dst=546), nw_ttl=64)
case('IPv6 hop, dest, routing, fragment (first), auth, dest, TCP',
     [eth(0x86dd), ip6(0, [ipv6.hop_opts(nxt=60), ipv6.dst_opts(nxt=43),
                           ipv6.routing_type3(nxt=44, seg=0, adrs=['2001:db8::9']),
                           ipv6.fragment(nxt=51, offset=0, more=1, id_=5), ipv6.auth(nxt=60, size=2),
                           ipv6.dst_opts(nxt=6)]), tcp_(src=7, dst=8)],
     dict(ip6_fields(6, HOP | DEST | ROUTER | FRAG | AUTH), tcp_src=7, tcp_dst=8), nw_ttl=64, nw_frag=1)
case('IPv6 later fragment: ip_proto 44, no ports',
     [eth(0x86dd), ip6(44, [ipv6.fragment(nxt=6, offset=100, more=1, id_=5)]), b'z' * 32],
     ip6_fields(44, FRAG), nw_ttl=64, nw_frag=3)
case('IPv6 last fragment after a hop-by-hop header',
     [eth(0x86dd), ip6(0, [ipv6.hop_opts(nxt=44), ipv6.fragment(nxt=17, offset=3, more=0, id_=1)]), b'z' * 8],
     ip6_fields(44, HOP | FRAG), nw_ttl=64, nw_frag=3)
case('IPv6 dest options before hop-by-hop: UNSEQ',
     [eth(0x86dd), ip6(60, [ipv6.dst_opts(nxt=0), ipv6.hop_opts(nxt=17)]), udp.udp(src_port=3, dst_port=4)],
     dict(ip6_fields(17, DEST | HOP | UNSEQ), udp_src=3, udp_dst=4), nw_ttl=64)
case('IPv6 two routing headers: UNREP',
     [eth(0x86dd), ip6(43, [ipv6.routing_type3(nxt=43, adrs=['::1']), ipv6.routing_type3(nxt=58, adrs=['::2'])]),
      icmpv6.icmpv6(type_=128, code=0, data=icmpv6.echo(id_=1, seq=1))],
     dict(ip6_fields(58, ROUTER | UNREP), icmpv6_type=128, icmpv6_code=0), nw_ttl=64)
case('IPv6 three destination-options headers: UNREP',
     [eth(0x86dd), ip6(60, [ipv6.dst_opts(nxt=60), ipv6.dst_opts(nxt=60), ipv6.dst_opts(nxt=17)]),
      udp.udp(src_port=5, dst_port=6)],
     dict(ip6_fields(17, DEST | UNREP), udp_src=5, udp_dst=6), nw_ttl=64)
case('IPv6 auth before fragment: UNSEQ',
     [eth(0x86dd), ip6(51, [ipv6.auth(nxt=44), ipv6.fragment(nxt=6, offset=0, more=1)]), tcp_(src=1, dst=1)],
     dict(ip6_fields(6, AUTH | FRAG | UNSEQ), tcp_src=1, tcp_dst=1), nw_ttl=64, nw_frag=1)
case('IPv6 ESP stops the walk', [eth(0x86dd), ip6(50), b'\x00\x00\x01\x00\x00\x00\x00\x01' + b'e' * 24],
     ip6_fields(50, ESP), nw_ttl=64)
case('IPv6 hop-by-hop then ESP', [eth(0x86dd), ip6(0, [ipv6.hop_opts(nxt=50)]), b'\x00\x00\x01\x00\x00\x00\x00\x01'],
     ip6_fields(50, HOP | ESP), nw_ttl=64)
case('IPv6 no next header', [eth(0x86dd), ip6(59, hlim=1)], ip6_fields(59, NONEXT), nw_ttl=1)
case('IPv6 dest options then no next header', [eth(0x86dd), ip6(60, [ipv6.dst_opts(nxt=59)])],
     ip6_fields(59, DEST | NONEXT), nw_ttl=64)

# --- ICMPv6 and neighbour discovery ------------------------------------------------------------
case('ICMPv6 echo request', [eth(0x86dd), ip6(58), icmpv6.icmpv6(type_=128, code=0, data=icmpv6.echo(id_=9, seq=1, data=b'ping'))],
     dict(ip6_fields(58), icmpv6_type=128, icmpv6_code=0), nw_ttl=64)
case('ND neighbour solicitation with SLL',
     [eth(0x86dd), ip6(58, dst='ff02::1:ff00:2', hlim=255),
      icmpv6.icmpv6(type_=135, code=0, data=icmpv6.nd_neighbor(dst='2001:db8::2',
                                                               option=icmpv6.nd_option_sla(hw_src=SRC)))],
     dict(ip6_fields(58, dst='ff02::1:ff00:2'), icmpv6_type=135, icmpv6_code=0, ipv6_nd_target='2001:db8::2',
          ipv6_nd_sll=SRC), nw_ttl=255)
case('ND neighbour solicitation without options',
     [eth(0x86dd), ip6(58, hlim=255), icmpv6.icmpv6(type_=135, code=0, data=icmpv6.nd_neighbor(dst='fe80::1'))],
     dict(ip6_fields(58), icmpv6_type=135, icmpv6_code=0, ipv6_nd_target='fe80::1'), nw_ttl=255)
case('ND neighbour advertisement with TLL',
     [eth(0x86dd), ip6(58, hlim=255),
      icmpv6.icmpv6(type_=136, code=0, data=icmpv6.nd_neighbor(res=0x6, dst='2001:db8::1',
                                                               option=icmpv6.nd_option_tla(hw_src=DST)))],
     dict(ip6_fields(58), icmpv6_type=136, icmpv6_code=0, ipv6_nd_target='2001:db8::1', ipv6_nd_tll=DST), nw_ttl=255)
case('ND advertisement with code 1 is not ND',
     [eth(0x86dd), ip6(58), icmpv6.icmpv6(type_=136, code=1, data=icmpv6.nd_neighbor(dst='2001:db8::1',
                                                                                    option=icmpv6.nd_option_tla(hw_src=DST)))],
     dict(ip6_fields(58), icmpv6_type=136, icmpv6_code=1), nw_ttl=64)
case('ND solicitation behind a hop-by-hop header',
     [eth(0x86dd), ip6(0, [ipv6.hop_opts(nxt=58)], hlim=255),
      icmpv6.icmpv6(type_=135, code=0, data=icmpv6.nd_neighbor(dst='2001:db8::7',
                                                               option=icmpv6.nd_option_sla(hw_src='02:00:00:00:00:07')))],
     dict(ip6_fields(58, HOP), icmpv6_type=135, icmpv6_code=0, ipv6_nd_target='2001:db8::7',
          ipv6_nd_sll='02:00:00:00:00:07'), nw_ttl=255)

for c in CASES:
    print(json.dumps(c))
