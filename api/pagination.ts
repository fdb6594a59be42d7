// per_page / cursor / next_cursor, as Fn's list endpoints speak them.
// A cursor is the base64url (unpadded) encoding of the last item's key.
import { badRequest } from './errors.js';
import { optionalQuery } from './query.js';
import type { PageQuery } from '../store/types.js';

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** Decodes a cursor, rejecting anything that is not exactly what encodeCursor makes (unpadded, as Fn's). */
export function decodeCursor(cursor: string, isValidKey: (key: string) => boolean): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (cursor === '' || encodeCursor(key) !== cursor || !isValidKey(key)) {
    throw badRequest(`Invalid cursor: "${cursor}"`);
  }
  return key;
}

/**
 * As Fn's pageParams: a decimal integer (Go's Atoi: optional sign, digits) over 100 is 100;
 * anything else that is not a positive integer is the default, never a 400, because the fn
 * CLI and fn_go send what they are given and expect a list back.
 */
export function parsePerPage(raw: string | undefined): number {
  const n = raw !== undefined && /^[+-]?\d+$/.test(raw) ? Number(raw) : 0;
  if (n > MAX_PER_PAGE) return MAX_PER_PAGE;
  return n >= 1 ? n : DEFAULT_PER_PAGE;
}

/** Reads per_page and cursor from a query string. */
export function parsePageQuery(
  query: Record<string, unknown>, isValidKey: (key: string) => boolean,
): PageQuery {
  const page: PageQuery = { perPage: parsePerPage(optionalQuery(query, 'per_page')) };
  const cursor = optionalQuery(query, 'cursor');
  if (cursor !== undefined) page.after = decodeCursor(cursor, isValidKey);
  return page;
}

export interface ListBody<T> {
  items: T[];
  next_cursor?: string;
}

export function listBody<T>(items: T[], last: string | undefined): ListBody<T> {
  const body: ListBody<T> = { items };
  if (last !== undefined) body.next_cursor = encodeCursor(last);
  return body;
}
