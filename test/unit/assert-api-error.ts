// Shared assertion for the unit tests: a call throws an ApiError with this status and message.
import assert from 'node:assert/strict';
import { ApiError } from '../../api/errors.js';

export interface ExpectedApiError {
  status: number;
  /** Exact message, or a pattern for messages that embed a library's own wording. */
  message: string | RegExp;
  /** When given, the error's `fields` must equal it (use null to require no fields). */
  fields?: string | null;
}

export function assertApiError(fn: () => unknown, expected: ExpectedApiError): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.status, expected.status);
    if (typeof expected.message === 'string') assert.equal(err.message, expected.message);
    else assert.match(err.message, expected.message);
    if (expected.fields !== undefined) assert.equal(err.fields, expected.fields ?? undefined);
    return true;
  });
}

export const badRequestError = (message: string | RegExp, fields?: string | null): ExpectedApiError =>
  fields === undefined ? { status: 400, message } : { status: 400, message, fields };
