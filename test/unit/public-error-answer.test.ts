// agent/public-error-answer.ts: what a trigger's caller gets for a function's error answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publicErrorAnswer } from '../../agent/public-error-answer.js';

const cases: { status: number; lambda: boolean; want: { status: number; contentType: string; body: string } }[] = [
  { status: 502, lambda: false, want: { status: 502, contentType: 'application/json', body: '{"message":"function failed"}' } },
  { status: 504, lambda: false, want: { status: 504, contentType: 'application/json', body: '{"message":"Timed out"}' } },
  { status: 502, lambda: true, want: { status: 502, contentType: 'text/plain; charset=utf-8', body: 'Internal Server Error' } },
  // A function URL answers a timeout as any function error.
  { status: 504, lambda: true, want: { status: 502, contentType: 'text/plain; charset=utf-8', body: 'Internal Server Error' } },
];
for (const c of cases) {
  test(`a container's ${c.status}${c.lambda ? ' (Lambda)' : ''} to a trigger's caller: ${c.want.status} ${c.want.body}`, () => {
    const a = publicErrorAnswer(c.status, c.lambda);
    assert.deepEqual({ status: a.status, contentType: a.contentType, body: a.body.toString() }, c.want);
  });
}
