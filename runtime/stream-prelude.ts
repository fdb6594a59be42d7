// A streamed function URL answer: with the content type below, the runtime's stream starts
// with a JSON prelude `{statusCode, headers, cookies}` and 8 NUL bytes, then the body (the
// Node client's awslambda.HttpResponseStream.from, the Rust runtime's streaming responses).
// Function URLs turn the prelude into the HTTP status and headers; so does Kiln's HTTP trigger.
import { answerHeaders, statusNumber } from './function-url.js';

export const HTTP_INTEGRATION_TYPE = 'application/vnd.awslambda.http-integration-response';

const DELIMITER = Buffer.alloc(8);
/** A prelude larger than this is taken as body, so a stream without one cannot grow the daemon. */
const MAX_PRELUDE = 1024 * 1024;

export interface PreludeHead {
  status: number;
  /** Lower-case names; set-cookie from `cookies`. */
  headers: Record<string, string | string[]>;
}

/** The answer head a prelude describes; bad JSON or a bad status give a plain 200. */
export function parsePrelude(text: string): PreludeHead {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch {
    return { status: 200, headers: {} };
  }
  const r = (typeof p === 'object' && p !== null ? p : {}) as { statusCode?: unknown; headers?: unknown; cookies?: unknown };
  const headers = answerHeaders(r.headers, r.cookies);
  const status = r.statusCode === undefined ? 200 : statusNumber(r.statusCode);
  return { status: Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500, headers };
}

/**
 * Splits what a stream has sent so far at the end of its prelude: undefined while the
 * delimiter has not come yet. Past MAX_PRELUDE bytes without one, everything is body under a
 * plain 200, so a stream without a prelude cannot grow the daemon.
 */
export function splitPrelude(buf: Buffer): { head: PreludeHead; rest: Buffer } | undefined {
  const at = buf.indexOf(DELIMITER);
  if (at >= 0) return { head: parsePrelude(buf.subarray(0, at).toString('utf8')), rest: buf.subarray(at + DELIMITER.length) };
  return buf.length > MAX_PRELUDE ? { head: { status: 200, headers: {} }, rest: buf } : undefined;
}
