// Lambda's advanced logging controls (LoggingConfig: LogFormat, SystemLogLevel,
// ApplicationLogLevel) as far as the daemon applies them: the settings from the environment,
// the system log records in their JSON form, and the level filters. Pure functions: the
// sandbox calls them only when the format is JSON, so the Text path stays as it was.
import { DAEMON_ENV } from './wire.js';

export type LogFormat = 'Text' | 'JSON';
/** LoggingConfig.SystemLogLevel: DEBUG is the most detail, WARN the least. */
export type SystemLogLevel = 'DEBUG' | 'INFO' | 'WARN';
/** LoggingConfig.ApplicationLogLevel: TRACE is the most detail, FATAL the least. */
export type ApplicationLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

export interface LogSettings {
  format: LogFormat;
  /** Applies in JSON format only (the service filters only JSON logs by level). */
  systemLevel: SystemLogLevel;
  /** JSON format only: what the runtime gets as AWS_LAMBDA_LOG_LEVEL. */
  applicationLevel: ApplicationLogLevel | undefined;
  /** Bad values that were replaced by defaults, for the daemon to report at boot. */
  warnings: string[];
}

const SYSTEM_LEVELS: readonly SystemLogLevel[] = ['DEBUG', 'INFO', 'WARN'];
const APPLICATION_LEVELS: readonly ApplicationLogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** Kiln's own key: the service gives the runtime no system level, so neither does Kiln. */
export const SYSTEM_LEVEL_KEY = DAEMON_ENV.systemLogLevel;

function pick<T extends string>(allowed: readonly T[], raw: string): T | undefined {
  const up = raw.toUpperCase();
  return allowed.find((v) => v === up);
}

/**
 * Reads AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL and KILN_LAMBDA_SYSTEM_LOG_LEVEL. Values
 * are case-insensitive, as AWS's runtime clients read them. A bad value never stops the
 * daemon: it falls back to the default (Text, INFO) with a warning.
 */
export function parseLogSettings(env: NodeJS.ProcessEnv): LogSettings {
  const warnings: string[] = [];
  const rawFormat = env.AWS_LAMBDA_LOG_FORMAT ?? '';
  let format: LogFormat = 'Text';
  if (rawFormat.toUpperCase() === 'JSON') format = 'JSON';
  else if (rawFormat !== '' && rawFormat.toUpperCase() !== 'TEXT') {
    warnings.push(`AWS_LAMBDA_LOG_FORMAT=${rawFormat} is neither JSON nor Text: using Text`);
  }
  const level = <T extends string>(key: string, allowed: readonly T[], dflt: T): T => {
    const raw = env[key] ?? '';
    if (raw === '') return dflt;
    const v = pick(allowed, raw);
    if (v !== undefined) return v;
    warnings.push(`${key}=${raw} is not one of ${allowed.join(', ')}: using ${dflt}`);
    return dflt;
  };
  if (format === 'Text') {
    // Log-level filtering needs the JSON format: the levels are left alone (the runtime
    // still gets whatever the fn's config set, as today).
    if (env[SYSTEM_LEVEL_KEY]) warnings.push(`${SYSTEM_LEVEL_KEY} has no effect with the Text log format`);
    return { format, systemLevel: 'INFO', applicationLevel: undefined, warnings };
  }
  const systemLevel = level(SYSTEM_LEVEL_KEY, SYSTEM_LEVELS, 'INFO');
  const applicationLevel = level('AWS_LAMBDA_LOG_LEVEL', APPLICATION_LEVELS, 'INFO');
  return { format, systemLevel, applicationLevel, warnings };
}

/** The log variables the runtime and extensions see: the service's pair in JSON format, nothing added in Text. */
export function logEnv(s: LogSettings): Record<string, string> {
  if (s.format !== 'JSON') return {};
  return { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: s.applicationLevel ?? 'INFO' };
}

// ---- system records ------------------------------------------------------------------------

/** The system records the daemon writes to a call's log, and the level each is written at. */
export const SYSTEM_RECORD_LEVEL = {
  'platform.start': 'INFO',
  'platform.runtimeDone': 'DEBUG',
  'platform.report': 'INFO',
  'platform.fault': 'WARN',
} as const satisfies Record<string, SystemLogLevel>;

export type SystemRecordType = keyof typeof SYSTEM_RECORD_LEVEL;

/** True when a record of `type` passes the configured system level (at that level and less detail). */
export function systemRecordShown(type: SystemRecordType, configured: SystemLogLevel): boolean {
  return SYSTEM_LEVELS.indexOf(SYSTEM_RECORD_LEVEL[type]) >= SYSTEM_LEVELS.indexOf(configured);
}

/** One record (no newline): `{"time","type","record"}`, the envelope the service writes. */
export function systemRecord(time: Date, type: SystemRecordType, record: object | string): string {
  return JSON.stringify({ time: time.toISOString(), type, record });
}

export type InvokeStatus = 'success' | 'error' | 'failure' | 'timeout';

/**
 * A call's status from how it was answered, as RIE's reset names it: a timeout is `timeout`,
 * a platform failure (`Sandbox.*`) is `failure`, and any other error, a crash included, is `error`.
 */
export function invokeStatus(kind: 'response' | 'stream' | 'error' | 'failure', errorType: string | undefined): InvokeStatus {
  if (kind === 'error') return 'error';
  if (kind === 'failure') return errorType === 'Sandbox.Timedout' ? 'timeout' : errorType?.startsWith('Sandbox.') ? 'failure' : 'error';
  return 'success';
}

/** Whether records of this status carry an `errorType` (a timeout carries none, as RIE sends it). */
export const statusHasErrorType = (s: InvokeStatus): boolean => s === 'error' || s === 'failure';

export interface ReportMetrics {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  /** Unknown when the container's cgroup could not be read: left out. */
  maxMemoryUsedMB: number | undefined;
  /** On the call that ran (or followed) the init only. */
  initDurationMs: number | undefined;
}

export function startRecord(requestId: string, functionArn: string, version: string): object {
  return { requestId, functionArn, version };
}

export function runtimeDoneRecord(requestId: string, status: InvokeStatus, errorType: string | undefined, durationMs: number, producedBytes: number): object {
  return { requestId, status, ...(errorType !== undefined && { errorType }), metrics: { durationMs, producedBytes } };
}

export function reportRecord(requestId: string, m: ReportMetrics, status: InvokeStatus, errorType: string | undefined): object {
  return {
    requestId,
    metrics: {
      durationMs: m.durationMs,
      billedDurationMs: m.billedDurationMs,
      memorySizeMB: m.memorySizeMB,
      ...(m.maxMemoryUsedMB !== undefined && { maxMemoryUsedMB: m.maxMemoryUsedMB }),
      ...(m.initDurationMs !== undefined && { initDurationMs: m.initDurationMs }),
    },
    status,
    ...(errorType !== undefined && { errorType }),
  };
}

// ---- application logs ------------------------------------------------------------------------

/**
 * Whether a line of the function's output passes the application level. The service reads
 * the level of a JSON object's `level` key (any case); an object whose level is missing or
 * unknown counts as INFO. A line that is not a JSON object is not a log event the service can
 * give a level to: it always passes.
 */
export function applicationLineShown(line: string, configured: ApplicationLogLevel): boolean {
  // Only a line that looks like an object is parsed: plain text costs one character test.
  if (line.charCodeAt(0) !== 0x7b /* { */) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return true;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return true;
  const raw = 'level' in parsed && typeof parsed.level === 'string' ? parsed.level : '';
  const level = pick(APPLICATION_LEVELS, raw) ?? 'INFO';
  return APPLICATION_LEVELS.indexOf(level) >= APPLICATION_LEVELS.indexOf(configured);
}

/** A JSON-format log line as a record: the object it holds, else the line itself. */
export function jsonRecord(line: string): unknown {
  if (!line.startsWith('{')) return line;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : line;
  } catch {
    return line;
  }
}
