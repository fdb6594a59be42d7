// Calls and their logs are kept for KILN_CALL_RETENTION_HOURS, so a server that runs for weeks
// does not fill its disk with them. Call ids are ULIDs, which begin with their time: "older
// than" is a range of the primary keys, so pruning needs no index of its own, and it goes in
// small batches, each a short transaction, so the calls being written meanwhile (on SQLite, by
// the one writer) wait for a batch, not for the whole backlog.
import { setTimeout as sleep } from 'node:timers/promises';
import { idBoundAt } from './call-ids.js';
import { loggedError } from './db-log.js';
import type { CallPruning } from './types.js';

interface RetentionLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** How often to prune: a tenth of the retention, at least every 10 minutes and at most every second. */
export function pruneIntervalMs(retentionMs: number): number {
  return Math.min(10 * 60_000, Math.max(1000, Math.floor(retentionMs / 10)));
}

export interface CallRetentionOptions {
  /** How long a call is kept after it was created; 0 keeps calls for ever (nothing runs). */
  retentionMs: number;
  /** Rows per batch per table. */
  batch?: number;
  /** The pause between batches, in which other writes go first. */
  pauseMs?: number;
  now?: () => number;
}

export class CallRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly batch: number;
  private readonly pauseMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: CallPruning,
    private readonly log: RetentionLog,
    private readonly opts: CallRetentionOptions,
  ) {
    this.batch = opts.batch ?? 500;
    this.pauseMs = opts.pauseMs ?? 20;
    this.now = opts.now ?? Date.now;
  }

  /** Prunes now (a server stopped for a while has a backlog), then every pruneIntervalMs. */
  start(): void {
    if (this.opts.retentionMs <= 0 || this.stopped) return;
    const every = pruneIntervalMs(this.opts.retentionMs);
    const tick = (): void => {
      this.running = this.pruneOnce().then(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(tick, every);
        this.timer.unref();
      });
    };
    tick();
  }

  /** Stops the schedule and waits for a batch under way (the store is closed next). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: batches until nothing older than the retention is left; never throws. */
  async pruneOnce(): Promise<number> {
    const before = this.now() - this.opts.retentionMs;
    const bound = idBoundAt(before);
    let deleted = 0;
    try {
      for (;;) {
        const n = await this.store.deleteCallsBefore(bound, this.batch);
        deleted += n;
        if (n === 0 || this.stopped) break;
        await sleep(this.pauseMs);
      }
    } catch (err) {
      // The database away or busy: the next pass tries again.
      this.log.warn({ ...loggedError(err), deleted }, 'pruning old calls failed; trying again later');
      return deleted;
    }
    if (deleted > 0) this.log.info({ deleted, before: new Date(before).toISOString() }, 'pruned calls and logs past KILN_CALL_RETENTION_HOURS');
    return deleted;
  }
}
