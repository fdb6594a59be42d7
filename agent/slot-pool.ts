// The containers of one slot key: idle ones reused newest first (LIFO), calls waiting in
// arrival order, and a launcher that starts a container only when waiting calls outnumber
// the containers already starting, and, once the pool has busy containers and a record of
// call lengths, only when the expected wait is longer than two calls or than a start: a burst
// of quick calls queues briefly on the containers there are instead of starting one each.
// The expected wait counts how long the busy calls have run, and is looked at again while
// calls wait, so a call far past the usual length does not hold the queue.
import { AgentError, WaitExpired } from './errors.js';
import type { HotContainer } from './hot-container.js';

/** A container start's length before any has been seen (ms). */
const DEFAULT_START_MS = 250;
/** Weight of the newest sample in the running averages. */
const EWMA = 0.2;
/** Bounds of the delay before waiting calls are looked at again (ms); Fn's launcher polls every 200. */
const RECHECK_MIN_MS = 10;
const RECHECK_MAX_MS = 200;

interface Waiter {
  resolve(c: HotContainer): void;
  reject(err: Error): void;
}

export interface PoolHooks {
  /** Starts one container for this pool (reserving resources as needed). */
  launch(): Promise<HotContainer>;
  /** A container left the pool for good: release what it held. */
  retired(c: HotContainer): void;
  /** A container went idle with no call waiting for it: it may now be evicted. */
  idled(): void;
  /** Nothing live, starting or waiting any more: the pool may be forgotten. */
  emptied(): void;
}

export class SlotPool {
  private readonly idle: HotContainer[] = [];
  private readonly waiters: Waiter[] = [];
  /** When each busy container was handed its call. */
  private readonly handedAt = new Map<HotContainer, number>();
  private recheck: NodeJS.Timeout | undefined;
  private starting = 0;
  /** Recent call and container-start lengths, exponentially weighted averages (ms). */
  private callMs: number | undefined;
  private startMs = DEFAULT_START_MS;
  /** Every live container of this pool, busy or not. */
  readonly members = new Set<HotContainer>();
  /** Containers that run what the pool's image name was: none of them takes another call. */
  private readonly stale = new Set<HotContainer>();
  /** Set by retire(): the pool only finishes the calls it holds (no container goes back to idle). */
  private retired = false;
  /** Launches started so far. */
  private launches = 0;
  /**
   * Tests for containers still starting when the name moved (they may have been made from what
   * it was): a launch numbered below `before` that fails `test` comes up stale.
   */
  private arrivals: { before: number; test: (c: HotContainer) => boolean }[] = [];

  constructor(readonly key: string, readonly memoryBytes: number, private readonly hooks: PoolHooks) {}

  get size(): number {
    return this.members.size;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /** Nothing live, starting or waiting: the pool can be forgotten. */
  get isEmpty(): boolean {
    return this.members.size === 0 && this.starting === 0 && this.waiters.length === 0;
  }

  /** A container for one call; the signal bounds the wait (and carries the caller's going away). */
  async acquire(signal: AbortSignal): Promise<HotContainer> {
    return (await this.takeIdle()) ?? this.wait(signal);
  }

  /** The newest idle container, made ready for a call; undefined when none is idle. */
  async takeIdle(): Promise<HotContainer | undefined> {
    for (;;) {
      const c = this.idle.pop();
      if (!c) return undefined;
      try {
        await c.activate();
        this.handedAt.set(c, Date.now());
        return c;
      } catch {
        // It died while idle or frozen: drop it and try the next.
        this.remove(c);
      }
    }
  }

  private async wait(signal: AbortSignal): Promise<HotContainer> {
    const c = await new Promise<HotContainer>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason instanceof Error ? signal.reason : new AgentError('server-busy', 'Timed out - server too busy'));
      };
      const waiter: Waiter = {
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
      this.waiters.push(waiter);
      this.maybeLaunch();
    });
    return c;
  }

  /** After a call: back to a waiter, back to idle, or out. */
  release(c: HotContainer, reusable: boolean, tookMs?: number): void {
    if (tookMs !== undefined) this.callMs = this.callMs === undefined ? tookMs : this.callMs * (1 - EWMA) + tookMs * EWMA;
    this.handedAt.delete(c);
    const spent = this.stale.has(c) || (this.retired && this.waiters.length === 0);
    if (!reusable || c.state === 'closed' || spent) {
      this.remove(c);
      this.maybeLaunch();
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      this.handedAt.set(c, Date.now());
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

  /** Last-used time of the oldest idle container (for choosing whom to evict). */
  oldestIdleAt(): number | undefined {
    return this.idle[0]?.lastUsed;
  }

  /** Takes a container out of the pool and closes it. */
  remove(c: HotContainer): void {
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (!this.members.delete(c)) return;
    this.handedAt.delete(c);
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

  /**
   * Would the waiting calls be served sooner by one more container than by those there are? The
   * last waiter's expected wait, with calls handed out in order: a busy container is free when
   * its call has run the usual length, or, for a call already past it, after as long again as
   * it has run (it is not about to end because others did); one starting counts as free now.
   */
  private worthLaunching(): boolean {
    const callMs = this.callMs;
    if (this.busy === 0 || callMs === undefined) return true;
    const now = Date.now();
    const free = [...this.handedAt.values()].map((at) => (now - at < callMs ? callMs - (now - at) : now - at));
    for (let i = 0; i < this.starting; i++) free.push(0);
    if (free.length === 0) return true;
    let wait = 0;
    for (let i = 0; i < this.waiters.length; i++) {
      const next = free.indexOf(Math.min(...free));
      wait = free[next]!;
      free[next] = wait + callMs;
    }
    return wait > this.patienceMs;
  }

  private maybeLaunch(): void {
    this.launchWhileWorth();
    // Calls still waiting without a container starting for them: their wait grows as the busy
    // calls run on, so it is weighed again shortly (no release or arrival may come to prompt it).
    if (this.waiters.length > this.starting && this.recheck === undefined) {
      const delay = Math.min(RECHECK_MAX_MS, Math.max(RECHECK_MIN_MS, this.patienceMs));
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        this.maybeLaunch();
      }, delay);
      this.recheck.unref();
    }
  }

  private launchWhileWorth(): void {
    while (this.waiters.length > this.starting && this.worthLaunching()) {
      this.starting++;
      const began = Date.now();
      const launch = this.launches++;
      this.hooks.launch().then(
        (c) => {
          this.starting--;
          this.startMs = this.startMs * (1 - EWMA) + (Date.now() - began) * EWMA;
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
          this.starting--;
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
    clearTimeout(this.recheck);
    this.recheck = undefined;
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const c of [...this.idle]) this.remove(c);
  }
}
