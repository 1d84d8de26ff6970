/*
 * One run of ofs-vsctl, as ovs-vsctl's main() and do_vsctl() do it:
 *
 *  1. parse the global options and the commands (errors: exit 1 before touching anything);
 *  2. run each command's prerequisites (unknown tables and columns fail here, before the
 *     database is contacted);
 *  3. connect to the database socket (`--db=unix:PATH`, default `unix:<rundir>/db.sock`),
 *     read every row, and run the commands in order against that replica, all inside one
 *     transaction; the first failing command ends the run with exit status 1 and nothing is
 *     committed;
 *  4. commit: checked locally as ovsdb-server would, then sent; unless --no-wait the
 *     daemon's answer comes once it has applied the change, and Open_vSwitch.next_cfg is
 *     bumped so that its cur_cfg follows, as with ovs-vswitchd. Read-only runs send nothing;
 *  5. print each command's output, in order; then, after a waited-for commit, report
 *     interfaces the daemon could not set up (ofport -1), as ovs-vsctl does.
 *
 * If the database changed between the read and the commit and the commit failed, the whole
 * run starts over from a fresh read (ovs-vsctl's "try again"); `wait-until` does the same
 * until its condition holds. `-t SECS` bounds the whole run.
 */
import { DbClient, DbClientError } from '../config/index.ts';
import { COMMANDS, COMMANDS_BY_NAME, type Context, VsctlError, VsctlExit, invalidBridgeName } from './commands.ts';
import type { SymbolTable } from './data.ts';
import { Idl, TransactionError } from './idl.ts';
import { escapeArgs, type GlobalOptions, type ParsedCommand, parseCommands, parseGlobalOptions, UsageError } from './options.ts';
import { TablePrinter } from './table.ts';
import { TABLES } from './schema.ts';

export interface VsctlIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Used when neither --rundir nor $OFSWITCH_RUNDIR is given. */
  defaultRundir: string;
  version: string;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const PROGRAM = 'ofs-vsctl';
/** Exit status when -t expires (what a shell reports for ovs-vsctl killed by SIGALRM). */
export const TIMEOUT_STATUS = 142;

const RETRIES_AFTER_CONFLICT = 5;
const WAIT_UNTIL_POLL_MS = 100;

function usage(rundir: string): string {
  return `${PROGRAM}: ofswitchd configuration utility (Open vSwitch's ovs-vsctl)
usage: ${PROGRAM} [OPTIONS] COMMAND [ARG...]

Open vSwitch commands:
  init                        initialize database, if not yet initialized
  show                        print overview of database contents
  emer-reset                  reset configuration to clean state

Bridge commands:
  add-br BRIDGE               create a new bridge named BRIDGE
  del-br BRIDGE               delete BRIDGE and all of its ports
  list-br                     print the names of all the bridges
  br-exists BRIDGE            exit 2 if BRIDGE does not exist
  br-to-vlan BRIDGE           print the VLAN which BRIDGE is on
  br-to-parent BRIDGE         print the parent of BRIDGE
  br-set-external-id BRIDGE KEY VALUE  set KEY on BRIDGE to VALUE
  br-set-external-id BRIDGE KEY  unset KEY on BRIDGE
  br-get-external-id BRIDGE KEY  print value of KEY on BRIDGE
  br-get-external-id BRIDGE  list key-value pairs on BRIDGE

Port commands (a bond is considered to be a single port):
  list-ports BRIDGE           print the names of all the ports on BRIDGE
  add-port BRIDGE PORT        add network device PORT to BRIDGE
  add-bond BRIDGE PORT IFACE...  add bonded port PORT in BRIDGE from IFACES
  del-port [BRIDGE] PORT      delete PORT (which may be bonded) from BRIDGE
  port-to-br PORT             print name of bridge that contains PORT

Interface commands (a bond consists of multiple interfaces):
  list-ifaces BRIDGE          print the names of all interfaces on BRIDGE
  iface-to-br IFACE           print name of bridge that contains IFACE

Controller commands:
  get-controller BRIDGE      print the controllers for BRIDGE
  del-controller BRIDGE      delete the controllers for BRIDGE
  [--inactivity-probe=MSECS]
  set-controller BRIDGE TARGET...  set the controllers for BRIDGE
  get-fail-mode BRIDGE       print the fail-mode for BRIDGE
  del-fail-mode BRIDGE       delete the fail-mode for BRIDGE
  set-fail-mode BRIDGE MODE  set the fail-mode for BRIDGE to MODE

Database commands:
  list TBL [REC]              list RECord (or all records) in TBL
  find TBL CONDITION...       list records satisfying CONDITION in TBL
  get TBL REC COL[:KEY]       print values of COLumns in RECord in TBL
  set TBL REC COL[:KEY]=VALUE set COLumn values in RECord in TBL
  add TBL REC COL [KEY=]VALUE add (KEY=)VALUE to COLumn in RECord in TBL
  remove TBL REC COL [KEY=]VALUE  remove (KEY=)VALUE from COLumn
  clear TBL REC COL           clear values from COLumn in RECord in TBL
  create TBL COL[:KEY]=VALUE  create and initialize new record
  destroy TBL REC             delete RECord from TBL
  wait-until TBL REC [COL[:KEY]=VALUE]  wait until condition is true
Database commands may reference a row in each table in the following ways:
${TABLES.map((t) => `  ${t.name}:\n    by UUID${t.maxRows === 1 ? '\n    as "."' : ''}${t.rowIds.map((id) => (id.uuidColumn ? `\n    via "${id.uuidColumn}" of ${id.table} with matching "${id.nameColumn}"` : `\n    by "${id.nameColumn}"`)).join('')}`).join('\n')}

Options:
  --db=DATABASE               connect to DATABASE
                              (default: unix:${rundir}/db.sock)
  --rundir=DIR                the daemon's run directory (default: $OFSWITCH_RUNDIR or the project's var/run)
  --no-wait                   do not wait for ofswitchd to reconfigure
  --retry                     keep trying to connect to server forever
  -t, --timeout=SECS          wait at most SECS seconds for ofswitchd
  --dry-run                   do not commit changes to database
  --oneline                   print exactly one line of output per command

Output formatting options:
  -f, --format=FORMAT         set output formatting to FORMAT
                              ("table", "html", "csv", or "json")
  -d, --data=FORMAT           set table cell output formatting to
                              FORMAT ("string", "bare", or "json")
  --no-headings               omit table heading row
  --pretty                    pretty-print JSON in output
  --bare                      equivalent to "--format=list --data=bare --no-headings"

Other options:
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

/** ovs-vsctl's vlog line for a warning on the console. */
function vlogLine(seq: number, module: string, message: string): string {
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${time}|${String(seq).padStart(5, '0')}|${module}|WARN|${message}\n`;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ENAMETOOLONG: 'File name too long',
  ETIMEDOUT: 'Connection timed out',
  EAFNOSUPPORT: 'Address family not supported by protocol',
};

async function connect(db: string): Promise<DbClient> {
  let lastCode = 'EAFNOSUPPORT';
  for (const remote of db.split(',')) {
    if (!remote.startsWith('unix:')) continue;
    try {
      return await DbClient.connect(remote.slice('unix:'.length));
    } catch (e) {
      const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
      const text = (e as Error).message;
      lastCode = cause?.code ?? (/No such file/.test(text) ? 'ENOENT' : /ECONNREFUSED/.test(text) ? 'ECONNREFUSED' : /EACCES/.test(text) ? 'EACCES' : /ENOTDIR/.test(text) ? 'ENOTDIR' : 'ECONNREFUSED');
    }
  }
  throw new VsctlError(`${db}: database connection failed (${ERRNO_TEXT[lastCode] ?? lastCode})`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface RunResult {
  status: 'done' | 'try-again' | 'conflict';
  stdout: string;
  /** Interfaces the daemon could not set up: [name, error]. */
  setupErrors: Array<[string, string]>;
}

export async function runVsctl(io: VsctlIo): Promise<number> {
  let warnings = 0;
  const warn = (message: string, module = 'vsctl'): void => io.stderr(vlogLine(++warnings, module, message));
  const fail = (message: string): number => {
    io.stderr(`${PROGRAM}: ${message.replace(/\n+$/, '').replace(/\n/g, ' ')}\n`);
    return 1;
  };

  let options: GlobalOptions;
  let commands: Array<ParsedCommand<Context>>;
  const localSpecs = [...new Set(COMMANDS.flatMap((c) => c.options.split(',').filter(Boolean)))];
  const rundirOf = (o?: GlobalOptions): string => o?.rundir ?? (io.env.OFSWITCH_RUNDIR || io.defaultRundir);
  try {
    options = parseGlobalOptions(io.argv, localSpecs);
    switch (options.action) {
      case 'help': io.stdout(usage(rundirOf(options))); return 0;
      case 'version': io.stdout(`${PROGRAM} (ofswitch) ${io.version}\n`); return 0;
      case 'commands':
        io.stdout(COMMANDS.map((c) => `${c.options.split(',').filter(Boolean).map((o) => `[${o}] `).join('')},${c.name},${c.arguments}\n`).join(''));
        return 0;
      case 'options':
        io.stdout(['db', 'rundir', 'no-wait', 'dry-run', 'oneline', 'timeout', 'retry', 'help', 'version', 'format', 'data', 'no-headings', 'pretty', 'bare', 'max-column-width']
          .map((o) => `--${o}${['db', 'rundir', 'timeout', 'format', 'data', 'max-column-width'].includes(o) ? '=ARG' : ''}\n`).join(''));
        return 0;
      default: break;
    }
    commands = parseCommands(options.rest, options.localOptions, COMMANDS_BY_NAME);
  } catch (e) {
    if (e instanceof UsageError || e instanceof VsctlError) return fail(e.message);
    throw e;
  }

  const newContext = (c: ParsedCommand<Context>, base: Partial<Context>): Context => ({
    idl: undefined as unknown as Context['idl'], ovs: undefined as unknown as Context['ovs'], symtab: new Map(),
    argv: c.argv, options: c.options, output: '', lastCommand: false, tryAgain: false, newInterfaces: [], warn,
    realUuid: () => undefined, ...base,
  });
  try {
    for (const c of commands) c.syntax.prerequisites?.(newContext(c, {}));
  } catch (e) {
    if (e instanceof VsctlError) return fail(e.message);
    throw e;
  }

  const db = options.db ?? `unix:${rundirOf(options)}/db.sock`;
  let timeout = options.timeout;
  if (!timeout && io.env.OVS_CTL_TIMEOUT && /^\d+$/.test(io.env.OVS_CTL_TIMEOUT)) timeout = Number(io.env.OVS_CTL_TIMEOUT);
  let timedOut: (() => void) | undefined;
  const expired = new Promise<number>((resolve) => {
    timedOut = () => {
      fail(`timed out after ${timeout} seconds waiting for ${db}`);
      resolve(TIMEOUT_STATUS);
    };
  });
  const timer = timeout ? setTimeout(() => timedOut!(), timeout * 1000) : undefined;

  let client: DbClient | undefined;
  const work = async (): Promise<number> => {
    for (;;) {
      try {
        client = await connect(db);
        break;
      } catch (e) {
        if (!options.retry) throw e;
        await sleep(500);
      }
    }
    const args = escapeArgs(io.argv);
    for (let attempt = 0; ; attempt++) {
      const result = await doVsctl(client, commands, options, args, warn, newContext, attempt >= RETRIES_AFTER_CONFLICT);
      if (result.status === 'done') {
        io.stdout(result.stdout);
        for (const [name, error] of result.setupErrors) {
          io.stderr(`${PROGRAM}: Error detected while setting up '${name}'${error ? `: ${error}` : ''}.  See ofswitchd log for details.\n`);
        }
        return 0;
      }
      if (result.status === 'try-again') await sleep(WAIT_UNTIL_POLL_MS);
    }
  };
  try {
    return await Promise.race([work(), expired]);
  } catch (e) {
    if (e instanceof VsctlExit) return e.status;
    if (e instanceof VsctlError || e instanceof TransactionError) return fail(e.message);
    if (e instanceof DbClientError) return fail(`${db}: ${e.message}`);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    client?.close();
  }
}

async function doVsctl(
  client: DbClient, commands: Array<ParsedCommand<Context>>, options: GlobalOptions, args: string,
  warn: (message: string, module?: 'vsctl' | 'db_ctl_base') => void, newContext: (c: ParsedCommand<Context>, base: Partial<Context>) => Context, lastAttempt: boolean,
): Promise<RunResult> {
  const dump = await client.dump();
  const idl = Idl.fromDump(dump);
  const symtab: SymbolTable = new Map();
  const ovs = idl.rows('Open_vSwitch')[0] ?? idl.insert('Open_vSwitch');
  const newInterfaces: string[] = [];
  const contexts = commands.map((c, i) => newContext(c, { idl, ovs, symtab, newInterfaces, lastCommand: i === commands.length - 1 }));
  for (const [i, ctx] of contexts.entries()) {
    commands[i]!.syntax.run(ctx);
    if (ctx.tryAgain) return { status: 'try-again', stdout: '', setupErrors: [] };
  }
  for (const [name, symbol] of symtab) {
    if (!symbol.created) throw new VsctlError(`row id "${name}" is referenced but never created (e.g. with "-- --id=${name} create ...")`);
    if (!symbol.strongRef) warn(`row id "${name}" was created but no reference to it was inserted, so it will not actually appear in the database`, 'vsctl');
  }
  // A bridge created with generic commands must have a name the daemon can use too.
  for (const br of idl.rows('Bridge')) {
    if (!idl.isInserted(br)) continue;
    const invalid = invalidBridgeName(String(br.data.get('name')!.keys[0] ?? ''));
    if (invalid) throw new VsctlError(invalid);
  }

  const comment = `${PROGRAM}: ${args}`;
  let plan = idl.commit(comment);
  if (plan.ops.length && options.wait) {
    const next = Number(ovs.data.get('next_cfg')!.keys[0] ?? 0);
    idl.write(ovs, 'next_cfg', { keys: [next + 1] });
    plan = idl.commit(comment);
  }
  let realUuids = new Map<string, string>();
  if (plan.ops.length && !options.dryRun) {
    try {
      const result = await client.transact(plan.ops, options.wait);
      realUuids = new Map([...plan.names].map(([temp, name]) => [temp, result.uuids[name]!]));
    } catch (e) {
      if (!(e instanceof DbClientError)) throw e;
      // If someone else changed the database since we read it, start over from a fresh read.
      if (!lastAttempt && (await client.dump()).seq !== dump.seq) return { status: 'conflict', stdout: '', setupErrors: [] };
      throw new TransactionError(`transaction error: ${e.message}`);
    }
  }
  for (const [i, ctx] of contexts.entries()) {
    ctx.realUuid = (temp) => realUuids.get(temp);
    commands[i]!.syntax.postprocess?.(ctx);
  }

  const printer = new TablePrinter(options.style);
  let stdout = '';
  for (const ctx of contexts) {
    if (ctx.table) stdout += printer.format(ctx.table);
    else if (options.oneline) stdout += `${ctx.output.replace(/\n$/, '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    else stdout += ctx.output;
  }

  // After the daemon applied the change: interfaces it could not set up (ofport -1).
  const setupErrors: Array<[string, string]> = [];
  if (plan.ops.length && options.wait && !options.dryRun && newInterfaces.length) {
    const after = Idl.fromDump(await client.dump());
    for (const temp of newInterfaces) {
      const iface = realUuids.has(temp) ? after.get('Interface', realUuids.get(temp)!) : undefined;
      if (!iface) continue;
      const ofport = iface.data.get('ofport')!.keys;
      if (ofport.length && ofport[0] !== -1) continue;
      setupErrors.push([String(iface.data.get('name')!.keys[0]), String(iface.data.get('error')!.keys[0] ?? '')]);
    }
  }
  return { status: 'done', stdout, setupErrors };
}
