// Waiting out another process's write lock on SQLite without stalling the event loop.
// better-sqlite3 is synchronous, so SQLite's busy timeout is a sleep on the main thread: every
// request, stream and timer waits with it. Past start-up it is short, and a write that still
// finds the database locked is run again whole after an asynchronous wait. (SQLite's docs: in an
// explicit transaction, roll back rather than retry the statement; knex and better-sqlite3 both
// roll back a transaction that threw.) Every SQLite write runs here, so here its errors are typed
// for the API as PostgreSQL's and MySQL's are in db-timeout.ts (a full disk: DatabaseFullError).
import { isSqliteBusy, typedDbError } from './db-errors.js';

/** The busy timeout while migrating: several processes may start together, and nothing else runs yet. */
export const SQLITE_START_BUSY_MS = 5000;
/** The busy timeout after start-up: rides out a brief lock (another node's commit) in place. */
export const SQLITE_BUSY_MS = 50;
/** How long a write keeps trying while the database is locked, as the busy timeout alone once did. */
export const SQLITE_WRITE_WAIT_MS = 5000;

/** The wait before retry `n` (from 0): 10, 20, 40 ... ms, at most 200 (so a lock's end is seen soon). */
export function busyBackoffMs(n: number): number {
  return Math.min(10 * 2 ** n, 200);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One database's writes, retried while SQLite answers busy. They run one at a time: while one
 * waits out a lock the others queue behind it, where each would otherwise spend its own busy
 * timeout blocking the loop (one connection writes one statement at a time anyway).
 */
export class SqliteWrites {
  private tail: Promise<unknown> = Promise.resolve();
  /** The busy error of a write that gave up, until another write gets through. */
  private stillBusy: unknown;

  constructor(private readonly waitMs = SQLITE_WRITE_WAIT_MS) {}

  /**
   * Runs `op`, a whole write or transaction (it must not itself call run: it would wait on
   * itself). Busy answers are retried for up to waitMs from this call, queueing included; then
   * the last busy error is thrown.
   */
  run<T>(op: () => PromiseLike<T>): Promise<T> {
    const giveUp = performance.now() + this.waitMs;
    const turn = this.tail.then(() => this.attempts(op, giveUp));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /**
   * What a write that gave up throws: its own error when it ran, else one saying so, with the
   * busy answer another write got as its cause (that one's message names that write's SQL).
   */
  private busyError(busy: unknown): unknown {
    if (busy !== this.stillBusy) return busy;
    return Object.assign(new Error('SQLITE_BUSY: database is locked (the write waited behind others and did not run)', { cause: busy }), { code: 'SQLITE_BUSY' });
  }

  private async attempts<T>(op: () => PromiseLike<T>, giveUp: number): Promise<T> {
    // Straight after a write that gave up, wait first: two busy timeouts back to back stall twice as long.
    let busy = this.stillBusy;
    for (let n = 0; ; n++) {
      if (busy !== undefined) {
        const left = giveUp - performance.now();
        if (left <= 0) throw this.busyError(busy);
        await sleep(Math.min(busyBackoffMs(n), left));
      }
      try {
        const result = await op();
        this.stillBusy = undefined;
        return result;
      } catch (err) {
        if (!isSqliteBusy(err)) {
          this.stillBusy = undefined; // the database answered; the lock is not known to be held
          throw typedDbError(err);
        }
        busy = err;
        if (performance.now() >= giveUp) {
          this.stillBusy = err;
          throw err;
        }
      }
    }
  }
}
