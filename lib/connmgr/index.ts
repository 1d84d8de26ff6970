/* Public surface of lib/connmgr: connection targets, connections and the per-bridge manager. */
export { ConnectionManager } from './connmgr.ts';
export { type AsyncKind, defaultAsyncConfig, describeVersions, Ofconn, type OfconnHandler, type OfconnState, type OfconnType, peerVersions } from './ofconn.ts';
export { PassiveListener } from './pvconn.ts';
export { OFP_PORT, parseTarget, type Target, TargetError } from './target.ts';
