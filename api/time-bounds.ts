// The calls list's `from_time` and `to_time`, as Fn's CallFilter takes them: Unix times in whole
// seconds (Go's strconv.ParseInt: digits, an optional sign). Calls are listed when created
// after `from_time` and before `to_time`, both strict, as Fn's SQL compares them.
import { badRequest } from './errors.js';
import { optionalQuery } from './query.js';

/** The seconds of 0000-01-01 and 9999-12-31T23:59:59: a bound outside is as good as these. */
const MIN_SEC = -62_167_219_200;
const MAX_SEC = 253_402_300_799;

/**
 * A query parameter's Unix seconds as the stored timestamps' form (RFC 3339, milliseconds, UTC,
 * which compares as text on every backend); undefined when absent. Bounds past year 9999 or
 * before year 0 are clamped, which keeps the text form fixed-width and the comparison right.
 */
export function timeBound(query: Record<string, unknown>, name: string): string | undefined {
  const raw = optionalQuery(query, name);
  if (raw === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(raw)) throw badRequest(`Invalid ${name}: "${raw}" is not a Unix time in whole seconds`);
  const sec = Math.min(MAX_SEC, Math.max(MIN_SEC, Number(raw)));
  return new Date(sec * 1000).toISOString();
}

/** The calls list's creation-time filter from `from_time` and `to_time`. */
export function callTimeFilter(query: Record<string, unknown>): { createdAfter?: string; createdBefore?: string } {
  const after = timeBound(query, 'from_time');
  const before = timeBound(query, 'to_time');
  return { ...(after !== undefined && { createdAfter: after }), ...(before !== undefined && { createdBefore: before }) };
}
