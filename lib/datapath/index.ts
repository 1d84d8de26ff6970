/* Public surface of lib/datapath: the embedded datapath and its actions. */
export type { DpAction, PacketInSpec } from './actions.ts';
export { Datapath, DpBridge, type DpStats, type DpTranslation, Megaflow, MEGAFLOW_IDLE_MS, type UpcallHandler } from './datapath.ts';
export { type ActionSink, applyHeaderAction, executeActions, HEADER_ACTIONS, POP_ACTIONS } from './execute.ts';
