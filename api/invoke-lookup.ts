// What an invoke needs from the store (fn and app; for triggers also the trigger), kept for a
// short while so a hot path does no SQL. Any write through this server's API clears it at
// once (store-writes.ts); writes by other servers on a shared database show within the TTL.
// When the database is unavailable an entry past its TTL is served for up to staleMs more, so
// warm fns keep answering through a short outage (stale-if-error).
import type { Logger } from 'pino';
import { isConnectionLost, isUnavailable } from '../store/db-errors.js';
import { dbErrorForLog } from '../store/db-log.js';
import { DatabaseUnavailableError } from '../store/errors.js';
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
  /** performance.now() when its load began: served stale until readAt + staleMs. */
  readAt: number;
  /** A load of the same key under way, while this entry is past its TTL. */
  refreshing: Promise<T> | undefined;
}

/** Most entries kept; the oldest go first when full. */
const MAX_ENTRIES = 10_000;

/**
 * How long an invoke with a stale entry waits on the database's answer: briefly while the database
 * is known to be failing (each would otherwise wait KILN_DB_TIMEOUT_MSECS), longer while it is not
 * known to (a lookup that slow is a database in trouble). The load goes on and its answer is kept.
 */
const STALE_WAIT_FAILING_MS = 100;
const STALE_WAIT_MS = 2000;
/** While the database fails, how long after a failure the next load of any key may begin. */
const RELOAD_AFTER_FAILURE_MS = 1000;

/**
 * Reads' failures that say nothing about the row: the database unavailable or not answering
 * (the store's typed errors, or a driver's), or its connection lost.
 */
function unavailable(err: unknown): boolean {
  return err instanceof DatabaseUnavailableError || isUnavailable(err) || isConnectionLost(err);
}

export interface StaleOptions {
  /** How long past its read an entry may be served when the database is unavailable; 0: never. */
  staleMs: number;
  /** While the database fails, how long after a failure the next load may begin (RELOAD_AFTER_FAILURE_MS). */
  reloadAfterFailureMs?: number;
  log?: Logger;
}

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

  /** A load failed for an unavailable database, and none has succeeded since. */
  private failing = false;
  /** performance.now() of the last such failure. */
  private failedAt = 0;
  private readonly staleMs: number;
  private readonly reloadAfterFailureMs: number;
  private readonly log: Logger | undefined;

  constructor(private readonly store: Store, private readonly ttlMs: number, stale: StaleOptions = { staleMs: 0 }) {
    this.staleMs = stale.staleMs;
    this.reloadAfterFailureMs = stale.reloadAfterFailureMs ?? RELOAD_AFTER_FAILURE_MS;
    this.log = stale.log;
  }

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
    if (hit && this.staleMs > 0 && now - hit.readAt <= this.staleMs) return this.refresh(map, key, load, keep, hit);
    return this.loaded(map, key, load, keep, now);
  }

  private async loaded<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>, keep: (value: T) => boolean, now: number): Promise<T> {
    const generation = this.generation;
    const value = await load();
    this.answered();
    if (this.ttlMs > 0 && generation === this.generation && keep(value)) {
      if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
      map.set(key, { value, until: now + this.ttlMs, readAt: now, refreshing: undefined });
    }
    return value;
  }

  /**
   * Loads `key` again, its entry past the TTL but not past staleMs: the entry is the answer when
   * the database is unavailable, or slower than a short wait. Found nothing (404) is an answer.
   * One load per key at a time, which the invokes that come meanwhile wait on too; and while the
   * database fails, none sooner than RELOAD_AFTER_FAILURE_MS after the last failure: each would
   * be a connection attempt on a database that refuses them (a restarting one, one out of
   * connections), or one more wait on a hung one.
   */
  private refresh<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>, keep: (value: T) => boolean, hit: Entry<T>): Promise<T> {
    if (this.failing && (hit.refreshing || performance.now() - this.failedAt < this.reloadAfterFailureMs)) return Promise.resolve(hit.value);
    const loading = hit.refreshing ?? this.reload(map, key, load, keep, hit);
    const orStale = loading.catch((err: unknown) => {
      if (!unavailable(err)) throw err;
      this.failed(err);
      return hit.value;
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(hit.value), this.failing ? STALE_WAIT_FAILING_MS : STALE_WAIT_MS);
    });
    return Promise.race([orStale, waited]).finally(() => clearTimeout(timer));
  }

  /** A load of `key` that the entry remembers while it runs. */
  private reload<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>, keep: (value: T) => boolean, hit: Entry<T>): Promise<T> {
    const loading = this.loaded(map, key, load, keep, performance.now());
    hit.refreshing = loading;
    const settled = (): void => {
      if (hit.refreshing === loading) hit.refreshing = undefined;
    };
    loading.then(settled, settled);
    return loading;
  }

  private failed(err: unknown): void {
    this.failedAt = performance.now();
    if (this.failing) return;
    this.failing = true;
    this.log?.warn(
      { error: dbErrorForLog(err), staleMs: this.staleMs },
      'the database is unavailable: invokes use the fns, apps and triggers read up to KILN_LOOKUP_STALE_MSECS ago',
    );
  }

  private answered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log?.info('the database answers again: invokes look up fns, apps and triggers as before');
  }
}
