// A container's error answer (502, 504) in Lambda's terms (api/lambda-function-error.ts): the
// payload Invoke answers, and the type and message InvokeWithResponseStream reports.
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { functionErrorAnswer, type FunctionErrorAnswer } from '../../api/lambda-function-error.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const timedOut = (n: string) => ({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: r1 Error: Task timed out after ${n} seconds` });

test('functionErrorAnswer', () => {
  const runtimeError = { errorMessage: 'it failed', errorType: 'MyError', stackTrace: ['at handler'] };
  const daemonTimeout = { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: r1 Error: Task timed out after 3.00 seconds' };
  const cases: [string, 502 | 504, OutgoingHttpHeaders, Buffer, boolean, { payload: unknown; errorType: string; errorMessage: string }][] = [
    ['a lambda runtime\'s error: its type from the daemon\'s header, its message', 502, { 'x-amz-function-error': 'MyError' }, json(runtimeError), true,
      { payload: runtimeError, errorType: 'MyError', errorMessage: 'it failed' }],
    ['a lambda error body naming another type: the header wins', 502, { 'x-amz-function-error': 'Runtime.ExitError' }, json({ errorType: 'X', errorMessage: 'm' }), true,
      { payload: { errorType: 'X', errorMessage: 'm' }, errorType: 'Runtime.ExitError', errorMessage: 'm' }],
    ['a lambda runtime\'s type in UTF-8: the header\'s bytes (read as Latin-1) are decoded', 502, { 'x-amz-function-error': Buffer.from('Hdr😀Type').toString('latin1') }, Buffer.from('not json'), true,
      { payload: 'not json', errorType: 'Hdr😀Type', errorMessage: 'not json' }],
    ['a lambda error without the header: the body\'s type', 502, {}, json({ errorType: 'X', errorMessage: 'm' }), true,
      { payload: { errorType: 'X', errorMessage: 'm' }, errorType: 'X', errorMessage: 'm' }],
    ['a lambda timeout as the daemon words it (marked Unhandled): as it is, the body naming the type', 504, { 'x-amz-function-error': 'Unhandled' }, json(daemonTimeout), true,
      { payload: daemonTimeout, ...daemonTimeout }],
    ['a crash the daemon found', 502, { 'x-amz-function-error': 'Unhandled' }, json({ errorType: 'Runtime.ExitError', errorMessage: 'RequestId: r1 Error: Runtime exited with error: exit status 7' }), true,
      { payload: { errorType: 'Runtime.ExitError', errorMessage: 'RequestId: r1 Error: Runtime exited with error: exit status 7' }, errorType: 'Runtime.ExitError', errorMessage: 'RequestId: r1 Error: Runtime exited with error: exit status 7' }],
    ['a lambda 504 with no body: the service\'s timeout', 504, {}, Buffer.alloc(0), true, { payload: timedOut('3.00'), ...timedOut('3.00') }],
    ['an http-stream fn\'s 504: the service\'s timeout, whatever it said', 504, {}, Buffer.from('gateway timeout'), false, { payload: timedOut('3.00'), ...timedOut('3.00') }],
    ['an http-stream fn\'s 502 in text: Unhandled, the text as the message', 502, {}, Buffer.from('boom\n'), false,
      { payload: 'boom\n', errorType: 'Unhandled', errorMessage: 'boom\n' }],
    ['an http-stream fn\'s 502 in Lambda\'s JSON: its type and message', 502, {}, json({ errorType: 'Oops', errorMessage: 'bad input' }), false,
      { payload: { errorType: 'Oops', errorMessage: 'bad input' }, errorType: 'Oops', errorMessage: 'bad input' }],
    ['an http-stream fn cannot name the type in a header', 502, { 'x-amz-function-error': 'Forged' }, json({ error: 1 }), false,
      { payload: { error: 1 }, errorType: 'Unhandled', errorMessage: '{"error":1}' }],
    ['JSON that is not an object, members that are not strings', 502, {}, json([1, { errorType: 2 }]), false,
      { payload: [1, { errorType: 2 }], errorType: 'Unhandled', errorMessage: '[1,{"errorType":2}]' }],
    ['an empty 502', 502, {}, Buffer.alloc(0), false, { payload: '', errorType: 'Unhandled', errorMessage: '' }],
  ];
  for (const [name, status, headers, body, lambda, want] of cases) {
    const got: FunctionErrorAnswer = functionErrorAnswer(status, headers, body, { requestId: 'r1', timeoutSec: 3, lambda });
    const payload = typeof want.payload === 'string' ? got.payload.toString('utf8') : JSON.parse(got.payload.toString('utf8'));
    assert.deepEqual({ payload, errorType: got.errorType, errorMessage: got.errorMessage }, want, name);
  }
});
