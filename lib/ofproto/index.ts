/* Public surface of lib/ofproto: the OpenFlow switch of one bridge. */
export { type AsyncKind, type AsyncSink, N_TABLES, Ofproto, type OfprotoClient, type OfprotoOptions, PKTBUF_CNT, type SwitchDescription } from './ofproto.ts';
export { devicelessPort, localPort, macFromName, type OfPort } from './port.ts';
