/*
 * The daemon's management commands, registered on its UnixctlServer:
 *
 *   ofproto/trace BRIDGE FLOW [PACKET]   the pipeline walked by a packet, read-only
 *   dpif/dump-flows BRIDGE               the bridge's datapath flows (megaflows)
 *   dpif/show                            datapath lookup counters, flows and ports per bridge
 *   fdb/show BRIDGE                      the MAC learning table
 *   exit [--cleanup]                     stop the daemon
 *
 * Each returns text laid out as Open vSwitch's command of the same name, and the same facts as
 * data for `--format=json`. A new command is one more `server.register()` here (or in a file
 * of its own, for a family of commands), taking what it needs from the DaemonContext.
 * Times are milliseconds on the monotonic clock; ages are printed in seconds.
 */
import { coverageSnapshot } from '../util/coverage.ts';
import { isLevel, logLevels, setLogLevel } from '../util/vlog.ts';
import type { Bridge } from '../bridge/index.ts';
import { formatDpActions, formatMatch, formatPort, matchPairs } from './flow-format.ts';
import { FlowSyntaxError, PacketSyntaxError, parseTraceFlow } from './flow-parse.ts';
import { type UnixctlServer, UnixctlError } from './server.ts';
import { traceFlow, traceText } from './trace.ts';

/** What the commands may see and do in the daemon. */
export interface DaemonContext {
  /** The bridges, in creation order. */
  bridges(): Iterable<Bridge>;
  /** Stops the daemon (called after `exit` has been answered). */
  shutdown(): void;
}

function findBridge(ctx: DaemonContext, name: string): Bridge {
  for (const bridge of ctx.bridges()) if (bridge.name === name) return bridge;
  throw new UnixctlError(`${name}: unknown bridge`);
}

function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(3)}s`;
}

export function registerTraceCommands(server: UnixctlServer, ctx: DaemonContext): void {
  server.register({
    name: 'ofproto/trace', usage: 'bridge flow [packet]', minArgs: 2, maxArgs: 3,
    help: 'show how the bridge\'s OpenFlow tables handle a flow (or a hex packet arriving on the flow\'s in_port), changing nothing',
    handler: ({ args }) => {
      const [name, flowText, packetArg] = args as [string, string, string | undefined];
      const bridge = findBridge(ctx, name);
      // Open vSwitch also accepts "-generate" here; every trace of ours is generated, never sent.
      const packet = packetArg === '-generate' ? undefined : packetArg;
      let flow;
      try {
        flow = parseTraceFlow(flowText, packet, (port) => [...bridge.ofproto.ports.values()].find((p) => p.name === port)?.portNo);
      } catch (e) {
        if (e instanceof PacketSyntaxError) throw new UnixctlError(`Bad packet: ${e.message}`);
        if (e instanceof FlowSyntaxError) throw new UnixctlError(`Bad openflow flow syntax: ${flowText}: ${e.message}`);
        throw e;
      }
      const report = traceFlow(bridge.name, bridge.ofproto, flow);
      return { text: traceText(report), data: report };
    },
  });
}

export function registerDatapathCommands(server: UnixctlServer, ctx: DaemonContext): void {
  server.register({
    name: 'dpif/dump-flows', usage: 'bridge', minArgs: 1, maxArgs: 1,
    help: 'list the datapath flows (megaflows) cached for the bridge, with their counters and actions',
    handler: ({ args }) => {
      const bridge = findBridge(ctx, args[0]!);
      const now = bridge.ofproto.now();
      const flows = [...bridge.dp.megaflows].map((f) => ({
        match: formatMatch(f.value, f.mask),
        fields: Object.fromEntries(matchPairs(f.value, f.mask).map(([k, v]) => [k, v ?? null])),
        packets: f.packets,
        bytes: f.bytes,
        usedSeconds: Math.max(0, now - f.usedMs) / 1000,
        actions: formatDpActions(f.actions),
      }));
      const text = flows.map((f) => `${f.match}, packets:${f.packets}, bytes:${f.bytes}, used:${seconds(f.usedSeconds * 1000)}, actions:${f.actions}\n`).join('');
      return { text, data: flows };
    },
  });

  server.register({
    name: 'dpif/show', usage: '', minArgs: 0, maxArgs: 0,
    help: 'show the datapath\'s lookup counters (exact-match hits, megaflow hits, upcalls), its flows, and each bridge\'s ports',
    handler: () => {
      const bridges = [...ctx.bridges()].map((b) => ({
        name: b.name,
        emcHits: b.dp.stats.emcHits,
        megaflowHits: b.dp.stats.megaflowHits,
        upcalls: b.dp.stats.upcalls,
        uncached: b.dp.stats.uncached,
        flows: b.dp.megaflows.count,
        ports: [...b.ofproto.ports.values()].sort((x, y) => x.portNo - y.portNo).map((p) => ({
          name: p.name, ofport: formatPort(p.portNo),
          type: b.netdevs.get(p.portNo)?.type ?? (p.name === b.name ? 'internal' : 'none'),
        })),
      }));
      const total = { emcHits: 0, megaflowHits: 0, upcalls: 0, uncached: 0, flows: 0 };
      for (const b of bridges) for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += b[k];
      const counters = (c: typeof total): string =>
        `lookups: emc hits:${c.emcHits} megaflow hits:${c.megaflowHits} upcalls:${c.upcalls} (uncached:${c.uncached}) flows:${c.flows}`;
      const lines = [`datapath: hit:${total.emcHits + total.megaflowHits} missed:${total.upcalls} ${counters(total)}`];
      for (const b of bridges) {
        lines.push(`  ${b.name}: ${counters(b)}`);
        for (const p of b.ports) lines.push(`    ${p.name} ${p.ofport}: (${p.type})`);
      }
      return { text: `${lines.join('\n')}\n`, data: { ...total, hits: total.emcHits + total.megaflowHits, missed: total.upcalls, bridges } };
    },
  });
}

export function registerFdbCommands(server: UnixctlServer, ctx: DaemonContext): void {
  server.register({
    name: 'fdb/show', usage: 'bridge', minArgs: 1, maxArgs: 1,
    help: 'show the MAC learning table NORMAL uses: port, VLAN, address and seconds since last seen',
    handler: ({ args }) => {
      const bridge = findBridge(ctx, args[0]!);
      const now = bridge.ofproto.now();
      const entries = bridge.ofproto.macLearning.list().map((e) => ({
        port: formatPort(e.port), vlan: e.vlan, mac: e.mac, age: Math.floor(Math.max(0, now - e.usedMs) / 1000),
      }));
      const lines = [' port  VLAN  MAC                Age'];
      for (const e of entries) lines.push(`${e.port.padStart(5)}  ${String(e.vlan).padStart(4)}  ${e.mac}  ${String(e.age).padStart(3)}`);
      return { text: `${lines.join('\n')}\n`, data: entries };
    },
  });
}

export function registerConnmgrCommands(server: UnixctlServer, ctx: DaemonContext): void {
  server.register({
    name: 'connmgr/show', usage: 'bridge', minArgs: 1, maxArgs: 1,
    help: "show the bridge's controllers: state, role, last error, packet-ins sent and dropped, and fail-open",
    handler: ({ args }) => {
      const bridge = findBridge(ctx, args[0]!);
      const controllers = bridge.connmgr.controllerStatus();
      const lines = [`${bridge.name}: fail-open: ${bridge.connmgr.isFailOpen ? 'active' : 'inactive'}`];
      for (const c of controllers) {
        lines.push(`  ${c.target}: ${c.isConnected ? 'connected' : 'not connected'}${c.state ? ` (${c.state})` : ''}, role ${c.role}` +
          `${c.lastError ? `, last error: ${c.lastError}` : ''}${c.backoffMs ? `, backoff ${c.backoffMs / 1000} s` : ''}` +
          `, packet-ins sent ${c.packetInsSent}, dropped ${c.packetInDrops}`);
      }
      if (!controllers.length) lines.push('  no controllers');
      return { text: `${lines.join('\n')}\n`, data: { failOpen: bridge.connmgr.isFailOpen, controllers } };
    },
  });
}

export function registerDiagnosticCommands(server: UnixctlServer, ctx: DaemonContext): void {
  server.register({
    name: 'fdb/flush', usage: '[bridge]', minArgs: 0, maxArgs: 1,
    help: 'forget every learned MAC address (of one bridge, or all)',
    handler: ({ args }) => {
      const bridges = args.length ? [findBridge(ctx, args[0]!)] : [...ctx.bridges()];
      for (const b of bridges) {
        b.ofproto.macLearning.flush();
        b.dp.flush();
      }
      return { text: 'table successfully flushed\n', data: { flushed: bridges.map((b) => b.name) } };
    },
  });
  server.register({
    name: 'upcall/show', usage: '', minArgs: 0, maxArgs: 0,
    help: 'datapath flows and upcalls per bridge',
    handler: () => {
      const data = [...ctx.bridges()].map((b) => ({ bridge: b.name, flows: b.dp.megaflows.count, ...b.dp.stats }));
      const text = data.map((d) => `${d.bridge}:\n  flows         : (current ${d.flows})\n  upcalls       : ${d.upcalls} (uncached ${d.uncached})\n  cache hits    : emc ${d.emcHits}, megaflow ${d.megaflowHits}\n`).join('');
      return { text, data };
    },
  });
  server.register({
    name: 'memory/show', usage: '', minArgs: 0, maxArgs: 0,
    help: 'what the daemon holds: rules, datapath flows, ports, connections, and process memory',
    handler: () => {
      let rules = 0;
      let megaflows = 0;
      let ports = 0;
      let connections = 0;
      for (const b of ctx.bridges()) {
        for (const t of b.ofproto.tables) rules += t.rules.count;
        megaflows += b.dp.megaflows.count;
        ports += b.ofproto.ports.size;
        connections += b.connmgr.connections.size;
      }
      const m = process.memoryUsage();
      const data = { rules, megaflows, ports, ofconns: connections, rssBytes: m.rss, heapUsedBytes: m.heapUsed };
      return { text: `${Object.entries(data).map(([k, v]) => `${k}:${v}`).join(' ')}\n`, data };
    },
  });
  server.register({
    name: 'coverage/show', usage: '', minArgs: 0, maxArgs: 0,
    help: 'counts of rare and slow paths since the daemon started',
    handler: () => {
      const counts = coverageSnapshot();
      const text = ['Event coverage, totals since start:', ...counts.map(([name, n]) => `${name.padEnd(32)} total: ${n}`)].join('\n') + '\n';
      return { text, data: Object.fromEntries(counts) };
    },
  });
  server.register({
    name: 'vlog/list', usage: '', minArgs: 0, maxArgs: 0,
    help: 'log modules and their levels',
    handler: () => {
      const list = logLevels();
      return { text: ['                 level', '                 -----', ...list.map(([m, l]) => `${m.padEnd(16)} ${l.toUpperCase()}`)].join('\n') + '\n', data: Object.fromEntries(list) };
    },
  });
  server.register({
    name: 'vlog/set', usage: '[module:]level', minArgs: 1, maxArgs: 1,
    help: 'set the log level of a module (or of all: ANY); levels: off, emer, err, warn, info, dbg',
    handler: ({ args }) => {
      const spec = args[0]!;
      const [module, level] = spec.includes(':') ? spec.split(':') as [string, string] : ['ANY', spec];
      if (!isLevel(level)) throw new UnixctlError(`unknown log level "${level}"`);
      if (module !== 'ANY' && !logLevels().some(([m]) => m === module)) throw new UnixctlError(`no module named "${module}"`);
      setLogLevel(module, level);
      return { text: '', data: { module, level } };
    },
  });
}

export function registerDaemonCommands(server: UnixctlServer, ctx: DaemonContext): void {
  server.register({
    name: 'exit', usage: '[--cleanup]', minArgs: 0, maxArgs: 1,
    help: 'stop the daemon cleanly (its sockets are removed); --cleanup is accepted for ovs-appctl compatibility',
    handler: ({ args }) => {
      if (args.length && args[0] !== '--cleanup') throw new UnixctlError(`exit: unknown option "${args[0]}"`);
      return { text: '', data: {}, afterReply: () => ctx.shutdown() };
    },
  });
}

/** Every command of the daemon. */
export function registerCommands(server: UnixctlServer, ctx: DaemonContext): void {
  registerTraceCommands(server, ctx);
  registerDatapathCommands(server, ctx);
  registerFdbCommands(server, ctx);
  registerConnmgrCommands(server, ctx);
  registerDiagnosticCommands(server, ctx);
  registerDaemonCommands(server, ctx);
}
