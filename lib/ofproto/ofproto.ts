/*
 * One OpenFlow switch per bridge (Open vSwitch's ofproto): its identity (datapath id,
 * description), its ports and switch configuration, and the handling of every request a
 * controller or ovs-ofctl sends it.
 *
 * This first switch answers the handshake and inventory requests (features, config, echo,
 * barrier, description, port descriptions). Everything it does not implement yet is refused
 * with the error the specification assigns: OFPBRC_BAD_TYPE for a message type,
 * OFPBRC_BAD_MULTIPART for a multipart type, OFPBRC_BAD_EXPERIMENTER for an experimenter.
 */
import {
  type MultipartReplyBody, type MultipartRequest, OFPBRC_BAD_EXPERIMENTER, OFPBRC_BAD_MULTIPART, OFPBRC_BAD_TYPE,
  OFPC_FLOW_STATS, OFPC_FRAG_MASK, OFPC_GROUP_STATS, OFPC_PORT_STATS, OFPC_QUEUE_STATS, OFPC_TABLE_STATS,
  OFPET_BAD_REQUEST, OfpError, type OfpMessage, splitMultipart,
} from '../../protocol/index.ts';
import { devicelessPort, localPort, macFromName, type OfPort } from './port.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('ofproto');

/** Packet-in buffers the switch offers (the seeds' pktbuf: 256 slots). */
export const PKTBUF_CNT = 256;
/** Tables reported in the features reply; table 255 is OFPTT_ALL and 254 is reserved, as in OVS. */
export const N_TABLES = 254;
const CAPABILITIES = OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_GROUP_STATS | OFPC_QUEUE_STATS;

/**
 * What ofproto needs of a connection (lib/connmgr's Ofconn provides it): a way to answer,
 * and the connection's own settings. Keeping it an interface keeps ofproto below connmgr.
 */
export interface OfprotoClient {
  readonly name: string;
  missSendLen: number;
  sendMessage(message: OfpMessage): void;
}

export interface SwitchDescription {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export interface OfprotoOptions {
  /** 64-bit datapath id; by default derived from the bridge's Ethernet address, as OVS does. */
  datapathId?: bigint;
  description?: Partial<SwitchDescription>;
  softwareVersion?: string;
}

function refuse(code: number, detail: string): never {
  throw new OfpError(OFPET_BAD_REQUEST, code, detail);
}

export class Ofproto {
  readonly hwAddr: string;
  readonly datapathId: bigint;
  readonly description: SwitchDescription;
  /** Switch-wide IP fragment handling (OFPC_FRAG_*), set by OFPT_SET_CONFIG. */
  fragHandling = 0;
  readonly ports = new Map<number, OfPort>();

  constructor(readonly name: string, options: OfprotoOptions = {}) {
    this.hwAddr = macFromName(name);
    this.datapathId = options.datapathId ?? BigInt(`0x${this.hwAddr.replaceAll(':', '')}`);
    this.description = {
      mfrDesc: 'ofswitch project', hwDesc: 'ofswitch', swDesc: options.softwareVersion ?? '0.0.0',
      serialNum: 'None', dpDesc: 'None', ...options.description,
    };
    const local = localPort(name, this.hwAddr);
    this.ports.set(local.portNo, local);
  }

  /**
   * Adds a port, numbered `requested` when that number is free, otherwise with the lowest
   * free number, as Open vSwitch honours ofport_request.
   */
  addPort(name: string, requested?: number): OfPort {
    for (const p of this.ports.values()) if (p.name === name) throw new Error(`port ${name} already exists`);
    let portNo = requested !== undefined && requested >= 1 && requested < 0xff00 && !this.ports.has(requested) ? requested : 1;
    while (this.ports.has(portNo)) portNo++;
    const port = devicelessPort(name, portNo);
    this.ports.set(portNo, port);
    return port;
  }

  handleMessage(conn: OfprotoClient, m: OfpMessage): void {
    switch (m.type) {
      case 'echo_request':
        conn.sendMessage({ type: 'echo_reply', xid: m.xid, data: m.data });
        return;
      case 'features_request':
        conn.sendMessage({
          type: 'features_reply', xid: m.xid, datapathId: this.datapathId, nBuffers: PKTBUF_CNT, nTables: N_TABLES,
          auxiliaryId: 0, capabilities: CAPABILITIES, reserved: 0,
        });
        return;
      case 'get_config_request':
        conn.sendMessage({ type: 'get_config_reply', xid: m.xid, flags: this.fragHandling, missSendLen: conn.missSendLen });
        return;
      case 'set_config':
        this.fragHandling = m.flags & OFPC_FRAG_MASK;
        conn.missSendLen = m.missSendLen;
        return;
      case 'barrier_request':
        // Requests are handled to completion in arrival order, so every earlier one is done.
        conn.sendMessage({ type: 'barrier_reply', xid: m.xid });
        return;
      case 'multipart_request':
        this.handleMultipart(conn, m);
        return;
      case 'echo_reply':
        return;
      case 'error':
        log.info(`${conn.name}: controller reported error type ${m.errType} code ${m.code}`);
        return;
      case 'experimenter': case 'bundle_control': case 'bundle_add':
        refuse(OFPBRC_BAD_EXPERIMENTER, `${m.type} is not supported yet`);
        break;
      default:
        refuse(OFPBRC_BAD_TYPE, `${m.type} is not supported yet`);
    }
  }

  private handleMultipart(conn: OfprotoClient, request: MultipartRequest): void {
    let body: MultipartReplyBody;
    switch (request.body.mpType) {
      case 'desc':
        body = { mpType: 'desc', ...this.description };
        break;
      case 'port_desc':
        body = { mpType: 'port_desc', ports: [...this.ports.values()].sort((a, b) => a.portNo - b.portNo) };
        break;
      default:
        refuse(OFPBRC_BAD_MULTIPART, `multipart ${request.body.mpType} is not supported yet`);
    }
    for (const part of splitMultipart({ type: 'multipart_reply', xid: request.xid, flags: 0, body })) conn.sendMessage(part);
  }
}
