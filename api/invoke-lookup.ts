// What an invoke needs from the store (fn and app; for triggers also the trigger), kept for a
// short while so a hot path does no SQL. Any write through this server's API clears it at
// once (store-writes.ts); writes by other servers on a shared database show within the TTL.
import type { App, Fn, Store, Trigger } from '../store/types.js';

export interface FnTarget {
  app: App;
  fn: Fn;
}

export interface TriggerTarget extends FnTarget {
  trigger: Trigger;
}

interface Entry<T> {
  value: T;
  /** performance.now() */
  until: number;
}

/** Most entries kept; the oldest go first when full. */
const MAX_ENTRIES = 10_000;

export class InvokeLookup {
  private readonly fns = new Map<string, Entry<FnTarget>>();
  private readonly triggers = new Map<string, Entry<TriggerTarget>>();
  private readonly names = new Map<string, Entry<FnTarget[]>>();

  /**
   * Bumped by every clear(): a load that began before a write may end after the write's own
   * clear() with the old row, and must not be kept then (on PostgreSQL, whose reads are truly
   * concurrent, a node went on serving the old fn for most of the TTL after its own 200).
   */
  private generation = 0;

  constructor(private readonly store: Store, private readonly ttlMs: number) {}

  async byFnId(fnId: string): Promise<FnTarget> {
    return this.cached(this.fns, fnId, async () => {
      const fn = await this.store.getFn(fnId);
      return { fn, app: await this.store.getApp(fn.app_id) };
    });
  }

  async byTrigger(appName: string, source: string): Promise<TriggerTarget> {
    return this.cached(this.triggers, `${appName}\u0000${source}`, async () => {
      const app = await this.store.getAppByName(appName);
      const trigger = await this.store.getTriggerBySource(app.id, 'http', source);
      return { app, trigger, fn: await this.store.getFn(trigger.fn_id) };
    });
  }

  /**
   * The fns with this name, in any app (the Lambda Invoke API names fns without their app): at
   * most two, enough to tell a unique name from an ambiguous one.
   */
  async byFnName(name: string): Promise<FnTarget[]> {
    // A miss is not kept: a fn of that name made through another node must be found at once.
    return this.cached(this.names, name, async () => {
      const { items } = await this.store.listFns({ name, perPage: 2 });
      return Promise.all(items.map(async (fn) => ({ fn, app: await this.store.getApp(fn.app_id) })));
    }, (found) => found.length > 0);
  }

  /**
   * A write to apps, fns or triggers begins: what is held goes. The function returned says it has
   * ended (committed or failed), and what was read meanwhile goes too, whether or not its caller
   * waited for the answer.
   */
  beginWrite(): () => void {
    this.clear();
    return () => this.clear();
  }

  clear(): void {
    this.generation++;
    this.fns.clear();
    this.triggers.clear();
    this.names.clear();
  }

  /** `load`'s value for `key`, kept for the TTL when `keep` says so. */
  private async cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    // A monotonic clock: the wall clock stepped back would keep an entry for as long as the step.
    const now = performance.now();
    const hit = map.get(key);
    if (hit && hit.until > now) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (this.ttlMs > 0 && generation === this.generation && keep(value)) {
      if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
      map.set(key, { value, until: now + this.ttlMs });
    }
    return value;
  }
}
