// The containers of one slot key: idle ones reused newest first (LIFO), calls waiting in
// arrival order, and a launcher that starts a container only when waiting calls outnumber
// the containers already starting, and, once the pool has busy containers and a record of
// call lengths, only when the expected wait is longer than two calls or than a start: a burst
// of quick calls queues briefly on the containers there are instead of starting one each.
// And a call that has waited past a bound of its own (a busy call ran far past the usual
// length, say) gets a start whatever the estimate, so no one waits out the queue bound behind it.
import { WaitExpired } from './errors.js';
import type { HotContainer } from './hot-container.js';

/** A container start's length before any has been seen (ms). */
const DEFAULT_START_MS = 250;
/** Weight of the newest sample in the running averages. */
const EWMA = 0.2;
/** A waiting call is never kept from a start of its own longer than this (ms), nor than two patiences. */
const STALL_FLOOR_MS = 50;

interface Waiter {
  resolve(c: HotContainer): void;
  reject(err: Error): void;
  /** When it began to wait. */
  since: number;
}

export interface PoolHooks {
  /**
   * Starts one container for this pool (reserving resources as needed). `needed` says whether a
   * waiting call still stands behind it: one that waits for memory gives up when not, rather
   * than take memory (or evict) for calls that were served, timed out or went away.
   */
  launch(needed: () => boolean): Promise<HotContainer>;
  /** A container left the pool for good: release what it held. */
  retired(c: HotContainer): void;
  /** A container went idle with no call waiting for it: it may now be evicted. */
  idled(): void;
  /** Nothing live, starting, waiting or held any more: the pool may be forgotten. */
  emptied(): void;
}

const abortReason = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new WaitExpired());

/** `work`'s value, or 'aborted' when `signal` aborts first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  return new Promise((resolve) => {
    const onAbort = () => resolve('aborted');
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then((v) => {
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    });
  });
}

export class SlotPool {
  private readonly idle: HotContainer[] = [];
  private readonly waiters: Waiter[] = [];
  private recheck: NodeJS.Timeout | undefined;
  /** Launches under way (their numbers), oldest first: the one at position i is for waiter i. */
  private readonly startingLaunches: number[] = [];
  /** Recent call and container-start lengths, exponentially weighted averages (ms). */
  private callMs: number | undefined;
  private startMs = DEFAULT_START_MS;
  /**
   * When calls began to wait here without a break (reset by each start): valid while any wait.
   * A queue that has not emptied for a start's time is steady load, not a burst.
   */
  private queuedSince = 0;
  /** Every live container of this pool, busy or not. */
  readonly members = new Set<HotContainer>();
  /** Containers that run what the pool's image name was: none of them takes another call. */
  private readonly stale = new Set<HotContainer>();
  /** Set by retire(): the pool only finishes the calls it holds (no container goes back to idle). */
  private retired = false;
  /** Launches started so far. */
  private launches = 0;
  /** Calls that hold the pool (hold() … letGo()): it is not forgotten under them. */
  private holders = 0;
  /**
   * Tests for containers still starting when the name moved (they may have been made from what
   * it was): a launch numbered below `before` that fails `test` comes up stale.
   */
  private arrivals: { before: number; test: (c: HotContainer) => boolean }[] = [];

  constructor(readonly key: string, readonly memoryBytes: number, private readonly hooks: PoolHooks) {}

  get size(): number {
    return this.members.size;
  }

  private get starting(): number {
    return this.startingLaunches.length;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Nothing live, starting, waiting or held: the pool can be forgotten. */
  get isEmpty(): boolean {
    return this.members.size === 0 && this.starting === 0 && this.waiters.length === 0 && this.holders === 0;
  }

  /**
   * A call is about to use the pool, and may find it empty on the way (its idle containers dead):
   * held, it is not forgotten meanwhile, so what the call starts joins the pool the agent knows
   * (evictable, reused) rather than one only that call holds.
   */
  hold(): void {
    this.holders++;
  }

  /** The call that held it is done with it (its container released first). */
  letGo(): void {
    this.holders--;
    if (this.isEmpty) this.hooks.emptied();
  }

  /**
   * A container for one call; the signal bounds the whole wait, an idle one's unfreeze included
   * (and carries the caller's going away).
   */
  async acquire(signal: AbortSignal): Promise<HotContainer> {
    return (await this.takeIdle(signal)) ?? this.wait(signal);
  }

  /** The newest idle container when it can take a call at once (not frozen: no engine call); else undefined. */
  takeReady(): HotContainer | undefined {
    const c = this.idle.at(-1);
    if (!c?.activateNow()) return undefined;
    this.idle.pop();
    return c;
  }

  /**
   * The newest idle container, made ready for a call; undefined when none is idle. An abort of
   * `signal` ends the wait for an unfreeze (a hung engine): the container is then not the call's,
   * and goes back to idle once ready, no longer to be frozen (each later call would wait out the
   * same slow unfreeze: a review had every call refused), or out if it never gets so.
   */
  async takeIdle(signal?: AbortSignal): Promise<HotContainer | undefined> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const c = this.idle.pop();
      if (!c) return undefined;
      const ready = c.activate().then(() => true, () => false);
      const outcome = signal ? await untilAborted(ready, signal) : await ready;
      if (outcome === 'aborted') {
        void ready.then((ok) => {
          if (!ok) return this.remove(c);
          c.keepThawed();
          this.release(c, true);
        });
        throw abortReason(signal!);
      }
      if (outcome) return c;
      // It died while idle or frozen, or the engine did not unfreeze it in time: drop it, try the next.
      this.remove(c);
    }
  }

  private async wait(signal: AbortSignal): Promise<HotContainer> {
    const c = await new Promise<HotContainer>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal));
      };
      const waiter: Waiter = {
        since: performance.now(),
        resolve: (c) => {
          signal.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.waiters.length === 0) this.queuedSince = performance.now();
      this.waiters.push(waiter);
      this.maybeLaunch();
    });
    return c;
  }

  /** After a call: back to a waiter, back to idle, or out. */
  release(c: HotContainer, reusable: boolean, tookMs?: number): void {
    const busy = c.busyUntil;
    c.busyUntil = undefined;
    if (busy && reusable && c.state !== 'closed') {
      // Still busy after its answer (a Lambda extension at work): it stays out of idle, counted
      // busy, and the call's time runs until it is done, so a waiting call gets a container started.
      const from = performance.now();
      void busy.then(() => {
        if (this.members.has(c)) this.release(c, true, tookMs === undefined ? undefined : tookMs + performance.now() - from);
      });
      // Calls that chose to wait for it may be better served by a start now.
      this.maybeLaunch();
      return;
    }
    if (tookMs !== undefined) this.callMs = this.callMs === undefined ? tookMs : this.callMs * (1 - EWMA) + tookMs * EWMA;
    const spent = this.stale.has(c) || (this.retired && this.waiters.length === 0);
    // One whose output no longer reaches the agent would give every later call an empty log.
    if (!reusable || c.state === 'closed' || c.ended || c.outputLost || spent) {
      this.remove(c);
      this.maybeLaunch();
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      w.resolve(c);
      return;
    }
    this.idle.push(c);
    c.park(() => this.remove(c));
    this.hooks.idled();
  }

  /** Removes the oldest idle container, for eviction; undefined when none is idle. */
  evictOldest(): HotContainer | undefined {
    // idle is LIFO: the oldest is at the bottom.
    const oldest = this.idle[0];
    if (oldest) this.remove(oldest);
    return oldest;
  }

  /** Last-used times of its idle containers, oldest first (for choosing whom to evict). */
  idleSince(): number[] {
    return this.idle.map((c) => c.lastUsed);
  }

  /** Takes a container out of the pool and closes it. */
  remove(c: HotContainer): void {
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (!this.members.delete(c)) return;
    this.stale.delete(c);
    this.hooks.retired(c);
    if (this.isEmpty) this.hooks.emptied();
  }

  /** Containers of this pool serving a call now. */
  private get busy(): number {
    return this.members.size - this.idle.length;
  }

  /** How long waiting calls may expect to wait before another container is worth starting (ms). */
  private get patienceMs(): number {
    return Math.min(2 * (this.callMs ?? 0), this.startMs);
  }

  /** How long a call may wait, whatever the estimate, before a start is made for it (ms). */
  private get stallMs(): number {
    return Math.max(STALL_FLOOR_MS, 2 * this.patienceMs);
  }

  /** The first waiting call no container is starting for (calls take containers in order). */
  private get unserved(): Waiter | undefined {
    return this.waiters[this.starting];
  }

  /** Would the waiting calls be served sooner by one more container than by those there are? */
  private worthLaunching(): boolean {
    if (this.busy === 0 || this.callMs === undefined) return true;
    const serving = this.busy + this.starting;
    const expectedWaitMs = Math.ceil(this.waiters.length / serving) * this.callMs;
    if (expectedWaitMs > this.patienceMs) return true;
    // Steady load: calls have queued without a break for as long as a start takes, and each
    // still expects a wait past the stall floor (100 ms calls, 8 callers and 3 containers: every
    // call waited ~170 ms for good). Quick calls' waits stay under it: they go on queueing.
    if (expectedWaitMs >= STALL_FLOOR_MS && performance.now() - this.queuedSince >= this.startMs) return true;
    const first = this.unserved;
    return first !== undefined && performance.now() - first.since >= this.stallMs;
  }

  private maybeLaunch(): void {
    this.launchWhileWorth();
    // A call left waiting with no start of its own is looked at again when it reaches the stall
    // bound: no release or arrival may come to prompt it (a busy call may run for minutes).
    const first = this.unserved;
    if (first !== undefined && this.recheck === undefined) {
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        this.maybeLaunch();
      }, Math.max(1, first.since + this.stallMs - performance.now()));
      this.recheck.unref();
    }
  }

  private launchWhileWorth(): void {
    while (this.waiters.length > this.starting && this.worthLaunching()) {
      const began = performance.now();
      // The next start for steady load waits for the queue to outlast this one's start too.
      this.queuedSince = began;
      const launch = this.launches++;
      this.startingLaunches.push(launch);
      const settled = () => this.startingLaunches.splice(this.startingLaunches.indexOf(launch), 1);
      this.hooks.launch(() => this.startingLaunches.indexOf(launch) < this.waiters.length).then(
        (c) => {
          settled();
          this.startMs = this.startMs * (1 - EWMA) + (performance.now() - began) * EWMA;
          this.members.add(c);
          if (this.arrivals.some((a) => launch < a.before && !a.test(c))) this.stale.add(c);
          if (this.starting === 0) this.arrivals = [];
          void c.exited.then(() => {
            // Died on its own (crash, OOM while idle): a busy call learns it from its socket.
            if (c.state === 'idle' || c.state === 'frozen') this.remove(c);
          });
          this.release(c, true);
        },
        (err: Error) => {
          settled();
          if (this.starting === 0) this.arrivals = [];
          // The launch served the oldest waiter; it carries the reason. But a wait for capacity
          // that ran out is the launch's own: every waiting call has its bound, and a launch
          // started for an earlier one (since gone) must not cut a later one's wait short.
          if (!(err instanceof WaitExpired)) this.waiters.shift()?.reject(err);
          this.maybeLaunch();
          if (this.isEmpty) this.hooks.emptied();
        },
      );
    }
  }

  /**
   * The image this pool's containers run now names another image (a rebuild under the same
   * tag): idle containers close now, busy ones after their call. Calls already waiting here
   * are served by new containers; the agent sends new calls to a new pool.
   */
  retire(): void {
    this.retired = true;
    for (const c of this.members) this.stale.add(c);
    // A container still starting may have been made from what the name was.
    if (this.starting > 0) this.arrivals.push({ before: this.launches, test: () => false });
    for (const c of [...this.idle]) this.remove(c);
    if (this.isEmpty) this.hooks.emptied();
  }

  /**
   * The image name moved, maybe to what it named (a cached rebuild): keeps the pool when every
   * started container passes `test`, and tests the ones still starting as they come up (one that
   * fails takes no call). False, with nothing changed, when a started one fails.
   */
  keepIf(test: (c: HotContainer) => boolean): boolean {
    for (const c of this.members) if (!test(c)) return false;
    if (this.starting > 0) this.arrivals.push({ before: this.launches, test });
    return true;
  }

  /** Rejects every waiter and closes every idle container (shutdown). */
  drain(err: Error): void {
    // One still busy (a Lambda container's tail after its answer) closes when it is done.
    this.retired = true;
    clearTimeout(this.recheck);
    this.recheck = undefined;
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const c of [...this.idle]) this.remove(c);
  }
}
