/*
 * Coverage counters (Open vSwitch's COVERAGE_DEFINE / coverage/show): cheap named counts of
 * rare and slow paths — upcalls, cache flushes, dropped packet-ins, refused requests — so a
 * switch can be debugged in the field with `ofs-appctl coverage/show`. Process-wide by nature,
 * like log levels.
 */
const counters = new Map<string, number>();

/** Counts one (or `n`) occurrence of `name`. */
export function coverageInc(name: string, n = 1): void {
  counters.set(name, (counters.get(name) ?? 0) + n);
}

/** Every counter that moved, by name. */
export function coverageSnapshot(): Array<[string, number]> {
  return [...counters].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}
