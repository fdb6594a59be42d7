// What the platform says about each invocation: the START, END and REPORT lines of the call's
// log (text, or the JSON format's records), and the Telemetry API's platform.runtimeDone and
// platform.report records. Pure: the sandbox measures, these functions word it.
import type { DaemonConfig } from './config.js';
import { errorTypeOf, producedBytesOf, type Fatal, type Invocation, type InvokeEvent, type Outcome, type ShutdownReason } from './invocation.js';
import {
  reportRecord, runtimeDoneRecord, startRecord, statusHasErrorType, systemRecord, systemRecordShown, type InvokeStatus, type SystemRecordType,
} from './log-format.js';

/** The settings the platform's words depend on. */
export type ReportSettings = Pick<DaemonConfig, 'functionVersion' | 'memoryMb' | 'timeoutSec' | 'log'>;

/** Billed duration: whole milliseconds rounded up, at least 1 (REPORT and platform.report). */
export const billedMs = (durationMs: number): number => Math.max(1, Math.ceil(durationMs));

/** Milliseconds to two decimals. */
export const ms2 = (v: number): number => Math.round(v * 100) / 100;

/** A performance.now() instant of an invocation as an ISO date (its start is both clocks' anchor). */
const isoAt = (inv: Invocation, perf: number): string => new Date(inv.startedAt + (perf - inv.t0)).toISOString();

const isJson = (s: ReportSettings): boolean => s.log.format === 'JSON';

/** A JSON system record line, or '' when the system level leaves it out. */
export function recordLine(s: ReportSettings, type: SystemRecordType, time: Date, record: object): string {
  return systemRecordShown(type, s.log.systemLevel) ? `${systemRecord(time, type, record)}\n` : '';
}

/** The invocation's START line (the JSON format's platform.start record). */
export function startLine(s: ReportSettings, event: InvokeEvent, startedAt: number): string {
  return isJson(s)
    ? recordLine(s, 'platform.start', new Date(startedAt), startRecord(event.requestId, event.invokedFunctionArn, s.functionVersion))
    : `START RequestId: ${event.requestId} Version: ${s.functionVersion}\n`;
}

/**
 * END and REPORT (the JSON format's platform.runtimeDone and platform.report records), and after
 * a timeout the service's line saying so: an invocation whose extensions were done by its answer.
 */
export function endLines(s: ReportSettings, inv: Invocation, outcome: Outcome, status: InvokeStatus, at: number): string {
  return runtimeDoneLine(s, inv, outcome, status) + reportLines(s, inv, settledStatus(status, outcome, undefined, undefined), at);
}

/** The runtime's part of END and REPORT: the JSON format's platform.runtimeDone record (text has none). */
export function runtimeDoneLine(s: ReportSettings, inv: Invocation, outcome: Outcome, status: InvokeStatus): string {
  if (!isJson(s)) return '';
  const errorType = statusHasErrorType(status) ? errorTypeOf(outcome) : undefined;
  return recordLine(s, 'platform.runtimeDone', new Date(), runtimeDoneRecord(inv.event.requestId, status, errorType, inv.durationMs ?? 0, producedBytesOf(outcome)));
}

/**
 * The whole invocation's part: END and REPORT (the JSON format's platform.report record) with
 * the duration and peak memory measured last, and after a timeout the service's line saying so.
 */
export function reportLines(s: ReportSettings, inv: Invocation, done: Settled, at: number): string {
  const id = inv.event.requestId;
  const durationMs = inv.durationMs ?? 0;
  if (isJson(s)) {
    return recordLine(s, 'platform.report', new Date(), reportRecord(id, {
      durationMs, billedDurationMs: billedMs(durationMs), memorySizeMB: s.memoryMb,
      maxMemoryUsedMB: inv.memoryUsedMb, initDurationMs: inv.initMs,
    }, done.status, done.errorType));
  }
  return `END RequestId: ${id}\n` +
    `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billedMs(durationMs)} ms\t` +
    `Memory Size: ${s.memoryMb} MB\tMax Memory Used: ${inv.memoryUsedMb ?? '?'} MB\t${inv.initMs !== undefined ? `Init Duration: ${inv.initMs.toFixed(2)} ms\t` : ''}\n` +
    // As the service's log stream has it after a timeout's REPORT: why the call ended.
    (done.status === 'timeout' ? `${new Date(at).toISOString()} ${id} Task timed out after ${s.timeoutSec.toFixed(2)} seconds\n` : '');
}

/** When the runtime's turn ended: its answer's last byte, and its return to `next` (performance.now()). */
export interface RuntimeTurn {
  responseEnd: number;
  runtimeDoneAt: number;
}

/** An invocation's status as its records give it, and its error type where that status has one. */
export interface Settled {
  status: InvokeStatus;
  errorType: string | undefined;
}

/**
 * The status of an invocation whose answer was `status`, once a reset follows (`reset`, with the
 * generation's fatal error): a success the runtime did not come back from in time is a timeout,
 * one it (or an extension) died after is that death's error; any other answer stands.
 */
export function settledStatus(status: InvokeStatus, outcome: Outcome, reset: ShutdownReason | undefined, fatal: Fatal | undefined): Settled {
  if (reset && status === 'success') {
    return reset === 'timeout' ? { status: 'timeout', errorType: undefined } : { status: fatal?.status ?? 'failure', errorType: fatal?.failure.errorType };
  }
  return { status, errorType: statusHasErrorType(status) ? errorTypeOf(outcome) : undefined };
}

/**
 * The Telemetry API's platform.runtimeDone record. The spans, when the runtime posted a
 * response: until its first byte, until its last (a stream's, relayed), then until the
 * runtime's next `next` (none when a reset followed).
 */
export function runtimeDoneEvent(inv: Invocation, outcome: Outcome, done: Settled, reset: ShutdownReason | undefined, at: RuntimeTurn): object {
  const first = inv.responseStartAt;
  const responded = first !== undefined && (outcome.kind === 'response' || outcome.kind === 'stream');
  const spans = responded ? [
    { name: 'responseLatency', start: isoAt(inv, inv.t0), durationMs: ms2(first - inv.t0) },
    { name: 'responseDuration', start: isoAt(inv, first), durationMs: ms2(at.responseEnd - first) },
    ...(reset ? [] : [{ name: 'runtimeOverhead', start: isoAt(inv, at.responseEnd), durationMs: ms2(at.runtimeDoneAt - at.responseEnd) }]),
  ] : [];
  return {
    requestId: inv.event.requestId, status: done.status,
    metrics: { durationMs: ms2(at.runtimeDoneAt - inv.t0), producedBytes: producedBytesOf(outcome) },
    ...(spans.length > 0 && { spans }),
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.event.traceId },
    ...(done.errorType !== undefined && { errorType: done.errorType }),
  };
}

/**
 * The Telemetry API's platform.report record, once the extensions are done too (`endedAt`,
 * performance.now()); its span runs from the runtime's turn's end until then.
 */
export function reportEvent(s: ReportSettings, inv: Invocation, done: Settled, runtimeDoneAt: number, endedAt: number): object {
  const total = ms2(endedAt - inv.t0);
  return {
    requestId: inv.event.requestId, status: done.status,
    metrics: {
      durationMs: total, billedDurationMs: billedMs(total), memorySizeMB: s.memoryMb,
      maxMemoryUsedMB: inv.memoryUsedMb ?? 0,
      ...(inv.initMs !== undefined && { initDurationMs: inv.initMs }),
    },
    spans: [{ name: 'extensionOverhead', start: isoAt(inv, runtimeDoneAt), durationMs: ms2(inv.t0 + total - runtimeDoneAt) }],
    ...(done.errorType !== undefined && { errorType: done.errorType }),
  };
}
