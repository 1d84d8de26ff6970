/* Public surface of lib/vsctl: ofs-vsctl, Open vSwitch's ovs-vsctl for ofswitch. */
export { PROGRAM, runVsctl, TIMEOUT_STATUS, type VsctlIo } from './vsctl.ts';
export { COMMANDS } from './commands.ts';
