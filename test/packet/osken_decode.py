#!/usr/bin/python3
"""Decodes frames with os-ken's packet library, for test/packet/tags.test.ts: an independent
reading of the frames our push/pop actions produce.

Reads one hex frame per line on stdin; prints, per frame, one JSON line: the list of os-ken
protocol headers it decoded, each as {"protocol": <os-ken class name>, <attribute>: value}
(raw bytes left over are {"protocol": "bytes", "length": n}). An I-TAG directly after the
Ethernet header (ethertype 0x88e7) is registered here, as os-ken only knows it after an S-tag.
"""
import json
import sys

from os_ken.lib.packet import ethernet, packet, pbb
from os_ken.lib.packet.packet_base import PacketBase

ethernet.ethernet.register_packet_type(pbb.itag, 0x88e7)

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    headers = []
    for p in packet.Packet(bytes.fromhex(line)).protocols:
        if isinstance(p, PacketBase):
            ((name, attrs),) = p.to_jsondict().items()
            entry = {'protocol': name}
            entry.update({k: v for k, v in attrs.items() if isinstance(v, (int, str))})
            headers.append(entry)
        else:
            headers.append({'protocol': 'bytes', 'length': len(p)})
    print(json.dumps(headers))
