/*
 * lib/netdev: port back ends behind one provider interface (Open vSwitch's lib/netdev*.c).
 * The datapath opens a device with openNetdev(type, name, options) and talks to it only
 * through the Netdev interface; the concrete classes are exported for their extra read-only
 * state (a stream's bound port, a patch's peer name) and for instanceof checks.
 */
export {
  BUILTIN_NETDEV_PROVIDERS, hwAddrForName, NetdevError, NetdevRegistry, netdevRegistry, openNetdev,
  type Netdev, type NetdevContext, type NetdevErrorCode, type NetdevProvider, type NetdevStats,
} from './netdev.ts';
export { StreamNetdev, type StreamCoverage } from './stream.ts';
export { PatchNetdev } from './patch.ts';
