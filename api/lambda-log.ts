// LogType Tail for both Lambda invoke APIs: the call's last 4 KB of log, once it has settled,
// base64 (Invoke's X-Amz-Log-Result header, InvokeWithResponseStream's InvokeComplete.LogResult).
import type { CallLog } from '../agent/agent.js';
import type { Fn, App } from '../store/types.js';
import { logTail } from './lambda-request.js';

/**
 * How long a LogType Tail answer waits for a Lambda fn's REPORT record to reach the log (not when
 * the daemon said it follows later, once the extensions still at work are done).
 */
const REPORT_WAIT_MS = 500;
/**
 * Otherwise: for the first output at most LOG_FIRST_MS (a fn may print nothing), then until it
 * has been quiet LOG_QUIET_MS, at most LOG_WAIT_MAX_MS in all.
 */
const LOG_FIRST_MS = 100;
const LOG_QUIET_MS = 20;
const LOG_WAIT_MAX_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether a lambda fn's log will carry a REPORT record: always in the text format; in the JSON
 * format only while the system log level lets INFO records through (the daemon's
 * AWS_LAMBDA_LOG_FORMAT and KILN_LAMBDA_SYSTEM_LOG_LEVEL, from the fn's config).
 */
export function reportExpected(config: Record<string, string>): boolean {
  if ((config.AWS_LAMBDA_LOG_FORMAT ?? '').trim().toUpperCase() !== 'JSON') return true;
  const level = (config.KILN_LAMBDA_SYSTEM_LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  return level === 'INFO' || level === 'DEBUG';
}

/**
 * The end of the call's log once it has settled: output reaches the log through the container
 * engine's log stream, which can trail the answer by a few milliseconds. Only the last 4 KB are
 * looked at, so waiting costs next to nothing whatever the log's size.
 */
async function settledTail(log: CallLog, reportOf: string | undefined): Promise<Buffer> {
  const started = performance.now();
  if (reportOf !== undefined && !log.reportLate) {
    const text = `REPORT RequestId: ${reportOf}`;
    const reported = (t: Buffer) => t.includes(text) || (t.includes('"platform.report"') && t.includes(reportOf));
    while (!reported(log.tail()) && performance.now() - started < REPORT_WAIT_MS) await sleep(5);
    return log.tail();
  }
  let seen = log.written;
  while (performance.now() - started < LOG_WAIT_MAX_MS) {
    await sleep(LOG_QUIET_MS);
    if (log.written !== seen) {
      seen = log.written;
      continue;
    }
    if (seen > 0 || performance.now() - started >= LOG_FIRST_MS) break;
  }
  return log.tail();
}

/** The call's log result: the last 4 KB once settled (a lambda fn's REPORT record in it when one comes), base64. */
export async function logResult(log: CallLog, target: { app: App; fn: Fn }, callId: string): Promise<string> {
  const lambda = target.fn.format === 'lambda' && reportExpected({ ...target.app.config, ...target.fn.config });
  return logTail(await settledTail(log, lambda ? callId : undefined));
}
