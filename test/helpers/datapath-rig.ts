/*
 * Two switches side by side for datapath differential tests: a private userspace Open vSwitch
 * 3.1 (test/helpers/ovs.ts) and ofswitchd, both with datapath id 1 and ports p1..p4 numbered
 * 1..4, each port a stream socket (`pstream=punix:<dir>/{ovs,ofs}-pN.sock`) with a Wire
 * (test/helpers/wire.ts) attached, so that a frame can be put into port N of both and what
 * leaves every port of each be collected.
 *
 * Open vSwitch runs with `other_config:flow-limit=0`: it installs no datapath flows, every
 * packet is translated afresh (an upcall), so a flow table change is in effect for the very
 * next packet once the barrier is answered, as in ofswitch (which flushes its megaflows
 * before answering). And with `other_config:vlan-limit=0`: Open vSwitch then parses as many
 * VLAN tags as it can (2) before eth_type and the L3 header, as OpenFlow 1.3 does (eth_type is
 * the type after the VLAN tags) and as ofswitch does; with its default of 1, a double-tagged
 * frame's eth_type would be 0x8100 and `ip`/`udp` matches would miss it.
 *
 * Flows, groups and meters are installed with the real `ovs-ofctl -O OpenFlow13` on both, the
 * same command line for each; ovs-ofctl waits for the switch's barrier reply before exiting.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOfswitchd, waitFor, type Daemon } from './ofswitchd.ts';
import { BRIDGE_DATAPATH_ID, BRIDGE_PORTS, OVS_APPCTL, OVS_OFCTL, OVS_VSCTL, startOvs, type OvsSwitch } from './ovs.ts';
import { Wire } from './wire.ts';

export type SideName = 'ovs' | 'ofswitch';
export const SIDES: readonly SideName[] = ['ovs', 'ofswitch'];
export const PORT_NUMBERS = BRIDGE_PORTS.map(([, n]) => n) as number[];

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RigSide {
  name: SideName;
  /** What ovs-ofctl takes. */
  target: string;
  /** Port number -> the wire attached to it. */
  wires: Map<number, Wire>;
}

export interface Rig {
  dir: string;
  ovs: OvsSwitch;
  ofs: Daemon;
  sides: Record<SideName, RigSide>;
  /** Runs `ovs-ofctl -O OpenFlow13 <command> <target> ...args` against one side. */
  ofctl(side: SideName, command: string, args?: string[], stdin?: string): Promise<CommandResult>;
  /** The same on both sides, in parallel; throws with both outputs if either fails. */
  ofctlBoth(command: string, args?: string[], stdin?: string): Promise<void>;
  /** ovs-appctl against Open vSwitch's ovs-vswitchd. */
  ovsAppctl(...args: string[]): string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdin?: string, timeoutMs = 10_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { stderr += `\n[killed after ${timeoutMs} ms]`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? -1 : null), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

export async function startRig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'dp-diff-'));
  const sock = (side: 'ovs' | 'ofs', port: number): string => join(dir, `${side}-p${port}.sock`);
  let ovs: OvsSwitch | undefined;
  let ofs: Daemon | undefined;
  const wires: Wire[] = [];
  const stop = async (): Promise<void> => {
    for (const w of wires) w.close();
    await Promise.all([ovs?.stop(), ofs?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    [ovs, ofs] = await Promise.all([
      startOvs(),
      startOfswitchd([`--datapath-id=${BRIDGE_DATAPATH_ID}`, ...BRIDGE_PORTS.map(([name, n]) => `--port=${name}:${n},pstream=punix:${sock('ofs', n)}`)]),
    ]);
    const o = ovs;
    const db = `--db=unix:${join(o.rundir, 'db.sock')}`;
    const vsctl = spawnSync(OVS_VSCTL, [db, '--timeout=15', 'set', 'Open_vSwitch', '.', 'other_config:flow-limit=0', 'other_config:vlan-limit=0',
      ...BRIDGE_PORTS.flatMap(([name, n]) => ['--', 'set', 'interface', name, `options:pstream=punix:${sock('ovs', n)}`])],
    { env: o.env, encoding: 'utf8', timeout: 15_000 });
    if (vsctl.status !== 0) throw new Error(`ovs-vsctl failed: ${vsctl.stderr}`);
    await waitFor(() => PORT_NUMBERS.every((n) => existsSync(sock('ovs', n)) && existsSync(sock('ofs', n))), 10_000, 'the port sockets');
    const sides = {} as Record<SideName, RigSide>;
    for (const name of SIDES) {
      const side: RigSide = { name, target: name === 'ovs' ? o.target : `unix:${ofs.mgmt}`, wires: new Map() };
      for (const n of PORT_NUMBERS) {
        const wire = await Wire.connect(sock(name === 'ovs' ? 'ovs' : 'ofs', n), `${name}:p${n}`);
        wires.push(wire);
        side.wires.set(n, wire);
      }
      sides[name] = side;
    }
    const pid = (): string => readFileSync(join(o.rundir, 'vs.pid'), 'utf8').trim();
    const rig: Rig = {
      dir, ovs: o, ofs, sides,
      ofctl: (side, command, args = [], stdin) => run(OVS_OFCTL, ['-O', 'OpenFlow13', command, sides[side].target, ...args], process.env, stdin),
      async ofctlBoth(command, args = [], stdin) {
        const results = await Promise.all(SIDES.map((s) => rig.ofctl(s, command, args, stdin)));
        results.forEach((r, i) => {
          if (r.status !== 0 || /OFPT_ERROR/.test(r.stdout + r.stderr)) {
            throw new Error(`${SIDES[i]}: ovs-ofctl ${command} ${args.join(' ')}${stdin ? ` <<<${JSON.stringify(stdin)}` : ''} failed (${r.status}): ${r.stdout}${r.stderr}`);
          }
        });
      },
      ovsAppctl: (...args) => {
        const r = spawnSync(OVS_APPCTL, ['-t', join(o.rundir, `ovs-vswitchd.${pid()}.ctl`), ...args], { env: o.env, encoding: 'utf8', timeout: 10_000 });
        if (r.status !== 0) throw new Error(`ovs-appctl ${args.join(' ')} failed: ${r.stderr}`);
        return r.stdout;
      },
      stop,
    };
    // The flow limit is read by the upcall threads on their next run; make sure it is in force.
    await waitFor(() => /limit 0\)/.test(rig.ovsAppctl('upcall/show')), 10_000, 'OVS to apply flow-limit=0');
    return rig;
  } catch (e) {
    await stop();
    throw e;
  }
}
