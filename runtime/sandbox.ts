// The execution environment's lifecycle: init (extensions, then the runtime), invokes one
// at a time, reset after a failure or timeout, and shutdown. Parties park in `next`; the
// sandbox releases them. Every wait is `until(condition)`, re-checked on each change, and
// ends early on the generation's first fatal error (a crash, an init error) or a deadline.
import { performance } from 'node:perf_hooks';
import type { DaemonConfig } from './config.js';
import type { ContainerLog } from './container-log.js';
import { deferred, timerDelay, within, delay, type Deferred } from './deferred.js';
import { bootstrapCommand, extensionFiles } from './discovery.js';
import { extensionEnv, runtimeEnv } from './environment.js';
import { invalidRequestId, invalidStateTransition, LambdaApiError } from './errors.js';
import { headerText } from './http-util.js';
import type { PeakMemory } from './memory.js';
import { type Exit, type Managed, type ProcessKind, type ProcessSpec, SpawnError, start } from './processes.js';
import { DELIVERY_MS, type Telemetry } from './telemetry.js';
import { agentFailed, deliverEvent, MAX_EXTENSIONS, parkAgent, registerAgent, type EventType, type ExtensionAgent } from './extension-agent.js';
import { functionArn, newId } from './trace.js';
import { applicationLineShown, jsonRecord, systemRecord, systemRecordShown, type ApplicationLogLevel, type InvokeStatus } from './log-format.js';
import {
  fatalOutcome, resetReason, statusOf, timeoutOutcome,
  type Fatal, type Invocation, type InvokeEvent, type Outcome, type Reply, type ShutdownReason,
} from './invocation.js';
import { endLines, ms2, reportEvent, reportLines, runtimeDoneEvent, runtimeDoneLine, settledStatus, startLine, type Settled } from './platform-report.js';
import { OUTPUT_SETTLE_MS, OutputWatch } from './output-watch.js';
import { shutdownShares } from './shutdown-shares.js';
import { SHUTDOWN_OUTPUT_MS } from './wire.js';

export type RuntimeState = 'Started' | 'Ready' | 'Running' | 'ResponseSent' | 'InitError';

export interface SandboxDeps {
  cfg: DaemonConfig;
  telemetry: Telemetry;
  /** The container's peak memory, for REPORT's Max Memory Used. */
  peakMemory: PeakMemory;
  /** The container's log (stdout): every line passed on, and the platform lines. */
  out: ContainerLog;
}

const exitMessage = (who: string, e: Exit): string =>
  e.signal
    ? `${who} exited with error: signal: ${e.signal === 'SIGKILL' ? 'killed' : e.signal.toLowerCase()}`
    : e.code === 0
      ? `${who} exited without providing a reason`
      : `${who} exited with error: exit status ${e.code}`;

export class Sandbox {
  runtimeState: RuntimeState = 'Started';
  private runtimeParked: Deferred<InvokeEvent> | undefined;
  private runtimeProc: Managed | undefined;
  readonly agents = new Map<string, ExtensionAgent>();
  /** Extensions launched from /opt/extensions in this generation, by name. */
  private readonly launched = new Map<string, Managed>();
  private readonly procs = new Set<Managed>();
  registrationOpen = true;
  private initialized = false;
  private fatal: Fatal | undefined;
  private current: Invocation | undefined;
  private shuttingDown = false;
  private closed = false;
  private initDurationMs: number | undefined;
  /** Invokes and resets run one after another: each waits for the previous to be idle. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Jobs enqueued and not yet settled. */
  private queued = 0;
  private readonly waiters = new Set<{ check(): void }>();
  private readonly cfg: DaemonConfig;
  private readonly arn: string;
  /** LogFormat JSON: platform lines are JSON records. Text (false) keeps every path as it was. */
  private readonly json: boolean;
  /** The application level the function's output is filtered at (JSON format only). */
  private readonly appLevel: ApplicationLogLevel | undefined;
  /** How far the processes' output has been read. */
  private readonly watch: OutputWatch;

  constructor(private readonly deps: SandboxDeps) {
    this.cfg = deps.cfg;
    this.watch = new OutputWatch({
      out: deps.out,
      held: (on) => {
        if (on && this.current) this.current.logHeld = true;
        for (const m of this.procs) {
          if (on) m.pauseOutput();
          else m.resumeOutput();
        }
      },
      flushAll: () => {
        for (const m of this.procs) m.flushOutput();
      },
    });
    this.arn = functionArn(this.cfg.region, this.cfg.functionName);
    this.json = this.cfg.log.format === 'JSON';
    this.appLevel = this.json ? this.cfg.log.applicationLevel : undefined;
  }

  get invokedFunctionArn(): string {
    return this.arn;
  }

  // ---- waiting -------------------------------------------------------------------------

  /** Re-checks every wait (a wait that is over leaves the set as it is checked). */
  private notify(): void {
    for (const w of this.waiters) w.check();
  }

  /**
   * Waits for `pred`, a fatal error of this generation, or the deadline (epoch ms). The
   * condition is checked at once and on each notify(): one promise and one timer per wait,
   * since two waits sit on every invoke's path.
   */
  private until(pred: () => boolean, deadlineMs: number): Promise<'ok' | 'timeout' | Fatal> {
    if (this.fatal) return Promise.resolve(this.fatal);
    if (pred()) return Promise.resolve('ok');
    return new Promise((resolve) => {
      const over = (r: 'ok' | 'timeout' | Fatal) => {
        this.waiters.delete(wait);
        clearTimeout(timer);
        resolve(r);
      };
      const wait = {
        check: () => {
          if (this.fatal) over(this.fatal);
          else if (pred()) over('ok');
        },
      };
      const timer = Number.isFinite(deadlineMs)
        ? setTimeout(() => over(this.fatal ?? (pred() ? 'ok' : 'timeout')), timerDelay(deadlineMs - Date.now()))
        : undefined;
      this.waiters.add(wait);
    });
  }

  private setFatal(f: Fatal): void {
    if (this.fatal || this.shuttingDown) return;
    this.fatal = f;
    const line = `Fatal error: ${f.failure.errorType}: ${f.failure.errorMessage}`;
    if (!this.json) this.deps.out.write(`${line}\n`);
    // The Logs API's fault record: a string record, as that API has it.
    else if (systemRecordShown('platform.fault', this.cfg.log.systemLevel)) this.deps.out.write(`${systemRecord(new Date(), 'platform.fault', line)}\n`);
    this.notify();
  }

  // ---- processes -----------------------------------------------------------------------

  private async spawn(spec: ProcessSpec): Promise<Managed> {
    const m = await start(spec, {
      line: (kind, name, text) => this.output(kind, name, text),
      exited: (e) => this.onExit(m, e),
    });
    this.procs.add(m);
    // Started while the log is backed up (a re-init after a reset, say): held with the others.
    if (this.watch.held) m.pauseOutput();
    return m;
  }

  /**
   * The current invocation's START line, written just before the first output of the
   * invocation or together with END: one write per call instead of three when the function
   * prints nothing (each line crosses the container engine to reach the call's log).
   */
  private pendingStart = '';

  private output(kind: ProcessKind, _name: string, text: string): void {
    this.watch.counted(kind, text);
    // The service filters the function's JSON log lines by their `level` (JSON format only).
    if (kind === 'runtime' && this.appLevel !== undefined && !applicationLineShown(text, this.appLevel)) return;
    const start = this.pendingStart;
    this.pendingStart = '';
    if (!this.deps.out.write(`${start}${text}\n`)) this.watch.hold();
    const tel = this.deps.telemetry;
    if (!tel.listening) return;
    // In the JSON log format a function's JSON line is its record as an object, as the service
    // sends it (consumers read its level and timestamp); any other line is a string.
    if (kind === 'runtime') tel.emit('function', this.json ? jsonRecord(text) : text);
    // The line as the extension wrote it, as in its log (the service adds no name to the record).
    else tel.emit('extension', text);
  }

  private onExit(m: Managed, e: Exit): void {
    // What it started goes with it (its process group), as the service's reset takes every
    // process: left, it would outlive the sandbox's re-init and pile up, crash after crash.
    m.signal('SIGKILL');
    if (!this.procs.delete(m) || this.shuttingDown) {
      this.notify();
      return;
    }
    if (e.kind === 'runtime') {
      // After /init/error the runtime is expected to exit: the init error stands.
      this.setFatal({ failure: { errorType: 'Runtime.ExitError', errorMessage: exitMessage('Runtime', e) }, status: 'error' });
    } else {
      this.setFatal({ failure: { errorType: 'Extension.Crash', errorMessage: exitMessage(`Extension ${e.name}`, e) }, status: 'error' });
    }
    // Nobody waiting (the sandbox is idle): reset now, so the next call starts clean.
    if (!this.current) this.enqueue(() => this.reset('failure'));
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    // With nothing queued the job starts now: a warm invoke's event goes out in this turn
    // instead of one promise hop later.
    const run = this.queued === 0 ? job() : this.chain.then(job, job);
    this.queued++;
    const settled = () => {
      this.queued--;
    };
    this.chain = run.then(settled, settled);
    return run;
  }

  // ---- init ----------------------------------------------------------------------------

  /**
   * Starts extensions, waits for them to register, starts the bootstrap, waits for every
   * party's `next`; all by `limit` (epoch ms): the boot init's own bound, or the invoke's deadline.
   */
  async init(phase: 'init' | 'invoke', limit: number): Promise<Fatal | undefined> {
    const t0 = Date.now();
    const p0 = performance.now();
    const ms = () => ms2(performance.now() - p0);
    const tel = this.deps.telemetry;
    tel.emit('platform.initStart', {
      // No runtimeVersionArn: Kiln's runtime has no ARN to give (the field is optional).
      initializationType: 'on-demand', phase, runtimeVersion: 'kiln',
      functionName: this.cfg.functionName, functionVersion: this.cfg.functionVersion,
      instanceId: newId(), instanceMaxMemory: this.cfg.memoryMb * 1024 * 1024,
    });
    // initRuntimeDone marks the runtime's own init (its first `next`); initReport the whole phase.
    let runtimeDone = false;
    const fail = (f: Fatal): Fatal => {
      this.setFatal(f);
      const fatal = this.fatal ?? f;
      if (!runtimeDone) tel.emit('platform.initRuntimeDone', { initializationType: 'on-demand', phase, status: fatal.status, errorType: fatal.failure.errorType });
      tel.emit('platform.initReport', { initializationType: 'on-demand', phase, status: fatal.status, errorType: fatal.failure.errorType, metrics: { durationMs: ms() } });
      return fatal;
    };
    const timedOut = (what: string): Fatal => ({
      // An init begun at or past its deadline (its call waited that long) had no time at all.
      failure: { errorType: 'Sandbox.Timedout', errorMessage: `${what} did not finish within ${Math.max(0, limit - t0)} ms` }, status: 'timeout',
    });

    const files = extensionFiles(this.cfg.extensionsDir);
    // As the service: at most MAX_EXTENSIONS are launched, in name order, and the first file past
    // them fails the init. (Left to registration, whichever registered last got a 403 and exited,
    // and every call after failed as that extension's crash, re-initialising each time.)
    if (files.length > MAX_EXTENSIONS) {
      const errorMessage = `${files[MAX_EXTENSIONS]}: TooManyExtensions: at most ${MAX_EXTENSIONS} extensions can run; ${this.cfg.extensionsDir} holds ${files.length}`;
      return fail({ failure: { errorType: 'Extension.LaunchError', errorMessage }, status: 'error' });
    }
    const env = extensionEnv(this.cfg);
    for (const name of files) {
      try {
        const m = await this.spawn({ name, kind: 'extension', command: `${this.cfg.extensionsDir}/${name}`, args: [], env, cwd: '/' });
        this.launched.set(name, m);
      } catch (err) {
        const why = err instanceof SpawnError && err.code === 'EACCES' ? 'PermissionDenied' : 'UnknownError';
        return fail({ failure: { errorType: 'Extension.LaunchError', errorMessage: `${name}: ${why}: ${(err as Error).message}` }, status: 'error' });
      }
    }
    const externalsRegistered = () => [...this.launched.keys()].every((n) => this.byName(n));
    let r = await this.until(externalsRegistered, limit);
    if (r === 'timeout') return fail(timedOut('Extension registration'));
    if (r !== 'ok') return fail(r);

    const boot = bootstrapCommand(this.cfg);
    const bootMissing = (msg: string): Fatal => ({ failure: { errorType: 'Runtime.InvalidEntrypoint', errorMessage: msg }, status: 'error' });
    if (!boot) return fail(bootMissing('no bootstrap: none of /var/task/bootstrap, /opt/bootstrap, /var/runtime/bootstrap exists and the image has no command'));
    try {
      this.runtimeProc = await this.spawn({ name: 'runtime', kind: 'runtime', command: boot.command, args: boot.args, env: runtimeEnv(this.cfg), cwd: boot.cwd });
    } catch (err) {
      return fail(bootMissing(`${boot.command}: ${(err as Error).message}`));
    }
    r = await this.until(() => this.runtimeState !== 'Started', limit);
    if (r === 'timeout') return fail(timedOut('Runtime init'));
    if (r !== 'ok') return fail(r);
    runtimeDone = true;
    tel.emit('platform.initRuntimeDone', { initializationType: 'on-demand', phase, status: 'success' });
    this.registrationOpen = false;
    r = await this.until(() => [...this.agents.values()].every((a) => a.state === 'Ready'), limit);
    if (r === 'timeout') return fail(timedOut('Extension init'));
    if (r !== 'ok') return fail(r);

    tel.closeSubscriptions();
    this.initDurationMs = ms();
    this.initialized = true;
    tel.emit('platform.initReport', { initializationType: 'on-demand', phase, status: 'success', metrics: { durationMs: this.initDurationMs } });
    return undefined;
  }

  // ---- invoke --------------------------------------------------------------------------

  /**
   * Runs one invocation. Resolves with the caller's answer as soon as there is one; the
   * sandbox stays busy (the next invoke waits) until the runtime and every INVOKE-subscribed
   * extension are back in `next`.
   */
  invoke(event: InvokeEvent, reply: Reply): void {
    const arrived = Date.now();
    void this.enqueue(() => {
      // The service starts an invoke's clock when the sandbox takes it: a call that waited here
      // behind the last one's tail (extensions still working, a reset) gets its whole timeout.
      const waited = Date.now() - arrived;
      return this.runInvoke(waited > 0 ? { ...event, deadlineMs: event.deadlineMs + waited } : event, reply);
    });
  }

  private async runInvoke(event: InvokeEvent, reply: Reply): Promise<void> {
    if (this.closed) {
      reply({ kind: 'failure', status: 503, failure: { errorType: 'Sandbox.ShuttingDown', errorMessage: 'the sandbox is shutting down' } });
      return;
    }
    const tel = this.deps.telemetry;
    let initMs: number | undefined;
    if (!this.initialized && this.initPromise) {
      // The boot init (phase init) has its own bound, and the service starts the invoke after
      // it: a call that waited for it gets its whole timeout from now on.
      const waitedFrom = Date.now();
      const bootFatal = await this.initPromise;
      this.initPromise = undefined;
      // One that failed or ran out of time is retried inside this invoke, after a reset.
      if (bootFatal) await this.reset(resetReason(bootFatal));
      event = { ...event, deadlineMs: event.deadlineMs + (Date.now() - waitedFrom) };
    }
    // The last invocation's output is read first; the wait is not this call's time.
    const waited = await this.watch.settleBefore();
    if (waited > 0) event = { ...event, deadlineMs: event.deadlineMs + waited };
    // Its output begins here: a re-init inside this invoke is its own (the boot init, waited for
    // above, is before it).
    const logFrom = this.deps.out.bytes;
    let initFatal: Fatal | undefined;
    if (!this.initialized) {
      // A re-initialising sandbox (after a reset, or a boot init that failed or ran out of
      // time): init runs inside this invoke, bounded by its deadline (the fn's timeout).
      // One that fails is this invoke's answer, with its START, END and REPORT, as RIE does.
      initFatal = await this.init('invoke', event.deadlineMs);
      if (!initFatal) initMs = this.initDurationMs;
    } else if (this.firstInvoke) {
      initMs = this.initDurationMs;
    }
    this.firstInvoke = false;

    const invokeSubscribers = initFatal ? [] : [...this.agents.values()].filter((a) => a.events.has('INVOKE'));
    const inv: Invocation = {
      event, startedAt: Date.now(), t0: performance.now(), outcome: deferred(), reply, answered: deferred(), initMs, logFrom,
      ...this.watch.mark(), subscribers: invokeSubscribers,
    };
    this.current = inv;
    this.pendingStart = startLine(this.cfg, event, inv.startedAt);
    if (tel.listening) tel.emit('platform.start', { requestId: event.requestId, version: this.cfg.functionVersion, tracing: { type: 'X-Amzn-Trace-Id', value: event.traceId } });
    if (!initFatal) {
      this.runtimeState = 'Running';
      this.runtimeParked?.resolve(event);
      this.runtimeParked = undefined;
    }
    for (const a of invokeSubscribers) {
      deliverEvent(a, {
        eventType: 'INVOKE', deadlineMs: event.deadlineMs, requestId: event.requestId,
        invokedFunctionArn: event.invokedFunctionArn, tracing: { type: 'X-Amzn-Trace-Id', value: event.traceId },
      });
    }

    // 1. The answer: a response or error posted, a crash, or the deadline.
    let r = initFatal ?? await this.until(() => inv.outcome.settled, event.deadlineMs);
    let outcome: Outcome;
    let reset: ShutdownReason | undefined;
    if (r === 'ok') {
      outcome = await inv.outcome.promise;
    } else if (r === 'timeout') {
      outcome = timeoutOutcome(this.cfg.timeoutSec);
      reset = 'timeout';
    } else {
      outcome = fatalOutcome(r);
      reset = resetReason(r);
    }
    // The one status of this invocation: the Telemetry API's records and the JSON log lines say the same.
    let status = typeof r === 'object' ? r.status : statusOf(outcome);
    this.answer(inv, outcome, status, reset !== undefined);
    // The bookkeeping below follows the answer out.
    await inv.answered.promise;
    const durationMs = inv.durationMs ?? 0;

    // 2. The runtime's turn ends once its stream has been relayed and it is back in `next`:
    // platform.runtimeDone then, as the service sends it (the deadline still holds).
    const answeredAt = inv.t0 + durationMs;
    if (!reset && outcome.kind === 'stream' && !(await this.streamEnds(outcome, event.deadlineMs))) reset = 'timeout';
    const responseEnd = outcome.kind === 'stream' ? performance.now() : answeredAt;
    // A stream's status is known at its end: cut at the deadline, or ended by the runtime's error.
    if (outcome.kind === 'stream') {
      if (reset === 'timeout') status = 'timeout';
      else if (outcome.relayed.errorType !== undefined) status = 'error';
      await this.streamEnded(inv, outcome, status);
    }
    if (!reset) {
      r = await this.until(() => this.runtimeState === 'Ready', event.deadlineMs);
      if (r === 'timeout') reset = 'timeout';
      else if (r !== 'ok') reset = 'failure';
    }
    const runtimeDoneAt = performance.now();
    if (tel.listening) tel.emit('platform.runtimeDone', runtimeDoneEvent(inv, outcome, settledStatus(status, outcome, reset, this.fatal), reset, { responseEnd, runtimeDoneAt }));

    // 3. Busy until the INVOKE subscribers are parked again.
    if (!reset) {
      r = await this.until(() => invokeSubscribers.every((a) => a.state !== 'Running'), event.deadlineMs);
      if (r === 'timeout') reset = 'timeout';
      else if (r !== 'ok') reset = 'failure';
    }
    // The report says how the whole invocation ended: extensions that overran its deadline make it
    // a timeout, and a death after the answer is that death's error, as runtimeDone says it.
    const done: Settled = reset === 'timeout' ? { status: 'timeout', errorType: undefined } : settledStatus(status, outcome, reset, this.fatal);
    const endedAt = performance.now();
    if (tel.listening) tel.emit('platform.report', reportEvent(this.cfg, inv, done, runtimeDoneAt, endedAt));
    const settled = inv.reportLate !== undefined && await this.reportLate(inv, done, endedAt);
    this.watch.ended(inv, settled);
    this.current = undefined;
    if (reset) await this.reset(reset);
  }

  /**
   * Answers the caller once, with END and REPORT. When the invocation printed nothing, the
   * START/END/REPORT lines travel with the answer (the agent puts them in the call's log),
   * sparing each quiet call a trip through the container engine's output stream; otherwise
   * they follow the function's own lines on stdout, in order. `resetting`: a reset follows the
   * answer (a timeout, a crash, an init that failed).
   */
  private answer(inv: Invocation, outcome: Outcome, status: InvokeStatus, resetting = false): void {
    if (inv.respondedAt !== undefined) return;
    inv.respondedAt = Date.now();
    this.measure(inv);
    // A response stream's END and REPORT wait for its end (streamEnded): its duration, its peak
    // memory and whether it was cut at the deadline are known only then.
    const stream = outcome.kind === 'stream';
    // Extensions still at work on the event: END and REPORT wait for them (reportLate), as the
    // service's do, whose duration and billing count the extensions' time; the runtime's part
    // (the JSON format's platform.runtimeDone) goes now. Likewise after much output, part of which
    // may wait in the runtime until its post is accepted (AWS's Node client posts synchronously,
    // its event loop blocked meanwhile): END must follow it, and the answer need not wait for it.
    if (!stream && !resetting && !this.extensionsLate(inv) && this.watch.mayHoldOutput(inv)) inv.reportLate = 'output';
    // A stream's, as it ends (streamEnded writes what it decided).
    if (stream && !resetting) outcome.relayed.reportLate = () => this.extensionsLate(inv);
    const lines = stream ? '' : inv.reportLate ? runtimeDoneLine(this.cfg, inv, outcome, status) : endLines(this.cfg, inv, outcome, status, inv.respondedAt);
    // Output the function wrote before posting its answer may still sit unread in its pipe, and
    // it must come between START and END: a quiet call waits one turn of the event loop; one that
    // printed, until its output has been read to the end (a chatty function's pipe holds hundreds
    // of KiB, read while the log drains).
    const send = () => {
      this.watch.answered();
      const start = this.pendingStart;
      this.pendingStart = '';
      // Not the runtime's own way back to `next`, which follows its post at once.
      const busyAfter = resetting || inv.subscribers.some((a) => a.state === 'Running');
      const marks = {
        logFrom: inv.logFrom, ...(busyAfter && { busyAfter }), ...(inv.reportLate === 'extensions' && { reportLate: true }), ...(stream && { deadlineMs: inv.event.deadlineMs }),
      };
      if (start && !stream) {
        inv.reply({ ...outcome, log: start + lines, ...marks });
      } else {
        // JSON records may all be filtered out by the system level. A stream's START goes to the
        // log now, ahead of what the function prints while it streams.
        if (start || lines) this.deps.out.write(start + lines);
        inv.reply({ ...outcome, ...marks });
      }
      inv.answered.resolve();
      // respond() leaves the invoke's own wait asleep until now: nothing runs ahead of the answer.
      this.notify();
    };
    if (this.watch.quietSince(inv.runtimeLinesFrom)) setImmediate(send);
    else void this.watch.read(Math.min(inv.event.deadlineMs, Date.now() + OUTPUT_SETTLE_MS)).then(send);
  }

  /** The invocation's duration and peak memory so far, for its END and REPORT. */
  private measure(inv: Invocation): void {
    inv.durationMs = ms2(performance.now() - inv.t0);
    inv.memoryUsedMb = this.deps.peakMemory.read();
  }

  /**
   * A response stream has been relayed, or cut at the deadline: its END and REPORT, after what
   * the function printed while it streamed, as the service logs them once the handler is done.
   */
  private async streamEnded(inv: Invocation, outcome: Outcome, status: InvokeStatus): Promise<void> {
    // Always read on (a quiet turn at least): a line printed just before the stream's end may
    // still be in the pipe, counted nowhere yet.
    await this.watch.read(Math.min(inv.event.deadlineMs, Date.now() + OUTPUT_SETTLE_MS));
    this.measure(inv);
    this.watch.answered();
    if (status !== 'timeout') this.extensionsLate(inv);
    const lines = inv.reportLate ? runtimeDoneLine(this.cfg, inv, outcome, status) : endLines(this.cfg, inv, outcome, status, Date.now());
    if (lines) this.deps.out.write(lines);
  }

  /** Whether END and REPORT wait for INVOKE extensions still at work (then marked so, for good). */
  private extensionsLate(inv: Invocation): boolean {
    if (inv.subscribers.some((a) => a.state === 'Running')) inv.reportLate = 'extensions';
    return inv.reportLate === 'extensions';
  }

  /**
   * END and REPORT held back at the answer (Invocation.reportLate), once the runtime and the
   * extensions are back in `next` or the deadline came (`done`; a timeout, with the service's
   * line saying so). After extensions at work, the duration runs until then (`endedAt`,
   * performance.now(), as platform.report's) and the peak memory is read then. They follow the
   * last lines: the extensions', and what the runtime still held, flushed as it went back to
   * `next`. True when the runtime's output has stopped (read to its end).
   */
  private async reportLate(inv: Invocation, done: Settled, endedAt: number): Promise<boolean> {
    const extensions = inv.reportLate === 'extensions';
    if (extensions) {
      inv.durationMs = ms2(endedAt - inv.t0);
      inv.memoryUsedMb = this.deps.peakMemory.read();
    }
    const settled = await this.watch.read(Date.now() + OUTPUT_SETTLE_MS, this.watch.mayHoldOutput(inv), extensions);
    const lines = reportLines(this.cfg, inv, done, Date.now());
    if (lines) this.deps.out.write(lines);
    return settled;
  }

  /** The boot init, until the first call has taken its result. */
  private initPromise: Promise<Fatal | undefined> | undefined;
  private firstInvoke = true;

  /** Starts the first init at boot, as the service does before the first event arrives. */
  startInit(): void {
    // Bounded by KILN_LAMBDA_INIT_TIMEOUT_MS (the service's 10 s Init phase); the first call
    // retries one that failed or ran out of time.
    this.initPromise = this.init('init', Date.now() + this.cfg.initTimeoutMs);
  }

  /**
   * Waits until a response stream has been relayed; false when the deadline came first and
   * the stream was cut short (a runtime that streams forever must not hold the sandbox).
   */
  private async streamEnds(o: Extract<Outcome, { kind: 'stream' }>, deadlineMs: number): Promise<boolean> {
    const timer = delay(deadlineMs - Date.now());
    const ended = o.done.promise.then(() => true, () => true);
    const r = await Promise.race([ended, timer.promise]);
    timer.clear();
    if (r === true) return true;
    o.cut.resolve(timeoutOutcome(this.cfg.timeoutSec));
    return false;
  }

  // ---- runtime API transitions ---------------------------------------------------------

  /** GET /runtime/invocation/next */
  async runtimeNext(): Promise<InvokeEvent> {
    switch (this.runtimeState) {
      case 'Running': {
        // The service re-serves the current event to a runtime that asks again.
        if (this.current) return this.current.event;
        throw invalidStateTransition('Running', 'Ready');
      }
      case 'InitError':
        throw invalidStateTransition('InitError', 'Ready');
      case 'Ready':
        // A second poll replaces the first (whose connection is most likely gone).
        this.runtimeParked?.reject(new LambdaApiError(409, 'Superseded', 'another next call took over'));
        break;
      default:
        break;
    }
    this.runtimeState = 'Ready';
    this.watch.runtimeReady();
    const parked = deferred<InvokeEvent>();
    this.runtimeParked = parked;
    this.notify();
    return parked.promise;
  }

  private currentFor(requestId: string): Invocation {
    const inv = this.current;
    if (!inv || inv.event.requestId !== requestId) throw invalidRequestId();
    if (this.runtimeState !== 'Running' || inv.outcome.settled) {
      throw invalidStateTransition(this.runtimeState, 'InvocationResponse');
    }
    return inv;
  }

  /** POST /runtime/invocation/{id}/response and /error: the caller's answer. */
  respond(requestId: string, outcome: Outcome): void {
    const inv = this.currentFor(requestId);
    this.runtimeState = 'ResponseSent';
    inv.outcome.resolve(outcome);
    // The answer's turn notifies (only the invoke itself waits on this change).
    this.answer(inv, outcome, statusOf(outcome));
  }

  /** Checks a response may be posted, before its body is read. */
  checkRespond(requestId: string): void {
    this.currentFor(requestId).responseStartAt ??= performance.now();
  }

  /** POST /runtime/init/error */
  initError(posted: { errorType: string; contentType: string; body: Buffer }): void {
    if (this.runtimeState !== 'Started') {
      throw invalidStateTransition(this.runtimeState, 'InitError');
    }
    this.runtimeState = 'InitError';
    this.setFatal({ failure: { errorType: headerText(posted.errorType), errorMessage: posted.body.toString('utf8') }, posted, status: 'error' });
  }

  // ---- extensions API transitions ------------------------------------------------------

  byName(name: string): ExtensionAgent | undefined {
    for (const a of this.agents.values()) if (a.name === name) return a;
    return undefined;
  }

  register(name: string, events: EventType[]): ExtensionAgent {
    const agent = registerAgent(name, events, {
      external: this.launched.has(name), open: this.registrationOpen,
      alreadyRegistered: this.byName(name) !== undefined, registeredCount: this.agents.size,
    });
    this.agents.set(agent.id, agent);
    this.deps.telemetry.emit('platform.extension', { name, state: 'Ready', events: [...agent.events] });
    this.notify();
    return agent;
  }

  /** GET /extension/event/next: parks the agent until its next event. */
  agentNext(agent: ExtensionAgent): Promise<object> {
    const next = parkAgent(agent);
    this.watch.agentReady();
    this.notify();
    return next;
  }

  agentError(agent: ExtensionAgent, which: 'init' | 'exit', errorType: string): void {
    const type = agentFailed(agent, which);
    this.setFatal({ failure: { errorType: type, errorMessage: `Extension ${agent.name} reported ${errorType}` }, status: 'error' });
  }

  // ---- idle, reset, shutdown -----------------------------------------------------------

  /**
   * Resolves once the sandbox would take an invoke at once: no invocation or reset running, every
   * party back in `next`. Unlike idle(), not the output's settling or Telemetry deliveries, which
   * hold a freeze but not the next invoke.
   */
  free(): Promise<void> {
    // The boot init is not on the chain: wait for it too (it never rejects).
    return Promise.all([this.chain, this.initPromise]).then(() => undefined);
  }

  /** Resolves once no invocation is running and every party is parked (the container may be frozen). */
  idle(): Promise<void> {
    // Free, then the runtime's backlog is read before the agent freezes the container: frozen, it
    // would reach the log only when the next call thaws it, or die with the runtime at retirement.
    // Not the extensions' output: one that prints all the time must not hold the freeze.
    // Nor a Telemetry delivery in flight: frozen under it, its bound ran on while the subscriber
    // could not answer, and the batch it had taken was sent again (bounded by the delivery's own).
    return this.free()
      .then(() => this.watch.read(Date.now() + IDLE_SETTLE_MS))
      .then(() => this.deps.telemetry.deliveriesSettled(Date.now() + DELIVERY_MS));
  }

  /**
   * The shutdown sequence: SIGTERM the runtime (SIGKILL after its share of the budget),
   * SHUTDOWN to the extensions that asked for it, SIGKILL whatever is left at the deadline.
   */
  private async shutdownParties(reason: ShutdownReason): Promise<void> {
    // A retirement: the runtime is parked, and what it printed may still be on its way (a Node
    // runtime's stdout is asynchronous, and a frozen container flushed nothing). Read it before
    // the runtime is killed with it; bounded, so the whole shutdown stays within the agent's wait.
    if (reason === 'spindown') await this.watch.read(Date.now() + SHUTDOWN_OUTPUT_MS);
    this.shuttingDown = true;
    this.registrationOpen = false;
    const tel = this.deps.telemetry;
    const { budgetMs, runtimeMs } = shutdownShares([...this.agents.values()], this.cfg.shutdownMs);
    const deadline = Date.now() + budgetMs;
    const procs = [...this.procs];
    this.procs.clear();
    const running = (m: Managed | undefined) => m !== undefined && m.running;
    const waitExit = (ms: number, ms2: Managed[]) => within(Promise.all(ms2.map((m) => m.exited)), ms);
    const rt = this.runtimeProc;
    if (rt && running(rt)) {
      if (runtimeMs === 0) rt.signal('SIGKILL');
      else {
        rt.signal('SIGTERM');
        await waitExit(runtimeMs, [rt]);
        rt.signal('SIGKILL');
      }
    }
    // What is queued for the subscribers (the runtime's last lines, a failed call's records) goes
    // out before SHUTDOWN, within half of what is left of the budget: an extension that exits
    // promptly on SHUTDOWN, or one not subscribed to it and killed now, would never get it.
    await tel.drain(Date.now() + (deadline - Date.now()) / 2);
    const shutdownEvent = { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs: deadline };
    const externals: Managed[] = [];
    for (const [name, m] of this.launched) {
      const agent = this.byName(name);
      if (agent?.events.has('SHUTDOWN') && running(m)) {
        deliverEvent(agent, shutdownEvent);
        externals.push(m);
      } else m.signal('SIGKILL');
    }
    // The rest goes on while the extensions handle SHUTDOWN, until the deadline.
    void tel.drain(deadline);
    await waitExit(deadline - Date.now(), externals);
    // What never went out is said, not silently discarded with the sandbox.
    for (const u of tel.undelivered()) {
      process.stderr.write(`kiln runtime daemon: ${u.records} Telemetry API records (${u.bytes} bytes) for extension ${u.extension} were not delivered before the shutdown\n`);
    }
    for (const m of procs) m.signal('SIGKILL');
    await waitExit(2000, procs);
  }

  /** After a failure or timeout: shut down, then start clean (re-init) on the next call. */
  private async reset(reason: ShutdownReason): Promise<void> {
    await this.shutdownParties(reason);
    for (const a of this.agents.values()) a.parked?.reject(new LambdaApiError(403, 'Extension.Reset', 'the sandbox was reset'));
    this.runtimeParked?.reject(new LambdaApiError(403, 'Sandbox.Reset', 'the sandbox was reset'));
    this.runtimeParked = undefined;
    this.runtimeProc = undefined;
    // The next call runs a fresh init (phase invoke); the boot init's result is spent.
    this.initPromise = undefined;
    this.agents.clear();
    this.launched.clear();
    this.runtimeState = 'Started';
    this.registrationOpen = true;
    this.initialized = false;
    this.fatal = undefined;
    this.shuttingDown = false;
    this.deps.telemetry.reopen();
  }

  /** Retirement: SHUTDOWN to the extensions, then everything is stopped. No invokes after. */
  shutdown(reason: ShutdownReason): Promise<void> {
    this.closed = true;
    return this.enqueue(() => this.shutdownParties(reason));
  }
}

/** How long /.kiln/idle may wait for the runtime's backlog before the freeze (off the call's path). */
const IDLE_SETTLE_MS = 1000;
