// Writes finished calls and their logs to the store off the caller's path: record() only
// queues; every BATCH_DELAY_MS what has queued goes in one transaction, so a busy server
// pays for one write per batch rather than one per call. A batch the database refuses is
// written again call by call, so one bad row loses only its own call. A batch the database did
// not answer, could not be reached or had no space for is held and written again, oldest first, with backoff
// (held-calls.ts bounds what is held), so a short outage loses no call.
import type { Logger } from 'pino';
import type { Call, CallStore } from '../store/types.js';
import { dbErrorForLog } from '../store/db-log.js';
import { DatabaseConnectionLostError, DatabaseFullError, DatabaseTimeoutError, DatabaseUnavailableError } from '../store/errors.js';
import { HeldCalls, type HeldLimits, type LogUpdate, type Written } from './held-calls.js';

/**
 * The store's typed answer (store/db-errors.ts's callWriteError) that the database did not answer,
 * could not be reached or is full: the calls are held. Not a lost connection: the database may be
 * back at once, and the write may have committed.
 */
const unavailable = (err: unknown): boolean =>
  err instanceof DatabaseTimeoutError || (err instanceof DatabaseUnavailableError && !(err instanceof DatabaseConnectionLostError));

export interface CallRecord {
  call: Call;
  /** Read when the batch is written, so output that trails the answer is kept. */
  log: string | { toString(): string };
}

/** A queued record as it is written: its log read now, with what has trailed the answer so far. */
const written = (r: CallRecord): Written => ({ call: r.call, log: String(r.log) });

/** Most records written per transaction. */
const BATCH = 500;
/** How long a record may wait for others to join its batch. */
const BATCH_DELAY_MS = 20;

export interface RecorderOptions extends HeldLimits {
  /** The first wait before writing held records again; it doubles up to retryMaxMs. */
  retryMinMs: number;
  retryMaxMs: number;
}

/** How long a stopping server waits for its last write of held calls: a hung database would outlast the stop's own bound. */
const STOP_WRITE_MS = 5000;

const DEFAULTS: RecorderOptions = {
  retryMinMs: 1000,
  retryMaxMs: 30_000,
  // A call's log is capped (FN_MAX_LOG_SIZE_BYTES) and its stats decimated, so most are a few KB.
  maxCalls: 10_000,
  maxBytes: 64 * 1024 * 1024,
};

export class CallRecorder {
  private queue: CallRecord[] = [];
  /** Logs rewritten after their call was recorded, written after the calls. */
  private logs: LogUpdate[] = [];
  private running: Promise<void> | undefined;
  /** What the database was unavailable for, written again before anything newer. */
  private readonly held: HeldCalls;
  /** Set while waiting to write the held records again: new records join them rather than try alone. */
  private retryTimer: NodeJS.Timeout | undefined;
  /** Non-zero from the first unavailable write until one succeeds: the outage, retries included. */
  private retryMs = 0;
  /** The batch being written now, for the shutdown's account of what is lost. */
  private inFlight: readonly Written[] = [];
  private readonly opts: RecorderOptions;

  constructor(private readonly store: CallStore, private readonly log: Logger, opts: Partial<RecorderOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
    this.held = new HeldCalls(this.opts);
  }

  record(rec: CallRecord): void {
    // During an outage, also while held calls are being tried again, new ones join the held
    // (bounded) rather than a queue that would grow for as long as a hung write waits.
    if (this.retryMs !== 0) {
      this.held.push([written(rec)]);
      return;
    }
    this.queue.push(rec);
    this.kick();
  }

  /** Replaces a recorded call's log (with more of it), off the caller's path like records. */
  updateLog(fnId: string, callId: string, log: string): void {
    if (this.retryMs !== 0) {
      this.held.pushLogs([{ fnId, callId, log }]);
      return;
    }
    this.logs.push({ fnId, callId, log });
    this.kick();
  }

  private kick(): void {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      // A record that arrived as the drain was finishing starts the next one.
      if (!this.retryTimer && (this.queue.length > 0 || this.logs.length > 0)) this.kick();
    });
  }

  private async drain(): Promise<void> {
    await new Promise((r) => setTimeout(r, BATCH_DELAY_MS));
    this.reportDropped();
    for (;;) {
      const again = this.held.calls.length > 0;
      const batch = again ? this.held.take(BATCH) : this.queue.splice(0, BATCH).map(written);
      if (batch.length === 0) break;
      // Until it is written or held again: a stopping server names it if the database has not answered.
      this.inFlight = batch;
      try {
        try {
          await this.store.insertCalls(batch, again ? { again } : undefined);
          this.recovered();
        } catch (err) {
          if (unavailable(err)) {
            this.hold(err, batch);
            return;
          }
          // One row the database refuses rolls back its whole batch: the others are written one by one.
          if (batch.length === 1) {
            this.log.error({ error: dbErrorForLog(err), calls: batch.length, call_ids: batch.map((r) => r.call.id) }, 'could not record calls');
            continue;
          }
          // A connection lost under the write (its COMMIT, say) may have committed it: each is then
          // written as held calls are, a row already there kept rather than refused as a duplicate.
          if (!(await this.recordEach(batch, again || err instanceof DatabaseConnectionLostError))) return;
        }
      } finally {
        this.inFlight = [];
      }
    }
    for (;;) {
      const l = this.held.logs.length > 0 ? this.held.takeLog() : this.logs.shift();
      if (!l) break;
      try {
        await this.store.insertLog(l.fnId, l.callId, l.log);
      } catch (err) {
        if (unavailable(err)) {
          this.hold(err, [], [l]);
          return;
        }
        this.log.error({ error: dbErrorForLog(err), call: l.callId }, 'could not update a call log');
      }
    }
  }

  /** Each record alone; false when the database became unavailable (the rest are held). */
  private async recordEach(batch: readonly Written[], again: boolean): Promise<boolean> {
    for (const [i, rec] of batch.entries()) {
      try {
        await this.store.insertCalls([rec], again ? { again } : undefined);
      } catch (err) {
        if (!unavailable(err)) {
          this.log.error({ error: dbErrorForLog(err), call: rec.call.id }, 'could not record a call');
          continue;
        }
        this.hold(err, batch.slice(i));
        return false;
      }
    }
    return true;
  }

  /**
   * The database did not answer or could not be reached: `calls` (and `logs`) go back in front of
   * what is held, everything not yet tried joins them, and all is tried again after a backoff.
   * Each call of a batch that timed out may have been committed, so it is written again as such.
   */
  private hold(err: unknown, calls: readonly Written[], logs: readonly LogUpdate[] = []): void {
    this.held.unshift(calls, logs);
    this.held.push(this.queue.splice(0).map(written));
    this.held.pushLogs(this.logs.splice(0));
    const first = this.retryMs === 0;
    this.retryMs = first ? this.opts.retryMinMs : Math.min(this.retryMs * 2, this.opts.retryMaxMs);
    const fields = { error: dbErrorForLog(err), calls: this.held.calls.length, logs: this.held.logs.length, retry_ms: this.retryMs };
    // One line when the outage begins; each try after that only at debug.
    if (first) {
      this.log.warn(fields, err instanceof DatabaseFullError
        ? 'could not record calls: the database is full; they are held and written again when it has space'
        : 'could not record calls: the database is unavailable; they are held and written again when it answers');
    }
    else this.log.debug(fields, 'the database is still unavailable: held calls written again later');
    this.retryTimer = setTimeout(() => this.retry(), this.retryMs);
    this.retryTimer.unref();
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.kick();
  }

  private recovered(): void {
    if (this.retryMs === 0) return;
    this.retryMs = 0;
    this.log.info({ calls: this.held.calls.length }, 'the database answers again: writing the held calls');
  }

  /** One line for the calls dropped over the bound since the last. */
  private reportDropped(): void {
    const dropped = this.held.takeDropped();
    if (dropped.calls === 0 && dropped.logs === 0) return;
    this.log.warn(
      { calls: dropped.calls, call_ids: dropped.callIds, logs: dropped.logs },
      'could not record calls: more were held for an unavailable database than its bound, and the oldest were dropped',
    );
  }

  /**
   * Waits until everything queued so far is written, or tried: held records are tried at once,
   * not after their backoff, and stay held if the database is still unavailable.
   */
  async flush(): Promise<void> {
    if (this.retryTimer) this.retry();
    while (this.running) await this.running;
  }

  /**
   * Shutdown: tries everything once more, for at most STOP_WRITE_MS (a hung database would keep
   * it past the stop's own bound, and the process would exit unheard); what is still not written
   * is logged as lost, with the ids, the batch still waiting on the database among them.
   */
  async stop(boundMs = STOP_WRITE_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      this.flush().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), boundMs))),
    ]);
    clearTimeout(timer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.reportDropped();
    const lost = [
      ...(done ? [] : this.inFlight),
      ...this.held.take(Number.MAX_SAFE_INTEGER),
      ...(done ? [] : this.queue.splice(0).map((r) => ({ call: r.call, log: '' }))),
    ];
    const lostLogs = this.held.takeLogs();
    if (lost.length > 0 || lostLogs.length > 0) {
      this.log.error({ calls: lost.length, call_ids: lost.map((r) => r.call.id), logs: lostLogs.length }, 'could not record calls');
    }
  }
}
