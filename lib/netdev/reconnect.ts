/*
 * The reconnect state machine of an active stream netdev (`stream=unix:PATH` or
 * `stream=tcp:HOST:PORT`), after Open vSwitch's lib/reconnect.c as netdev-dummy uses it.
 *
 * States:
 *   connecting  a connection attempt is in flight; it is abandoned after connectTimeoutMs().
 *   active      connected; frames flow.
 *   backoff     not connected; the next attempt starts when backoffMs has passed.
 *   void        closed for good; no more attempts.
 *
 * The first attempt is made at once. After a failed attempt, or a connection that lasted less
 * than the current backoff, the backoff doubles from 1 s up to 8 s; after a connection that
 * lasted at least the current backoff it starts again from 1 s. (Open vSwitch's dummy netdev
 * asks for 100 ms..INT_MAX, which lib/reconnect.c raises to 1 s..INT_MAX; ofswitch caps at 8 s,
 * the same bound as its controller connections, so a peer that comes back is found quickly.)
 *
 * Times are milliseconds on the caller's monotonic clock (performance.now()).
 */
export const RECONNECT_MIN_BACKOFF_MS = 1000;
export const RECONNECT_MAX_BACKOFF_MS = 8000;

export type ReconnectState = 'connecting' | 'active' | 'backoff' | 'void';

export class Reconnect {
  private stateValue: ReconnectState = 'backoff';
  private backoff = 0;
  private connectedAt = 0;
  private enteredAt: number;

  constructor(now: number, readonly minBackoffMs = RECONNECT_MIN_BACKOFF_MS, readonly maxBackoffMs = RECONNECT_MAX_BACKOFF_MS) {
    this.enteredAt = now;
  }

  get state(): ReconnectState { return this.stateValue; }
  /** How long the current backoff lasts (0 before the first attempt). */
  get backoffMs(): number { return this.backoff; }
  /** When the current state was entered. */
  get stateEnteredAt(): number { return this.enteredAt; }

  static stateName(state: ReconnectState): string {
    switch (state) {
      case 'connecting': return 'CONNECTING';
      case 'active': return 'ACTIVE';
      case 'backoff': return 'BACKOFF';
      case 'void': return 'VOID';
    }
  }

  /** How long a connection attempt may take before it is given up: max(1 s, backoff), as in Open vSwitch. */
  connectTimeoutMs(): number {
    return Math.max(this.minBackoffMs, this.backoff);
  }

  /** Milliseconds until the next attempt is due (0 when due now); only meaningful in 'backoff'. */
  delayUntilAttempt(now: number): number {
    return Math.max(0, this.enteredAt + this.backoff - now);
  }

  connecting(now: number): void {
    this.transition('connecting', now);
  }

  connected(now: number): void {
    this.connectedAt = now;
    this.transition('active', now);
  }

  /** An attempt failed or the connection ended: chooses the next backoff and enters 'backoff'. */
  disconnected(now: number): void {
    if (this.stateValue === 'void' || this.stateValue === 'backoff') return;
    if (this.stateValue === 'active' && now - this.connectedAt >= this.backoff) {
      this.backoff = this.minBackoffMs;
    } else if (this.backoff < this.minBackoffMs) {
      this.backoff = this.minBackoffMs;
    } else if (this.backoff < this.maxBackoffMs / 2) {
      this.backoff *= 2;
    } else {
      this.backoff = this.maxBackoffMs;
    }
    this.transition('backoff', now);
  }

  /** No more attempts. */
  disable(now: number): void {
    this.transition('void', now);
  }

  private transition(state: ReconnectState, now: number): void {
    this.stateValue = state;
    this.enteredAt = now;
  }
}
