// The Lambda daemon's error answers (runtime/errors.ts), as the service words them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invalidStateTransition } from '../../runtime/errors.js';

test("invalidStateTransition: the service's 403, naming the state the runtime was in and the one it asked for", () => {
  const cases: [string, string, string][] = [
    ['Running', 'Ready', 'State transition from Running to Ready failed for runtime. Error: State transition is not allowed'],
    ['InitError', 'Ready', 'State transition from InitError to Ready failed for runtime. Error: State transition is not allowed'],
    ['ResponseSent', 'InvocationResponse', 'State transition from ResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed'],
    ['Ready', 'InitError', 'State transition from Ready to InitError failed for runtime. Error: State transition is not allowed'],
  ];
  for (const [from, to, message] of cases) {
    const err = invalidStateTransition(from, to);
    assert.deepEqual([err.status, err.errorType, err.message], [403, 'InvalidStateTransition', message]);
  }
});
