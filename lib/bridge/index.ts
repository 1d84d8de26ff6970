/* Public surface of lib/bridge. */
export { Bridge, defaultDatapath, isValidBridgeName, type PortRequest } from './bridge.ts';
export { Vswitch, type VswitchOptions } from './vswitch.ts';
