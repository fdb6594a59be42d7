// The agent: runs each call on a hot container of its slot, starting, reusing, freezing,
// evicting and retiring containers, and records every call.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Driver } from '../drivers/contract.js';
import { decimate, MAX_CALL_STATS } from '../drivers/decimate.js';
import { ContainerConfigError, DriverError, LogDestinationError } from '../drivers/errors.js';
import { asHostShortage } from './host-shortage.js';
import { failureKind, type FailureKind } from './failure-kind.js';
import { formatImage, parseImage } from '../drivers/image-name.js';
import type { App, Call, CallStatus, CallStore, Fn } from '../store/types.js';
import { CallRecorder, type CallRecord } from './call-recorder.js';
import { ContainerPlaces, cpusetRefused, type Taken } from './container-places.js';
import { within } from './within.js';
import { AgentError, WaitExpired } from './errors.js';
import { HotContainer, type CallDone, type ContainerDeps, type ContainerSpec } from './hot-container.js';
import { LogBuffer } from './log-buffer.js';
import type { CallerHeaders } from './headers.js';
import type { ResponseTarget } from './relay.js';
import { askedNetwork, networkProblem } from './fn-network.js';
import { syslogUrlProblem } from './syslog-url.js';
import { containerEnv, syslogOf } from './container-env.js';
import { removeOrphanSocketDirs, sweepNode } from './node-sweep.js';
import { LAMBDA_EXTRA_HOSTS, LAMBDA_MIN_LIMITS, lambdaEnv, withNodeSettingsKept, withoutDaemonSettings, type LambdaBundleSource, type LambdaRuntime } from './lambda.js';
import { ResourceTracker, type Capacity } from './resources.js';
import { SlotPool } from './slot-pool.js';
import { slotKey } from './slot-key.js';
import { WrittenRecords } from './written-records.js';

export interface AgentConfig {
  iofsPath: string;
  /** KILN_NODE_ID: tagged into socket directories' names, so a stop can remove its own leftovers. */
  nodeId: string;
  /** FN_IOFS_TMPFS's mount options; undefined: plain socket directories. */
  iofsTmpfs?: string;
  freezeIdleMs: number;
  startTimeoutMs: number;
  maxResponseBytes: number;
  /** The bound on answers passed on as streams (see ContainerDeps). */
  maxStreamedResponseBytes: number;
  maxLogBytes: number;
  /** How long a call may wait for a container before 503. */
  maxQueueMs: number;
  /**
   * Fn's non-blocking resource tracker: a container start that finds too little memory and
   * nothing idle to evict fails at once with 503, rather than waiting for a running one to end.
   */
  nonBlocking?: boolean;
  capacity: Capacity;
  /**
   * FN_DOCKER_NETWORKS: a container whose fn asks for no network joins the one of these with the
   * fewest of this agent's containers (Fn's pickNetwork); empty, it has no network.
   */
  networks: readonly string[];
  /** What a fn may ask for with kiln.io/network; checked again here, as the list may have narrowed since the fn was written. */
  allowedNetworks: readonly string[];
  /** The unix sockets an app's syslog_url may name (KILN_SYSLOG_SOCKETS); checked again here, as for networks. */
  syslogSockets?: readonly string[];
  /** How long shutdown lets running calls finish. */
  shutdownGraceMs: number;
  /**
   * KILN_LOG_FRAMES: give http-stream containers Fn's log frame variables, so FDK functions mark
   * where each call's output begins (exact call logs, at the cost of two lines per call).
   */
  logFrames?: boolean;
  /**
   * How often the engine is swept for this node's containers the agent no longer holds (a
   * removal or a failed start the engine did not complete); 0 or unset: only at shutdown.
   */
  orphanSweepMs?: number;
  /** The runtime daemon bundle for `format: lambda` fns; such fns get 501 without it. */
  lambda?: LambdaRuntime;
  /**
   * CPUs to spread Lambda containers over, each pinned to one (its daemon and runtime then
   * hand calls over without cross-CPU wake-ups); fewer than two, or unset: no pinning.
   */
  lambdaCpus?: number[];
  /** Count the containers other nodes on the engine pinned, when choosing (KILN_LAMBDA_CPUS_SHARED). */
  lambdaCpusShared?: boolean;
}

export interface AgentDeps {
  driver: Driver;
  store: CallStore;
  log: Logger;
  newId: () => string;
  /** Labels that mark a container as this node's (from the driver). */
  labelsFor(appId: string, fnId: string): Record<string, string>;
  /**
   * Told of every finished call: its recorded status, its time since the agent took it, and,
   * unless it succeeded, why (metrics).
   */
  observeCall?(status: FinishedStatus, seconds: number, failure?: FailureKind): void;
  /** Told of every container start that ended (metrics): how it ended, and its time if it succeeded. */
  observeStart?(format: 'http-stream' | 'lambda', outcome: 'success' | FailureKind, seconds: number): void;
  /** Where to get the Lambda runtime bundle while `lambda` is unset (it failed at start-up). */
  lambdaBundle?: LambdaBundleSource;
}

export interface InvokeSpec {
  app: App;
  fn: Fn;
  triggerId?: string;
  callId: string;
  headers: CallerHeaders;
  body: Buffer;
  /** Set for HTTP triggers: the gateway protocol; `url` is the full URL the caller used. */
  gateway?: { method: string; url: string };
  /** The caller's address (the socket's, or behind trusted proxies X-Forwarded-For's); a Lambda fn's sourceIp. */
  sourceIp?: string;
  /** The version the Lambda APIs' caller named (`$LATEST`): a Lambda fn's invokedFunctionArn ends with it. */
  qualifier?: string;
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
  /**
   * Pass the answer on chunk by chunk as it comes, however short (InvokeWithResponseStream).
   * Otherwise an answer under 64 KiB is sent whole, with its length; a Lambda response stream
   * always goes on as it comes.
   */
  streamed?: boolean;
  /**
   * The caller holds the whole answer (the Lambda Invoke API): FN_MAX_RESPONSE_SIZE bounds it
   * even when the fn streams. Otherwise a streamed answer has the streamed bound.
   */
  buffered?: boolean;
  /** Called once a container has been taken for the call (detached calls answer 202 then). */
  onAccepted?: () => void;
  /**
   * Given the call's log once its container has answered, for callers that ask (the Lambda
   * Invoke API's LogType Tail). Output may still trail in for a moment after the answer.
   */
  onLog?: (log: CallLog) => void;
  /** Taken (Agent.admit) when the request arrived: a stop that came since still serves it. */
  admission?: Admission;
}

/** A call's request, taken as it arrived, before its lookup and body: see Agent.admit. */
export interface Admission {
  /** Once the request is over (answered, or failed before reaching the agent). */
  release(): void;
}

/** A call's log as it fills: how much has been written, its text, and its last bytes. */
export interface CallLog {
  readonly bytes: number;
  /** Every byte written, kept or dropped by the cap. */
  readonly written: number;
  toString(): string;
  /** The last bytes written, at most 4 KB, whatever the cap kept. */
  tail(): Buffer;
  /** A Lambda fn's END and REPORT come after the answer, once its extensions are done. */
  readonly reportLate: boolean;
}

const MiB = 1024 * 1024;
/** How often, and for how long, a container removal the engine failed is tried again. */
const REMOVAL_RETRY_MS = 5000;
const REMOVAL_RETRY_FOR_MS = 10 * 60_000;
/** Containers one call may be offered to when each refuses the connection (so never saw it). */
const MAX_CALL_ATTEMPTS = 3;
/** How long a Lambda start waits for the engine to list other nodes' pinned containers. */
const PINS_WAIT_MS = 500;
const iso = (ms: number) => new Date(ms).toISOString();

/** What a call cut by the shutdown is answered and recorded as: 503 and `cancelled`, as a call refused while stopping. */
function cutByShutdown(done: CallDone): CallDone {
  const error = 'Server is shutting down: the call was still running when KILN_SHUTDOWN_GRACE_MSECS ran out';
  return { ...done, status: 'cancelled', error, failure: new AgentError('shutting-down', error), reusable: false };
}

/** What a call still waiting for its container when the grace period ends is refused with (503, recorded `cancelled`). */
const CUT_WHILE_WAITING = 'Server is shutting down: the call was still waiting for a container when KILN_SHUTDOWN_GRACE_MSECS ran out';

/** The statuses a call ends with. */
export type FinishedStatus = Exclude<CallStatus, 'queued' | 'running'>;

/** A snapshot of the agent for metrics (Fn's queued/running/calls counters, and containers). */
export interface AgentStats {
  /** Calls waiting for a container. */
  queued: number;
  /** Calls on a container. */
  running: number;
  /** Finished calls by recorded status, since start. */
  calls: Record<FinishedStatus, number>;
  /** Containers by state. */
  containers: Record<HotContainer['state'], number>;
  memory: { reservedBytes: number; capacityBytes: number };
}

/** What a pool's containers were made for. */
interface PoolOrigin {
  /** The fn's image, canonical. */
  image: string;
  app: App;
  fn: Fn;
}

/** An image reference in one form for comparing (Docker's normalisation); as given when unparsable. */
function canonicalImage(image: string): string {
  try {
    return formatImage(parseImage(image));
  } catch {
    return image;
  }
}

export class Agent {
  private readonly pools = new Map<string, SlotPool>();
  /**
   * What each pool was made for: its image, canonical (a rebuild under that name retires the
   * pool), and the app and fn (an update or delete of either through the API retires it).
   */
  private readonly poolOrigins = new Map<string, PoolOrigin>();
  /** What the API last wrote, for calls that looked their fn up before it. */
  private readonly written = new WrittenRecords();
  private readonly unwatchImages: () => void;
  /** Every container started and not yet removed, so shutdown can wait for all removals. */
  private readonly live = new Set<HotContainer>();
  /** Ids of the containers this agent is making or holds: the periodic sweep leaves these alone. */
  private readonly held = new Set<string>();
  private readonly orphanSweep: NodeJS.Timeout | undefined;
  private sweeping = false;
  /** Launches under way, so shutdown can wait for them before its sweep. */
  private readonly launching = new Set<Promise<unknown>>();
  /** Launches past their reservation, starting a container. */
  private startingNow = 0;
  /** Bounded waits under way; the grace period's end aborts them (no AbortSignal.any on a long-lived signal). */
  private readonly waits = new Set<AbortController>();
  /** Memory of evicted containers still being removed, and which containers those are. */
  private evictingBytes = 0;
  private readonly evicted = new Set<HotContainer>();
  private readonly resources: ResourceTracker;
  private readonly recorder: CallRecorder;
  private readonly containerDeps: ContainerDeps;
  /** Aborted as the stop begins: no new call is taken. */
  private readonly stop = new AbortController();
  /**
   * Aborted when the stop's grace period ends: waits and container starts end then, not before,
   * as calls taken before the stop (waiting for a start or for capacity) are served within it.
   */
  private readonly cut = new AbortController();
  /** The shutdown's grace period is over: containers still running calls are being removed. */
  private cutting = false;
  /** When (performance.now()) the shutdown last got something done: a bound on a stop is on progress, not time. */
  private progressAt: number | undefined;
  private inFlight = 0;
  private queued = 0;
  private readonly finished: Record<FinishedStatus, number> = { success: 0, error: 0, timeout: 0, cancelled: 0 };
  private idleWaiters: (() => void)[] = [];
  /** Requests taken before the stop (admit), not yet over: the stop waits for them as for calls. */
  private readonly admitted = new Set<Admission>();
  /** Slot keys per (app, fn) object: cached lookups hand out the same objects until they change. */
  private readonly keys = new WeakMap<Fn, { app: App; key: string }>();
  /** The CPU a Lambda container is pinned to, the network one is spread to. */
  private readonly places: ContainerPlaces;

  /** cfg.lambda, or the bundle deps.lambdaBundle prepared later. */
  private lambda: LambdaRuntime | undefined;

  constructor(private readonly cfg: AgentConfig, private readonly deps: AgentDeps) {
    this.lambda = cfg.lambda;
    // Every wait and start under way listens to these: a burst of starts is no leak to warn of.
    setMaxListeners(0, this.stop.signal, this.cut.signal);
    this.resources = new ResourceTracker(cfg.capacity);
    this.recorder = new CallRecorder(deps.store, deps.log);
    this.places = new ContainerPlaces({
      cpus: cfg.lambdaCpus,
      cpusShared: cfg.lambdaCpusShared === true,
      pinnedElsewhere: () => this.cpusPinnedElsewhere(),
      networks: cfg.networks,
      log: deps.log,
    });
    this.containerDeps = {
      driver: deps.driver,
      iofsPath: cfg.iofsPath,
      nodeId: cfg.nodeId,
      ...(cfg.iofsTmpfs !== undefined && { iofsTmpfs: cfg.iofsTmpfs }),
      startTimeoutMs: cfg.startTimeoutMs,
      freezeIdleMs: cfg.freezeIdleMs,
      maxLogBytes: cfg.maxLogBytes,
      maxResponseBytes: cfg.maxResponseBytes,
      maxStreamedResponseBytes: cfg.maxStreamedResponseBytes,
      lateOutput: (fnId, callId, log) => this.recorder.updateLog(fnId, callId, log),
      freezeFailed: (action, container, err) =>
        deps.log.warn({ err, container }, action === 'pause' ? 'could not pause an idle container; its next call replaces it' : 'could not unpause a frozen container; it is replaced'),
    };
    this.unwatchImages = deps.driver.watchImages((image, imageId) => this.retagged(image, imageId));
    if (cfg.orphanSweepMs) {
      this.orphanSweep = setInterval(() => void this.sweepOrphans(), cfg.orphanSweepMs);
      this.orphanSweep.unref();
    }
  }

  /**
   * A container whose removal the engine failed (past the retries), or one a failed start could
   * not remove, is no longer held: it would run on unseen, its memory uncounted, until the next
   * start-up. The engine is asked now and then for this node's containers, and those go.
   */
  private async sweepOrphans(): Promise<void> {
    if (this.sweeping || this.stop.signal.aborted) return;
    this.sweeping = true;
    try {
      // Held when the engine is asked for its list, or now: one listed, then removed by the agent
      // and let go before the sweep looked at it, is not an orphan (a warning for every churn).
      const heldBefore = new Set(this.held);
      const removed = await sweepNode(this.deps.driver, this.cfg.iofsPath, this.deps.log, (id) => heldBefore.has(id) || this.held.has(id));
      if (removed.length > 0) {
        this.deps.log.warn({ removed: removed.length, containers: removed }, 'removed containers of this node the agent no longer held (a removal or a start the engine did not complete)');
      }
    } catch (err) {
      this.deps.log.debug({ err }, 'could not sweep the engine for containers no longer held');
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * An image name now names another image (`kiln deploy --no-bump`, `docker build -t` of the
   * same tag, a pull of :latest): its hot containers run what it was, so the pools running it
   * retire, and the next call starts a container of what it is.
   */
  private retagged(image: string, imageId: string | undefined): void {
    const name = canonicalImage(image);
    for (const [key, { image: poolImage }] of this.poolOrigins) {
      if (poolImage !== name) continue;
      const pool = this.pools.get(key);
      // A rebuild that changed nothing (the same image under the name again) keeps them.
      if (pool && imageId !== undefined && pool.keepIf((c) => c.imageId === imageId)) continue;
      this.retirePool(key, { image }, 'image rebuilt under its name: its containers retire');
    }
  }

  /**
   * A fn was updated through the API: its pools made for what it was (another config, image,
   * limit...) retire; one whose containers match it still (an annotation changed) stays.
   */
  fnUpdated(fn: Fn): void {
    this.written.fnWritten(fn);
    for (const [key, o] of this.poolOrigins) {
      if (o.fn.id === fn.id && slotKey(o.app, fn) !== key) this.retirePool(key, { fn: fn.id }, 'fn changed: its containers made for what it was retire');
    }
  }

  /** A fn was deleted through the API: its pools retire. */
  fnDeleted(fnId: string): void {
    this.written.fnDeleted(fnId);
    for (const [key, o] of this.poolOrigins) if (o.fn.id === fnId) this.retirePool(key, { fn: fnId }, 'fn deleted: its containers retire');
  }

  /** An app was updated through the API: its fns' pools made for what it was (its config, syslog URL, network) retire. */
  appUpdated(app: App): void {
    this.written.appWritten(app);
    for (const [key, o] of this.poolOrigins) {
      if (o.app.id === app.id && slotKey(app, o.fn) !== key) this.retirePool(key, { app: app.id, fn: o.fn.id }, 'app changed: its fn\'s containers made for what it was retire');
    }
  }

  /** An app was deleted through the API, its fns with it: their pools retire. */
  appDeleted(appId: string): void {
    this.written.appDeleted(appId);
    for (const [key, o] of this.poolOrigins) if (o.app.id === appId) this.retirePool(key, { app: appId, fn: o.fn.id }, 'app deleted: its fns\' containers retire');
  }

  /**
   * The pool of `key` takes no new call (the next one makes a new pool): its idle containers
   * close now (a Lambda one through its extensions' SHUTDOWN), busy ones after their call.
   */
  private retirePool(key: string, about: Record<string, string>, msg: string): void {
    const pool = this.pools.get(key);
    this.pools.delete(key);
    this.poolOrigins.delete(key);
    if (!pool) return;
    this.deps.log.info({ ...about, containers: pool.size }, msg);
    pool.retire();
  }

  /** Runs one call and writes its answer to `res`. Throws when no answer was started. */
  async invoke(spec: InvokeSpec, res: ResponseTarget): Promise<void> {
    const createdAt = Date.now();
    /** `failure`: what the call failed with, if anything (its kind is counted). */
    const record = (status: FinishedStatus, fields: Partial<Call>, log: CallRecord['log'] = '', failure?: unknown) => {
      this.finished[status]++;
      const completedAt = Date.now();
      this.deps.observeCall?.(status, (completedAt - createdAt) / 1000, status === 'success' ? undefined : failureKind(status, failure));
      this.recorder.record({
        call: {
          id: spec.callId, app_id: spec.app.id, fn_id: spec.fn.id, status, created_at: iso(createdAt),
          completed_at: iso(completedAt), stats: [], ...(spec.triggerId !== undefined && { trigger_id: spec.triggerId }),
          ...fields,
        },
        log,
      });
    };
    /**
     * Records a call that never reached a container (with what a container that failed to start
     * printed), and rethrows why. One refused by the stop is `cancelled`, as a call the stop cut:
     * the server's doing, not the function's failure.
     */
    const refuse = (err: unknown): never => {
      const cancelled = err instanceof AgentError && (err.kind === 'cancelled' || err.kind === 'shutting-down');
      record(cancelled ? 'cancelled' : 'error', { error: err instanceof Error ? err.message : String(err) }, err instanceof AgentError && err.output ? this.cappedLog(err.output) : '', err);
      throw err;
    };

    // Once stopping, only what arrived before the stop is served, and only within the grace period.
    if (this.stop.signal.aborted && !(spec.admission !== undefined && this.admitted.has(spec.admission))) {
      refuse(new AgentError('shutting-down', 'Server is shutting down'));
    }
    if (this.cut.signal.aborted) refuse(new AgentError('shutting-down', CUT_WHILE_WAITING));
    // Without the daemon bundle a Lambda container would never open its socket: say so. One
    // that failed at start-up is prepared again (its source bounds how often); a no-network
    // container's /etc/hosts is in it too, so their calls have it tried, without waiting.
    if (!this.lambda && this.deps.lambdaBundle) {
      const source = this.deps.lambdaBundle;
      const trying = source.get().then((rt) => (this.lambda ??= rt));
      if (spec.fn.format === 'lambda' && !(await trying)) {
        if (source.missing === 'host') refuse(new AgentError('runtime-unavailable', 'fn format "lambda" needs the Lambda runtime bundle, which this server cannot prepare at the moment (see its log); try again later'));
        refuse(new AgentError('unsupported-format', 'fn format "lambda" needs the Lambda runtime bundle, which this server could not prepare'));
      }
    }
    if (spec.fn.format === 'lambda' && !this.lambda) {
      refuse(new AgentError('unsupported-format', 'fn format "lambda" needs the Lambda runtime bundle, which this server could not prepare'));
    }
    const memory = spec.fn.memory * MiB;
    if (!this.resources.fitsAtAll(memory, 0)) {
      refuse(new AgentError('too-big-for-host', `Requested CPU/Memory cannot be allocated: fn memory ${spec.fn.memory} MB is more than this server can give (${Math.floor(this.resources.total.memoryBytes / MiB)} MB)`));
    }

    const network = askedNetwork(spec.app, spec.fn);
    const refused = network === undefined ? undefined : networkProblem(network, this.cfg.allowedNetworks);
    if (refused !== undefined) refuse(new AgentError('network-refused', `fn "${spec.fn.name}" cannot run here: ${refused}`));
    // A URL stored by Fn or an older Kiln (a unix socket, say) is held to today's rule before the
    // engine, root on the host, is given it: the same 502 as a destination the engine refuses.
    const syslogUrl = spec.app.syslog_url?.trim();
    const syslogBad = syslogUrl ? syslogUrlProblem(syslogUrl, this.cfg.syslogSockets) : undefined;
    if (syslogBad !== undefined) refuse(new LogDestinationError(`"${spec.app.syslog_url}"${syslogBad}`));

    const key = this.slotKeyOf(spec.app, spec.fn);
    // Looked up before a write that retired what it was: served as it was, then its container goes.
    const outdated = this.written.outdated(spec.app, spec.fn, key);
    const pool = this.poolFor(key, spec, network);
    pool.hold();
    this.inFlight++;
    try {
      let container: HotContainer;
      let startedAt: number;
      let done: CallDone;
      for (let attempt = 1; ; attempt++) {
        // The common case, an idle container not frozen, needs no engine call and so no timers.
        const ready = pool.takeReady();
        if (ready) container = ready;
        else {
          // The whole wait for a slot is bounded, an idle container's unfreeze too: one the engine
          // does not unpause within PAUSE_MS is dropped, and the call then waits for a start.
          const bound = this.bounded(this.cfg.maxQueueMs, spec.signal);
          this.queued++;
          try {
            container = await pool.acquire(bound.signal);
          } catch (err) {
            return refuse(err);
          } finally {
            this.queued--;
            bound.dispose();
          }
        }

        if (attempt === 1) spec.onAccepted?.();
        startedAt = Date.now();
        done = await container.execute(
          {
            callId: spec.callId, headers: spec.headers, body: spec.body, timeoutMs: spec.fn.timeout * 1000,
            signal: spec.signal, ...(spec.gateway && { gateway: spec.gateway }), ...(spec.sourceIp !== undefined && { sourceIp: spec.sourceIp }), ...(spec.qualifier !== undefined && { qualifier: spec.qualifier }), ...(spec.streamed && { streamed: true }), ...(spec.buffered && { buffered: true }),
          },
          res,
        );
        // A container that refused the connection never saw the call (one the engine lost in a
        // restart, say, and still counted idle): it goes, and another takes the call.
        if (!done.unsent || attempt === MAX_CALL_ATTEMPTS || res.headersSent) break;
        pool.release(container, false);
        // The call reached no function: past the grace period, it is refused as any call still waiting.
        if (this.cut.signal.aborted) return refuse(this.cut.signal.reason);
      }
      // Its container removed under it when the shutdown's grace ran out: the server's doing,
      // not the function's, whatever the broken exchange looked like.
      if (this.cutting && done.status !== 'success') done = cutByShutdown(done);
      spec.onLog?.(done.log);
      pool.release(container, done.reusable, Date.now() - startedAt);
      record(done.status, {
        started_at: iso(startedAt),
        stats: decimate(MAX_CALL_STATS, done.stats).map((s) => ({ timestamp: iso(s.timestamp), metrics: s.metrics })),
        ...(done.error !== undefined && { error: done.error }),
      }, done.log, done.failure);
      if (done.failure && done.failure.kind !== 'cancelled') {
        if (!res.headersSent) throw done.failure;
        res.destroy(done.failure);
      }
    } finally {
      pool.letGo();
      if (outdated && this.pools.get(key) === pool) this.retirePool(key, { fn: spec.fn.id }, 'a call that looked its fn up before a change was served as it was: its container retires');
      this.inFlight--;
      this.wakeIfIdle();
    }
  }

  /**
   * Takes a call's request as it arrives, before its fn is looked up and its body read: a stop
   * that comes meanwhile still serves it within the grace period, and waits for it, as Fn's
   * server (Go's Shutdown) finishes every request it has begun. Undefined once stopping: the
   * call is then refused. Released when the request is over, however it ended.
   */
  admit(): Admission | undefined {
    if (this.stop.signal.aborted) return undefined;
    const admission: Admission = {
      release: () => {
        if (this.admitted.delete(admission)) this.wakeIfIdle();
      },
    };
    this.admitted.add(admission);
    return admission;
  }

  private wakeIfIdle(): void {
    if (this.inFlight === 0 && this.admitted.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * A signal for one bounded wait: aborts with 503 after `ms`, as cancelled when the caller
   * goes, or when the shutdown's grace period ends. dispose() when the wait is over.
   */
  private bounded(ms: number, caller?: AbortSignal): { signal: AbortSignal; dispose(): void } {
    const ac = new AbortController();
    const onCaller = () => ac.abort(new AgentError('cancelled', 'client disconnected while waiting'));
    const timer = setTimeout(() => ac.abort(new WaitExpired()), ms);
    if (caller?.aborted) onCaller();
    else caller?.addEventListener('abort', onCaller, { once: true });
    // Past the grace period nothing waits (nor starts).
    if (this.cut.signal.aborted) ac.abort(this.cut.signal.reason);
    this.waits.add(ac);
    return {
      signal: ac.signal,
      dispose: () => {
        clearTimeout(timer);
        caller?.removeEventListener('abort', onCaller);
        this.waits.delete(ac);
      },
    };
  }

  private slotKeyOf(app: App, fn: Fn): string {
    const hit = this.keys.get(fn);
    if (hit && hit.app === app) return hit.key;
    const key = slotKey(app, fn);
    this.keys.set(fn, { app, key });
    return key;
  }

  /** `network`: the fn's kiln.io/network, already checked by invoke(). */
  private poolFor(key: string, spec: InvokeSpec, network: unknown): SlotPool {
    let pool = this.pools.get(key);
    if (pool) return pool;
    const cSpec: ContainerSpec = {
      id: '',
      image: spec.fn.image,
      env: containerEnv(spec.app, spec.fn, this.cfg.logFrames),
      labels: this.deps.labelsFor(spec.app.id, spec.fn.id),
      memoryMb: spec.fn.memory,
      cpusMilli: 0,
      idleTimeoutMs: spec.fn.idle_timeout * 1000,
      fnId: spec.fn.id,
      // Checked in invoke(): a string the operator allows. Otherwise launch() picks one of FN_DOCKER_NETWORKS, if any.
      ...(typeof network === 'string' && { network }),
      ...syslogOf(spec.app, spec.fn),
      // Without a network the engine writes no /etc/hosts, and even `localhost` would not resolve.
      ...(this.lambda?.hostsFile !== undefined && { hostsFile: this.lambda.hostsFile }),
    };
    const memory = cSpec.memoryMb * MiB;
    // A Lambda container's spec needs the image's own command, read once per slot.
    let lambdaSpec: Promise<ContainerSpec> | undefined;
    const specFor = (): Promise<ContainerSpec> => {
      const rt = this.lambda;
      if (spec.fn.format !== 'lambda' || !rt) return Promise.resolve(cSpec);
      lambdaSpec ??= this.deps.driver.imageConfig(cSpec.image, this.cut.signal).then(
        (image) => ({
          ...cSpec,
          env: withNodeSettingsKept(image.env, { ...withoutDaemonSettings(cSpec.env), ...lambdaEnv(spec.app, spec.fn, image, this.cfg.maxResponseBytes) }),
          readOnlyBinds: { ...cSpec.readOnlyBinds, [rt.hostDir]: rt.mount },
          lambda: { entrypoint: rt.command, extraHosts: LAMBDA_EXTRA_HOSTS, minLimits: LAMBDA_MIN_LIMITS },
        }),
        (err: unknown) => {
          lambdaSpec = undefined; // the image may appear later
          throw err;
        },
      );
      return lambdaSpec;
    };
    const created: SlotPool = new SlotPool(key, memory, {
      launch: (needed) => specFor().then((s) => this.launch(s, memory, key, needed)),
      retired: (c) => {
        // Its CPU and network are free for the next container at once (placement only counts
        // live ones); its memory, only once the engine has removed it.
        this.places.giveBack(c);
        // An eviction whose removal failed frees nothing soon: other idle ones may be evicted.
        const notEvicting = () => {
          if (!this.evicted.delete(c)) return;
          this.evictingBytes -= memory;
          // A launch waiting on this eviction may evict another now.
          this.resources.wake();
        };
        void this.closeContainer(c, notEvicting).finally(() => {
          notEvicting();
          this.resources.release(memory, c.spec.cpusMilli);
        });
      },
      // A launch waiting for memory may evict it now, rather than wait for the next release.
      idled: () => this.resources.wake(),
      emptied: () => {
        if (this.pools.get(key) !== created) return;
        this.pools.delete(key);
        this.poolOrigins.delete(key);
      },
    });
    this.pools.set(key, created);
    this.poolOrigins.set(key, { image: canonicalImage(spec.fn.image), app: spec.app, fn: spec.fn });
    return created;
  }

  /**
   * Reserves memory (evicting idle containers of other slots, waiting a bounded time, or in
   * non-blocking mode only for evictions under way), then starts. Between waits it asks its pool
   * whether a call still waits for it.
   */
  private launch(spec: ContainerSpec, memory: number, key: string, needed: () => boolean): Promise<HotContainer> {
    const run = (async () => {
      const bound = this.bounded(this.cfg.maxQueueMs);
      try {
        while (!this.resources.tryReserve(memory, spec.cpusMilli)) {
          // Evict only what removals already under way will not free, then wait for a release.
          const short = memory - this.resources.free.memoryBytes - this.evictingBytes;
          const evicted = short > 0 && this.evictEnough(key, short);
          // As Fn's: nothing idle to evict and no removal to wait for means busy now.
          if (this.cfg.nonBlocking && !evicted && this.evictingBytes === 0) throw new AgentError('server-busy', 'Timed out - server too busy');
          if (!(await this.resources.nextRelease(bound.signal))) throw bound.signal.reason;
          // Its call may have been served, timed out or gone meanwhile: a start for nobody would
          // take the memory (or evict the warm containers) other fns' calls wait for.
          if (!needed()) throw new WaitExpired();
        }
      } finally {
        bound.dispose();
      }
      // Other nodes' pinned containers count too (two nodes on one host pinned all to CPU 0).
      const taken = await this.places.take({ lambda: spec.lambda !== undefined, memoryMb: spec.memoryMb, network: spec.network });
      let c: HotContainer;
      this.startingNow++;
      const format = spec.lambda === undefined ? 'http-stream' : 'lambda';
      const began = performance.now();
      try {
        // The grace period ended while it waited (for memory, for the engine's list): the engine creates nothing.
        if (this.cut.signal.aborted) throw this.cut.signal.reason;
        c = await this.startContainer(taken.network === undefined ? spec : { ...spec, network: taken.network }, taken);
        this.deps.observeStart?.(format, 'success', (performance.now() - began) / 1000);
      } catch (thrown) {
        // The server's own host out of descriptors or disk (its socket directory, its connection
        // to the engine): neither the function's fault nor the engine's, and its errno names host paths.
        const shortage = asHostShortage(thrown);
        const err = shortage ?? thrown;
        this.deps.observeStart?.(format, this.cut.signal.aborted ? 'shutdown' : failureKind('error', err), (performance.now() - began) / 1000);
        this.resources.release(memory, spec.cpusMilli);
        this.places.release(taken);
        if (this.cut.signal.aborted) throw this.cut.signal.reason;
        // Said here, as no call may be left waiting to say it; the detail (paths) only here.
        if (shortage) this.deps.log.warn({ err: shortage.cause, fn: spec.fnId, image: spec.image }, `a container start failed: ${shortage.message}`);
        // The engine failing (or not answering).
        else if (err instanceof DriverError && !(err instanceof ContainerConfigError)) this.deps.log.warn({ err, fn: spec.fnId, image: spec.image }, 'a container start failed: the container engine');
        throw err;
      } finally {
        this.startingNow--;
      }
      this.places.hold(c, taken);
      this.live.add(c);
      // Up after the grace period: the stop may be removing the others already.
      if (this.cut.signal.aborted) {
        await this.closeContainer(c);
        this.resources.release(memory, spec.cpusMilli);
        this.places.giveBack(c);
        throw this.cut.signal.reason;
      }
      return c;
    })();
    this.launching.add(run);
    void run.then(() => this.launching.delete(run), () => this.launching.delete(run));
    return run;
  }

  /**
   * Other nodes' pinned containers on this engine; none when the engine cannot say within
   * PINS_WAIT_MS (a hung list must not hold every Lambda start, nor shutdown).
   */
  private cpusPinnedElsewhere(): Promise<number[]> {
    const list = this.deps.driver.cpusPinnedElsewhere?.();
    return list ? within(list, PINS_WAIT_MS, [], this.cut.signal) : Promise.resolve([]);
  }

  /**
   * Starts a container, pinned to the CPU its start took, if any. A cpuset Docker refuses (a CPU list
   * that does not fit this engine) must never fail calls: pinning goes off and it starts unpinned.
   */
  private async startContainer(spec: ContainerSpec, taken: Taken): Promise<HotContainer> {
    const start = async (s: ContainerSpec) => {
      const id = `kiln-${this.deps.newId().toLowerCase()}`;
      // Held from before the engine is asked to make it until it is removed (or given up on).
      this.held.add(id);
      try {
        return await HotContainer.start({ ...s, id }, this.containerDeps, this.cut.signal);
      } catch (err) {
        this.held.delete(id);
        throw err;
      }
    };
    if (taken.cpu === undefined) return start(spec);
    try {
      return await start({ ...spec, cpuset: String(taken.cpu) });
    } catch (err) {
      if (!cpusetRefused(err)) throw err;
      this.places.pinningRefused(err, taken.cpu);
      return start(spec);
    }
  }

  /**
   * Removes a container. One the engine did not remove (it was restarting, say) is asked for
   * again every few seconds for a while, and keeps its memory counted meanwhile: left alone it
   * would run on unseen. Once stopping, one more try; the shutdown's sweep takes what is left.
   */
  private async closeContainer(c: HotContainer, onFailure?: () => void): Promise<void> {
    const giveUpAt = Date.now() + REMOVAL_RETRY_FOR_MS;
    try {
      for (;;) {
        try {
          await c.close();
          return;
        } catch (err) {
          onFailure?.();
          if (Date.now() > giveUpAt || this.stop.signal.aborted) {
            this.deps.log.error({ err, container: c.spec.id }, 'could not remove container; it may still be running');
            return;
          }
          this.deps.log.warn({ err, container: c.spec.id }, 'could not remove container; trying again');
          await sleep(REMOVAL_RETRY_MS, undefined, { signal: this.stop.signal }).catch(() => {});
        }
      }
    } finally {
      this.live.delete(c);
      this.held.delete(c.spec.id);
      // Removed or given up on, the engine answered: a stop with many containers is slow, not stuck.
      if (this.stop.signal.aborted) this.progressed();
    }
  }

  private progressed(): void {
    this.progressAt = performance.now();
  }

  /**
   * When (performance.now()) the shutdown last got something done (a container removed or given
   * up on, the grace period over, the sweep, the records written); undefined before it has.
   */
  get stopProgressAt(): number | undefined {
    return this.progressAt;
  }

  /**
   * Evicts the least recently used idle containers of other slots that together free `bytes`,
   * all at once (their removals run side by side: a Lambda one's SHUTDOWN takes up to 2.5 s);
   * none when all of them would not be enough, as Fn's evictor: a warm container is not given up
   * for a start that must wait anyway. False when nothing was evicted.
   */
  private evictEnough(exceptKey: string, bytes: number): boolean {
    const idle: { pool: SlotPool; at: number }[] = [];
    for (const [key, pool] of this.pools) {
      if (key !== exceptKey) for (const at of pool.idleSince()) idle.push({ pool, at });
    }
    idle.sort((a, b) => a.at - b.at);
    const victims: SlotPool[] = [];
    let freed = 0;
    for (const { pool } of idle) {
      if (freed >= bytes) break;
      victims.push(pool);
      freed += pool.memoryBytes;
    }
    if (freed < bytes) return false;
    // Each pool's own idle ones are oldest first too: taking its oldest, in this order, takes these.
    let evicted = false;
    for (const pool of victims) {
      this.evictingBytes += pool.memoryBytes;
      const c = pool.evictOldest();
      if (c) {
        this.evicted.add(c);
        evicted = true;
      } else this.evictingBytes -= pool.memoryBytes;
    }
    return evicted;
  }

  private untilIdle(ms: number): Promise<void> {
    if (this.inFlight === 0 && this.admitted.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * Stops taking calls, lets the ones taken finish within the grace period (those waiting for a
   * container or for capacity too: as Fn's, a call accepted is served), removes every container.
   */
  async shutdown(): Promise<void> {
    if (!this.stop.signal.aborted) this.stop.abort(new AgentError('shutting-down', 'Server is shutting down'));
    this.unwatchImages();
    clearInterval(this.orphanSweep);
    await this.untilIdle(this.cfg.shutdownGraceMs);
    this.progressed();
    this.cutting = this.inFlight > 0;
    // Calls still waiting get 503 and are recorded cancelled, as running ones cut now; starts end.
    const cut = new AgentError('shutting-down', CUT_WHILE_WAITING);
    this.cut.abort(cut);
    for (const w of this.waits) w.abort(cut);
    for (const pool of this.pools.values()) pool.drain(cut);
    // Launches end quickly once cut (their start races the cut signal); then sweep.
    await Promise.allSettled([...this.launching]);
    this.progressed();
    await Promise.allSettled([...this.live].map((c) => this.closeContainer(c)));
    // Whatever of this node's the engine still has (a removal it failed earlier) goes too.
    try {
      await sweepNode(this.deps.driver, this.cfg.iofsPath, this.deps.log);
      // None of this node's containers is left, nor being made: a directory of its own none mounts is a leftover.
      await removeOrphanSocketDirs(this.deps.driver, this.cfg.iofsPath, this.cfg.nodeId, this.deps.log);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not sweep the engine for containers left behind');
    }
    this.progressed();
    // Calls cut by the sweep record their end; give them a moment, then write everything.
    await this.untilIdle(2000);
    await this.recorder.stop();
    this.progressed();
  }

  /** Output for a call's log held to FN_MAX_LOG_SIZE_BYTES, as a call's own output is. */
  private cappedLog(output: string): LogBuffer {
    const log = new LogBuffer(this.cfg.maxLogBytes);
    log.write(Buffer.from(output));
    return log;
  }

  stats(): AgentStats {
    // Containers join `live` once ready: those starting are counted as their launches run.
    const containers: AgentStats['containers'] = { starting: this.startingNow, busy: 0, idle: 0, frozen: 0, closed: 0 };
    for (const c of this.live) containers[c.state]++;
    return {
      queued: this.queued,
      running: this.inFlight - this.queued,
      calls: { ...this.finished },
      containers,
      memory: { reservedBytes: this.resources.used.memoryBytes, capacityBytes: this.resources.total.memoryBytes },
    };
  }

  /** Waits until queued call records are written (tests, shutdown). */
  flushRecords(): Promise<void> {
    return this.recorder.flush();
  }
}
