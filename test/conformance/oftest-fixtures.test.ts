/*
 * The shared OFTest fixtures (191 OpenFlow 1.3 tests recorded against Open vSwitch 3.1.0, in
 * ../shared/fixtures/oftest-ovs31) replayed against ofswitchd, one fresh daemon per fixture
 * (./replay.ts), and compared with the recording (./compare.ts).
 *
 * One report line per fixture, in manifest order:
 *   <test> [<ovs verdict>] identical | differs: <first difference> | extension not supported |
 *   no session recorded
 * followed, for a difference, by both sides of the first differing message (decoded JSON) or
 * frame (hex), and by the waits that timed out. Then the totals by outcome and the time taken.
 *
 * Asserted: every fixture Open vSwitch passes (verdict "pass") replays identically, one
 * assertion per fixture, so that a failure names the fixture and its first difference.
 * bsn_* fixtures (Big Switch extensions, which ofswitch refuses like any unknown experimenter)
 * are reported as "extension not supported" and not compared; fixtures Open vSwitch fails or
 * could not run are reported only.
 *
 * Then a few fixtures are replayed again and must give the same report (the full check, every
 * fixture ten times, is `npx tsx test/conformance/determinism.ts`).
 *
 * OFTEST_JOBS (default 2) fixtures replay at a time; OFTEST_FILTER (a substring) limits the
 * fixtures. Without the fixtures directory the file is skipped with the reason.
 */
import t from 'tap';
import { compareReplay } from './compare.ts';
import {
  carriedState, fixturePath, fixturesMissing, type FixtureReport, outcomeCounts, readManifest, runFixture, runFixtures,
} from './fixtures.ts';
import { loadFixture, replayFixture } from './replay.ts';

t.setTimeout(300_000);

const missing = fixturesMissing();
const JOBS = Math.max(1, Number(process.env.OFTEST_JOBS ?? 2) || 1);
const FILTER = process.env.OFTEST_FILTER ?? '';

/** Fixtures replayed twice for the determinism check: control-only, frames, roles, groups, polls, a difference. */
const TWICE = [
  'role_request.SlaveNoPacketIn', 'match.EthDstMulticast', 'basic.PacketOut', 'flow_mod.Overwrite', 'basic.GroupStats',
  'groups.SelectFwdSpread',
];

function reportLines(r: FixtureReport): string[] {
  return [`${r.test} [${r.verdict}] ${r.line}`, ...(r.outcome === 'differs' ? r.detail.map((d) => `    ${d}`) : [])];
}

t.test('OFTest fixtures replay on ofswitchd as recorded on Open vSwitch 3.1', { skip: missing ?? false }, async (t) => {
  const all = readManifest();
  const carried = carriedState(all);
  const rows = all.filter((r) => r.test.includes(FILTER));
  t.comment(`${rows.length} fixtures, ${JOBS} at a time, ofswitchd --no-buffering (Open vSwitch 3.x packet-ins)`);
  const started = performance.now();
  const reports = await runFixtures(rows, carried, JOBS);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const r of reports) {
    for (const line of reportLines(r)) t.comment(line);
    if (r.verdict !== 'pass') continue;
    if (r.outcome === 'extension not supported') t.pass(`${r.test}: extension not supported, not compared`);
    else t.equal(r.line, 'identical', r.test);
  }
  const counts = outcomeCounts(reports);
  t.comment(`total: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')} (of ${reports.length}) in ${seconds} s`);
  const passing = reports.filter((r) => r.verdict === 'pass' && r.outcome !== 'extension not supported');
  t.comment(`Open vSwitch passes ${passing.length} of them (bsn_* aside); identical on ofswitch: ${passing.filter((r) => r.outcome === 'identical').length}`);

  t.test('replaying again gives the same reports', async (t) => {
    const again = all.filter((r) => TWICE.includes(r.test) && r.test.includes(FILTER));
    const second = await runFixtures(again, carried, JOBS);
    for (const r of second) {
      const first = reports.find((x) => x.test === r.test)!;
      t.equal(reportLines(r).slice(0, 3).join('\n'), reportLines(first).slice(0, 3).join('\n'), r.test);
    }
  });
});

t.test('the comparer sees a changed message, a changed frame and a missing message', { skip: missing ?? false }, async (t) => {
  const fixture = loadFixture(fixturePath('match.EthDstMulticast'));
  const replay = await replayFixture(fixture);
  t.ok(compareReplay(fixture, replay).identical, 'as replayed: identical');

  const frames = new Map([...replay.frames].map(([p, list]) => [p, list.map((f) => ({ ...f, frame: Buffer.from(f.frame) }))]));
  const p2 = frames.get(2)![0]!;
  p2.frame[p2.frame.length - 1]! ^= 1;
  const frameChanged = compareReplay(fixture, { ...replay, frames });
  t.match(frameChanged.first?.summary, /^p2 frame #1: first differing byte at offset 99/, 'one bit of a frame');

  const control = replay.control.map((m) => ({ ...m, bytes: Buffer.from(m.bytes) }));
  const packetIn = control.findIndex((m) => m.bytes[1] === 10);
  control[packetIn]!.bytes[control[packetIn]!.bytes.length - 1]! ^= 1;
  const messageChanged = compareReplay(fixture, { ...replay, control });
  t.match(messageChanged.first?.summary, /^control message #\d+ \(packet_in\): data: expected/, 'one bit of a packet-in');
  t.match(messageChanged.first?.detail[0], /^expected \(OVS 3\.1\): \{"type":"packet_in"/, 'decoded JSON of the recording');

  const dropped = compareReplay(fixture, { ...replay, control: replay.control.slice(0, -1) });
  t.match(dropped.first?.summary, /got nothing$/, 'a missing message');
});

t.test('a bsn_* fixture is not replayed; a fixture without a session says so', { skip: missing ?? false }, async (t) => {
  const rows = readManifest();
  const bsn = rows.find((r) => r.test === 'bsn_flow_checksum.ResizeError')!;
  t.equal((await runFixture(bsn, undefined)).line, 'extension not supported');
  const none = rows.find((r) => r.test === 'role_request.RoleSwitch')!;
  t.equal((await runFixture(none, undefined)).line, 'no session recorded');
});
