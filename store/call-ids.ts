// Call ids are ULIDs (Fn's are alike), which begin with the millisecond they were made: a time
// range of calls is a range of their primary keys, which pruning and the calls list's time
// filters use, the only index on calls being (fn_id, id).
import { encodeTime } from 'ulid';

/** The smallest ULID of millisecond `timeMs`: every id made before that millisecond sorts before it. */
export function idBoundAt(timeMs: number): string {
  return encodeTime(Math.max(0, Math.min(MAX_ULID_TIME, Math.floor(timeMs))), 10) + '0'.repeat(16);
}

/** The last millisecond a ULID can hold (year 10889). */
const MAX_ULID_TIME = 2 ** 48 - 1;

/**
 * How far a call's id may lie from its `created_at`. The id is made a moment before (after the
 * request's body is read); ids come from a monotonic factory, so after the clock is stepped back
 * they stay ahead of it until it catches up. A minute covers both, and costs a time-filtered list
 * at most a minute's calls more to read.
 */
export const ID_TIME_SLACK_MS = 60_000;

/**
 * Id bounds holding every call created after `createdAfter` and before `createdBefore` (RFC 3339,
 * both strict), for a query that still tests `created_at` exactly: without them a filter that
 * matches few of a fn's calls reads all of them, newest to oldest, looking for a page.
 */
export function idRangeOf(createdAfter?: string, createdBefore?: string): { idFrom?: string; idBefore?: string } {
  const after = createdAfter === undefined ? NaN : Date.parse(createdAfter);
  const before = createdBefore === undefined ? NaN : Date.parse(createdBefore);
  return {
    ...(Number.isFinite(after) && { idFrom: idBoundAt(after - ID_TIME_SLACK_MS) }),
    ...(Number.isFinite(before) && { idBefore: idBoundAt(before + ID_TIME_SLACK_MS + 1) }),
  };
}
