// Shared assertion for the unit tests: a call throws an error that api/errors.ts answers with this
// status and message (an ApiError's 400, a ConflictError's 409, ...).
import assert from 'node:assert/strict';
import { toHttpError } from '../../api/errors.js';

export interface ExpectedApiError {
  status: number;
  /** Exact message, or a pattern for messages that embed a library's own wording. */
  message: string | RegExp;
  /** When given, the answer's `fields` must equal it (use null to require no fields). */
  fields?: string | null;
}

export function assertApiError(fn: () => unknown, expected: ExpectedApiError): void {
  assert.throws(fn, (err: unknown) => {
    const { status, body } = toHttpError(err);
    assert.equal(status, expected.status, `answered ${status} for ${String(err)}`);
    if (typeof expected.message === 'string') assert.equal(body.message, expected.message);
    else assert.match(body.message, expected.message);
    if (expected.fields !== undefined) assert.equal(body.fields, expected.fields ?? undefined);
    return true;
  });
}

export const badRequestError = (message: string | RegExp, fields?: string | null): ExpectedApiError =>
  fields === undefined ? { status: 400, message } : { status: 400, message, fields };
