/*
 * Giving memory back. V8 keeps the heap it has grown to until a major collection, so after
 * a switch drops much of its state (100,000 flows deleted, say), or after a burst of work
 * whose garbage V8 has not yet collected (100,000 flow-mods decoded), its resident size
 * would stay at the peak. Callers report such churn; once a burst has quietened down, a full
 * collection returns the pages to the system. Needs node --expose-gc (bin/ofswitchd passes
 * it); without it this does nothing.
 */
const QUIET_MS = 250;
/** Objects freed before a collection is worth its pause. */
const THRESHOLD = 10_000;

export class MemoryReclaimer {
  private freed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly collect: (() => void) | undefined = (globalThis as { gc?: () => void }).gc) {}

  /** Records that `count` sizeable objects (rules, decoded requests) were dropped. */
  churn(count: number): void {
    if (!this.collect) return;
    this.freed += count;
    if (this.freed < THRESHOLD) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.freed = 0;
      this.collect?.();
    }, QUIET_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
