#!/usr/bin/python3
"""The os-ken side of bench/codec.ts: decode and encode rates of os-ken's OpenFlow 1.3 parser
(Debian python3-os-ken; run with /usr/bin/python3, which has it).

Reads one JSON object on stdin, as bench/codec.ts writes it:

    {"runSeconds": 1.5, "repeats": 3, "warmupSeconds": 0.3,
     "messages": {"flow_mod": HEX, "packet_in": HEX}}

builds each message again with os-ken and exits 1 unless the bytes equal the ones given (so
both sides measure the same bytes), checks that os-ken parses them to the values it was built
from, then prints one JSON object on stdout:

    {"python": ..., "osken": ..., "rates": {NAME: {"decode": R, "encode": R or null}}, "notes": [...]}

Rates are messages per second: the median of `repeats` timed runs of `runSeconds` each, after
a `warmupSeconds` warm-up, timed with time.perf_counter().
    decode: ofproto_parser.header(buf), then ofproto_parser.msg(datapath, version, msg_type,
            msg_len, xid, buf), as os-ken's controller (Datapath._recv_loop) does.
    encode: msg.serialize() of the message object os-ken parsed from the bytes; serialize()
            starts a new msg.buf each call and packs every field and sub-object into it.
            None for PACKET_IN: os-ken has no serializer for it (OFPPacketIn has no
            _serialize_body, so serialize() would emit only the 8-byte header).
If os-ken cannot be imported, prints {"unavailable": REASON} and exits 0.
"""
import importlib.metadata
import json
import platform
import statistics
import struct
import sys
import time

try:
    from os_ken.lib.packet import ethernet, ipv4, packet, tcp
    from os_ken.ofproto import ofproto_parser
    from os_ken.ofproto import ofproto_v1_3 as ofp
    from os_ken.ofproto import ofproto_v1_3_parser as parser
except ImportError as e:
    print(json.dumps({'unavailable': '%s lacks os_ken (install python3-os-ken): %s' % (sys.executable, e)}))
    sys.exit(0)


class Datapath(object):
    """The stub datapath os-ken messages need: parsing and serialize() read only these."""
    ofproto = ofp
    ofproto_parser = parser
    id = 1


DP = Datapath()
BATCH = 200


# ---- the messages, as bench/codec.ts builds them ----

def tcp_frame():
    """10.0.0.1:51234 -> 10.1.2.7:80, an HTTP GET with PSH|ACK; os-ken fills lengths and checksums."""
    pkt = packet.Packet()
    pkt.add_protocol(ethernet.ethernet(dst='0a:1b:2c:3d:4e:5f', src='00:11:22:33:44:55', ethertype=0x0800))
    pkt.add_protocol(ipv4.ipv4(identification=0x1c46, flags=2, ttl=64, proto=6, src='10.0.0.1', dst='10.1.2.7'))
    pkt.add_protocol(tcp.tcp(src_port=51234, dst_port=80, seq=0x3b9aca01, ack=0xa001, bits=tcp.TCP_PSH | tcp.TCP_ACK,
                             window_size=502))
    pkt.add_protocol(b'GET /ip HTTP/1.1\r\nHost: 10.1.2.7\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n')
    pkt.serialize()
    return bytes(pkt.data)


def flow_mod():
    msg = parser.OFPFlowMod(
        DP, cookie=0x0123456789abcdef, cookie_mask=0, table_id=0, command=ofp.OFPFC_ADD, idle_timeout=60,
        hard_timeout=0, priority=1000, buffer_id=ofp.OFP_NO_BUFFER, out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY,
        flags=ofp.OFPFF_SEND_FLOW_REM,
        match=parser.OFPMatch(in_port=1, eth_type=0x0800, ip_proto=6, ipv4_dst=('10.1.2.0', '255.255.255.0'),
                              tcp_dst=80),
        instructions=[parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, [
            parser.OFPActionSetField(eth_dst='02:00:00:00:00:02'),
            parser.OFPActionOutput(2, 0),
        ])])
    msg.set_xid(0x1234)
    msg.serialize()
    return msg, bytes(msg.buf)


def packet_in():
    """Assembled from os-ken's layouts (OFPPacketIn cannot serialize); `msg` holds the values."""
    frame = tcp_frame()
    match = parser.OFPMatch(in_port=1)
    msg = parser.OFPPacketIn(DP, buffer_id=0x100, total_len=len(frame), reason=ofp.OFPR_NO_MATCH, table_id=0,
                             cookie=0, match=match, data=frame)
    match_buf = bytearray()
    match.serialize(match_buf, 0)
    body = (struct.pack(ofp.OFP_PACKET_IN_PACK_STR, msg.buffer_id, msg.total_len, msg.reason, msg.table_id, msg.cookie)
            + bytes(match_buf) + b'\x00\x00' + frame)
    header = struct.pack(ofp.OFP_HEADER_PACK_STR, ofp.OFP_VERSION, ofp.OFPT_PACKET_IN, ofp.OFP_HEADER_SIZE + len(body),
                         0x1235)
    return msg, header + body


BUILDERS = {'flow_mod': flow_mod, 'packet_in': packet_in}


# ---- measuring ----

def decode(buf):
    version, msg_type, msg_len, xid = ofproto_parser.header(buf)
    return ofproto_parser.msg(DP, version, msg_type, msg_len, xid, buf)


def timed_run(op, seconds):
    """Calls `op` in batches until `seconds` have passed; returns calls per second."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(BATCH):
            op()
        calls += BATCH
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def rate(op, cfg):
    timed_run(op, cfg['warmupSeconds'])
    return statistics.median(timed_run(op, cfg['runSeconds']) for _ in range(cfg['repeats']))


def fail(text):
    sys.stderr.write('osken_codec_bench: %s\n' % text)
    sys.exit(1)


def main():
    cfg = json.load(sys.stdin)
    rates = {}
    for name, hex_ in cfg['messages'].items():
        ours = bytes.fromhex(hex_)
        built, buf = BUILDERS[name]()
        if buf != ours:
            at = next((i for i, (a, b) in enumerate(zip(buf, ours)) if a != b), min(len(buf), len(ours)))
            fail('%s: os-ken builds different bytes (first difference at offset %d):\n  os-ken   %s\n  ofswitch %s'
                 % (name, at, buf.hex(), ours.hex()))
        parsed = decode(buf)
        if parsed is None or parsed.to_jsondict() != built.to_jsondict():
            fail('%s: os-ken does not parse the bytes back to the message it was built from' % name)
        if name == 'packet_in':
            encode = None
        else:
            parsed.serialize()
            if bytes(parsed.buf) != buf:
                fail('%s: os-ken re-serializes the parsed message to different bytes' % name)
            encode = parsed.serialize
        sys.stderr.write('os-ken %s...\n' % name)
        rates[name] = {'decode': rate(lambda: decode(buf), cfg),
                       'encode': None if encode is None else rate(encode, cfg)}
    print(json.dumps({
        'python': platform.python_version(),
        'osken': importlib.metadata.version('os-ken'),
        'rates': rates,
        'notes': ['os-ken encode of packet_in: n/a, os-ken has no PACKET_IN serializer '
                  '(a controller never sends one).'],
    }))


if __name__ == '__main__':
    main()
