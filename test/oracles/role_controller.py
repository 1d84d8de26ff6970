# An os-ken app driven line by line from its stdin, for test/interop/controller-roles.test.ts:
# a real controller that sends OpenFlow 1.3 role requests, flow-mods and async configuration
# when the test says so, and reports everything the switch sends back on stdout. Run it with:
#
#   /usr/bin/osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port PORT \
#       test/oracles/role_controller.py
#
# Commands (one per line on stdin), each acknowledged with `SENT <command> xid=N`:
#   role master|slave|equal|nochange GENERATION   OFPT_ROLE_REQUEST
#   flow_mod PRIORITY                             OFPT_FLOW_MOD (add priority=PRIORITY, empty
#                                                 match -> CONTROLLER:128; with priority 0, the
#                                                 table-miss flow), then a barrier
#   set_async PIN_M PIN_S PS_M PS_S FR_M FR_S     OFPT_SET_ASYNC (masks as numbers), then a barrier
#   get_async                                     OFPT_GET_ASYNC_REQUEST
#
# Events (one line each, flushed at once):
#   READY                                   (the app is loaded)
#   FEATURES dpid=HEX                       (a switch connected)
#   ROLE_REPLY xid=N role=NAME generation_id=N
#   ERROR xid=N type=N code=N
#   BARRIER_REPLY xid=N
#   EXPERIMENTER xid=N experimenter=0xHEX exp_type=N data=HEX   (e.g. ONF role status)
#   GET_ASYNC_REPLY xid=N packet_in=M,S port_status=M,S flow_removed=M,S
#   PACKET_IN reason=N in_port=N
#   BAD_COMMAND ...
import errno
import os
import sys

from eventlet import hubs
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, HANDSHAKE_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

ROLES = {'nochange': 0, 'equal': 1, 'master': 2, 'slave': 3}
ROLE_NAMES = {v: k for k, v in ROLES.items()}
ALL = [HANDSHAKE_DISPATCHER, CONFIG_DISPATCHER, MAIN_DISPATCHER]


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


class RoleController(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dp = None
        hub.spawn(self._commands)
        say('READY')

    def _lines(self):
        fd = sys.stdin.fileno()
        os.set_blocking(fd, False)
        pending = b''
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError as e:
                if e.errno != errno.EAGAIN:
                    raise
                hubs.trampoline(fd, read=True)
                continue
            if not chunk:
                return
            pending += chunk
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                yield line.decode().strip()

    def _commands(self):
        for line in self._lines():
            if not line:
                continue
            try:
                self._command(line)
            except Exception as e:  # a test's typo must show, not kill the app
                say('BAD_COMMAND %s (%s)' % (line, e))

    def _send(self, line, msg):
        self.dp.set_xid(msg)
        self.dp.send_msg(msg)
        say('SENT %s xid=%d' % (line, msg.xid))

    def _barrier(self):
        msg = self.dp.ofproto_parser.OFPBarrierRequest(self.dp)
        self._send('barrier', msg)

    def _command(self, line):
        words = line.split()
        dp = self.dp
        if dp is None:
            say('BAD_COMMAND %s (no switch)' % line)
            return
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        if words[0] == 'role':
            self._send(line, parser.OFPRoleRequest(dp, ROLES[words[1]], int(words[2])))
        elif words[0] == 'flow_mod':
            actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, 128)]
            self._send(line, parser.OFPFlowMod(
                dp, priority=int(words[1]), match=parser.OFPMatch(),
                instructions=[parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]))
            self._barrier()
        elif words[0] == 'set_async':
            m = [int(w, 0) for w in words[1:7]]
            self._send(line, parser.OFPSetAsync(dp, [m[0], m[1]], [m[2], m[3]], [m[4], m[5]]))
            self._barrier()
        elif words[0] == 'get_async':
            self._send(line, parser.OFPGetAsyncRequest(dp))
        else:
            say('BAD_COMMAND %s' % line)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        self.dp = ev.msg.datapath
        say('FEATURES dpid=%016x' % self.dp.id)

    @set_ev_cls(ofp_event.EventOFPRoleReply, MAIN_DISPATCHER)
    def on_role_reply(self, ev):
        msg = ev.msg
        say('ROLE_REPLY xid=%d role=%s generation_id=%d' % (msg.xid, ROLE_NAMES.get(msg.role, str(msg.role)), msg.generation_id))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, ALL)
    def on_error(self, ev):
        say('ERROR xid=%d type=%d code=%d' % (ev.msg.xid, ev.msg.type, ev.msg.code))

    @set_ev_cls(ofp_event.EventOFPBarrierReply, MAIN_DISPATCHER)
    def on_barrier_reply(self, ev):
        say('BARRIER_REPLY xid=%d' % ev.msg.xid)

    @set_ev_cls(ofp_event.EventOFPExperimenter, ALL)
    def on_experimenter(self, ev):
        msg = ev.msg
        say('EXPERIMENTER xid=%d experimenter=0x%08x exp_type=%d data=%s'
            % (msg.xid, msg.experimenter, msg.exp_type, bytes(msg.data).hex()))

    @set_ev_cls(ofp_event.EventOFPGetAsyncReply, MAIN_DISPATCHER)
    def on_get_async_reply(self, ev):
        msg = ev.msg
        say('GET_ASYNC_REPLY xid=%d packet_in=%d,%d port_status=%d,%d flow_removed=%d,%d' % (
            msg.xid, msg.packet_in_mask[0], msg.packet_in_mask[1], msg.port_status_mask[0],
            msg.port_status_mask[1], msg.flow_removed_mask[0], msg.flow_removed_mask[1]))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        say('PACKET_IN reason=%d in_port=%d' % (ev.msg.reason, ev.msg.match['in_port']))
