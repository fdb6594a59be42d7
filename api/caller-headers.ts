// The caller's request headers as the function gets them: every value of a repeated header.
import type { IncomingMessage } from 'node:http';
import type { CallerHeaders } from '../agent/headers.js';

/**
 * Node's req.headers joins a repeated header's values with ", " (Cookie's with "; ") and keeps
 * only the first of some (Content-Type, Authorization, User-Agent, Referer ...). Go's
 * http.Header keeps every value in order, and Fn passes each on as its own line. So when a name
 * came more than once, the headers are taken from rawHeaders, a repeated name's values in an
 * array; otherwise (nearly always) req.headers is the answer as it is, at the cost of counting
 * its names.
 */
export function callerHeaders(req: IncomingMessage): CallerHeaders {
  const joined = req.headers;
  const raw = req.rawHeaders;
  let names = 0;
  for (const _name in joined) names++;
  if (names * 2 === raw.length) return joined;
  // No prototype: a caller's `constructor` or `__proto__` header is a header like any other.
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [had, value];
  }
  // The Host Kiln routed and checked the request by (Node's: the first); Go refuses two outright.
  if (joined.host !== undefined) out.host = joined.host;
  return out;
}
