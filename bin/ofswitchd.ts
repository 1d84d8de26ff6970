/*
 * ofswitchd: the ofswitch daemon (Open vSwitch's ovs-vswitchd). It serves one bridge (br0
 * unless --bridge says otherwise) with its management socket <rundir>/<bridge>.mgmt, on
 * which `ovs-ofctl -O OpenFlow13 show unix:<rundir>/br0.mgmt` works, and its control socket
 * <rundir>/ofswitchd.ctl for `ofs-appctl` (ovs-vswitchd's unixctl socket).
 *
 * Options follow ovs-vswitchd's where they exist. A bad option is a one-line error and exit
 * status 1, before anything is created.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isValidBridgeName, type PortRequest, Vswitch } from '../lib/bridge/index.ts';
import { ConfigDb, DbServer, type Json, type Operation } from '../lib/config/index.ts';
import { type FailMode, parseTarget, type TlsSettings } from '../lib/connmgr/index.ts';
import { registerCommands, UnixctlServer } from '../lib/unixctl/index.ts';
import { isLevel, setLogFile, setLogLevel, Vlog } from '../lib/util/vlog.ts';

const log = new Vlog('ofswitchd');
const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = (JSON.parse(readFileSync(join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string }).version;

const USAGE = `ofswitchd: OpenFlow 1.3 software switch
usage: ofswitchd [OPTIONS]
  --rundir=DIR         run directory for sockets (default: $OFSWITCH_RUNDIR or ${join(PROJECT_DIR, 'var', 'run')})
  --db=FILE            configuration database (default: <rundir>/conf.db with --rundir, else ${join(PROJECT_DIR, 'var', 'conf.db')});
                       served on <rundir>/db.sock for ofs-vsctl

  Without bridge options the database decides; on first start it gets bridge br0 with
  controller tcp:127.0.0.1:6633. With any of the options below, the command line replaces the
  database's bridges with the one it describes (fail mode secure unless said otherwise).
  --bridge=NAME        bridge to serve (default: br0)
  --datapath-id=HEX    64-bit datapath id, 16 hex digits (default: from the bridge's MAC)
  --port=NAME[:OFPORT][,KEY=VALUE...]
                       add a port (repeatable), numbered OFPORT when that is free; with a
                       device: type=stream|internal|patch and its options, e.g.
                       --port=p1:1,pstream=punix:/tmp/p1.sock  --port=p2:2,stream=tcp:127.0.0.1:7001
                       --port=patch0,type=patch,peer=patch1
  --no-buffering       no packet-in buffers (Open vSwitch 3.x behaviour)
  --controller=TARGET  a controller (repeatable): tcp:IP[:PORT], unix:PATH, ssl:IP[:PORT] to
                       connect to, or ptcp:[PORT][:IP], punix:PATH, pssl:[PORT][:IP] to listen on
  --fail-mode=MODE     secure (default: never forward on its own) or standalone (fail-open)
  --max-backoff=MS     longest wait between connection attempts (default 8000)
  --inactivity-probe=MS  idle time before an echo probe (default 5000; 0 disables)
  --controller-rate-limit=N  packet-ins per second per controller (at least 100)
  --controller-burst-limit=N packet-ins allowed at once (default rate/4, at least 25)
  --private-key=FILE --certificate=FILE --ca-cert=FILE  TLS for ssl: and pssl:
  --pidfile[=FILE]     write the process id to FILE (default: <rundir>/ofswitchd.pid)
  --unixctl=SOCKET     control socket for ofs-appctl (default: <rundir>/ofswitchd.ctl)
  --log-file=FILE      log to FILE instead of stderr
  --detach             run in the background once ready (logs then go to --log-file,
                       default <rundir>/ofswitchd.log)
  -v, --verbose[=MODULE:LEVEL]  log level (emer, err, warn, info, dbg, off; default MODULE is ANY)
  -h, --help           show this help
  -V, --version        show the version`;

interface Options {
  rundir: string;
  /** Whether --rundir or $OFSWITCH_RUNDIR chose the run directory (the database then defaults beside it). */
  rundirGiven: boolean;
  db?: string;
  /** Whether the command line describes the bridge (then it replaces the database's bridges). */
  bridgeOptions: boolean;
  bridge: string;
  datapathId?: bigint;
  pidfile?: string;
  detach: boolean;
  logFile?: string;
  unixctl?: string;
  ports: PortRequest[];
  buffering: boolean;
  controllers: string[];
  failMode: FailMode;
  maxBackoffMs?: number;
  probeIntervalMs?: number;
  rateLimit?: number;
  burstLimit?: number;
  tls: Partial<TlsSettings>;
}

class UsageError extends Error {}

function positiveInteger(option: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) throw new UsageError(`option '${option}' needs a whole number of at least ${min}, not '${text}'`);
  return n;
}

function parseArgs(argv: string[]): Options | 'help' | 'version' {
  const options: Options = {
    rundir: process.env.OFSWITCH_RUNDIR || join(PROJECT_DIR, 'var', 'run'), rundirGiven: !!process.env.OFSWITCH_RUNDIR,
    bridgeOptions: false, bridge: 'br0', ports: [], buffering: true,
    controllers: [], failMode: 'secure', tls: {}, detach: false,
  };
  let pidfile: string | boolean = false;
  for (const arg of argv) {
    const [name, value] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const need = (): string => {
      if (value === undefined || value === '') throw new UsageError(`option '${name}' requires an argument`);
      return value;
    };
    switch (name) {
      case '-h': case '--help': return 'help';
      case '-V': case '--version': return 'version';
      case '--rundir': options.rundir = resolve(need()); options.rundirGiven = true; break;
      case '--db': options.db = resolve(need()); break;
      case '--bridge': options.bridgeOptions = true;
        options.bridge = need();
        if (!isValidBridgeName(options.bridge)) throw new UsageError(`invalid bridge name '${options.bridge}'`);
        break;
      case '--datapath-id': { options.bridgeOptions = true;
        const hex = need();
        if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(hex)) throw new UsageError(`invalid datapath id '${hex}' (expected up to 16 hex digits)`);
        options.datapathId = BigInt(hex.startsWith('0x') ? hex : `0x${hex}`);
        break;
      }
      case '--no-buffering': options.buffering = false; break;
      case '--controller': { options.bridgeOptions = true;
        const target = need();
        try {
          parseTarget(target);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        options.controllers.push(target);
        break;
      }
      case '--fail-mode': { options.bridgeOptions = true;
        const mode = need();
        if (mode !== 'secure' && mode !== 'standalone') throw new UsageError(`fail mode must be secure or standalone, not '${mode}'`);
        options.failMode = mode;
        break;
      }
      case '--max-backoff': options.bridgeOptions = true; options.maxBackoffMs = positiveInteger(name, need(), 1000); break;
      case '--inactivity-probe': options.bridgeOptions = true; options.probeIntervalMs = positiveInteger(name, need(), 0); break;
      case '--controller-rate-limit': options.bridgeOptions = true; options.rateLimit = positiveInteger(name, need(), 100); break;
      case '--controller-burst-limit': options.bridgeOptions = true; options.burstLimit = positiveInteger(name, need(), 25); break;
      case '--private-key': options.tls.privateKeyFile = resolve(need()); break;
      case '--certificate': options.tls.certificateFile = resolve(need()); break;
      case '--ca-cert': options.tls.caCertFile = resolve(need()); break;
      case '--port': { options.bridgeOptions = true;
        const [head = '', ...settings] = need().split(',');
        const colon = head.indexOf(':');
        const [portName, ofport] = colon < 0 ? [head, undefined] : [head.slice(0, colon), head.slice(colon + 1)];
        const device: Record<string, string> = {};
        for (const setting of settings) {
          const eq = setting.indexOf('=');
          if (eq <= 0) throw new UsageError(`port ${portName}: '${setting}' is not KEY=VALUE`);
          device[setting.slice(0, eq)] = setting.slice(eq + 1);
        }
        const { type, ...deviceOptions } = device;
        const kind = type ?? (deviceOptions.peer ? 'patch' : Object.keys(deviceOptions).length ? 'stream' : undefined);
        if (!isValidBridgeName(portName)) throw new UsageError(`invalid port name '${portName}'`);
        if (options.ports.some((p) => p.name === portName) || portName === options.bridge) throw new UsageError(`duplicate port name '${portName}'`);
        if (ofport !== undefined && (!/^\d+$/.test(ofport) || Number(ofport) < 1 || Number(ofport) >= 0xff00)) {
          throw new UsageError(`invalid OpenFlow port number '${ofport}' (1 to 65279)`);
        }
        options.ports.push({
          name: portName, ...(ofport === undefined ? {} : { ofport: Number(ofport) }),
          ...(kind ? { type: kind, options: deviceOptions } : {}),
        });
        break;
      }
      case '--pidfile': pidfile = value ?? true; break;
      case '--unixctl': options.unixctl = resolve(need()); break;
      case '--log-file': options.logFile = resolve(need()); setLogFile(options.logFile); break;
      case '--detach': options.detach = true; break;
      case '-v': case '--verbose': {
        const spec = value ?? 'ANY:dbg';
        const [module, level] = spec.includes(':') ? spec.split(':') as [string, string] : ['ANY', spec];
        if (!isLevel(level)) throw new UsageError(`unknown log level '${level}'`);
        setLogLevel(module, level);
        break;
      }
      default:
        throw new UsageError(`unrecognized option '${arg}' (use --help for help)`);
    }
  }
  if (pidfile !== false) options.pidfile = pidfile === true ? join(options.rundir, 'ofswitchd.pid') : resolve(pidfile);
  return options;
}

async function main(): Promise<void> {
  let options: Options | 'help' | 'version';
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`ofswitchd: ${e.message}\n`);
    process.exit(1);
  }
  if (options === 'help') { process.stdout.write(`${USAGE}\n`); return; }
  if (options === 'version') { process.stdout.write(`ofswitchd (ofswitch) ${VERSION}\n`); return; }

  mkdirSync(options.rundir, { recursive: true });
  if (options.detach) { await detach(options); return; }
  const detached = typeof process.send === 'function';
  if (detached && !options.logFile) setLogFile(join(options.rundir, 'ofswitchd.log'));
  if (options.pidfile) writeFileSync(options.pidfile, `${process.pid}\n`);
  const db = ConfigDb.open(options.db ?? (options.rundirGiven ? join(options.rundir, 'conf.db') : join(PROJECT_DIR, 'var', 'conf.db')));
  try {
    db.transact(configurationFromArgs(db, options));
  } catch (e) {
    throw new Error(`could not apply the command-line configuration: ${(e as Error).message}`);
  }
  // The control socket comes first, so it is there once a bridge's management socket is.
  const vswitch = new Vswitch(db, {
    rundir: options.rundir, softwareVersion: VERSION, buffering: options.buffering,
    ...(options.tls.privateKeyFile && options.tls.certificateFile && options.tls.caCertFile ? { tls: options.tls as TlsSettings } : {}),
  });
  const unixctl = await UnixctlServer.listen(options.unixctl ?? join(options.rundir, 'ofswitchd.ctl'), { version: VERSION });
  registerCommands(unixctl, { bridges: () => vswitch.bridges.values(), shutdown: () => stop('exit command') });
  let dbServer: DbServer;
  try {
    await vswitch.reconfigure();
    dbServer = await DbServer.listen(join(options.rundir, 'db.sock'), db, { applied: (seq) => vswitch.applied(seq) });
  } catch (e) {
    await unixctl.close();
    throw e;
  }
  const names = [...vswitch.bridges.keys()];
  if (detached) {
    process.send?.('ready');
    process.disconnect?.();
  }
  log.info(`ofswitchd ${VERSION}: ready, bridges: ${names.join(', ') || 'none'}${names.length ? `; ovs-ofctl -O OpenFlow13 show unix:${join(options.rundir, `${names[0]}.mgmt`)}` : ''}`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, exiting`);
    void Promise.all([vswitch.close(), unixctl.close(), dbServer.close()]).then(() => {
      db.close();
      if (options.pidfile) rmSync(options.pidfile, { force: true });
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP reopens the log file (after logrotate moved it): every line is appended by path, so
  // the next one creates the new file; saying so here is that next line.
  process.on('SIGHUP', () => log.info('SIGHUP received, log file reopened'));
}

/**
 * --detach: starts the daemon again in the background (same options but --detach, stdio closed,
 * an IPC channel only to hear "ready") and exits 0 once it is serving, or 1 with its error, so
 * scripts may use the switch as soon as the command returns (Open vSwitch's daemonize).
 */
async function detach(options: Options): Promise<void> {
  const args = process.argv.slice(1).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const outcome = await new Promise<string>((done) => {
    child.once('message', (m) => done(String(m)));
    child.once('exit', (code) => done(`exited with status ${code ?? 'unknown'} (see ${options.logFile ?? join(options.rundir, 'ofswitchd.log')})`));
  });
  if (outcome !== 'ready') {
    process.stderr.write(`ofswitchd: the background daemon ${outcome}\n`);
    process.exit(1);
  }
  child.unref();
  child.disconnect();
}

main().catch((e: unknown) => {
  if (typeof process.send === 'function') log.err((e as Error).message); // detached: stderr is closed
  process.stderr.write(`ofswitchd: ${(e as Error).message}\n`);
  process.exit(1);
});

/** A transaction that makes the database say what the command line says (or holds the first-start default). */
function configurationFromArgs(db: ConfigDb, o: Options): Operation[] {
  const ops: Operation[] = [];
  const hasRoot = db.rows('Open_vSwitch').size > 0;
  if (!hasRoot) ops.push({ op: 'insert', table: 'Open_vSwitch', row: { ovs_version: VERSION }, 'uuid-name': 'root' });
  const rootRef: Array<[string, string, Json]> = [];
  if (!o.bridgeOptions && hasRoot) return ops;
  const ports: Array<{ name: string; type: string; options: Record<string, string>; ofport?: number }> = o.bridgeOptions
    ? o.ports.map((p) => ({ name: p.name, type: p.type ?? 'internal', options: p.options ?? {}, ...(p.ofport !== undefined ? { ofport: p.ofport } : {}) }))
    : [];
  const controllers = o.bridgeOptions ? o.controllers : ['tcp:127.0.0.1:6633'];
  const portRefs: Json[] = [['named-uuid', 'localport']];
  ops.push(
    { op: 'insert', table: 'Interface', row: { name: o.bridge, type: 'internal' }, 'uuid-name': 'localiface' },
    { op: 'insert', table: 'Port', row: { name: o.bridge, interfaces: ['named-uuid', 'localiface'] }, 'uuid-name': 'localport' },
  );
  ports.forEach((p, i) => {
    ops.push(
      {
        op: 'insert', table: 'Interface', 'uuid-name': `iface${i}`,
        row: { name: p.name, type: p.type, options: ['map', Object.entries(p.options)], ...(p.ofport !== undefined ? { ofport_request: p.ofport } : {}) },
      },
      { op: 'insert', table: 'Port', row: { name: p.name, interfaces: ['named-uuid', `iface${i}`] }, 'uuid-name': `port${i}` },
    );
    portRefs.push(['named-uuid', `port${i}`]);
  });
  controllers.forEach((target, i) => ops.push({
    op: 'insert', table: 'Controller', 'uuid-name': `ctl${i}`,
    row: {
      target, ...(o.maxBackoffMs !== undefined ? { max_backoff: o.maxBackoffMs } : {}),
      ...(o.probeIntervalMs !== undefined ? { inactivity_probe: o.probeIntervalMs } : {}),
      ...(o.rateLimit !== undefined ? { controller_rate_limit: o.rateLimit } : {}),
      ...(o.burstLimit !== undefined ? { controller_burst_limit: o.burstLimit } : {}),
    },
  }));
  ops.push({
    op: 'insert', table: 'Bridge', 'uuid-name': 'bridge',
    row: {
      name: o.bridge, ports: ['set', portRefs], controller: ['set', controllers.map((_, i) => ['named-uuid', `ctl${i}`])],
      protocols: ['set', ['OpenFlow13']], datapath_type: 'netdev',
      ...(o.bridgeOptions ? { fail_mode: o.failMode } : {}),
      ...(o.datapathId !== undefined ? { other_config: ['map', [['datapath-id', o.datapathId.toString(16).padStart(16, '0')]]] } : {}),
    },
  });
  // The command line's bridge replaces whatever bridges the database had.
  ops.push({ op: 'update', table: 'Open_vSwitch', where: rootRef, row: { bridges: ['set', [['named-uuid', 'bridge']]] } });
  return ops;
}
