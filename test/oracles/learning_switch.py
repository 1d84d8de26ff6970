# An OpenFlow 1.3 learning switch for os-ken, the controller side of
# test/interop/osken-learning.test.ts (and of controller-reconnect and controller-tls). Run it with:
#
#   /usr/bin/osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port PORT \
#       test/oracles/learning_switch.py
#
# What it does, as a real controller would:
#  - on SWITCH_FEATURES: sends OFPT_SET_CONFIG with miss_send_len 128 (harmless for a switch
#    that dialled os-ken, whose primary connection gets packet-ins by default; a service
#    connection such as ofswitchd's br0.mgmt sends them only once a client asks with a
#    nonzero miss_send_len), deletes every flow of table 0, and installs the table-miss flow
#    (priority 0, empty match) sending the first 128 bytes of each packet to the controller
#    (so the switch buffers the packet and the packet-in carries a buffer_id);
#  - on PACKET_IN: learns (datapath, eth_src) -> in_port; if eth_dst is known, installs an
#    exact flow in_port,eth_dst,eth_src -> output:port (priority 100, idle_timeout 120) and
#    sends the packet there, otherwise floods it. The packet goes out with a PACKET_OUT that
#    names the switch's buffer when the packet-in was buffered, and carries the packet's
#    bytes when it was not.
#
# Every event is logged on stdout, one line each, flushed at once, for the test to read:
#   READY port=PORT                                    (the app is loaded)
#   FEATURES dpid=HEX n_buffers=N                      (a switch connected)
#   PACKET_IN dpid=HEX in_port=N src=MAC dst=MAC buffer_id=N total_len=N data_len=N reason=N
#   FLOW_ADD dpid=HEX in_port=N src=MAC dst=MAC out_port=N
#   PACKET_OUT dpid=HEX in_port=N out_port=N|FLOOD buffered=0|1
#   BARRIER_REPLY dpid=HEX                             (the configuration above is in place)
#   ERROR dpid=HEX type=N code=N
import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

FLOW_PRIORITY = 100
FLOW_IDLE_TIMEOUT = 120
MISS_LEN = 128


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


class LearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # dpid -> {mac: port}
        self.tables = {}
        say('READY')

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        self.tables[dp.id] = {}
        say('FEATURES dpid=%016x n_buffers=%d' % (dp.id, ev.msg.n_buffers))
        dp.send_msg(parser.OFPSetConfig(dp, ofp.OFPC_FRAG_NORMAL, MISS_LEN))
        dp.send_msg(parser.OFPFlowMod(
            dp, table_id=0, command=ofp.OFPFC_DELETE, out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY,
            match=parser.OFPMatch()))
        miss = [parser.OFPInstructionActions(
            ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, MISS_LEN)])]
        dp.send_msg(parser.OFPFlowMod(dp, priority=0, match=parser.OFPMatch(), instructions=miss))
        dp.send_msg(parser.OFPBarrierRequest(dp))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_barrier_reply(self, ev):
        say('BARRIER_REPLY dpid=%016x' % (ev.msg.datapath.id or 0))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_error(self, ev):
        say('ERROR dpid=%016x type=%d code=%d' % (ev.msg.datapath.id or 0, ev.msg.type, ev.msg.code))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        in_port = msg.match['in_port']
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        if eth is None:
            say('PACKET_IN dpid=%016x in_port=%d unparsable' % (dp.id, in_port))
            return
        buffered = msg.buffer_id != ofp.OFP_NO_BUFFER
        say('PACKET_IN dpid=%016x in_port=%d src=%s dst=%s buffer_id=%d total_len=%d data_len=%d reason=%d'
            % (dp.id, in_port, eth.src, eth.dst, msg.buffer_id, msg.total_len, len(msg.data), msg.reason))

        macs = self.tables.setdefault(dp.id, {})
        macs[eth.src] = in_port
        out_port = macs.get(eth.dst)
        if out_port == in_port:
            # Both ends behind the same port: nothing to forward.
            return
        if out_port is not None:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst, eth_src=eth.src)
            instructions = [parser.OFPInstructionActions(
                ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(out_port, 0)])]
            dp.send_msg(parser.OFPFlowMod(
                dp, priority=FLOW_PRIORITY, idle_timeout=FLOW_IDLE_TIMEOUT, match=match, instructions=instructions))
            say('FLOW_ADD dpid=%016x in_port=%d src=%s dst=%s out_port=%d' % (dp.id, in_port, eth.src, eth.dst, out_port))
            port = out_port
        else:
            port = ofp.OFPP_FLOOD
        dp.send_msg(parser.OFPPacketOut(
            dp, buffer_id=msg.buffer_id, in_port=in_port, actions=[parser.OFPActionOutput(port, 0)],
            data=None if buffered else msg.data))
        say('PACKET_OUT dpid=%016x in_port=%d out_port=%s buffered=%d'
            % (dp.id, in_port, 'FLOOD' if port == ofp.OFPP_FLOOD else str(port), 1 if buffered else 0))
