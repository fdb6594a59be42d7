// Writes finished calls and their logs to the store off the caller's path: record() only
// queues; every BATCH_DELAY_MS what has queued goes in one transaction, so a busy server
// pays for one write per batch rather than one per call. A batch the database refuses is
// written again call by call, so one bad row loses only its own call.
import type { Logger } from 'pino';
import type { CallStore } from '../store/types.js';
import type { Call } from '../store/types.js';
import { dbErrorForLog, isUnavailable } from '../store/db-errors.js';

export interface CallRecord {
  call: Call;
  /** Read when the batch is written, so output that trails the answer is kept. */
  log: string | { toString(): string };
}

/** Most records written per transaction. */
const BATCH = 500;
/** How long a record may wait for others to join its batch. */
const BATCH_DELAY_MS = 20;

export class CallRecorder {
  private queue: CallRecord[] = [];
  /** Logs rewritten after their call was recorded, written after the calls. */
  private logs: { fnId: string; callId: string; log: string }[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly store: CallStore, private readonly log: Logger) {}

  record(rec: CallRecord): void {
    this.queue.push(rec);
    this.kick();
  }

  /** Replaces a recorded call's log (with more of it), off the caller's path like records. */
  updateLog(fnId: string, callId: string, log: string): void {
    this.logs.push({ fnId, callId, log });
    this.kick();
  }

  private kick(): void {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      // A record that arrived as the drain was finishing starts the next one.
      if (this.queue.length > 0 || this.logs.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    await new Promise((r) => setTimeout(r, BATCH_DELAY_MS));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH).map((r) => ({ call: r.call, log: String(r.log) }));
      try {
        await this.store.insertCalls(batch);
      } catch (err) {
        // One row the database refuses rolls back its whole batch: the others are written one by
        // one. Not when the database did not answer or cannot be reached: each would wait (up to
        // KILN_DB_TIMEOUT_MSECS) or fail as long again.
        if (batch.length === 1 || isUnavailable(err)) {
          this.log.error({ error: dbErrorForLog(err), calls: batch.length, call_ids: batch.map((r) => r.call.id) }, 'could not record calls');
          continue;
        }
        await this.recordEach(batch);
      }
    }
    for (const l of this.logs.splice(0)) {
      try {
        await this.store.insertLog(l.fnId, l.callId, l.log);
      } catch (err) {
        this.log.error({ error: dbErrorForLog(err), call: l.callId }, 'could not update a call log');
      }
    }
  }

  private async recordEach(batch: readonly { call: Call; log: string }[]): Promise<void> {
    for (const [i, rec] of batch.entries()) {
      try {
        await this.store.insertCalls([rec]);
      } catch (err) {
        if (!isUnavailable(err)) {
          this.log.error({ error: dbErrorForLog(err), call: rec.call.id }, 'could not record a call');
          continue;
        }
        const left = batch.slice(i);
        this.log.error({ error: dbErrorForLog(err), calls: left.length, call_ids: left.map((r) => r.call.id) }, 'could not record calls');
        return;
      }
    }
  }

  /** Waits until everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}
