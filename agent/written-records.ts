// The fns and apps this server last wrote through the API, for the calls that looked theirs up
// just before a write: such a call reaches the agent after the write has retired the pools of
// what the fn was, and would start a container of the old settings (a rotated-out secret) that
// then stayed hot until its idle timeout. The agent serves the call as it was looked up, then
// retires that container. Pure, with the clock given.
import type { App, Fn } from '../store/types.js';
import { slotKey } from './slot-key.js';

/** How long a write is remembered: longer than any call's lookup-to-container wait (its body upload included). */
export const WRITE_MEMORY_MS = 60 * 60_000;

interface Written<T> {
  /** Null: deleted. */
  record: T | null;
  at: number;
}

export class WrittenRecords {
  private readonly fns = new Map<string, Written<Fn>>();
  private readonly apps = new Map<string, Written<App>>();

  constructor(private readonly now: () => number = Date.now, private readonly memoryMs = WRITE_MEMORY_MS) {}

  fnWritten(fn: Fn): void {
    this.remember(this.fns, fn.id, fn);
  }

  fnDeleted(fnId: string): void {
    this.remember(this.fns, fnId, null);
  }

  appWritten(app: App): void {
    this.remember(this.apps, app.id, app);
  }

  appDeleted(appId: string): void {
    this.remember(this.apps, appId, null);
  }

  /**
   * Whether a call's app and fn, whose containers have slot key `key`, were written since they
   * were looked up in a way that changes the containers (or deleted). Only a strictly newer
   * record counts: another node may have written a newer one this server never saw.
   */
  outdated(app: App, fn: Fn, key: string): boolean {
    const f = this.fns.get(fn.id);
    const a = this.apps.get(app.id);
    if (f?.record === null || a?.record === null) return true;
    const newerFn = f && f.record.updated_at > fn.updated_at ? f.record : undefined;
    const newerApp = a && a.record.updated_at > app.updated_at ? a.record : undefined;
    if (!newerFn && !newerApp) return false;
    return slotKey(newerApp ?? app, newerFn ?? fn) !== key;
  }

  private remember<T>(m: Map<string, Written<T>>, id: string, record: T | null): void {
    const now = this.now();
    for (const [k, w] of m) if (now - w.at > this.memoryMs) m.delete(k);
    m.set(id, { record, at: now });
  }
}
