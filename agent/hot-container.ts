// One hot container: started once, then handed one call at a time over its unix socket.
// States: starting → busy ⇄ idle (→ frozen after FN_FREEZE_IDLE_MSECS) → closed.
import { Client } from 'undici';
import type { ContainerTask, Cookie, Driver, RunResult, Stat } from '../drivers/contract.js';
import { AgentError, STREAM_TIMEOUT_TYPE } from './errors.js';
import { deadlineFrom, FDK_HEAD_BYTES, headBytes, toContainerHeaders, type CallerHeaders } from './headers.js';
import { makeSocketDir, type SocketDir } from './iofs.js';
import { asHostShortage, outOfDescriptors } from './host-shortage.js';
import { LAMBDA_BOOT_ALLOWANCE_MS, LAMBDA_SHUTDOWN_WAIT_MS, LAMBDA_TIMEOUT_GRACE_MS } from './lambda.js';
import { IDLE_FOR_INVOKE, IDLE_FOR_PARAM, IDLE_PATH, SHUTDOWN_PATH, SHUTDOWN_REASON_PARAM } from '../runtime/wire.js';
import { CallLogs } from './call-logs.js';
import { logFrameName } from './log-frames.js';
import { functionErrorText, recordedType } from './call-error.js';
import { headAndTail } from './cut-text.js';
import { LogBuffer } from './log-buffer.js';
import { HeadMeter, meteredConnector } from './head-meter.js';
import { MAX_RESPONSE_HEAD_BYTES, relayCall, REQUEST_HEAD_TOO_LARGE, type ResponseTarget } from './relay.js';

export interface ContainerSpec {
  id: string;
  image: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  memoryMb: number;
  cpusMilli: number;
  /** The CPUs it is pinned to (Docker's CpusetCpus syntax); unset means any. */
  cpuset?: string;
  idleTimeoutMs: number;
  fnId: string;
  network?: string;
  readOnlyBinds?: Record<string, string>;
  /** Bound at /etc/hosts when the container has no network (the engine then writes none). */
  hostsFile?: string;
  /** Runs Kiln's Lambda daemon: freeze only once it is idle, retire through its SHUTDOWN. */
  lambda?: { entrypoint: string[]; extraHosts: string[]; minLimits: NonNullable<ContainerTask['minLimits']> };
  /** Where the engine also sends the container's output (the app's syslog_url). */
  syslog?: ContainerTask['syslog'];
}

/**
 * A stream's bound: never tighter than the buffered one (FN_MAX_RESPONSE_SIZE 0, no limit, or
 * over 200 MiB, leaves streams at least as free); 0 is no limit.
 */
export const streamedBound = (buffered: number, streamed: number): number => (buffered === 0 || streamed === 0 ? 0 : Math.max(buffered, streamed));

export interface ContainerDeps {
  driver: Driver;
  iofsPath: string;
  /** The node's id (KILN_NODE_ID), tagged into each socket directory's name. */
  nodeId: string;
  /** FN_IOFS_TMPFS's mount options: each socket directory a tmpfs of its own; undefined: plain. */
  iofsTmpfs?: string;
  startTimeoutMs: number;
  freezeIdleMs: number;
  maxLogBytes: number;
  maxResponseBytes: number;
  /**
   * KILN_MAX_STREAMED_RESPONSE_SIZE: an answer the caller gets as it comes (a Lambda response
   * stream, anything InvokeWithResponseStream passes on) is bounded by this instead, as Lambda
   * bounds streamed answers at 200 MB and buffered ones at 6 MB.
   */
  maxStreamedResponseBytes: number;
  /** Output that came for a call after it was recorded (a Lambda extension working on after the answer, its SHUTDOWN): its whole log again. */
  lateOutput?(fnId: string, callId: string, log: string): void;
  /** The engine failed (or did not answer in time) to pause or unpause an idle container, which is then replaced. */
  freezeFailed?(action: 'pause' | 'unpause', containerId: string, err: unknown): void;
}

export interface CallInput {
  callId: string;
  headers: CallerHeaders;
  body: Buffer;
  gateway?: { method: string; url: string };
  /** The caller's address (see InvokeSpec.sourceIp). */
  sourceIp?: string;
  /** See InvokeSpec.qualifier. */
  qualifier?: string;
  timeoutMs: number;
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
  /** Pass the answer on as it comes, however short (see InvokeSpec.streamed). */
  streamed?: boolean;
  /** The caller holds the whole answer (see InvokeSpec.buffered). */
  buffered?: boolean;
}

export interface CallDone {
  /** What the call is recorded as. */
  status: 'success' | 'error' | 'timeout' | 'cancelled';
  error?: string;
  /** Set when nothing (or not all) reached the caller: the answer to give, if one can still be given. */
  failure?: AgentError;
  /** Can the container take another call? */
  reusable: boolean;
  /**
   * The container refused the connection, or exited on its own with the request unread: nothing
   * of the call reached the function (nor the caller), so another container may take it. A
   * container the engine lost (a restart) refuses so.
   */
  unsent?: true;
  /** Still filling: output can arrive just after the answer, and is read when the call is stored. */
  log: LogBuffer;
  stats: Stat[];
}

/** How long a due freeze waits for a container's output to stop coming, at most. */
export const FREEZE_OUTPUT_WAIT_MS = 2000;
/** How often it looks again while the output comes (or the freeze delay, if longer). */
const FREEZE_OUTPUT_STEP_MS = 20;

/**
 * A start-up's output in its error message: its end says why it failed, its head often where
 * (node prints the file and line, then the stack), so a long one keeps both; the whole of it is
 * the call's log.
 */
const HEAD_CHARS = 300;
const TAIL_CHARS = 600;
const startOutput = (text: string): string => headAndTail(text.trim(), HEAD_CHARS, TAIL_CHARS, ' … ');

/**
 * A start that failed, with what the container printed: the API's caller (`kiln invoke` says why
 * at once) reads `words`, `detail` and the output's first and last lines; a trigger's caller,
 * who may be anyone, `words` alone; the call's log, the whole output.
 */
function startFailed(kind: 'start-timeout' | 'init-failed', words: string, detail: string | undefined, output: string): AgentError {
  const out = startOutput(output);
  return new AgentError(kind, `${words}${detail ? ` (${detail})` : ''}${out ? `: ${out}` : ''}`, { output, publicMessage: words });
}

export class HotContainer {
  state: 'starting' | 'busy' | 'idle' | 'frozen' | 'closed' = 'starting';
  lastUsed = Date.now();
  /** Resolves when the container stops, however that happens. */
  readonly exited: Promise<RunResult>;
  private readonly client: Client;
  /** Counts the lines of the answer heads read on `client`'s connection (and on `idleClient`'s). */
  private readonly meter = new HeadMeter();
  private readonly idleMeter = new HeadMeter();
  private readonly socketPath: string;
  /** The running call's stats. */
  private current: { stats: Stat[] } | undefined;
  /** Whether a call has run here (the Lambda daemon's boot init is behind it). */
  private served = false;
  private freezeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private freezing: Promise<void> | undefined;
  /** Counts parks, so a late idle answer from an earlier park cannot arm a freeze. */
  private parks = 0;
  /**
   * Lambda: the daemon's idle long-poll under way, and the park it was asked for. It has a
   * connection of its own (a call behind it on the call's connection would wait out the last
   * call's extensions with its deadline running), and there is one at a time.
   */
  private idlePoll: { park: number; done: Promise<void> } | undefined;
  private idleClient: Client | undefined;
  /** Lambda: how long the last call's tail (its extensions' work, a reset) may run past its answer. */
  private tailMs = LAMBDA_BOOT_ALLOWANCE_MS;
  /** Lambda: the park whose idle timeout has come (it retires once the daemon is idle, and is not frozen meanwhile). */
  private retiring = 0;
  /** What the pool gave park() to take it out while idle. */
  private retireIdle: (() => void) | undefined;
  /**
   * Lambda: set when the daemon said its sandbox stays busy after the last answer (an extension
   * still at work on it, a reset): settles once the daemon is idle, or once that call's tail may
   * have run out, either way. The pool gives it no call meanwhile (the service sends the next
   * invoke to another sandbox), and takes it back (clearing this) when the call is released.
   */
  busyUntil: Promise<void> | undefined;
  /** Its process has exited (it dies with its pool's next look at it). */
  ended = false;
  /** Its output no longer reaches the agent (see ContainerTask.outputLost): it takes no new call. */
  outputLost = false;
  /** Not frozen when idle (keepThawed). */
  private thawed = false;
  private closing: Promise<void> | undefined;
  /** Per-call listeners for the container's exit (not promise reactions, which would pile up). */
  private readonly exitListeners = new Set<() => void>();

  /** The id of the image it was made from, when the driver knows it. */
  get imageId(): string | undefined {
    return this.cookie.imageId;
  }

  private constructor(
    readonly spec: ContainerSpec,
    private readonly deps: ContainerDeps,
    private readonly cookie: Cookie,
    private readonly dir: SocketDir,
    private readonly logs: CallLogs,
    socketPath: string,
    exited: Promise<RunResult>,
  ) {
    this.exited = exited;
    void exited.then(() => {
      this.ended = true;
      for (const l of this.exitListeners) l();
    });
    this.socketPath = socketPath;
    this.client = this.daemonClient(this.meter);
  }

  /**
   * One connection, one request at a time. Idle connections are dropped after 1 s, as Fn does,
   * because some FDKs silently drop kept-alive connections.
   */
  private daemonClient(meter: HeadMeter): Client {
    return new Client('http://localhost', {
      // undici's connector on this socket path, with a head's lines bounded as they are read.
      connect: meteredConnector(this.socketPath, meter),
      pipelining: 1,
      keepAliveTimeout: 1000,
      keepAliveMaxTimeout: 1000,
      headersTimeout: 0,
      bodyTimeout: 0,
      maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
    });
  }

  /** Creates, starts and waits for the container's socket; cleans up fully on failure. */
  static async start(spec: ContainerSpec, deps: ContainerDeps, signal: AbortSignal): Promise<HotContainer> {
    const dir = await makeSocketDir(deps.iofsPath, deps.nodeId, deps.iofsTmpfs);
    const initLog = new LogBuffer(16 * 1024);
    let target: HotContainer | undefined;
    const logs = new CallLogs({
      initLog, byOffset: spec.lambda !== undefined,
      ...(spec.lambda === undefined && { frames: logFrameName(spec.env) }),
      late: (callId, log) => deps.lateOutput?.(spec.fnId, callId, log),
    });
    const stats = (s: Stat) => target?.current?.stats.push(s);
    let lostEarly = false;
    const outputLost = () => (target ? target.loseOutput() : (lostEarly = true));
    let cookie: Cookie | undefined;
    try {
      cookie = await deps.driver.createCookie({
        id: spec.id,
        image: spec.image,
        env: spec.env,
        labels: spec.labels,
        memoryMb: spec.memoryMb,
        cpusMilli: spec.cpusMilli,
        ...(spec.cpuset !== undefined && { cpuset: spec.cpuset }),
        tmpfsMb: 0,
        udsPath: dir.path,
        ...(spec.network !== undefined && { network: spec.network }),
        ...(spec.readOnlyBinds !== undefined && { readOnlyBinds: spec.readOnlyBinds }),
        ...(spec.lambda && { entrypoint: spec.lambda.entrypoint, extraHosts: spec.lambda.extraHosts, minLimits: spec.lambda.minLimits }),
        ...(spec.hostsFile !== undefined && { hostsFile: spec.hostsFile }),
        ...(spec.syslog && { syslog: spec.syslog }),
        logger: { stdout: { write: (b) => logs.write(b, 'stdout') }, stderr: { write: (b) => logs.write(b, 'stderr') } },
        writeStat: stats,
        outputLost,
      });
      await deps.driver.prepareCookie(cookie, signal);
      await dir.arm();
      const waiter = await cookie.run(signal);
      const exited = waiter.wait();
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const outcome = await Promise.race([
        dir.ready.then((socketPath) => ({ socketPath })),
        exited,
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), deps.startTimeoutMs);
        }),
        new Promise<'aborted'>((resolve) => {
          onAbort = () => resolve('aborted');
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]).finally(() => {
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener('abort', onAbort);
      });
      if (outcome === 'timeout') {
        // The socket may well be there: the server had no descriptor to look at it with.
        const short = asHostShortage(dir.shortage());
        if (short) throw short;
        // Fn's words, then ours: what it printed is most often why (an image without an FDK, which
        // never listens on FN_LISTENER's socket). A Lambda container's socket is Kiln's daemon's,
        // whatever the image: no FDK to blame.
        const words = spec.lambda
          ? 'Container initialization timed out'
          : 'Container initialization timed out, please ensure you are using the latest fdk and check the logs';
        const whose = spec.lambda ? "Kiln's Lambda daemon opened no socket" : 'no socket at FN_LISTENER';
        throw startFailed('start-timeout', words, `${whose} within ${deps.startTimeoutMs} ms`, initLog.withEnd());
      }
      if (outcome === 'aborted') throw new AgentError('cancelled', 'cancelled while the container was starting');
      if (!('socketPath' in outcome)) {
        const why = outcome.oomKilled ? 'ran out of memory' : `exited with code ${outcome.exitCode ?? '?'}`;
        throw startFailed('init-failed', `Container failed to initialize: ${why}`, undefined, initLog.withEnd());
      }
      target = new HotContainer(spec, deps, cookie, dir, logs, outcome.socketPath, exited);
      target.state = 'busy';
      target.outputLost = lostEarly;
      return target;
    } catch (err) {
      dir.stopWatching();
      await cookie?.close().catch(() => {});
      await dir.remove().catch(() => {});
      throw err;
    }
  }

  /** Takes the container out of idle (unpausing it if frozen) for a call. */
  /** The engine unfroze it too slowly for a call: from now on it is not frozen when idle. */
  keepThawed(): void {
    this.thawed = true;
  }

  /** Busy at once when idle and not frozen (nothing to ask the engine); false, unchanged, otherwise. */
  activateNow(): boolean {
    if (this.state !== 'idle' || this.freezing) return false;
    clearTimeout(this.freezeTimer);
    clearTimeout(this.idleTimer);
    this.state = 'busy';
    return true;
  }

  async activate(): Promise<void> {
    clearTimeout(this.freezeTimer);
    clearTimeout(this.idleTimer);
    this.state = 'busy';
    if (this.freezing) {
      const f = this.freezing;
      this.freezing = undefined;
      await f;
      await this.cookie.unfreeze().catch((err: unknown) => {
        this.deps.freezeFailed?.('unpause', this.spec.id, err);
        throw err;
      });
    }
  }

  /**
   * Its output stopped reaching the agent: a busy one finishes its call and goes (the pool takes
   * no container whose output is lost back), an idle one goes now.
   */
  loseOutput(): void {
    this.outputLost = true;
    if (this.state === 'idle' || this.state === 'frozen') this.retireIdle?.();
  }

  /** Back to idle: freeze after a while, retire after the fn's idle_timeout (or once its output is lost). */
  park(onIdleTimeout: () => void): void {
    this.state = 'idle';
    this.retireIdle = onIdleTimeout;
    this.lastUsed = Date.now();
    const park = ++this.parks;
    const freeze = () => {
      // Not a container its idle timeout is retiring: it would be paused only to be unpaused for SHUTDOWN.
      if (this.state !== 'idle' || park !== this.parks || this.retiring === park) return;
      this.state = 'frozen';
      this.freezing = this.cookie.freeze();
      // The next call finds it failed and replaces the container.
      this.freezing.catch((err: unknown) => this.deps.freezeFailed?.('pause', this.spec.id, err));
    };
    if (this.deps.freezeIdleMs >= 0 && !this.thawed) {
      // Output still coming when the freeze is due (a function's pipe backlog after a burst) is
      // waited out first, for at most FREEZE_OUTPUT_WAIT_MS: paused, the container would keep the
      // rest in its pipes and hand it, megabytes of it, to the calls that thaw it later.
      const outputWaitEnd = performance.now() + FREEZE_OUTPUT_WAIT_MS;
      let seen = this.logs.arrivals;
      const due = (delayMs: number): void => {
        this.freezeTimer = setTimeout(() => {
          if (this.logs.arrivals !== seen && performance.now() < outputWaitEnd) {
            seen = this.logs.arrivals;
            return due(Math.max(this.deps.freezeIdleMs, FREEZE_OUTPUT_STEP_MS));
          }
          // Lambda extensions may still be working after the answer: freeze only once the daemon
          // says every party is parked. Asked when the freeze is due, so back-to-back calls never pay for it.
          if (!this.spec.lambda) freeze();
          else if (this.state === 'idle' && park === this.parks) void this.daemonIdle(park).then(freeze);
        }, delayMs);
      };
      due(this.deps.freezeIdleMs);
    }
    if (!this.spec.lambda) {
      this.idleTimer = setTimeout(onIdleTimeout, this.spec.idleTimeoutMs);
      return;
    }
    // A Lambda container retires once its extensions are done with the last call (the service
    // never shuts down a busy sandbox, and SHUTDOWN reaches only an extension back in `next`),
    // waiting no longer than that call's tail may run.
    const tailEnd = performance.now() + this.tailMs;
    this.idleTimer = setTimeout(() => {
      const stillParked = () => (this.state === 'idle' || this.state === 'frozen') && park === this.parks;
      if (!stillParked()) return;
      this.retiring = park;
      let bound: NodeJS.Timeout | undefined;
      const tailOver = new Promise<void>((resolve) => (bound = setTimeout(resolve, Math.max(0, tailEnd - performance.now())).unref()));
      void Promise.race([this.daemonIdle(park), tailOver]).then(() => {
        clearTimeout(bound);
        if (stillParked()) onIdleTimeout();
      });
    }, this.spec.idleTimeoutMs);
  }

  /**
   * Resolves once the Lambda daemon says every party is parked, asked after park `park` began (an
   * answer to an earlier park's poll may predate the last call's tail); settles either way.
   */
  private daemonIdle(park: number, path = IDLE_PATH): Promise<void> {
    const last = this.idlePoll;
    if (last?.park === park) return last.done;
    const done = (last?.done ?? Promise.resolve()).then(() => {
      if (park !== this.parks || this.state === 'closed') return undefined;
      this.idleClient ??= this.daemonClient(this.idleMeter);
      return this.daemonRequest(this.idleClient, this.idleMeter, 'GET', path);
    });
    this.idlePoll = { park, done };
    return done;
  }

  /** The daemon idle after a call's answer, or that call's tail run out; settles either way. */
  private untilIdle(): Promise<void> {
    // An epoch of its own, so the poll is asked anew (not an earlier park's, answered before this call).
    const epoch = ++this.parks;
    let bound: NodeJS.Timeout | undefined;
    const over = new Promise<void>((resolve) => (bound = setTimeout(resolve, this.tailMs)));
    return Promise.race([this.daemonIdle(epoch, `${IDLE_PATH}?${IDLE_FOR_PARAM}=${IDLE_FOR_INVOKE}`), over]).finally(() => clearTimeout(bound));
  }

  async execute(input: CallInput, res: ResponseTarget): Promise<CallDone> {
    const call = { log: new LogBuffer(this.deps.maxLogBytes), stats: [] as Stat[] };
    this.current = call;
    this.logs.begin(input.callId, call.log);
    this.cookie.setStatsEnabled(true);
    const ac = new AbortController();
    // The Lambda daemon answers a timeout itself; the agent's timer is its backstop. It allows
    // for what the daemon does not count as the call's time: on a container's first call the
    // boot init, on a later one the last call's tail (its extensions' work, at most its own
    // timeout, and a reset's SHUTDOWN), which the call may wait behind.
    const lambdaWait = !this.served ? LAMBDA_BOOT_ALLOWANCE_MS : input.timeoutMs + LAMBDA_SHUTDOWN_WAIT_MS;
    // Its tail after the answer: at most its own timeout (the daemon's deadline), then a reset's SHUTDOWN.
    this.tailMs = input.timeoutMs + LAMBDA_SHUTDOWN_WAIT_MS;
    const backstop = this.spec.lambda ? LAMBDA_TIMEOUT_GRACE_MS + lambdaWait : 0;
    const timer = setTimeout(() => ac.abort('timeout'), input.timeoutMs + backstop);
    const onCancel = () => ac.abort('cancelled');
    // The caller may have gone while the container was being unfrozen.
    if (input.signal.aborted) onCancel();
    else input.signal.addEventListener('abort', onCancel, { once: true });
    const onExit = () => ac.abort('exited');
    this.exitListeners.add(onExit);
    const finish = (d: Omit<CallDone, 'log' | 'stats'>): CallDone => ({ ...d, log: call.log, stats: call.stats });
    const fail = (failure: AgentError, status: CallDone['status'] = 'error'): CallDone =>
      finish({ status, error: failure.message, failure, reusable: false });
    const headers = toContainerHeaders(input.headers, {
      callId: input.callId,
      deadline: deadlineFrom(Date.now(), input.timeoutMs),
      ...(input.gateway && { gateway: input.gateway }),
      // Only a Lambda daemon is told: Fn passes no caller address to http-stream fns.
      ...(this.spec.lambda && input.sourceIp !== undefined && { sourceIp: input.sourceIp }),
      ...(this.spec.lambda && input.qualifier !== undefined && { qualifier: input.qualifier }),
      ...(this.spec.lambda && { lambda: true }),
    }, input.body.length);
    try {
      const { status, functionError, errorDoc, platformLog, streamError, busyAfter, reportLate } = await relayCall(this.client, {
        path: '/call',
        method: 'POST',
        headers,
        body: input.body,
      }, res, {
        maxBytes: this.deps.maxResponseBytes,
        maxStreamedBytes: input.buffered ? this.deps.maxResponseBytes : streamedBound(this.deps.maxResponseBytes, this.deps.maxStreamedResponseBytes),
        gateway: input.gateway !== undefined, ...(input.gateway?.method === 'HEAD' && { head: true }), signal: ac.signal, ...(input.streamed && { passThrough: true }),
        lambda: this.spec.lambda !== undefined, sniff: !input.buffered && !input.streamed, meter: this.meter,
        onLogFrom: (offset) => this.logs.located(offset), timeoutMs: input.timeoutMs,
      });
      if (platformLog) call.log.write(platformLog);
      if (reportLate) call.log.reportLate = true;
      if (busyAfter) this.busyUntil = this.untilIdle();
      if (streamError !== undefined) {
        // The daemon cuts a stream short at the call's deadline, as it answers 504 otherwise.
        const timedOut = streamError === STREAM_TIMEOUT_TYPE;
        // A reset follows a deadline, unknown when the stream's head (and its busy mark) went out.
        if (timedOut) this.busyUntil ??= this.untilIdle();
        return finish({ status: timedOut ? 'timeout' : 'error', reusable: true, error: `function ${timedOut ? 'timed out' : 'failed'} mid-stream: ${recordedType(streamError)}` });
      }
      if (status === 200) return finish({ status: 'success', reusable: true });
      return finish({
        status: status === 504 ? 'timeout' : 'error', reusable: true,
        error: functionErrorText(status, functionError, errorDoc),
      });
    } catch (err) {
      const reason: unknown = ac.signal.reason;
      if (reason === 'timeout') return fail(new AgentError('timeout', 'Timed out'), 'timeout');
      if (reason === 'cancelled') return fail(new AgentError('cancelled', 'client disconnected'), 'cancelled');
      // The function refused the request's head before running it: its container stays in use.
      // (The relay names the 431 it read; a 431 lost to a broken pipe is found below.)
      if (err instanceof AgentError && err.kind === 'request-head-too-large') return { ...fail(err), reusable: true };
      if (err instanceof AgentError) return fail(err);
      // No descriptor for the connection: the server's shortage, not the function's; the
      // container never saw the call and stays.
      const short = outOfDescriptors(err) ? asHostShortage(err, 'connecting to the container') : undefined;
      if (short) return { ...fail(short), reusable: true };
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
        return { ...fail(new AgentError('function-failed', `error receiving function response: ${(err as Error).message}`, { cause: err })), unsent: true };
      }
      // The connection broke: the container died (out of memory?) or dropped it.
      let waited: NodeJS.Timeout | undefined;
      const exit = await Promise.race([this.exited, new Promise<undefined>((r) => (waited = setTimeout(r, 1000, undefined)))]);
      clearTimeout(waited);
      // Still running, after a head larger than a function's HTTP server may take: the server
      // refused it and closed the connection while the head was still being written (its 431
      // lost to the broken pipe). The call never ran; the container stays.
      if (!exit && brokenWhileSending(err) && headBytes(headers) > FDK_HEAD_BYTES) {
        return { ...fail(new AgentError('request-head-too-large', REQUEST_HEAD_TOO_LARGE, { cause: err })), reusable: true };
      }
      // It exited on its own (code 0) as this request was written on its kept-alive connection, and
      // answered nothing: a function that stops after each answer. The request was not read (the
      // write met a closed connection, EPIPE, or the connection was closed with it unread, which
      // the kernel answers with a reset), so another container takes the call. (A function that
      // read its request and then died is seen closing the connection, and its call fails.)
      if (exit?.exitCode === 0 && brokenWhileSending(err) && !this.meter.answerBegun) {
        return { ...fail(new AgentError('function-failed', 'error receiving function response: container exited with code 0', { cause: err })), unsent: true };
      }
      const why = exit?.oomKilled ? 'out of memory' : exit ? `container exited with code ${exit.exitCode}` : (err as Error).message;
      return fail(new AgentError('function-failed', `error receiving function response: ${why}`, { cause: err }));
    } finally {
      clearTimeout(timer);
      input.signal.removeEventListener('abort', onCancel);
      this.exitListeners.delete(onExit);
      this.cookie.setStatsEnabled(false);
      this.current = undefined;
      this.served = true;
      this.logs.end();
    }
  }

  /** One request to the Lambda daemon; resolves either way. */
  private async daemonRequest(client: Client, meter: HeadMeter, method: 'GET' | 'POST', path: string): Promise<void> {
    try {
      // One request at a time on its connection, the last one's answer read whole: this is the next head.
      meter.arm();
      const r = await client.request({ method, path });
      await r.body.dump();
    } catch {
      /* the container is gone or going: nothing to wait for */
    }
  }

  /** Lambda retirement: SHUTDOWN to the extensions (spindown), bounded, before the kill. */
  private async shutdownDaemon(): Promise<void> {
    if (this.freezing) {
      await this.freezing.catch(() => {});
      this.freezing = undefined;
      await this.cookie.unfreeze().catch(() => {});
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.daemonRequest(this.client, this.meter, 'POST', `${SHUTDOWN_PATH}?${SHUTDOWN_REASON_PARAM}=spindown`),
      this.exited,
      new Promise<void>((r) => (timer = setTimeout(r, LAMBDA_SHUTDOWN_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  /**
   * Retires the container and removes it with its socket directory; rejects when the engine did
   * not remove it, and a later close() asks the engine again (the rest is done once).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'closed';
      clearTimeout(this.freezeTimer);
      clearTimeout(this.idleTimer);
      if (this.spec.lambda) await this.shutdownDaemon();
      await this.client.destroy().catch(() => {});
      await this.idleClient?.destroy().catch(() => {});
      await this.cookie.close().catch(() => {});
      await this.dir.remove().catch(() => {});
      // The container's last words (output up to its removal) belong to its last call.
      this.logs.close();
    })();
    // The cookie keeps a removal done, and tries a failed one again.
    return this.closing.then(() => this.cookie.close());
  }
}

/**
 * The connection broke while the request was still being written (the peer closed it under us:
 * EPIPE, or a reset), not after: a server that refused the head. One that closed after taking
 * the request ('other side closed') may have run the call.
 */
function brokenWhileSending(err: unknown): boolean {
  const codes = [(err as NodeJS.ErrnoException).code, ((err as { cause?: NodeJS.ErrnoException }).cause)?.code];
  return codes.some((c) => c === 'EPIPE' || c === 'ECONNRESET');
}
