/*
 * The command line of ofs-vsctl, read as ovs-vsctl reads its own: global options first
 * (getopt_long with "+": option parsing stops at the first word that is not an option, long
 * options may be abbreviated to any unambiguous prefix, and an option's argument may follow
 * as the next word), then commands separated by `--`, each with its own options before its
 * name (`-- --if-exists del-br br0`). Per-command options given before the first command
 * (`--may-exist add-br br0`) belong to the first command.
 *
 * Errors carry ovs-vsctl's (and glibc getopt's) wording; the caller prints them after the
 * program name and exits with status 1.
 */
import type { TableStyle } from './table.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type HasArg = 'no' | 'required' | 'optional';

interface LongOption {
  name: string;
  hasArg: HasArg;
  short?: string;
  /** A per-command option (`--may-exist`): it goes to the first command. */
  local?: boolean;
}

const GLOBAL_OPTIONS: LongOption[] = [
  { name: 'db', hasArg: 'required' },
  { name: 'rundir', hasArg: 'required' },
  { name: 'no-syslog', hasArg: 'no' },
  { name: 'no-wait', hasArg: 'no' },
  { name: 'dry-run', hasArg: 'no' },
  { name: 'oneline', hasArg: 'no' },
  { name: 'timeout', hasArg: 'required', short: 't' },
  { name: 'retry', hasArg: 'no' },
  { name: 'help', hasArg: 'no', short: 'h' },
  { name: 'commands', hasArg: 'no' },
  { name: 'options', hasArg: 'no' },
  { name: 'leader-only', hasArg: 'no' },
  { name: 'no-leader-only', hasArg: 'no' },
  { name: 'shuffle-remotes', hasArg: 'no' },
  { name: 'no-shuffle-remotes', hasArg: 'no' },
  { name: 'version', hasArg: 'no', short: 'V' },
  { name: 'verbose', hasArg: 'optional', short: 'v' },
  { name: 'log-file', hasArg: 'optional' },
  { name: 'syslog-method', hasArg: 'required' },
  { name: 'syslog-target', hasArg: 'required' },
  { name: 'format', hasArg: 'required', short: 'f' },
  { name: 'data', hasArg: 'required', short: 'd' },
  { name: 'no-headings', hasArg: 'no' },
  { name: 'pretty', hasArg: 'no' },
  { name: 'bare', hasArg: 'no' },
  { name: 'max-column-width', hasArg: 'required' },
  { name: 'private-key', hasArg: 'required', short: 'p' },
  { name: 'certificate', hasArg: 'required', short: 'c' },
  { name: 'ca-cert', hasArg: 'required', short: 'C' },
  { name: 'ssl-protocols', hasArg: 'required' },
  { name: 'ssl-ciphers', hasArg: 'required' },
  { name: 'bootstrap-ca-cert', hasArg: 'required' },
  { name: 'peer-ca-cert', hasArg: 'required' },
];

export interface GlobalOptions {
  db?: string;
  rundir?: string;
  wait: boolean;
  dryRun: boolean;
  oneline: boolean;
  /** Seconds; 0 for none. */
  timeout: number;
  retry: boolean;
  style: TableStyle;
  action?: 'help' | 'version' | 'commands' | 'options';
  /** Per-command options given before the first command, as `--name` -> value (null without one). */
  localOptions: Map<string, string | null>;
  /** What follows the options: the commands. */
  rest: string[];
}

/**
 * Parses the global options. `localOptionSpecs` are the per-command options of every
 * command (`may-exist`, `columns=`, ...), which getopt accepts here too.
 */
export function parseGlobalOptions(argv: string[], localOptionSpecs: string[]): GlobalOptions {
  const options: LongOption[] = [...GLOBAL_OPTIONS];
  for (const spec of localOptionSpecs) {
    const name = spec.replace(/^--/, '').replace(/[=?]$/, '');
    if (options.some((o) => o.name === name)) continue;
    options.push({ name, hasArg: spec.endsWith('=') ? 'required' : spec.endsWith('?') ? 'optional' : 'no', local: true });
  }
  const out: GlobalOptions = {
    wait: true, dryRun: false, oneline: false, timeout: 0, retry: false,
    style: { format: 'list', cellFormat: 'string', headings: true, pretty: false, maxColumnWidth: 0 },
    localOptions: new Map(), rest: [],
  };
  const fail = (message: string): never => { throw new UsageError(message); };

  const apply = (o: LongOption, value: string | null): void => {
    if (o.local) {
      out.localOptions.set(`--${o.name}`, value);
      return;
    }
    switch (o.name) {
      case 'db': out.db = value!; break;
      case 'rundir': out.rundir = value!; break;
      case 'no-wait': out.wait = false; break;
      case 'dry-run': out.dryRun = true; break;
      case 'oneline': out.oneline = true; break;
      case 'retry': out.retry = true; break;
      case 'timeout':
        if (!/^\d+$/.test(value!) || Number(value) === 0 || Number(value) > 0xffffffff) fail(`value ${value} on -t or --timeout is invalid`);
        out.timeout = Number(value);
        break;
      case 'help': out.action ??= 'help'; break;
      case 'version': out.action ??= 'version'; break;
      case 'commands': out.action ??= 'commands'; break;
      case 'options': out.action ??= 'options'; break;
      case 'format':
        if (!['table', 'list', 'html', 'csv', 'json'].includes(value!)) fail(`unknown output format "${value}"`);
        out.style.format = value as TableStyle['format'];
        break;
      case 'data':
        if (!['string', 'bare', 'json'].includes(value!)) fail(`unknown data format "${value}"`);
        out.style.cellFormat = value as TableStyle['cellFormat'];
        break;
      case 'no-headings': out.style.headings = false; break;
      case 'pretty': out.style.pretty = true; break;
      case 'bare': out.style = { ...out.style, format: 'list', cellFormat: 'bare', headings: false }; break;
      case 'max-column-width': out.style.maxColumnWidth = Number.parseInt(value!, 10) || 0; break;
      default: break; // logging, syslog, SSL and clustering options: accepted, nothing to do here
    }
  };

  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') { i++; break; }
    if (!arg.startsWith('-') || arg === '-') break;
    i++;
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const inline = eq >= 0 ? body.slice(eq + 1) : null;
      let option = options.find((o) => o.name === name);
      if (!option) {
        const candidates = options.filter((o) => o.name.startsWith(name));
        if (candidates.length === 0) fail(`unrecognized option '${arg}'`);
        // Like getopt, prefixes of options that would be handled alike are not ambiguous.
        const alike = candidates.every((c) => c.local && candidates[0]!.local && c.hasArg === candidates[0]!.hasArg);
        if (candidates.length > 1 && !alike) fail(`option '${arg}' is ambiguous; possibilities:${candidates.map((c) => ` '--${c.name}'`).join('')}`);
        option = candidates[0]!;
      }
      let value: string | null = null;
      if (option.hasArg === 'no') {
        if (inline !== null) fail(`option '--${option.name}' doesn't allow an argument`);
      } else if (option.hasArg === 'optional') {
        value = inline;
      } else if (inline !== null) {
        value = inline;
      } else if (i < argv.length) {
        value = argv[i++]!;
      } else {
        fail(`option '--${option.name}' requires an argument`);
      }
      apply(option, value);
      continue;
    }
    // A cluster of short options: -t5, -t 5, -hV.
    for (let k = 1; k < arg.length; k++) {
      const c = arg[k]!;
      const option = options.find((o) => o.short === c);
      if (!option) fail(`invalid option -- '${c}'`);
      if (option!.hasArg === 'no') { apply(option!, null); continue; }
      const restOfWord = arg.slice(k + 1);
      if (restOfWord) apply(option!, restOfWord);
      else if (option!.hasArg === 'optional') apply(option!, null);
      else if (i < argv.length) apply(option!, argv[i++]!);
      else fail(`option requires an argument -- '${c}'`);
      break;
    }
  }
  out.rest = argv.slice(i);
  return out;
}

/** The shape of a command, as ovs-vsctl's ctl_command_syntax. */
export interface CommandSyntax<Context> {
  name: string;
  minArgs: number;
  maxArgs: number;
  arguments: string;
  /** Checks that need no database (table and column names); may throw. */
  prerequisites?: (ctx: Context) => void;
  run: (ctx: Context) => void;
  /** After a successful commit (create: print the row's real UUID). */
  postprocess?: (ctx: Context) => void;
  /** Allowed options, comma-separated: `--may-exist`, `--columns=` (takes a value), `--x?` (value optional). */
  options: string;
  mode: 'RO' | 'RW';
}

export interface ParsedCommand<Context> {
  syntax: CommandSyntax<Context>;
  /** argv[0] is the command's name. */
  argv: string[];
  options: Map<string, string | null>;
}

function parseCommand<C>(args: string[], localOptions: Map<string, string | null>, commands: Map<string, CommandSyntax<C>>): ParsedCommand<C> {
  const options = new Map(localOptions);
  let i = 0;
  for (; i < args.length; i++) {
    const option = args[i]!;
    if (!option.startsWith('-')) break;
    const eq = option.indexOf('=');
    const key = eq >= 0 ? option.slice(0, eq) : option;
    if (options.has(key)) throw new UsageError(`'${option}' option specified multiple times`);
    options.set(key, eq >= 0 ? option.slice(eq + 1) : null);
  }
  if (i === args.length) throw new UsageError('missing command name (use --help for help)');
  const name = args[i]!;
  const syntax = commands.get(name);
  if (!syntax) throw new UsageError(`unknown command '${name}'; use --help for help`);
  for (const [key, value] of options) {
    const at = syntax.options.indexOf(key);
    const end = at >= 0 ? (syntax.options[at + key.length] ?? '') : undefined;
    if (end === undefined || !'=,? '.includes(end)) throw new UsageError(`'${name}' command has no '${key}' option`);
    if (end !== '?' && (end === '=') !== (value !== null)) {
      if (end === '=') throw new UsageError(`missing argument to '${key}' option on '${name}' command`);
      throw new UsageError(`'${key}' option on '${name}' does not accept an argument`);
    }
  }
  const nArgs = args.length - i - 1;
  if (nArgs < syntax.minArgs) throw new UsageError(`'${syntax.name}' command requires at least ${syntax.minArgs} arguments`);
  if (nArgs > syntax.maxArgs) {
    if (args.slice(i + 1).some((a) => a.startsWith('-'))) {
      throw new UsageError(`'${syntax.name}' command takes at most ${syntax.maxArgs} arguments (note that options must precede command names and follow a "--" argument)`);
    }
    throw new UsageError(`'${syntax.name}' command takes at most ${syntax.maxArgs} arguments`);
  }
  return { syntax, argv: args.slice(i), options };
}

/** ctl_parse_commands(): splits at `--` and parses each command. */
export function parseCommands<C>(args: string[], localOptions: Map<string, string | null>, commands: Map<string, CommandSyntax<C>>): Array<ParsedCommand<C>> {
  const out: Array<ParsedCommand<C>> = [];
  let pending = localOptions;
  let start = 0;
  for (let i = 0; i <= args.length; i++) {
    if (i === args.length || args[i] === '--') {
      if (i > start) {
        out.push(parseCommand(args.slice(start, i), pending, commands));
        pending = new Map();
      } else if (pending.size) {
        throw new UsageError('missing command name (use --help for help)');
      }
      start = i + 1;
    }
  }
  if (!out.length) throw new UsageError('missing command name (use --help for help)');
  return out;
}

/** process_escape_args(): words joined by spaces, quoted where they hold spaces, quotes or backslashes. */
export function escapeArgs(words: string[]): string {
  return words.map((w) => (/[ \t\r\n\v\\'"]/.test(w) ? `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"` : w)).join(' ');
}
