/*
 * 100,000 flows through the real `ovs-ofctl -O OpenFlow13 add-flows`, dumped back intact with
 * `ovs-ofctl dump-flows`: every flow present once, in its table, with its cookie, priority,
 * match and actions exactly as ovs-ofctl prints them; the aggregate and table statistics
 * count them; then a loose delete by cookie/mask and a strict delete leave exactly the rest.
 *
 * The flows vary what a switch indexes on: four tables, 1,000 priorities, several match
 * shapes (in_port + IPv4 source, TCP/UDP destination ports, Ethernet destinations, masked
 * IPv4 destinations), several actions.
 *
 * The expected text of each flow is what ovs-ofctl prints for it; the test was checked against
 * Open vSwitch 3.1 itself: run it with OFSWITCH_TEST_PEER=ovs.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOfswitchd } from '../helpers/ofswitchd.ts';
import { BRIDGE_DATAPATH_ID, BRIDGE_PORTS, OVS_OFCTL, ovsMissing, startOvs } from '../helpers/ovs.ts';

const AGAINST_OVS = process.env.OFSWITCH_TEST_PEER === 'ovs';
const N_FLOWS = 100_000;
/** Per ovs-ofctl invocation, in milliseconds. */
const COMMAND_TIMEOUT_MS = 120_000;

interface Flow {
  table: number;
  cookie: number;
  /** What add-flows reads. */
  text: string;
  /** What dump-flows prints after `n_bytes=0, `. */
  printed: string;
}

/** The i-th flow; unique by (table, priority, match). */
function flow(i: number): Flow {
  const table = i % 4;
  const priority = 1000 + (i % 1000);
  const cookie = i + 1;
  const a = (i >> 16) & 0xff;
  const b = (i >> 8) & 0xff;
  const c = i & 0xff;
  const port = (i % 4) + 1;
  switch (i % 5) {
    case 0: return {
      table, cookie,
      text: `table=${table},priority=${priority},cookie=${cookie},ip,in_port=${port},nw_src=10.${a}.${b}.${c},actions=output:${(port % 4) + 1}`,
      printed: `priority=${priority},ip,in_port=${port},nw_src=10.${a}.${b}.${c} actions=output:${(port % 4) + 1}`,
    };
    case 1: return {
      table, cookie,
      text: `table=${table},priority=${priority},cookie=${cookie},tcp,nw_dst=172.${a}.${b}.${c},tp_dst=${1 + (i % 65535)},actions=drop`,
      printed: `priority=${priority},tcp,nw_dst=172.${a}.${b}.${c},tp_dst=${1 + (i % 65535)} actions=drop`,
    };
    case 2: return {
      table, cookie,
      text: `table=${table},priority=${priority},cookie=${cookie},udp,nw_src=192.${a}.${b}.${c},tp_src=${i % 65536},actions=push_vlan:0x8100,set_field:${4096 + (i % 4096)}->vlan_vid,output:${port}`,
      printed: `priority=${priority},udp,nw_src=192.${a}.${b}.${c},tp_src=${i % 65536} actions=push_vlan:0x8100,set_field:${4096 + (i % 4096)}->vlan_vid,output:${port}`,
    };
    case 3: {
      const mac = `02:00:00:${a.toString(16).padStart(2, '0')}:${b.toString(16).padStart(2, '0')}:${c.toString(16).padStart(2, '0')}`;
      return {
        table, cookie,
        text: `table=${table},priority=${priority},cookie=${cookie},dl_dst=${mac},actions=output:${port}`,
        printed: `priority=${priority},dl_dst=${mac} actions=output:${port}`,
      };
    }
    default: return {
      table, cookie,
      text: `table=${table},priority=${priority},cookie=${cookie},ip,nw_dst=11.${a}.${b}.${c}/32,nw_tos=${(i % 64) * 4},actions=controller:128`,
      printed: `priority=${priority},ip,nw_dst=11.${a}.${b}.${c},nw_tos=${(i % 64) * 4} actions=CONTROLLER:128`,
    };
  }
}

/** The flow lines of a dump, keyed `table cookie printed` (durations dropped), in a set. */
function parseDump(stdout: string): { flows: Set<string>; lines: number; unparsed: string[] } {
  const flows = new Set<string>();
  const unparsed: string[] = [];
  let lines = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(' cookie=')) continue;
    lines++;
    const m = /^ cookie=0x([0-9a-f]+), duration=[\d.]+s, table=(\d+), n_packets=0, n_bytes=0, (.*)$/.exec(line);
    if (!m) { unparsed.push(line); continue; }
    flows.add(`${m[2]} ${parseInt(m[1]!, 16)} ${m[3]}`);
  }
  return { flows, lines, unparsed };
}

function ofctl(target: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(OVS_OFCTL, ['-O', 'OpenFlow13', ...args.map((a) => (a === 'TARGET' ? target : a))], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { stderr += `[killed after ${COMMAND_TIMEOUT_MS} ms]`; child.kill('SIGKILL'); }, COMMAND_TIMEOUT_MS);
    child.on('close', (code) => { clearTimeout(timer); resolve({ status: code, stdout: Buffer.concat(out).toString(), stderr }); });
  });
}

const skip = AGAINST_OVS ? ovsMissing() : existsSync(OVS_OFCTL) ? null : `${OVS_OFCTL} not installed`;

t.test(`${N_FLOWS} flows through ovs-ofctl add-flows, dumped back intact (${AGAINST_OVS ? 'Open vSwitch 3.1' : 'ofswitchd'})`, { skip: skip ?? false }, async (t) => {
  const sw = AGAINST_OVS
    ? await startOvs()
    : await startOfswitchd([`--datapath-id=${BRIDGE_DATAPATH_ID}`, ...BRIDGE_PORTS.map(([name, ofport]) => `--port=${name}:${ofport}`)]);
  t.teardown(() => sw.stop());
  const target = `unix:${sw.mgmt}`;
  const scratch = mkdtempSync(join(tmpdir(), 'flow-scale-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

  const flows = Array.from({ length: N_FLOWS }, (_, i) => flow(i));
  const file = join(scratch, 'flows.txt');
  writeFileSync(file, flows.map((f) => `${f.text}\n`).join(''));

  let started = Date.now();
  const added = await ofctl(target, 'add-flows', 'TARGET', file);
  t.comment(`add-flows of ${N_FLOWS} flows: ${Date.now() - started} ms`);
  t.same([added.status, added.stdout, added.stderr], [0, '', ''], 'add-flows succeeds silently');

  started = Date.now();
  const dump = await ofctl(target, 'dump-flows', 'TARGET');
  t.comment(`dump-flows: ${Date.now() - started} ms`);
  t.equal(dump.status, 0, `dump-flows succeeds ${dump.stderr.slice(0, 500)}`);
  const dumped = parseDump(dump.stdout);
  t.equal(dumped.lines, N_FLOWS, `${N_FLOWS} flows dumped`);
  t.same(dumped.unparsed.slice(0, 5), [], 'every line is a flow with zero counters');
  const expected = new Set(flows.map((f) => `${f.table} ${f.cookie} ${f.printed}`));
  const missing = [...expected].filter((f) => !dumped.flows.has(f));
  const unexpected = [...dumped.flows].filter((f) => !expected.has(f));
  t.same({ missing: missing.length, unexpected: unexpected.length }, { missing: 0, unexpected: 0 }, 'each flow comes back exactly as added', {
    firstMissing: missing.slice(0, 5), firstUnexpected: unexpected.slice(0, 5),
  });

  const aggregate = await ofctl(target, 'dump-aggregate', 'TARGET');
  t.match(aggregate.stdout, `packet_count=0 byte_count=0 flow_count=${N_FLOWS}\n`, 'dump-aggregate counts them');
  const perTable = await ofctl(target, 'dump-aggregate', 'TARGET', 'table=2');
  t.match(perTable.stdout, `flow_count=${N_FLOWS / 4}\n`, 'a quarter of them in table 2');
  const tables = await ofctl(target, 'dump-tables', 'TARGET');
  // ovs-ofctl folds tables whose statistics equal the previous table's into "ditto".
  t.match(tables.stdout, new RegExp(`table 0:\\n\\s+active=${N_FLOWS / 4}, lookup=0, matched=0\\n\\n\\s+tables 1\\.\\.\\.3: ditto\\n\\n\\s+table 4:\\n\\s+active=0,`),
    `dump-tables: ${N_FLOWS / 4} active flows in each of tables 0 to 3, none in table 4`);

  // Cookies 0x10000 to 0x1ffff: 65536 flows, by cookie and mask.
  const byCookie = await ofctl(target, 'del-flows', 'TARGET', 'cookie=0x10000/0xffff0000');
  t.same([byCookie.status, byCookie.stderr], [0, ''], 'del-flows by cookie/mask');
  const strict = await ofctl(target, '--strict', 'del-flows', 'TARGET', flows[0]!.text.replace(/,cookie=\d+|,actions=.*$/g, ''));
  t.same([strict.status, strict.stderr], [0, ''], 'a strict delete of the first flow');
  const rest = parseDump((await ofctl(target, 'dump-flows', 'TARGET')).stdout);
  const kept = flows.filter((f) => (f.cookie < 0x10000 || f.cookie > 0x1ffff) && f !== flows[0]);
  t.equal(rest.lines, kept.length, `${kept.length} flows left`);
  t.ok(kept.every((f) => rest.flows.has(`${f.table} ${f.cookie} ${f.printed}`)), 'exactly the ones not deleted');

  const all = await ofctl(target, 'del-flows', 'TARGET');
  t.equal(all.status, 0, 'del-flows');
  t.match((await ofctl(target, 'dump-aggregate', 'TARGET')).stdout, 'flow_count=0\n', 'no flow left');
});
