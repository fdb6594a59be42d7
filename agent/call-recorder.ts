// Writes finished calls and their logs to the store off the caller's path: record() only queues.
import type { Logger } from 'pino';
import type { Call, CallStore } from '../store/types.js';

export interface CallRecord {
  call: Call;
  log: string;
}

export class CallRecorder {
  private readonly queue: CallRecord[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly store: CallStore, private readonly log: Logger) {}

  record(rec: CallRecord): void {
    this.queue.push(rec);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    // Let the answer go out first: writes start after the current turn of the event loop.
    await new Promise((r) => setImmediate(r));
    for (let rec = this.queue.shift(); rec; rec = this.queue.shift()) {
      try {
        await this.store.insertCall(rec.call);
        if (rec.log !== '') await this.store.insertLog(rec.call.fn_id, rec.call.id, rec.log);
      } catch (err) {
        this.log.error({ err, call_id: rec.call.id }, 'could not record call');
      }
    }
  }

  /** Waits until everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}
