/*
 * Logging by module, in the manner of Open vSwitch's vlog: each module has a level
 * (emer, err, warn, info, dbg, off), lines go to stderr or a log file, and a rate-limited
 * variant keeps a flood of bad packets or messages from becoming a flood of log lines.
 *
 * This is the one module-level registry in lib/ besides the datapath: log levels are
 * process-wide by nature (`ofs-appctl vlog/set` changes them for the whole daemon).
 */
import { appendFileSync } from 'node:fs';

export const LEVELS = ['off', 'emer', 'err', 'warn', 'info', 'dbg'] as const;
export type Level = typeof LEVELS[number];

const levels = new Map<string, Level>();
let defaultLevel: Level = 'info';
let logFile: string | undefined;
/** Modules that created a logger. */
const known = new Set<string>();

export function setLogLevel(module: string | 'ANY', level: Level): void {
  if (module === 'ANY') {
    defaultLevel = level;
    levels.clear();
  } else {
    levels.set(module, level);
  }
}

export function setLogFile(path: string | undefined): void {
  logFile = path;
}

/** Every module that has a logger or a level set, with its level (for vlog/list). */
export function logLevels(): Array<[string, Level]> {
  const modules = new Set([...known, ...levels.keys()]);
  return [...modules].sort().map((m) => [m, levels.get(m) ?? defaultLevel]);
}

export function isLevel(text: string): text is Level {
  return (LEVELS as readonly string[]).includes(text);
}

function enabled(module: string, level: Level): boolean {
  const threshold = levels.get(module) ?? defaultLevel;
  return LEVELS.indexOf(level) <= LEVELS.indexOf(threshold) && level !== 'off';
}

function write(module: string, level: Level, text: string): void {
  const line = `${new Date().toISOString()}|${module}|${level.toUpperCase()}|${text}\n`;
  if (logFile) {
    try {
      appendFileSync(logFile, line);
      return;
    } catch {
      // Fall back to stderr when the log file cannot be written.
    }
  }
  process.stderr.write(line);
}

/** A logger for one module. `...Rl` methods allow `burst` lines per `intervalMs`, then count the rest. */
export class Vlog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(readonly module: string, private readonly burst = 5, private readonly intervalMs = 60_000) {
    known.add(module);
  }

  err(text: string): void { if (enabled(this.module, 'err')) write(this.module, 'err', text); }
  warn(text: string): void { if (enabled(this.module, 'warn')) write(this.module, 'warn', text); }
  info(text: string): void { if (enabled(this.module, 'info')) write(this.module, 'info', text); }
  dbg(text: string): void { if (enabled(this.module, 'dbg')) write(this.module, 'dbg', text); }

  warnRl(text: string): void { this.limited('warn', text); }
  dbgRl(text: string): void { this.limited('dbg', text); }

  private limited(level: Level, text: string): void {
    if (!enabled(this.module, level)) return;
    const now = Date.now();
    if (now - this.windowStart >= this.intervalMs) {
      if (this.suppressed > 0) write(this.module, level, `Dropped ${this.suppressed} log messages in last ${Math.round((now - this.windowStart) / 1000)} seconds due to excessive rate`);
      this.windowStart = now;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow++ < this.burst) write(this.module, level, text);
    else this.suppressed++;
  }
}
