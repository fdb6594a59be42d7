// Running a write again when the database chose it as a deadlock's victim. On MySQL/MariaDB and
// PostgreSQL two writes taking the same rows in the other order (a trigger moved off a fn while
// the fn is deleted: InnoDB's ON DELETE CASCADE locks the trigger after the fn) deadlock, and the
// server rolls one back whole. Nothing of it was written, so running the whole transaction again
// is safe, and the other write has usually finished by then. (SQLite has no row locks: its busy
// database is store/sqlite-busy.ts's.)
import { isDeadlock } from './db-errors.js';
import { DatabaseConflictError } from './errors.js';

/** Runs of a write in all before it is given up: the other write is done within one or two. */
export const DEADLOCK_ATTEMPTS = 4;

/** The pause before run `n + 1` (n from 1): about 10, 20, 40 ms, jittered ±50% so two victims do not meet again in step. */
export function deadlockPauseMs(n: number, random: () => number = Math.random): number {
  return 10 * 2 ** (n - 1) * (0.5 + random());
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `op`, one write statement or one transaction, run again while it fails as a deadlock's victim,
 * up to `attempts` runs; then DatabaseConflictError, the last victim's error as its cause.
 * Any other failure is thrown as it is.
 */
export async function retryDeadlocks<T>(
  op: () => PromiseLike<T>, attempts = DEADLOCK_ATTEMPTS, pause: (n: number) => number = deadlockPauseMs,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await op();
    } catch (err) {
      if (!isDeadlock(err)) throw err;
      if (n >= attempts) throw new DatabaseConflictError(n, { cause: err });
      await sleep(pause(n));
    }
  }
}
