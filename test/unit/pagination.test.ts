import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PageQuery } from '../../store/types.js';
import {
  decodeCursor, DEFAULT_PER_PAGE, encodeCursor, listBody, MAX_PER_PAGE, parsePageQuery, parsePerPage,
} from '../../api/pagination.js';
import { assertApiError, badRequestError } from './assert-api-error.js';

const anyKey = (): boolean => true;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const isUlid = (key: string): boolean => ULID.test(key);

test('defaults are Fn\'s: 30 per page, at most 100', () => {
  assert.equal(DEFAULT_PER_PAGE, 30);
  assert.equal(MAX_PER_PAGE, 100);
});

// encodeCursor / decodeCursor round trip.
const roundTripKeys: { name: string; key: string }[] = [
  { name: 'single char', key: 'a' },
  { name: 'three chars (no padding needed)', key: 'abc' },
  { name: 'two chars (would pad with one =)', key: 'ab' },
  { name: 'ULID', key: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
  { name: 'app name with - and _', key: 'my-app_1' },
  { name: 'accented latin', key: 'café' },
  { name: 'CJK', key: '日本語' },
  { name: 'emoji (4-byte UTF-8)', key: '\u{1F600}' },
  { name: 'space, slash, plus, equals', key: 'a b/c+d=e' },
  { name: 'bytes whose standard base64 has + and /', key: '>>>?' },
  { name: 'long key', key: 'x'.repeat(300) },
];
for (const c of roundTripKeys) {
  test(`cursor round-trips: ${c.name}`, () => {
    const cursor = encodeCursor(c.key);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'base64url, unpadded');
    assert.equal(decodeCursor(cursor, anyKey), c.key);
  });
}

test('encodeCursor is unpadded base64url', () => {
  assert.equal(encodeCursor('a'), 'YQ');
  assert.equal(encodeCursor('ab'), 'YWI');
  assert.equal(encodeCursor('abc'), 'YWJj');
  assert.equal(encodeCursor('>>>?'), 'Pj4-Pw');
});

// Cursors are unpadded base64url, as Fn's (RawURLEncoding): any padding is rejected.
const paddedCursors: string[] = ['YQ==', 'YWI=', 'Pj4-Pw==', 'YQ=', 'YQ====', 'YWJj='];
for (const cursor of paddedCursors) {
  test(`decodeCursor rejects padded cursor ${JSON.stringify(cursor)}`, () => {
    assertApiError(() => decodeCursor(cursor, anyKey), badRequestError(`Invalid cursor: "${cursor}"`));
  });
}

const garbageCursors: { name: string; cursor: string }[] = [
  { name: 'empty', cursor: '' },
  { name: 'punctuation only', cursor: '!!!' },
  { name: '= in the middle', cursor: 'a=b' },
  { name: 'leading =', cursor: '=YQ' },
  { name: 'non-canonical trailing bits', cursor: 'YR' },
  { name: 'decodes to invalid UTF-8', cursor: '_w' },
  { name: 'standard base64 alphabet (+ /)', cursor: 'Pj4+Pw' },
  { name: 'trailing space', cursor: 'YQ ' },
  { name: 'leading space', cursor: ' YQ' },
  { name: 'trailing newline', cursor: 'YQ\n' },
  { name: 'percent-encoded', cursor: 'YQ%3D%3D' },
  { name: 'single base64 char (no whole byte)', cursor: 'Y' },
];
for (const c of garbageCursors) {
  test(`decodeCursor rejects garbage: ${c.name}`, () => {
    assertApiError(() => decodeCursor(c.cursor, anyKey), badRequestError(`Invalid cursor: "${c.cursor}"`));
  });
}

const validatorCases: { name: string; key: string; ok: boolean }[] = [
  { name: 'a ULID passes a ULID validator', key: '01ARZ3NDEKTSV4RRFFQ69G5FAV', ok: true },
  { name: 'a name fails a ULID validator', key: 'not-a-ulid', ok: false },
  { name: 'a lowercase ULID fails a ULID validator', key: '01arz3ndektsv4rrffq69g5fav', ok: false },
];
for (const c of validatorCases) {
  test(`decodeCursor applies the key validator: ${c.name}`, () => {
    const cursor = encodeCursor(c.key);
    if (c.ok) assert.equal(decodeCursor(cursor, isUlid), c.key);
    else assertApiError(() => decodeCursor(cursor, isUlid), badRequestError(`Invalid cursor: "${cursor}"`));
  });
}

test('decodeCursor passes the decoded key to the validator', () => {
  const seen: string[] = [];
  decodeCursor(encodeCursor('café'), (k) => {
    seen.push(k);
    return true;
  });
  assert.deepEqual(seen, ['café']);
});

// parsePerPage: as Fn's pageParams, never an error.
const perPageCases: { raw: string | undefined; want: number }[] = [
  { raw: undefined, want: 30 },
  { raw: '1', want: 1 },
  { raw: '30', want: 30 },
  { raw: '99', want: 99 },
  { raw: '100', want: 100 },
  { raw: '007', want: 7 },
  { raw: '+5', want: 5 },
  // Over 100 is capped, however large.
  { raw: '101', want: 100 },
  { raw: '5000', want: 100 },
  { raw: '99999999999999999999', want: 100 },
  // Zero, negatives and what Go's Atoi cannot parse are the default.
  { raw: '0', want: 30 },
  { raw: '-1', want: 30 },
  { raw: '-99999999999999999999', want: 30 },
  { raw: '1.5', want: 30 },
  { raw: 'abc', want: 30 },
  { raw: '', want: 30 },
  { raw: '1e2', want: 30 },
  { raw: ' 5', want: 30 },
  { raw: '5 ', want: 30 },
  { raw: '0x10', want: 30 },
];
for (const c of perPageCases) {
  test(`parsePerPage(${JSON.stringify(c.raw)}) is ${c.want}`, () => {
    assert.equal(parsePerPage(c.raw), c.want);
  });
}

// parsePageQuery.
const ulidKey = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const pageQueryOk: { name: string; query: Record<string, unknown>; want: PageQuery }[] = [
  { name: 'empty query', query: {}, want: { perPage: 30 } },
  { name: 'per_page only', query: { per_page: '10' }, want: { perPage: 10 } },
  { name: 'cursor only', query: { cursor: encodeCursor(ulidKey) }, want: { perPage: 30, after: ulidKey } },
  {
    name: 'per_page and cursor',
    query: { per_page: '100', cursor: encodeCursor(ulidKey) },
    want: { perPage: 100, after: ulidKey },
  },
  { name: 'empty per_page and cursor are absent', query: { per_page: '', cursor: '' }, want: { perPage: 30 } },
  { name: 'per_page over 100 is capped', query: { per_page: '101' }, want: { perPage: 100 } },
  { name: 'per_page 0 is the default', query: { per_page: '0' }, want: { perPage: 30 } },
  { name: 'per_page not a number is the default', query: { per_page: 'ten' }, want: { perPage: 30 } },
  { name: 'other params ignored', query: { name: 'x', app_id: 'y' }, want: { perPage: 30 } },
];
for (const c of pageQueryOk) {
  test(`parsePageQuery: ${c.name}`, () => {
    assert.deepEqual(parsePageQuery(c.query, isUlid), c.want);
  });
}

const pageQueryBad: { name: string; query: Record<string, unknown>; message: string }[] = [
  { name: 'repeated per_page', query: { per_page: ['1', '2'] }, message: 'Invalid per_page: give it once' },
  {
    name: 'repeated cursor',
    query: { cursor: [encodeCursor(ulidKey), encodeCursor(ulidKey)] },
    message: 'Invalid cursor: give it once',
  },
  { name: 'nested cursor object', query: { cursor: { a: 'b' } }, message: 'Invalid cursor: give it once' },
  { name: 'garbage cursor', query: { cursor: '!!!' }, message: 'Invalid cursor: "!!!"' },
  {
    name: 'cursor the validator rejects',
    query: { cursor: encodeCursor('nope') },
    message: `Invalid cursor: "${encodeCursor('nope')}"`,
  },
];
for (const c of pageQueryBad) {
  test(`parsePageQuery 400: ${c.name}`, () => {
    assertApiError(() => parsePageQuery(c.query, isUlid), badRequestError(c.message));
  });
}

// listBody.
const listCases: { name: string; items: string[]; last: string | undefined }[] = [
  { name: 'empty, no last', items: [], last: undefined },
  { name: 'items, no last', items: ['a', 'b'], last: undefined },
  { name: 'items with last', items: ['a', 'b'], last: 'b' },
  { name: 'unicode last', items: ['x'], last: 'café' },
];
for (const c of listCases) {
  test(`listBody: ${c.name}`, () => {
    const body = listBody(c.items, c.last);
    assert.deepEqual(body.items, c.items);
    if (c.last === undefined) {
      assert.ok(!('next_cursor' in body), 'no next_cursor key when there is no last item');
      assert.deepEqual(body, { items: c.items });
    } else {
      assert.deepEqual(body, { items: c.items, next_cursor: encodeCursor(c.last) });
      assert.equal(decodeCursor(body.next_cursor ?? '', anyKey), c.last);
    }
  });
}
