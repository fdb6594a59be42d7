// The agent: runs each call on a hot container of its slot, starting, reusing, freezing,
// evicting and retiring containers, and records every call.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Driver } from '../drivers/contract.js';
import { decimate, MAX_CALL_STATS } from '../drivers/decimate.js';
import type { App, Call, CallStatus, CallStore, Fn } from '../store/types.js';
import { CallRecorder } from './call-recorder.js';
import { AgentError } from './errors.js';
import { HotContainer, type ContainerDeps, type ContainerSpec, type ResponseTarget } from './hot-container.js';
import { IOFS_LISTENER } from './iofs-env.js';
import { ResourceTracker, type Capacity } from './resources.js';
import { SlotPool } from './slot-pool.js';
import { slotKey } from './slot-key.js';

export interface AgentConfig {
  nodeId: string;
  iofsPath: string;
  freezeIdleMs: number;
  startTimeoutMs: number;
  maxResponseBytes: number;
  maxLogBytes: number;
  /** How long a call may wait for a container before 503. */
  maxQueueMs: number;
  capacity: Capacity;
  /** Network containers join; none when undefined. */
  network?: string;
  /** How long shutdown lets running calls finish. */
  shutdownGraceMs: number;
}

export interface AgentDeps {
  driver: Driver;
  store: CallStore;
  log: Logger;
  newId: () => string;
  /** Labels that mark a container as this node's (from the driver). */
  labelsFor(appId: string, fnId: string): Record<string, string>;
}

export interface InvokeSpec {
  app: App;
  fn: Fn;
  triggerId?: string;
  callId: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set for HTTP triggers: the gateway protocol. */
  gateway?: { method: string; url: string };
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
}

const MiB = 1024 * 1024;
const iso = (ms: number) => new Date(ms).toISOString();

/** The environment of an http-stream container: app config, then fn config, then Fn's own. */
export function containerEnv(app: App, fn: Fn): Record<string, string> {
  return {
    ...app.config,
    ...fn.config,
    FN_LISTENER: IOFS_LISTENER,
    FN_FORMAT: 'http-stream',
    FN_APP_ID: app.id,
    FN_APP_NAME: app.name,
    FN_FN_ID: fn.id,
    FN_FN_NAME: fn.name,
    FN_NAME: fn.name,
    FN_MEMORY: String(fn.memory),
    FN_TYPE: 'sync',
  };
}

export class Agent {
  private readonly pools = new Map<string, SlotPool>();
  /** Every container started and not yet removed, so shutdown can wait for all removals. */
  private readonly live = new Set<HotContainer>();
  private readonly resources: ResourceTracker;
  private readonly recorder: CallRecorder;
  private readonly containerDeps: ContainerDeps;
  private readonly stop = new AbortController();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly cfg: AgentConfig, private readonly deps: AgentDeps) {
    this.resources = new ResourceTracker(cfg.capacity);
    this.recorder = new CallRecorder(deps.store, deps.log);
    this.containerDeps = {
      driver: deps.driver,
      iofsPath: cfg.iofsPath,
      startTimeoutMs: cfg.startTimeoutMs,
      freezeIdleMs: cfg.freezeIdleMs,
      maxLogBytes: cfg.maxLogBytes,
      maxResponseBytes: cfg.maxResponseBytes,
    };
  }

  /** Runs one call and writes its answer to `res`. Throws an AgentError when no answer was started. */
  async invoke(spec: InvokeSpec, res: ResponseTarget): Promise<void> {
    const createdAt = Date.now();
    const record = (status: CallStatus, fields: Partial<Call>, log = '') =>
      this.recorder.record({
        call: {
          id: spec.callId, app_id: spec.app.id, fn_id: spec.fn.id, status, created_at: iso(createdAt),
          completed_at: iso(Date.now()), stats: [], ...(spec.triggerId !== undefined && { trigger_id: spec.triggerId }),
          ...fields,
        },
        log,
      });
    const refuse = (err: AgentError): never => {
      record(err.kind === 'cancelled' ? 'cancelled' : 'error', { error: err.message });
      throw err;
    };

    if (this.stop.signal.aborted) refuse(new AgentError('shutting-down', 'Server is shutting down'));
    const memory = spec.fn.memory * MiB;
    if (!this.resources.fitsAtAll(memory, 0)) {
      refuse(new AgentError('too-big-for-host', `fn memory ${spec.fn.memory} MB is more than this server can give (${Math.floor(this.resources.total.memoryBytes / MiB)} MB)`));
    }

    const key = this.slotKeyOf(spec.app, spec.fn);
    const pool = this.poolFor(key, spec);
    this.inFlight++;
    try {
      // The common case, an idle container, needs no timers or combined signals.
      let container = await pool.takeIdle();
      if (!container) try {
        container = await pool.acquire(AbortSignal.any([spec.signal, AbortSignal.timeout(this.cfg.maxQueueMs), this.stop.signal]));
      } catch (err) {
        if (spec.signal.aborted) return refuse(new AgentError('cancelled', 'client disconnected while waiting'));
        if (err instanceof AgentError) return refuse(err);
        if (err instanceof Error && err.name === 'TimeoutError') {
          return refuse(new AgentError('server-busy', 'Timed out - server too busy'));
        }
        if (this.stop.signal.aborted) return refuse(new AgentError('shutting-down', 'Server is shutting down'));
        throw err;
      }

      const startedAt = Date.now();
      const done = await container.execute(
        {
          callId: spec.callId, headers: spec.headers, body: spec.body, timeoutMs: spec.fn.timeout * 1000,
          signal: spec.signal, ...(spec.gateway && { gateway: spec.gateway }),
        },
        res,
      );
      pool.release(container, done.reusable);
      record(done.status, {
        started_at: iso(startedAt),
        stats: decimate(MAX_CALL_STATS, done.stats).map((s) => ({ timestamp: iso(s.timestamp), metrics: s.metrics })),
        ...(done.error !== undefined && { error: done.error }),
      }, done.log);
      if (done.failure && done.failure.kind !== 'cancelled') {
        if (!res.headersSent) throw done.failure;
        res.destroy(done.failure);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Slot keys per (app, fn) object: cached lookups hand out the same objects until they change. */
  private readonly keys = new WeakMap<Fn, { app: App; key: string }>();

  private slotKeyOf(app: App, fn: Fn): string {
    const hit = this.keys.get(fn);
    if (hit && hit.app === app) return hit.key;
    const key = slotKey(app, fn);
    this.keys.set(fn, { app, key });
    return key;
  }

  private poolFor(key: string, spec: InvokeSpec): SlotPool {
    let pool = this.pools.get(key);
    if (pool) return pool;
    const cSpec: ContainerSpec = {
      id: '',
      image: spec.fn.image,
      env: containerEnv(spec.app, spec.fn),
      labels: this.deps.labelsFor(spec.app.id, spec.fn.id),
      memoryMb: spec.fn.memory,
      cpusMilli: 0,
      idleTimeoutMs: spec.fn.idle_timeout * 1000,
      ...(this.cfg.network !== undefined && { network: this.cfg.network }),
    };
    const memory = cSpec.memoryMb * MiB;
    pool = new SlotPool(key, {
      launch: () => this.launch(key, cSpec, memory),
      retired: (c) => {
        void this.closeContainer(c).finally(() => {
          this.resources.release(memory, c.spec.cpusMilli);
          const p = this.pools.get(key);
          if (p?.isEmpty) this.pools.delete(key);
        });
      },
    });
    this.pools.set(key, pool);
    return pool;
  }

  /** Reserves memory (evicting idle containers of other slots, waiting a bounded time), then starts. */
  private async launch(key: string, spec: ContainerSpec, memory: number): Promise<HotContainer> {
    const bound = AbortSignal.any([AbortSignal.timeout(this.cfg.maxQueueMs), this.stop.signal]);
    while (!this.resources.tryReserve(memory, spec.cpusMilli)) {
      // An eviction frees its memory once the container is gone: wait for that release (or any
      // other) before trying again, rather than evicting a second container meanwhile.
      this.evictOne(key);
      if (!(await this.resources.nextRelease(bound))) {
        throw new AgentError('server-busy', 'Timed out - server too busy');
      }
    }
    try {
      const c = await HotContainer.start({ ...spec, id: `kiln-${this.deps.newId().toLowerCase()}` }, this.containerDeps, this.stop.signal);
      this.live.add(c);
      if (this.stop.signal.aborted) {
        await this.closeContainer(c);
        throw new AgentError('shutting-down', 'Server is shutting down');
      }
      return c;
    } catch (err) {
      this.resources.release(memory, spec.cpusMilli);
      throw err;
    }
  }

  private async closeContainer(c: HotContainer): Promise<void> {
    try {
      await c.close();
    } catch (err) {
      this.deps.log.warn({ err, container: c.spec.id }, 'could not remove container');
    } finally {
      this.live.delete(c);
    }
  }

  /** Evicts the least recently used idle container of another slot. */
  private evictOne(exceptKey: string): boolean {
    let victim: SlotPool | undefined;
    let oldest = Infinity;
    for (const [key, pool] of this.pools) {
      if (key === exceptKey) continue;
      const at = pool.oldestIdleAt();
      if (at !== undefined && at < oldest) {
        oldest = at;
        victim = pool;
      }
    }
    return victim?.evictOldest() ?? false;
  }

  /** Live containers (for metrics and tests). */
  get containerCount(): number {
    return this.live.size;
  }

  /** Stops taking calls, lets running ones finish within the grace period, removes every container. */
  async shutdown(): Promise<void> {
    if (!this.stop.signal.aborted) this.stop.abort(new AgentError('shutting-down', 'Server is shutting down'));
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.cfg.shutdownGraceMs);
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    for (const pool of this.pools.values()) pool.drain(new AgentError('shutting-down', 'Server is shutting down'));
    // Closing is idempotent: this also waits for removals already under way.
    await Promise.allSettled([...this.live].map((c) => this.closeContainer(c)));
    await this.recorder.flush();
  }

  /** Waits until queued call records are written (tests, shutdown). */
  flushRecords(): Promise<void> {
    return this.recorder.flush();
  }
}
