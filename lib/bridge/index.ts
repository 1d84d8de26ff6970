/* Public surface of lib/bridge. */
export { Bridge, isValidBridgeName } from './bridge.ts';
