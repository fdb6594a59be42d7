// agent/call-error.ts: what a call's record says when the function answered an error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { functionErrorText, lambdaErrorOf, MAX_RECORDED_MESSAGE, MAX_RECORDED_TYPE } from '../../agent/call-error.js';

const doc = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

const docs: { name: string; body: Buffer; want: ReturnType<typeof lambdaErrorOf> }[] = [
  { name: 'a function error', body: doc({ errorMessage: 'it failed', errorType: 'MyError', stackTrace: [] }), want: { errorType: 'MyError', errorMessage: 'it failed' } },
  { name: 'type only', body: doc({ errorType: 'Sandbox.Timedout' }), want: { errorType: 'Sandbox.Timedout' } },
  { name: 'empty strings are none', body: doc({ errorType: '', errorMessage: '' }), want: {} },
  { name: 'not strings', body: doc({ errorType: 5, errorMessage: { a: 1 } }), want: {} },
  { name: 'not JSON (a runtime may post any /error body)', body: Buffer.from('boom'), want: {} },
  { name: 'a JSON array', body: doc(['x']), want: {} },
  { name: 'JSON null', body: Buffer.from('null'), want: {} },
  { name: 'empty', body: Buffer.alloc(0), want: {} },
  { name: 'over 64 KiB is not read', body: doc({ errorType: 'Big', errorMessage: 'x'.repeat(70_000) }), want: {} },
];
for (const d of docs) test(`lambdaErrorOf: ${d.name}`, () => assert.deepEqual(lambdaErrorOf(d.body), d.want));

const texts: { name: string; args: Parameters<typeof functionErrorText>; want: string }[] = [
  { name: 'an http-stream fn\'s error status', args: [502, undefined], want: 'function answered 502' },
  { name: 'the header\'s type alone', args: [502, 'MyError'], want: 'function answered 502: MyError' },
  { name: 'type and message', args: [502, 'MyError', { errorType: 'MyError', errorMessage: 'it failed' }], want: 'function answered 502: MyError: it failed' },
  { name: 'the body\'s type before the header\'s Unhandled', args: [504, 'Unhandled', { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 2.00 seconds' }], want: 'function answered 504: Sandbox.Timedout: Task timed out after 2.00 seconds' },
  { name: 'a message with no type', args: [502, undefined, { errorMessage: 'm' }], want: 'function answered 502: m' },
];
for (const t of texts) test(`functionErrorText: ${t.name}`, () => assert.equal(functionErrorText(...t.args), t.want));

test('functionErrorText: a long message is cut, marked with an ellipsis', () => {
  const text = functionErrorText(502, 'E', { errorMessage: 'm'.repeat(MAX_RECORDED_MESSAGE + 10) });
  assert.equal(text, `function answered 502: E: ${'m'.repeat(MAX_RECORDED_MESSAGE)}…`);
});

test('functionErrorText: a long type, from the body or the header, is cut too (the function writes it)', () => {
  const long = 'E'.repeat(1_000_000);
  assert.equal(functionErrorText(502, long), `function answered 502: ${'E'.repeat(MAX_RECORDED_TYPE)}…`);
  assert.equal(functionErrorText(502, 'Unhandled', { errorType: long, errorMessage: 'm' }), `function answered 502: ${'E'.repeat(MAX_RECORDED_TYPE)}…: m`);
});

test('functionErrorText: a cut never leaves half of a surrogate pair (an emoji across the bound is left out)', () => {
  const type = `${'a'.repeat(MAX_RECORDED_TYPE - 1)}😀`;
  const message = `${'m'.repeat(MAX_RECORDED_MESSAGE - 1)}😀😀`;
  const text = functionErrorText(502, undefined, { errorType: type, errorMessage: message });
  assert.equal(text, `function answered 502: ${'a'.repeat(MAX_RECORDED_TYPE - 1)}…: ${'m'.repeat(MAX_RECORDED_MESSAGE - 1)}…`);
  assert.ok(text.isWellFormed());
  const fits = functionErrorText(502, undefined, { errorType: `${'a'.repeat(MAX_RECORDED_TYPE - 2)}😀` });
  assert.equal(fits, `function answered 502: ${'a'.repeat(MAX_RECORDED_TYPE - 2)}😀`, 'a pair within the bound is whole');
});
