/* Public surface of lib/bridge. */
export { Bridge, isValidBridgeName, type PortRequest } from './bridge.ts';
