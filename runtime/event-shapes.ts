// One platform event, two record shapes: the Telemetry API (2022-07-01) and the older Logs
// API (2020-08-15 / 2021-03-18) name and shape their platform records differently, and
// clients parse strictly (the Rust lambda-extension crate fails a whole batch on a type it
// does not know). The sandbox emits Telemetry API events; a Logs API subscriber gets them
// translated here, as the service sends them (runtimes-logs-api, "Platform logs").

export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

type Rec = Record<string, unknown>;

/** The Logs API schema that adds `platform.runtimeDone`; 2020-08-15 has no such record. */
const RUNTIME_DONE_SCHEMA = '2021-03-18';
/** The error types of a process that died mid-invoke (the Logs API's platform.fault). */
const CRASHES = ['Runtime.ExitError', 'Extension.Crash'];

/** The ReportMetrics fields the Logs API's `platform.report` carries. */
const LOGS_METRICS = ['durationMs', 'billedDurationMs', 'memorySizeMB', 'maxMemoryUsedMB', 'initDurationMs'];

function pick(from: unknown, keys: string[]): Rec {
  const out: Rec = {};
  const r = (from ?? {}) as Rec;
  for (const k of keys) if (r[k] !== undefined) out[k] = r[k];
  return out;
}

/**
 * A Telemetry API event as a Logs API subscriber sees it: none of the init records,
 * `platform.logsSubscription`, `platform.end` before `platform.report`, reduced records.
 */
export function forLogs(e: TelemetryEvent, schemaVersion: string): TelemetryEvent[] {
  const r = e.record as Rec;
  switch (e.type) {
    case 'platform.initStart':
    case 'platform.initRuntimeDone':
    case 'platform.initReport':
      return [];
    case 'platform.telemetrySubscription':
      return [{ ...e, type: 'platform.logsSubscription' }];
    case 'platform.start':
      return [{ ...e, record: pick(r, ['requestId', 'version']) }];
    case 'platform.runtimeDone': {
      // A runtime that died mid-invoke is a fault record in every schema (a string, as documented).
      const fault = CRASHES.includes(String(r.errorType)) ? [{ time: e.time, type: 'platform.fault', record: `RequestId: ${String(r.requestId)} Process exited before completing request` }] : [];
      // The Logs API's statuses are success, failure and timeout: a function's error is a failure there.
      const done = schemaVersion === RUNTIME_DONE_SCHEMA ? [{ ...e, record: { requestId: r.requestId, status: r.status === 'error' ? 'failure' : r.status } }] : [];
      return [...fault, ...done];
    }
    case 'platform.report':
      return [
        { time: e.time, type: 'platform.end', record: { requestId: r.requestId } },
        { ...e, record: { requestId: r.requestId, metrics: pick(r.metrics, LOGS_METRICS) } },
      ];
    default:
      return [e];
  }
}
