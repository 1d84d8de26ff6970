/*
 * The shared OFTest fixtures (../shared/fixtures/oftest-ovs31 from the repository root): the
 * manifest, the switch-wide state each test inherited from the tests before it, and one
 * fixture's outcome (replayed with ./replay.ts, compared with ./compare.ts).
 *
 * Outcomes:
 *   - "identical": every switch message and frame matches the recording after normalisation;
 *   - "differs: <first difference>";
 *   - "extension not supported": a bsn_* test (Big Switch experimenter messages and matches,
 *     which ofswitch answers with an error, as it does any unknown experimenter); not replayed;
 *   - "no session recorded": the recording holds no OpenFlow connection (the two tests that
 *     need two controllers at fixed ports; verdict "error").
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeMessage, type GroupMod, OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE, OFPG_ALL, OFPGC_ADD, OFPGC_DELETE, OFPGC_MODIFY,
} from '../../protocol/index.ts';
import { readOpenFlowSession } from '../../protocol/pcap.ts';
import { compareReplay, type Comparison } from './compare.ts';
import { FIXTURE_CONTROLLER_PORT, loadFixture, replayFixture, type ReplayOptions, type ReplayResult } from './replay.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'oftest-ovs31');
export const MANIFEST = join(FIXTURE_DIR, 'MANIFEST.tsv');

export interface ManifestRow {
  test: string;
  verdict: 'pass' | 'fail' | 'error';
  ofMsgsToSwitch: number;
  ofMsgsFromSwitch: number;
  framesIntoSwitch: number;
  framesFromSwitch: number;
  tcpConnections: number;
  failureReason: string;
}

/** Why the fixtures cannot be used, or undefined when they can. */
export function fixturesMissing(): string | undefined {
  if (!existsSync(MANIFEST)) return `no OFTest fixtures at ${MANIFEST}`;
  return undefined;
}

export function readManifest(): ManifestRow[] {
  const lines = readFileSync(MANIFEST, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines.slice(1).map((line) => {
    const [test = '', verdict = '', toSw = '0', fromSw = '0', into = '0', from = '0', conns = '0', reason = ''] = line.split('\t');
    if (verdict !== 'pass' && verdict !== 'fail' && verdict !== 'error') throw new Error(`MANIFEST: bad verdict '${verdict}' for ${test}`);
    return {
      test, verdict, ofMsgsToSwitch: Number(toSw), ofMsgsFromSwitch: Number(fromSw), framesIntoSwitch: Number(into),
      framesFromSwitch: Number(from), tcpConnections: Number(conns), failureReason: reason,
    };
  });
}

export function fixturePath(test: string): string {
  return join(FIXTURE_DIR, `${test}.pcapng`);
}

/** Switch-wide state a test inherited from the tests recorded before it on the same switch. */
export interface CarriedState {
  /** The last role-request generation id the switch accepted; undefined: never set. */
  generationId?: bigint;
  /** Groups left installed (in the order they were created). */
  groups: GroupMod[];
}

/**
 * The state the reference switch held when each test started, following Open vSwitch's rules
 * over the recordings in manifest order (the README: one switch, tests in MANIFEST order, flows
 * deleted by every test, groups only by the group tests). A message took effect when the switch
 * did not answer its xid with an error:
 *   - a ROLE_REQUEST for MASTER or SLAVE answered by a ROLE_REPLY set the generation id;
 *   - GROUP_MOD add, modify and delete (OFPG_ALL for every group) changed the groups.
 */
export function carriedState(rows: readonly ManifestRow[]): Map<string, CarriedState> {
  const result = new Map<string, CarriedState>();
  let generationId: bigint | undefined;
  const groups = new Map<number, GroupMod>();
  for (const row of rows) {
    result.set(row.test, { ...(generationId !== undefined ? { generationId } : {}), groups: [...groups.values()] });
    const file = fixturePath(row.test);
    if (!existsSync(file)) continue;
    const session = readOpenFlowSession(readFileSync(file), FIXTURE_CONTROLLER_PORT);
    const answers = new Map<number, string>();
    for (const m of session) {
      if (!m.fromSwitch) continue;
      const d = decodeMessage(m.bytes);
      answers.set(m.bytes.readUInt32BE(4), d.ok ? d.message.type : 'undecodable');
    }
    for (const m of session) {
      if (m.fromSwitch) continue;
      const d = decodeMessage(m.bytes);
      if (!d.ok || answers.get(d.message.xid) === 'error') continue;
      const msg = d.message;
      if (msg.type === 'role_request' && (msg.role === OFPCR_ROLE_MASTER || msg.role === OFPCR_ROLE_SLAVE)) {
        if (answers.get(msg.xid) === 'role_reply') generationId = msg.generationId;
      } else if (msg.type === 'group_mod') {
        if (msg.command === OFPGC_ADD) groups.set(msg.groupId, { ...msg, xid: 0 });
        else if (msg.command === OFPGC_MODIFY) groups.set(msg.groupId, { ...msg, command: OFPGC_ADD, xid: 0 });
        else if (msg.command === OFPGC_DELETE) {
          if (msg.groupId === OFPG_ALL) groups.clear();
          else groups.delete(msg.groupId);
        }
      }
    }
  }
  return result;
}

export type Outcome = 'identical' | 'differs' | 'extension not supported' | 'no session recorded';

export interface FixtureReport {
  test: string;
  verdict: ManifestRow['verdict'];
  outcome: Outcome;
  /** `identical`, `differs: <first difference>`, ... */
  line: string;
  /** Both sides of the first difference, timeouts and notes. */
  detail: string[];
  elapsedMs: number;
  comparison?: Comparison;
  replay?: ReplayResult;
}

export async function runFixture(row: ManifestRow, carried: CarriedState | undefined, options: ReplayOptions = {}): Promise<FixtureReport> {
  const started = performance.now();
  const base = { test: row.test, verdict: row.verdict, detail: [] as string[] };
  const fixture = loadFixture(fixturePath(row.test));
  if (fixture.connections === 0) {
    return { ...base, outcome: 'no session recorded', line: 'no session recorded', elapsedMs: performance.now() - started };
  }
  if (row.test.startsWith('bsn_')) {
    return { ...base, outcome: 'extension not supported', line: 'extension not supported', elapsedMs: 0 };
  }
  // Only state the test can observe is set up: the generation id when it sends role requests,
  // the groups unless it deletes every group before looking at any.
  const generationId = fixture.usesRoles ? carried?.generationId : undefined;
  const groups = fixture.groupsObservable ? carried?.groups ?? [] : [];
  let replay: ReplayResult;
  try {
    replay = await replayFixture(fixture, {
      ...options, ...(generationId !== undefined ? { initialGenerationId: generationId } : {}),
      ...(groups.length ? { initialGroups: groups } : {}),
    });
  } catch (e) {
    // ofswitchd did not start, a port socket did not accept, ...: the fixture fails, the rest runs.
    const [first = '', ...rest] = String((e as Error).stack ?? e).split('\n');
    return {
      ...base, outcome: 'differs', line: `differs: replay failed: ${first}`, detail: rest.slice(0, 8).map((l) => l.trim()),
      elapsedMs: performance.now() - started,
    };
  }
  const comparison = compareReplay(fixture, replay, { historyGroups: new Set(groups.map((g) => g.groupId)) });
  const detail = [
    ...(comparison.first?.detail ?? []),
    ...replay.timeouts.slice(0, 3).map((w) => `timed out waiting for ${w}`),
    ...(replay.timeouts.length > 3 ? [`… and ${replay.timeouts.length - 3} more waits timed out`] : []),
    ...replay.notes.map((n) => `note: ${n}`),
  ];
  const elapsedMs = performance.now() - started;
  if (comparison.identical) return { ...base, outcome: 'identical', line: 'identical', detail, elapsedMs, comparison, replay };
  return { ...base, outcome: 'differs', line: `differs: ${comparison.first!.summary}`, detail, elapsedMs, comparison, replay };
}

/**
 * Replays `rows` with at most `jobs` fixtures at a time (each with its own ofswitchd), and
 * returns the reports in the order of `rows`. `onReport` sees each report as it completes.
 */
export async function runFixtures(
  rows: readonly ManifestRow[], carried: Map<string, CarriedState>, jobs = 1, options: ReplayOptions = {},
  onReport?: (report: FixtureReport) => void,
): Promise<FixtureReport[]> {
  const reports: FixtureReport[] = new Array(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const index = next++;
      const row = rows[index]!;
      reports[index] = await runFixture(row, carried.get(row.test), options);
      onReport?.(reports[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return reports;
}

/** "identical 157, differs 6, ..." */
export function outcomeCounts(reports: readonly FixtureReport[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { identical: 0, differs: 0, 'extension not supported': 0, 'no session recorded': 0 };
  for (const r of reports) counts[r.outcome]++;
  return counts;
}
