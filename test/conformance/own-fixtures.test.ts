/*
 * The project's own fixtures (fixtures/ovs-sessions/*.pcapng, recorded against Open vSwitch
 * 3.1.0 by fixtures/record-sessions.ts, in the format of the shared OFTest fixtures):
 *   (a) tshark dissects every OpenFlow message: the number of openflow_v4 PDUs equals the
 *       number of messages our reader finds (and MANIFEST.tsv's counts), no malformed packet,
 *       no expert info of severity error or warning;
 *   (b) ovs-ofctl ofp-parse-pcap parses the control channel (extracted to a classic pcap):
 *       exit 0 and one printed message per message we find; KNOWN_OFCTL_ABORTS lists the files
 *       where ovs-ofctl 3.1.0 itself aborts (heap corruption on big TABLE_FEATURES replies, the
 *       same as on the shared basic.TableFeaturesStats fixture);
 *   (c) each fixture replayed against ofswitchd (./replay.ts, --no-buffering) and compared with
 *       the recording (./compare.ts): reported line by line; KNOWN_DIFFERENCES are asserted to
 *       show their documented first difference, every other fixture must be identical.
 * Skipped, with the reason, without tshark / ovs-ofctl / the fixtures. OWN_FIXTURES_FILTER
 * (substring) limits the fixtures; OWN_FIXTURES_NO_REPLAY=1 skips (c).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readCapture, readOpenFlowSession, writePcap } from '../../protocol/pcap.ts';
import { compareReplay } from './compare.ts';
import { FIXTURE_CONTROLLER_PORT, loadFixture, replayFixture } from './replay.ts';

t.setTimeout(170_000);

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'ovs-sessions');
const MANIFEST = join(DIR, 'MANIFEST.tsv');
const FILTER = process.env.OWN_FIXTURES_FILTER ?? '';
const TSHARK = '/usr/bin/tshark';
const OFCTL = '/usr/bin/ovs-ofctl';

/** ovs-ofctl 3.1.0 aborts (malloc heap corruption) while printing big TABLE_FEATURES replies. */
const KNOWN_OFCTL_ABORTS = new Set(['table.features_request']);

/**
 * Fixtures on which the replay differs from Open vSwitch 3.1, each with its expected first
 * difference (any other difference still fails) and why: ofswitch's choices and OVS quirks.
 */
const KNOWN_DIFFERENCES: Record<string, { first: RegExp; why: string }> = {
  'group.delete_removes_flows': {
    first: /^differs: control message #5 \(barrier_reply vs flow_removed\)/,
    why: 'order: OVS sends the FLOW_REMOVED caused by a GROUP_MOD delete after the following BARRIER_REPLY, ofswitch before it',
  },
  'cookie.delete_strict_priority': {
    first: /^differs: control message #5 \(barrier_reply vs flow_removed\)/,
    why: 'order: OVS sends the FLOW_REMOVED caused by a FLOW_MOD delete after the following BARRIER_REPLY, ofswitch before it',
  },
  'timeout.delete_sends_flow_removed': {
    first: /^differs: control message #5 \(barrier_reply vs flow_removed\)/,
    why: 'order: OVS sends the FLOW_REMOVED caused by a FLOW_MOD delete after the following BARRIER_REPLY, ofswitch before it',
  },
};

/** Undoes patchBundleXids in the switch's errors: a BUNDLE_ADD copied into an error's data carries the recorded inner xid again. */
function unpatchBundleXids(replay: Awaited<ReturnType<typeof replayFixture>>): void {
  for (const m of replay.control) {
    const b = m.bytes;
    if (b[1] !== 1) continue;
    const d = b.readUInt16BE(8) === 0xffff ? 16 : 12; // ofp_error_experimenter_msg has a 4-byte experimenter id more
    if (b.length < d + 32) continue;
    if (b[d + 1] === 4 && b.readUInt32BE(d + 8) === 0x4f4e4600 && b.readUInt32BE(d + 12) === 2301) {
      const recorded = replay.recordedXid.get(b.readUInt32BE(d + 28));
      if (recorded !== undefined) {
        const patched = Buffer.from(b);
        patched.writeUInt32BE(recorded, d + 28);
        (m as { bytes: Buffer }).bytes = patched;
      }
    }
  }
}

/** replay.ts's first xid (not exported): recorded xids map to XID_BASE, XID_BASE + 1, ... in order of first use. */
const REPLAY_XID_BASE = 0x5e000001;

/**
 * ONF EXT-230 wants a bundled message to carry its BUNDLE_ADD's xid; the replayer rewrites only
 * the outer xid, so the inner one is set here to the xid the replayer will give the outer one.
 */
function patchBundleXids(fixture: ReturnType<typeof loadFixture>): void {
  const ours = new Map<number, number>();
  for (const step of fixture.steps) {
    if (step.kind !== 'message') continue;
    if (!ours.has(step.xid)) ours.set(step.xid, REPLAY_XID_BASE + ours.size);
    const b = step.bytes;
    const bundleAdd = b[1] === 4 && b.length >= 32 && b.readUInt32BE(8) === 0x4f4e4600 && b.readUInt32BE(12) === 2301;
    if (bundleAdd && b.readUInt32BE(28) === step.xid) {
      const patched = Buffer.from(b);
      patched.writeUInt32BE(ours.get(step.xid)!, 28);
      (step as { bytes: Buffer }).bytes = patched;
    }
  }
}

interface Row { test: string; toSwitch: number; fromSwitch: number; into: number; from: number }

function readRows(): Row[] {
  return readFileSync(MANIFEST, 'utf8').split('\n').slice(1).filter((l) => l.trim()).map((l) => {
    const [test = '', , to = '0', from = '0', into = '0', out = '0'] = l.split('\t');
    return { test, toSwitch: Number(to), fromSwitch: Number(from), into: Number(into), from: Number(out) };
  }).filter((r) => r.test.includes(FILTER));
}

const missing = !existsSync(MANIFEST) ? `no fixtures at ${MANIFEST}` : !existsSync(TSHARK) ? 'tshark not installed'
  : !existsSync(OFCTL) ? 'ovs-ofctl not installed' : undefined;

if (missing) {
  console.log(`# skipping own fixtures: ${missing}`);
  t.pass(`skipped: ${missing}`);
} else {
  const rows = readRows();
  const tmp = mkdtempSync(join(tmpdir(), 'own-fixtures-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

  t.test('the manifest lists every recorded scenario', async (t) => {
    if (!FILTER) t.ok(rows.length >= 40, `${rows.length} scenarios (at least 40)`);
    for (const r of rows) t.ok(existsSync(join(DIR, `${r.test}.pcapng`)), `${r.test}.pcapng exists`);
  });

  t.test('our reader: messages and frames match MANIFEST.tsv', async (t) => {
    for (const r of rows) {
      const buf = readFileSync(join(DIR, `${r.test}.pcapng`));
      const session = readOpenFlowSession(buf, FIXTURE_CONTROLLER_PORT);
      const frames = readCapture(buf).records.filter((p) => (p.interfaceId ?? 0) > 0);
      t.same(
        [session.filter((m) => !m.fromSwitch).length, session.filter((m) => m.fromSwitch).length,
          frames.filter((f) => f.direction === 'inbound').length, frames.filter((f) => f.direction === 'outbound').length],
        [r.toSwitch, r.fromSwitch, r.into, r.from], `${r.test}: messages to/from switch, frames into/from switch`);
    }
  });

  t.test('(a) tshark dissects every OpenFlow message, nothing malformed', async (t) => {
    for (const r of rows) {
      const file = join(DIR, `${r.test}.pcapng`);
      const ours = readOpenFlowSession(readFileSync(file), FIXTURE_CONTROLLER_PORT).length;
      const base = ['-r', file, '-2', '-d', `tcp.port==${FIXTURE_CONTROLLER_PORT},openflow`];
      const pdml = spawnSync(TSHARK, [...base, '-T', 'pdml'], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 30_000 });
      t.equal(pdml.status, 0, `${r.test}: tshark -T pdml exits 0`);
      const dissected = (pdml.stdout.match(/<proto name="openflow_v4"/g) ?? []).length;
      t.equal(dissected, ours, `${r.test}: tshark dissects ${dissected} openflow_v4 messages, our decoder finds ${ours}`);
      const malformed = spawnSync(TSHARK, [...base, '-Y', '_ws.malformed || _ws.expert.severity >= 6291456'], { encoding: 'utf8', timeout: 30_000 });
      t.equal(malformed.stdout.trim(), '', `${r.test}: no malformed packet, no expert warning or error`);
      const expert = spawnSync(TSHARK, [...base, '-q', '-z', 'expert'], { encoding: 'utf8', timeout: 30_000 });
      t.notMatch(expert.stdout, /^(Errors|Warns) \(/m, `${r.test}: tshark -z expert reports no errors or warnings`);
      t.notMatch(expert.stdout, /Malformed/i, `${r.test}: tshark -z expert reports nothing malformed`);
    }
  });

  t.test('(b) ovs-ofctl ofp-parse-pcap parses each control channel', async (t) => {
    for (const r of rows) {
      const buf = readFileSync(join(DIR, `${r.test}.pcapng`));
      const ours = readOpenFlowSession(buf, FIXTURE_CONTROLLER_PORT).length;
      // The control channel as a classic pcap, written with our own writer.
      const control = readCapture(buf).records.filter((p) => (p.interfaceId ?? 0) === 0);
      const pcap = join(tmp, `${r.test}.pcap`);
      writeFileSync(pcap, writePcap(control.map((p) => ({ timestampUs: p.timestampUs, data: Buffer.from(p.data) }))));
      const run = spawnSync(OFCTL, ['ofp-parse-pcap', pcap, String(FIXTURE_CONTROLLER_PORT)], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 30_000 });
      const printed = (run.stdout.match(/^127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+:$/gm) ?? []).length;
      if (KNOWN_OFCTL_ABORTS.has(r.test)) {
        t.not(run.status, 0, `${r.test}: ovs-ofctl 3.1.0 aborts on the big TABLE_FEATURES reply (known ovs-ofctl bug), after ${printed} of ${ours} messages`);
        continue;
      }
      t.equal(run.status, 0, `${r.test}: ovs-ofctl ofp-parse-pcap exits 0${run.status ? `: ${run.stderr.slice(-300)}` : ''}`);
      t.equal(printed, ours, `${r.test}: ovs-ofctl prints ${printed} messages, our decoder finds ${ours}`);
      // Warnings (ofp_actions|WARN bad action ...) are expected for the scenarios that send bad requests.
      t.notMatch(run.stderr, /\|ERR\||bad packet length|pcap\|WARN/, `${r.test}: ovs-ofctl reports no error reading the pcap`);
    }
  });

  if (process.env.OWN_FIXTURES_NO_REPLAY === '1') {
    t.pass('(c) replay skipped (OWN_FIXTURES_NO_REPLAY=1)');
  } else {
    t.test('(c) replayed against ofswitchd', async (t) => {
      const started = performance.now();
      const lines: string[] = [];
      let identical = 0;
      const jobs = 4;
      const results: Array<{ test: string; line: string; detail: string[] }> = new Array(rows.length);
      let next = 0;
      await Promise.all(Array.from({ length: jobs }, async () => {
        while (next < rows.length) {
          const i = next++;
          const r = rows[i]!;
          try {
            const fixture = loadFixture(join(DIR, `${r.test}.pcapng`));
            patchBundleXids(fixture);
            // Timeout scenarios: wait long enough for the switch's own timers (hard timeout 2 s).
            const replay = await replayFixture(fixture, { timeoutMs: 20_000, ...(r.test.startsWith('timeout.') ? { waitMs: 5000 } : {}) });
            unpatchBundleXids(replay);
            const cmp = compareReplay(fixture, replay);
            results[i] = {
              test: r.test, line: cmp.identical ? 'identical' : `differs: ${cmp.first!.summary}`,
              detail: [...(cmp.first?.detail ?? []), ...replay.timeouts.slice(0, 3).map((w) => `timed out waiting for ${w}`), ...replay.notes.map((n) => `note: ${n}`)],
            };
          } catch (e) {
            results[i] = { test: r.test, line: `differs: replay failed: ${String((e as Error).message).split('\n')[0]}`, detail: [] };
          }
        }
      }));
      for (const res of results) {
        lines.push(`${res.test} ${res.line}`);
        if (res.line === 'identical') identical++;
        else for (const d of res.detail.slice(0, 6)) lines.push(`    ${d.slice(0, 400)}`);
        const known = KNOWN_DIFFERENCES[res.test];
        if (known) t.match(res.line, known.first, `${res.test}: known difference (${known.why})`);
        else t.equal(res.line, 'identical', `${res.test} replays identically`);
      }
      console.log(lines.map((l) => `# ${l}`).join('\n'));
      console.log(`# ${identical}/${results.length} identical in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    });
  }
}
