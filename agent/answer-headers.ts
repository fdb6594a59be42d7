// The headers an answer goes out with through /invoke and triggers, finished as Go's net/http
// finishes Fn's (Fn's current invoke handler sets only the length and leaves the rest to it).
// Pure; a table-driven test covers it.
import { detectContentType } from './content-sniff.js';
import type { Headers } from './headers.js';

export interface AnswerShape {
  /** Fill in a missing Content-Type from the body, as Go does; off where a door sets its own. */
  sniff: boolean;
  /** The whole body's length when it is known (a buffered answer); a stream has none. */
  length?: number;
}

/**
 * Go's bodyAllowedForStatus: 204 and 304 answers have no body, so no length and no sniffed type
 * (RFC 9110 §8.6 forbids Content-Length on a 204); a 304 drops its Content-Type too. Only a
 * trigger's Fn-Http-Status can ask for these (a container itself answers 200, 502 or 504).
 */
const noBody = (status: number): boolean => status === 204 || status === 304;

/**
 * `head` is the body's first bytes (512 are enough). A function's own Content-Type is kept; an
 * empty one counts as none (Go would send it empty). Go sniffs only a body that has bytes, and
 * no encoded one, so an empty or a compressed answer gets no type.
 */
export function answerHeaders(status: number, headers: Headers, head: Buffer, shape: AnswerShape): Headers {
  const { 'content-type': type, ...rest } = headers;
  const out: Headers = type ? { ...rest, 'content-type': type } : rest;
  if (noBody(status)) {
    if (status === 304) delete out['content-type'];
    return out;
  }
  // Go sniffs no encoded body (golang.org/issue/31753): gzip bytes say nothing of the content.
  if (!type && shape.sniff && head.length > 0 && !headers['content-encoding']) out['content-type'] = detectContentType(head);
  if (shape.length !== undefined) out['content-length'] = String(shape.length);
  return out;
}
