// The call records (and log rewrites) held while the database is unavailable, oldest first,
// bounded by count and by bytes: past either bound the oldest go, and are counted for one line.
import type { Call } from '../store/types.js';

/** A call record as written: its log read. */
export interface Written {
  call: Call;
  log: string;
}

export interface LogUpdate {
  fnId: string;
  callId: string;
  log: string;
}

export interface HeldLimits {
  /** Most calls held. */
  maxCalls: number;
  /** Most bytes held, calls (with their stats and logs) and log rewrites together, as UTF-8 and JSON. */
  maxBytes: number;
}

/** Ids named in the line about dropped calls; the count says how many there were in all. */
const MAX_NAMED = 500;

interface Sized<T> {
  value: T;
  bytes: number;
}

export class HeldCalls {
  private readonly heldCalls: Sized<Written>[] = [];
  private readonly heldLogs: Sized<LogUpdate>[] = [];
  private bytes = 0;
  private dropped = { calls: 0, callIds: [] as string[], logs: 0 };

  constructor(private readonly limits: HeldLimits) {}

  get calls(): { readonly length: number } {
    return this.heldCalls;
  }

  get logs(): { readonly length: number } {
    return this.heldLogs;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Newer records, after what is held. */
  push(calls: readonly Written[]): void {
    for (const c of calls) this.heldCalls.push(this.sized(c, sizeOfCall(c)));
    this.bound();
  }

  pushLogs(logs: readonly LogUpdate[]): void {
    for (const l of logs) this.heldLogs.push(this.sized(l, Buffer.byteLength(l.log) + 64));
    this.bound();
  }

  /** Records taken and not written, back in front (they are the oldest). */
  unshift(calls: readonly Written[], logs: readonly LogUpdate[]): void {
    this.heldCalls.unshift(...calls.map((c) => this.sized(c, sizeOfCall(c))));
    this.heldLogs.unshift(...logs.map((l) => this.sized(l, Buffer.byteLength(l.log) + 64)));
    this.bound();
  }

  /** Up to `n` of the oldest calls, no longer held. */
  take(n: number): Written[] {
    return this.heldCalls.splice(0, n).map((s) => this.unsized(s));
  }

  takeLog(): LogUpdate | undefined {
    const s = this.heldLogs.shift();
    return s && this.unsized(s);
  }

  takeLogs(): LogUpdate[] {
    return this.heldLogs.splice(0).map((s) => this.unsized(s));
  }

  /** What was dropped since the last time asked. */
  takeDropped(): { calls: number; callIds: string[]; logs: number } {
    const d = this.dropped;
    this.dropped = { calls: 0, callIds: [], logs: 0 };
    return d;
  }

  private sized<T>(value: T, bytes: number): Sized<T> {
    this.bytes += bytes;
    return { value, bytes };
  }

  private unsized<T>(s: Sized<T>): T {
    this.bytes -= s.bytes;
    return s.value;
  }

  /**
   * The oldest go until both bounds hold. Over the bytes, log rewrites first: each only lengthens a
   * log already stored, where a dropped call is lost whole.
   */
  private bound(): void {
    while (this.bytes > this.limits.maxBytes && this.heldLogs.length > 0) {
      this.unsized(this.heldLogs.shift()!);
      this.dropped.logs++;
    }
    while (this.heldCalls.length > this.limits.maxCalls || (this.bytes > this.limits.maxBytes && this.heldCalls.length > 0)) {
      const { call } = this.unsized(this.heldCalls.shift()!);
      this.dropped.calls++;
      if (this.dropped.callIds.length < MAX_NAMED) this.dropped.callIds.push(call.id);
    }
  }
}

/** About what a call takes held: its log as UTF-8, the rest as JSON (stats are most of it). */
function sizeOfCall(w: Written): number {
  return Buffer.byteLength(w.log) + JSON.stringify(w.call).length;
}
