// JSON bodies for the REST API, bounded by FN_MAX_REQUEST_SIZE (0: no limit) and KILN_BODY_IDLE_TIMEOUT_MSECS.
import type { RequestHandler } from 'express';
import { ApiError } from './errors.js';
import { readBody, type BodyLimits } from './read-body.js';

/** Deepest nesting a REST body may have: storing and answering it recurse (JSON.stringify). */
export const MAX_JSON_DEPTH = 512;

/** Half of a UTF-16 surrogate pair with no other half (`"\ud800"` in JSON). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What a string or key of a body may not hold; undefined when it is fine. */
function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL (\\u0000) character';
  // Each backend stores one its own way (SQLite its three bytes, the others U+FFFD), so what
  // was answered would not be what is read back.
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not a character)';
  return undefined;
}

/**
 * What Kiln will not take in a parsed JSON body, as a message, else undefined (named by its
 * path, e.g. `config.KEY`):
 * - a NUL character in a string or a key: PostgreSQL's text cannot hold it and no environment or
 *   image name can carry it, so every backend refuses it; likewise a lone surrogate;
 * - a number JSON.parse made infinite (`1e400`): it would be stored as null;
 * - the key `__proto__` of the body or of an object in it (config, annotations), which the
 *   validation's objects cannot hold as a key (it would vanish);
 * - nesting deeper than MAX_JSON_DEPTH, which JSON.parse takes but JSON.stringify cannot store.
 */
export function jsonBodyProblem(body: unknown): string | undefined {
  // A loop, not recursion, for the same reason as the depth bound.
  const todo: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }];
  for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
    const { value, path, depth } = item;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem !== undefined) return `${path || 'the body'} ${problem}`;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${path || 'the body'} is a number too large to store`;
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
      const array = Array.isArray(value);
      for (const [k, v] of Object.entries(value)) {
        const here = array ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        // Where validation turns it into an object's prototype (the body's own keys, and those of
        // config and annotations); deeper, in an annotation's JSON value, it is kept as it is.
        const problem = k === '__proto__' && depth <= 1 ? 'is not a key Kiln can store' : textProblem(k);
        if (problem !== undefined) return `${here} ${problem}`;
        todo.push({ value: v, path: here, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/**
 * Reads the body whole (bounded: over the limit it stops reading and answers 413 at once, where
 * body-parser read off a chunked body to its end first, however long) and parses it as JSON,
 * whatever its content type, as Fn does (`curl -d` sends a form content type by default). An
 * empty body is left undefined, so handlers can say it is missing.
 */
export function jsonBody(limits: BodyLimits): RequestHandler {
  return (req, _res, next) => {
    readBody(req, limits).then((raw) => {
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          next(new ApiError(`Invalid JSON: ${(err as Error).message}`));
          return;
        }
      }
      const problem = jsonBodyProblem(body);
      if (problem !== undefined) return next(new ApiError(`Invalid JSON: ${problem}`));
      req.body = body;
      next();
    }, next);
  };
}
