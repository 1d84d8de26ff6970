/* Public surface of lib/connmgr: connection targets, transports, connections and the per-bridge manager. */
export {
  ConnectionManager, type ConnmgrHandler, type ConnmgrOptions, type ControllerConfig, type ControllerStatus, type FailMode,
} from './connmgr.ts';
export {
  type AsyncKind, defaultAsyncConfig, describeVersions, Ofconn, type OfconnHandler, type OfconnState, type OfconnType,
  PACKET_IN_QUEUE_BYTES, type PacketInLimit, peerVersions,
} from './ofconn.ts';
export { PassiveListener } from './pvconn.ts';
export { DEFAULT_MAX_BACKOFF_MS, DEFAULT_PROBE_INTERVAL_MS, Rconn, type RconnState, type RconnStatus } from './rconn.ts';
export { OFP_PORT, parseTarget, type Target, TargetError } from '../util/target.ts';
export { openActive, type TlsSettings, VconnError } from './vconn.ts';
