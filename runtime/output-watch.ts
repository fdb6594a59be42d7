// How far the runtime's and the extensions' output has been read, and the waits that put each
// line in the right call's log: a Node process's stdout to a pipe is asynchronous, so what it
// printed for a call may still be on its way after its answer, or sit in its own buffer until
// it gets the CPU. The sandbox counts every line here and asks before it answers, starts an
// invocation, lets the container freeze, or shuts it down.
import type { ContainerLog } from './container-log.js';
import { deferred, delay, within } from './deferred.js';
import type { ProcessKind } from './processes.js';

/**
 * How long an answer (and the next invocation's start) may wait for the runtime's output to be
 * read (see read()): short, as a function that prints all the time waits it every call.
 */
export const OUTPUT_SETTLE_MS = 250;
/** How long output that was still coming must have stopped before it counts as all read. */
const OUTPUT_QUIET_MS = 20;
/**
 * The same with the extensions' output: an extension back in `next` flushes what it queued only
 * as it gets the CPU, and pauses of 20-50 ms were seen on a loaded 2-core machine mid-backlog.
 */
const EXTENSION_QUIET_MS = 50;
/**
 * What the runtime printed in an invocation past which some may still wait in its own buffer (a
 * Linux pipe holds 64 KiB, but the daemon may have read only part of what went through it when
 * the answer comes: AWS's Node client, whose post blocks its event loop, was seen with 30-50 KB
 * read and the rest still in the client).
 */
const RUNTIME_QUEUED_BYTES = 16 * 1024;
/**
 * What the extensions printed since an invocation began past which some may still be queued in
 * them (a Node extension's stdout is asynchronous): the next invocation waits for their quiet.
 */
const EXTENSION_QUEUED_BYTES = 4096;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface OutputWatchDeps {
  /** The container's log (the daemon's stdout). */
  out: ContainerLog;
  /** The log backed up (true) or drained (false): pause or resume reading every process's output. */
  held(on: boolean): void;
  /** Passes on the lines the processes began and did not end. */
  flushAll(): void;
}

export class OutputWatch {
  /** The runtime's output lines and bytes passed on so far. */
  private runtimeLines = 0;
  private runtimeBytes = 0;
  /** When the runtime's last line was passed on, and when it last came back to `next` (epoch ms). */
  private runtimeOutputAt = 0;
  private runtimeReadyAt = 0;
  /**
   * The last invocation printed past a pipe's capacity, or its log backed up: some of its output
   * may still sit in the runtime's own buffer (Node's stdout to a pipe is asynchronous).
   */
  private mayBeQueued = false;
  /** The runtime's lines when the last answer went out. */
  private runtimeLinesAnswered = 0;
  /**
   * The extensions' output lines and bytes passed on so far, when their last line was, and when
   * an extension last came back to `next` (epoch ms): a Node extension's stdout is asynchronous
   * too, so what it printed for a call may still be on its way when it is back in `next`.
   */
  private extensionLines = 0;
  private extensionBytes = 0;
  private extensionOutputAt = 0;
  private agentsReadyAt = 0;
  /** The extensions' lines and bytes when the current (or last) invocation began. */
  private extensionLinesFrom = 0;
  private extensionBytesFrom = 0;
  /** Whether the processes' output is paused until the daemon's stdout drains. */
  private outputHeld = false;
  /** Whether it was paused since the current (or last) invocation began. */
  private heldSinceInvocation = false;

  constructor(private readonly deps: OutputWatchDeps) {}

  /** A line passed on (or filtered out) from a process. */
  counted(kind: ProcessKind, text: string): void {
    if (kind === 'runtime') {
      this.runtimeLines++;
      this.runtimeBytes += Buffer.byteLength(text) + 1;
      this.runtimeOutputAt = Date.now();
    } else {
      this.extensionLines++;
      this.extensionBytes += Buffer.byteLength(text) + 1;
      this.extensionOutputAt = Date.now();
    }
  }

  /** The runtime came back to `next`. */
  runtimeReady(): void {
    this.runtimeReadyAt = Date.now();
  }

  /** An extension came back to `next`. */
  agentReady(): void {
    this.agentsReadyAt = Date.now();
  }

  /** Whether reading is paused until the log drains (a process started now starts paused). */
  get held(): boolean {
    return this.outputHeld;
  }

  /**
   * The container's log is backed up: stop reading the processes' output until it drains, so
   * their writes wait rather than the daemon holding all of it in memory (a chatty function was
   * killed for its memory, the daemon's buffer counting against it).
   */
  hold(): void {
    if (this.outputHeld) return;
    this.outputHeld = true;
    this.heldSinceInvocation = true;
    this.deps.held(true);
    this.deps.out.onceDrained(() => {
      this.outputHeld = false;
      this.deps.held(false);
    });
  }

  /**
   * Before an invocation: output still coming from the last one (what its runtime printed after
   * the answer, or a backlog the answer did not wait out, and what its extensions printed for
   * it, which may still be on its way when they are back in `next`) is the last one's: read it
   * first. Bounded; resolves with the milliseconds waited, which are not the call's time.
   */
  async settleBefore(): Promise<number> {
    // The extensions' only while one came back to `next` lately: one parked there for longer has
    // had the CPU to flush what it queued for the last call, and what it prints now is its own
    // (a steady logger's output never stops: waited for, it held every call for the whole bound).
    const extensionsLate = Date.now() - this.agentsReadyAt < OUTPUT_SETTLE_MS;
    const extensionsPrinted = extensionsLate && this.extensionLines !== this.extensionLinesFrom;
    // Some may still be queued in the extension itself, once it printed more than a few lines:
    // what was read so far says little (the daemon may not have had the CPU, or its log was
    // backed up and reading paused), and a quiet turn proves nothing then.
    const extensionsQueued = extensionsLate && (this.extensionBytes - this.extensionBytesFrom >= EXTENSION_QUEUED_BYTES || this.heldSinceInvocation);
    const runtimePending = this.runtimeLines !== this.runtimeLinesAnswered || this.outputHeld || this.mayBeQueued;
    let settled = true;
    let waited = 0;
    if (runtimePending || extensionsPrinted) {
      const from = Date.now();
      // For the extensions alone, bounded from their return to `next`.
      const until = runtimePending ? from + OUTPUT_SETTLE_MS : this.agentsReadyAt + OUTPUT_SETTLE_MS;
      settled = await this.read(until, this.mayBeQueued || extensionsQueued, extensionsLate);
      waited = Date.now() - from;
    }
    // A line the processes began and did not end is the last invocation's, once their output has
    // stopped. (Not cut at its answer, nor while output still flows: a line on its way would be
    // split in two calls' logs; it goes whole to the next call's instead.)
    if (settled) this.deps.flushAll();
    this.heldSinceInvocation = this.outputHeld;
    this.extensionLinesFrom = this.extensionLines;
    this.extensionBytesFrom = this.extensionBytes;
    this.mayBeQueued = false;
    return waited;
  }

  /** Where an invocation's runtime output begins. */
  mark(): { runtimeLinesFrom: number; runtimeBytesFrom: number } {
    return { runtimeLinesFrom: this.runtimeLines, runtimeBytesFrom: this.runtimeBytes };
  }

  /** Whether the runtime printed nothing since `runtimeLinesFrom` and reading is not paused. */
  quietSince(runtimeLinesFrom: number): boolean {
    return this.runtimeLines === runtimeLinesFrom && !this.outputHeld;
  }

  /** The answer went out with the runtime's output so far. */
  answered(): void {
    this.runtimeLinesAnswered = this.runtimeLines;
  }

  /**
   * An invocation is over. Decided now: what it printed before its answer, after it, or while its
   * response streamed all counts (the next invocation waits for it, if it may be queued).
   */
  ended(from: { runtimeBytesFrom: number; logHeld?: boolean }, settled = false): void {
    this.mayBeQueued = !settled && this.mayHoldOutput(from);
  }

  /**
   * Whether the runtime printed enough since `runtimeBytesFrom` (or the log backed up meanwhile)
   * that some may still be queued in its own buffer (a Node runtime's stdout to a pipe is
   * asynchronous): a quiet turn proves nothing then.
   */
  mayHoldOutput(from: { runtimeBytesFrom: number; logHeld?: boolean }): boolean {
    return this.runtimeBytes - from.runtimeBytesFrom >= RUNTIME_QUEUED_BYTES || from.logHeld === true;
  }

  /**
   * Resolves once the runtime's output (with `extensions`, theirs too) has been read to the end,
   * as far as the daemon can tell: the log not backed up, and a whole turn of the event loop (a
   * poll phase in between) that brought no new line, or OUTPUT_QUIET_MS of quiet once lines were
   * seen still coming. Bounded by `until` (epoch ms): false when output was still coming then.
   */
  async read(until: number, quietNeeded = false, extensions = false): Promise<boolean> {
    // Once output was seen still coming, a quiet turn is not enough: a Node runtime's stdout to
    // the daemon is asynchronous, so megabytes may still sit in the runtime's own buffer, flushed
    // as it gets the CPU. Then the output must have stopped for OUTPUT_QUIET_MS.
    // quietNeeded: output may be queued in the runtime, flushed as it gets the CPU: a quiet turn
    // proves nothing. Quiet since its last line and since it came back to `next` does: a runtime
    // kept off the CPU flushes its stdout as it sends that `next`, a runtime parked there long
    // since has had the CPU to flush it.
    // An extension is judged as the runtime is: quiet since its last line and since it came back to `next`.
    const lines = () => this.runtimeLines + (extensions ? this.extensionLines : 0);
    let flowing = quietNeeded;
    let quietSince = !quietNeeded ? 0 : extensions
      ? Math.max(this.runtimeOutputAt, this.runtimeReadyAt, this.extensionOutputAt, this.agentsReadyAt)
      : Math.max(this.runtimeOutputAt, this.runtimeReadyAt);
    // Compared across waits, so that lines that came during a pause count too.
    let last = lines();
    for (;;) {
      if (this.outputHeld) {
        const drained = deferred<void>();
        const cancel = this.deps.out.onceDrained(() => drained.resolve());
        await within(drained.promise, until - Date.now());
        cancel();
        // Reading was paused: the time held is not quiet, and the output resumes only from now.
        flowing = true;
        quietSince = Date.now();
      }
      await nextTurn();
      await nextTurn();
      const now = lines();
      if (now !== last || this.outputHeld) {
        last = now;
        flowing = true;
        quietSince = Date.now();
      } else if (!flowing || Date.now() - quietSince >= (extensions ? EXTENSION_QUIET_MS : OUTPUT_QUIET_MS)) {
        return true;
      } else {
        // Waiting out the quiet time without spinning the event loop.
        const pause = delay(1);
        await pause.promise;
      }
      if (Date.now() >= until) return false;
    }
  }
}
