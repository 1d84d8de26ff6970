/* Public surface of lib/unixctl: the management socket, its client, and the daemon's commands. */
export { UnixctlClient, UnixctlCommandError, unixctlCommand } from './client.ts';
export { type DaemonContext, registerCommands } from './commands.ts';
export { FlowSyntaxError, PacketSyntaxError, parseTraceFlow, type TraceFlow } from './flow-parse.ts';
export { formatDpActions, formatFlow, formatMatch } from './flow-format.ts';
export { JsonStreamParser, type UnixctlReply, type UnixctlRequest } from './jsonrpc.ts';
export {
  type CommandHandler, type CommandOutput, type CommandRequest, type CommandSpec, type OutputFormat, UnixctlError,
  UnixctlServer, type UnixctlServerOptions,
} from './server.ts';
export { traceFlow, traceFlowKey, type TraceReport, traceText } from './trace.ts';
