/*
 * The management socket of a daemon (Open vSwitch's lib/unixctl.c): a unix socket,
 * `<rundir>/ofswitchd.ctl` by default, on which `ofs-appctl` (or Open vSwitch's own
 * `ovs-appctl -t PATH`) sends JSON-RPC requests naming a command and its arguments (see
 * jsonrpc.ts), and gets back the command's output or an error.
 *
 * Commands are registered by name with the number of arguments they take, a usage string
 * and a line of help; the server checks the argument count before a command runs, with Open
 * vSwitch's wording. A command returns its output as text, and optionally as structured data:
 * a connection that sent `set-options --format json` gets the data instead of the text.
 * A command refuses bad input by throwing UnixctlError, whose message is the one-line error
 * the client prints.
 *
 * Built in: `list-commands`, `help COMMAND`, `set-options`, and `version` when the server is
 * given one. Requests on one connection are answered in order, one at a time.
 */
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Vlog } from '../util/vlog.ts';
import { isRequest, JsonStreamError, JsonStreamParser, type UnixctlReply, type UnixctlRequest } from './jsonrpc.ts';

const log = new Vlog('unixctl');

/** How a connection wants results: the text, or the structured data. */
export type OutputFormat = 'text' | 'json';

/** What a command returns. `data` stands for the output in JSON mode; without it, the text does. */
export interface CommandOutput {
  text: string;
  data?: unknown;
  /** Runs once the reply has been written (e.g. `exit` stops the daemon after answering). */
  afterReply?: () => void;
}

export interface CommandRequest {
  args: string[];
  format: OutputFormat;
}

export type CommandHandler = (request: CommandRequest) => CommandOutput | Promise<CommandOutput>;

export interface CommandSpec {
  name: string;
  /** The arguments, as `list-commands` shows them: "bridge flow [packet]". */
  usage: string;
  minArgs: number;
  maxArgs: number;
  /** One line saying what the command does. */
  help: string;
  handler: CommandHandler;
}

/** A command's refusal: the message goes back to the client as the reply's error. */
export class UnixctlError extends Error {}

export interface UnixctlServerOptions {
  /** Answered by the `version` command, when given. */
  version?: string;
}

export class UnixctlServer {
  private readonly commands = new Map<string, CommandSpec>();
  private readonly sockets = new Set<Socket>();

  private constructor(readonly path: string, private readonly server: Server, options: UnixctlServerOptions) {
    this.register({
      name: 'list-commands', usage: '', minArgs: 0, maxArgs: 0, help: 'list the commands this daemon accepts',
      handler: () => this.listCommands(),
    });
    this.register({
      name: 'help', usage: 'command', minArgs: 1, maxArgs: 1, help: 'show what a command does and its arguments',
      handler: ({ args }) => {
        const spec = this.commands.get(args[0]!);
        if (!spec) throw new UnixctlError(`"${args[0]}" is not a valid command (use "list-commands" to see a list of valid commands)`);
        return { text: `${spec.name} ${spec.usage}\n  ${spec.help}\n`, data: commandInfo(spec) };
      },
    });
    this.register({
      name: 'set-options', usage: '[--format text|json]', minArgs: 0, maxArgs: 2, help: 'set options of this connection (output format)',
      // Handled by the connection itself (it changes the connection's state); listed here for list-commands.
      handler: () => ({ text: '' }),
    });
    if (options.version !== undefined) {
      const version = options.version;
      this.register({
        name: 'version', usage: '', minArgs: 0, maxArgs: 0, help: 'show the daemon\'s version',
        handler: () => ({ text: `ofswitchd (ofswitch) ${version}\n`, data: { version } }),
      });
    }
  }

  /**
   * Listens on `path` (creating its directory). A socket file already there is removed first,
   * as Open vSwitch does: a live daemon would hold its own, differently named socket.
   */
  static async listen(path: string, options: UnixctlServerOptions = {}): Promise<UnixctlServer> {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) unlinkSync(path);
    const server = createServer();
    const unixctl = new UnixctlServer(path, server, options);
    server.on('connection', (socket) => unixctl.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return unixctl;
  }

  /** Adds a command; its name must be new. */
  register(spec: CommandSpec): void {
    if (this.commands.has(spec.name)) throw new Error(`unixctl command ${spec.name} is already registered`);
    if (spec.minArgs < 0 || spec.maxArgs < spec.minArgs) throw new Error(`unixctl command ${spec.name}: bad argument counts`);
    this.commands.set(spec.name, spec);
  }

  /** Runs a command as a request would (for tests and in-process callers). */
  async run(method: string, params: unknown[], format: OutputFormat = 'text'): Promise<CommandOutput> {
    const spec = this.commands.get(method);
    if (!spec) throw new UnixctlError(`"${method}" is not a valid command (use "list-commands" to see a list of valid commands)`);
    if (params.length < spec.minArgs) throw new UnixctlError(`"${method}" command requires at least ${spec.minArgs} arguments`);
    if (params.length > spec.maxArgs) throw new UnixctlError(`"${method}" command takes at most ${spec.maxArgs} arguments`);
    if (params.some((p) => typeof p !== 'string')) throw new UnixctlError(`"${method}" command has non-string argument`);
    return spec.handler({ args: params as string[], format });
  }

  private listCommands(): CommandOutput {
    const specs = [...this.commands.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const lines = specs.map((s) => `  ${s.name.padEnd(23)} ${s.usage}`.trimEnd());
    return { text: `The available commands are:\n${lines.join('\n')}\n`, data: specs.map(commandInfo) };
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    const parser = new JsonStreamParser();
    let format: OutputFormat = 'text';
    // Requests run one after the other, in arrival order, even when a command is asynchronous.
    let queue = Promise.resolve();
    const send = (reply: UnixctlReply, after?: () => void): void => {
      if (socket.destroyed) return;
      socket.write(`${JSON.stringify(reply)}\n`, () => after?.());
    };
    const handle = async (request: UnixctlRequest): Promise<void> => {
      const params = Array.isArray(request.params) ? request.params : [];
      if (request.method === 'set-options') {
        try {
          format = parseSetOptions(params);
          send({ result: format === 'json' ? {} : '', error: null, id: request.id });
        } catch (e) {
          send({ result: null, error: (e as Error).message, id: request.id });
        }
        return;
      }
      try {
        const output = await this.run(request.method, params, format);
        send({ result: format === 'json' ? (output.data ?? output.text) : output.text, error: null, id: request.id }, output.afterReply);
      } catch (e) {
        if (!(e instanceof UnixctlError)) log.warn(`${request.method}: ${(e as Error).stack ?? String(e)}`);
        const message = e instanceof UnixctlError ? e.message : `internal error: ${(e as Error).message}`;
        send({ result: null, error: message, id: request.id });
      }
    };
    socket.on('data', (text: string) => {
      let messages: unknown[];
      try {
        messages = parser.feed(text);
      } catch (e) {
        if (!(e instanceof JsonStreamError)) throw e;
        log.warn(`unixctl connection: ${e.message}; closing it`);
        socket.destroy();
        return;
      }
      for (const message of messages) {
        // Replies and notifications (no id) need no answer; anything else that is not a request is ignored.
        if (!isRequest(message) || message.id === null) continue;
        queue = queue.then(() => handle(message));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Stops listening, closes every connection and removes the socket file. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (existsSync(this.path)) unlinkSync(this.path);
  }
}

function commandInfo(spec: CommandSpec): { name: string; usage: string; help: string; minArgs: number; maxArgs: number } {
  return { name: spec.name, usage: spec.usage, help: spec.help, minArgs: spec.minArgs, maxArgs: spec.maxArgs };
}

/** `set-options [--format text|json]` (or `--format=json`): the output format it asks for. */
function parseSetOptions(params: unknown[]): OutputFormat {
  let format: OutputFormat = 'text';
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (typeof p !== 'string') throw new UnixctlError('"set-options" command has non-string argument');
    const [name, inline] = p.includes('=') ? [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] : [p, undefined];
    if (name !== '--format' && name !== '-f') throw new UnixctlError(`set-options: unknown option "${p}"`);
    const value = inline ?? params[++i];
    if (value !== 'text' && value !== 'json') throw new UnixctlError(`set-options: unknown format "${String(value)}" (text or json)`);
    format = value;
  }
  return format;
}
