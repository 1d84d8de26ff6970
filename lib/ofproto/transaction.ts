/*
 * A change to the switch's tables that can be undone: every mutation registers how to undo
 * it, and the notifications it causes (flow-removed, port-status) wait for the commit. A
 * single flow-mod commits at once; a bundle commits only if all of its messages succeed,
 * otherwise it rolls back and nothing is seen to have happened.
 */
export class Transaction {
  private readonly undoLog: Array<() => void> = [];
  private readonly onCommit: Array<() => void> = [];
  private done = false;

  /** Records how to undo a mutation that has just been made. */
  undo(step: () => void): void {
    this.undoLog.push(step);
  }

  /** Defers an effect (usually a notification) until the commit. */
  afterCommit(effect: () => void): void {
    this.onCommit.push(effect);
  }

  commit(): void {
    if (this.done) return;
    this.done = true;
    for (const effect of this.onCommit) effect();
  }

  rollback(): void {
    if (this.done) return;
    this.done = true;
    for (let i = this.undoLog.length - 1; i >= 0; i--) this.undoLog[i]!();
  }
}

/** Runs `change` in its own transaction: committed if it returns, rolled back if it throws. */
export function atomically<T>(change: (txn: Transaction) => T): T {
  const txn = new Transaction();
  try {
    const result = change(txn);
    txn.commit();
    return result;
  } catch (e) {
    txn.rollback();
    throw e;
  }
}
