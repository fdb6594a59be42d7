// What a call's record says went wrong when the function answered an error. For a Lambda fn the
// answer's body is the service's error document: its type and message are what the operator
// needs (an Event or detached call's record is the only trace of them). Pure; table-driven test.
import { headOf } from './cut-text.js';

/** The longest message kept in a record (a stack trace may follow it in the log). */
export const MAX_RECORDED_MESSAGE = 1024;
/** The longest error type kept: Lambda's are short names (`Runtime.ExitError`); the function chooses it. */
export const MAX_RECORDED_TYPE = 128;
/** Error documents are small: a longer body is not read for one. */
const MAX_ERROR_DOC_BYTES = 64 * 1024;

/** `{errorType, errorMessage}` of a Lambda error body, as far as it has them. */
export function lambdaErrorOf(body: Buffer): { errorType?: string; errorMessage?: string } {
  if (body.length === 0 || body.length > MAX_ERROR_DOC_BYTES) return {};
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const { errorType, errorMessage } = v as Record<string, unknown>;
    return {
      ...(typeof errorType === 'string' && errorType !== '' && { errorType }),
      ...(typeof errorMessage === 'string' && errorMessage !== '' && { errorMessage }),
    };
  } catch {
    return {};
  }
}

/**
 * `function answered 502: TYPE: MESSAGE`: the body's type before the header's (X-Amz-Function-Error
 * says `Unhandled` for the platform's failures, whose body names them), its type cut to
 * MAX_RECORDED_TYPE and its message to MAX_RECORDED_MESSAGE characters: the function writes
 * both, and every listing of calls carries the record.
 */
export function functionErrorText(status: number, headerType: string | undefined, doc: { errorType?: string; errorMessage?: string } = {}): string {
  const type = cut(doc.errorType ?? headerType, MAX_RECORDED_TYPE);
  const message = cut(doc.errorMessage, MAX_RECORDED_MESSAGE);
  return `function answered ${status}${type !== undefined ? `: ${type}` : ''}${message !== undefined ? `: ${message}` : ''}`;
}

/** An error type for a record, cut to MAX_RECORDED_TYPE. */
export const recordedType = (type: string): string => cut(type, MAX_RECORDED_TYPE)!;

const cut = (text: string | undefined, max: number): string | undefined =>
  text === undefined || text.length <= max ? text : `${headOf(text, max)}…`;
