// A container's output, shared out among its calls' logs. What arrives while a call runs is that
// call's; what arrives after its answer (a function logging on, a Lambda extension finishing its
// work) is the last call's, and its log is stored again with it. A Lambda container's daemon
// says, with each answer, where that invocation's output begins in its stdout (a byte offset):
// the stream is cut there, so the last invocation's late lines stay its own even when they reach
// Kiln while the next call runs. Until a call's answer brings that offset, its output is held.
// An http-stream container whose FDK prints Fn's log frames says in each stream where a call's
// output begins: from a frame on, that stream's output is the named call's, late or not.
import type { LogBuffer } from './log-buffer.js';
import { FrameScanner } from './log-frames.js';

/** How long late output gathers before the call's log is stored again (the first time). */
export const LATE_LOG_DELAY_MS = 500;
/**
 * Each further store of the same late output waits twice as long, up to this: a container that
 * keeps printing after its answer (unfrozen) would otherwise have its whole log, up to its
 * 1 MiB cap, written again every half second.
 */
export const MAX_LATE_LOG_DELAY_MS = 30_000;
/** Output held for a call whose offset is not known yet, past which it is all that call's. */
export const MAX_HELD_BYTES = 1024 * 1024;
/** The calls kept for output that arrives late: the last one and the running one. */
const KEPT_CALLS = 2;
/**
 * With frames, a few more: back-to-back calls can each be over before their output arrives,
 * and a frame can only name a call still kept.
 */
const KEPT_FRAMED_CALLS = 4;

interface CallSegment {
  callId: string;
  log: LogBuffer;
  /** The stdout offset where its output begins; undefined until its answer says (Lambda). */
  from: number | undefined;
  /** Its log's size (kept, and written) when it was last recorded; undefined while it runs. */
  stored: { bytes: number; written: number } | undefined;
}

export interface CallLogsDeps {
  /** Output before the first call (a failed start's reason). */
  initLog: LogBuffer;
  /** Stores a finished call's log again, with what came after it was recorded. */
  late(callId: string, log: string): void;
  /** Lambda: cut stdout at the offsets the daemon gives; otherwise each call takes what arrives while it runs. */
  byOffset: boolean;
  /** Default LATE_LOG_DELAY_MS. */
  lateDelayMs?: number;
  /** http-stream: the log frame name its FDK prints the call id with (FN_LOGFRAME_NAME), if any. */
  frames?: string;
}

type Stream = 'stdout' | 'stderr';

export class CallLogs {
  /** stdout bytes received so far: the daemon counts the same bytes. */
  private received = 0;
  /** Chunks of output received so far, on either stream: whether output is still coming. */
  arrivals = 0;
  /** The kept calls, oldest first; the newest may be running. */
  private readonly calls: CallSegment[] = [];
  private running: CallSegment | undefined;
  /** Output that came while the running call's offset was unknown; `at` is a stdout offset (none for stderr). */
  private held: { chunk: Buffer; at: number | undefined }[] = [];
  private heldBytes = 0;
  private lateTimer: NodeJS.Timeout | undefined;
  /** Late stores in a row (each waits longer), and when the last one was (performance.now()). */
  private lateStores = 0;
  private lateStoredAt = 0;
  /** Per stream, its frame scanner and the call its last frame named (none: by arrival). */
  private readonly framed: Record<Stream, { scanner: FrameScanner; call: CallSegment | undefined }> | undefined;
  private readonly kept: number;

  constructor(private readonly deps: CallLogsDeps) {
    const name = deps.byOffset ? undefined : deps.frames;
    if (name !== undefined) {
      this.framed = {
        stdout: { scanner: new FrameScanner(name), call: undefined },
        stderr: { scanner: new FrameScanner(name), call: undefined },
      };
    }
    this.kept = this.framed ? KEPT_FRAMED_CALLS : KEPT_CALLS;
  }

  /** A call begins: output from here on is its own (for Lambda, from the offset its answer gives). */
  begin(callId: string, log: LogBuffer): void {
    // What the container printed as it started (a function loading; for Lambda, extensions
    // registering, a runtime's init) heads the first call's log, as Lambda's log stream has it
    // ahead of the first START; else it would be stored nowhere. (Calls are kept from the first
    // one on: none yet means this is the first.)
    if (this.calls.length === 0 && this.deps.initLog.written > 0) log.write(Buffer.from(this.deps.initLog.withEnd()));
    // The last calls' late output is stored now, and the next waits start again from the first:
    // a long wait armed by them must not hold this call's.
    if (this.lateTimer !== undefined) {
      clearTimeout(this.lateTimer);
      this.lateTimer = undefined;
      for (const c of this.calls) this.store(c);
    }
    this.lateStores = 0;
    const call: CallSegment = { callId, log, from: this.deps.byOffset ? undefined : this.received, stored: undefined };
    this.calls.push(call);
    this.running = call;
    while (this.calls.length > this.kept) this.store(this.calls.shift()!, true);
  }

  /**
   * The running call's answer said where its output begins; undefined when it did not (all
   * that was held is then the call's).
   */
  located(from: number | undefined): void {
    const call = this.running;
    if (!call || call.from !== undefined) return;
    const prev = this.calls.at(-2)?.from ?? 0;
    call.from = Math.max(from ?? this.held.find((h) => h.at !== undefined)?.at ?? this.received, prev);
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) this.place(h.chunk, h.at);
  }

  /** The running call ended and is being recorded: what comes for it from now on is late. */
  end(): void {
    const call = this.running;
    if (!call) return;
    this.located(undefined);
    call.stored = { bytes: call.log.bytes, written: call.log.written };
    this.running = undefined;
  }

  write(chunk: Buffer, stream: Stream): void {
    this.arrivals++;
    if (this.framed) return this.writeFramed(chunk, this.framed[stream]);
    let at: number | undefined;
    if (stream === 'stdout') {
      at = this.received;
      this.received += chunk.length;
    }
    if (this.calls.length === 0) return this.deps.initLog.write(chunk);
    if (this.running && this.running.from === undefined) {
      this.held.push({ chunk, at });
      this.heldBytes += chunk.length;
      // A call that writes a lot before its answer: give up the cut rather than the memory.
      if (this.heldBytes > MAX_HELD_BYTES) this.located(undefined);
      return;
    }
    this.place(chunk, at);
  }

  /**
   * http-stream with frames: a frame naming a kept call gives it what follows on that stream,
   * the frame taken out; before any frame, or after one naming no kept call (left in the
   * output), what arrives is the newest call's, as without frames.
   */
  private writeFramed(chunk: Buffer, s: { scanner: FrameScanner; call: CallSegment | undefined }): void {
    for (const p of s.scanner.scan(chunk)) {
      if ('frame' in p) {
        s.call = this.calls.find((c) => c.callId === p.frame);
        if (s.call) continue;
      }
      this.route('frame' in p ? p.raw : p.bytes, s.call);
    }
  }

  private route(bytes: Buffer, framedTo: CallSegment | undefined): void {
    if (this.calls.length === 0) return this.deps.initLog.write(bytes);
    // A call no longer kept has been stored for the last time: what follows goes by arrival.
    this.append(framedTo && this.calls.includes(framedTo) ? framedTo : this.calls.at(-1)!, bytes);
  }

  /** Stores what came late for any call, now; the container is going. */
  close(): void {
    if (this.framed) {
      for (const s of Object.values(this.framed)) {
        const held = s.scanner.flush();
        if (held) this.route(held, s.call);
      }
    }
    clearTimeout(this.lateTimer);
    this.lateTimer = undefined;
    for (const call of this.calls) this.store(call, true);
  }

  /** Output to the call(s) its offsets fall in (stderr, which has none, to the newest call). */
  private place(chunk: Buffer, at: number | undefined): void {
    if (at === undefined) return this.append(this.calls.at(-1)!, chunk);
    let end = at + chunk.length;
    for (let i = this.calls.length - 1; i >= 0 && end > at; i--) {
      const from = i === 0 ? at : Math.max(at, this.calls[i]!.from!);
      if (end > from) {
        this.append(this.calls[i]!, chunk.subarray(from - at, end - at));
        end = from;
      }
    }
  }

  private append(call: CallSegment, bytes: Buffer): void {
    call.log.write(bytes);
    if (call.stored !== undefined && this.lateTimer === undefined) {
      const first = this.deps.lateDelayMs ?? LATE_LOG_DELAY_MS;
      const delay = (n: number) => Math.min(first * 2 ** n, Math.max(first, MAX_LATE_LOG_DELAY_MS));
      // Output that had stopped for longer than the last wait starts again from the first.
      if (this.lateStores > 0 && performance.now() - this.lateStoredAt > delay(this.lateStores - 1)) this.lateStores = 0;
      this.lateTimer = setTimeout(() => {
        this.lateTimer = undefined;
        this.lateStores++;
        this.lateStoredAt = performance.now();
        for (const c of this.calls) this.store(c);
      }, delay(this.lateStores));
      this.lateTimer.unref();
    }
  }

  /**
   * Stores a finished call's log again when more of it came since: more that it keeps, or, the
   * last time (`final`), only more it dropped (the note of how much). A log at its cap is not
   * written again and again for output it no longer keeps.
   */
  private store(call: CallSegment, final = false): void {
    const { stored, log } = call;
    if (stored === undefined) return;
    if (final ? log.written <= stored.written : log.bytes <= stored.bytes) return;
    call.stored = { bytes: log.bytes, written: log.written };
    this.deps.late(call.callId, log.toString());
  }
}
