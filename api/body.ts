// JSON bodies for the REST API, bounded by FN_MAX_REQUEST_SIZE (0: no limit).
import express, { type RequestHandler } from 'express';
import { ApiError } from './errors.js';

/** Deepest nesting a REST body may have: storing and answering it recurse (JSON.stringify). */
export const MAX_JSON_DEPTH = 512;

/**
 * What Kiln will not take in a parsed JSON body, as a message, else undefined:
 * - a NUL character in a string or a key (named by its path, e.g. `config.KEY`): PostgreSQL's
 *   text cannot hold it and no environment or image name can carry it, so every backend refuses it;
 * - nesting deeper than MAX_JSON_DEPTH, which JSON.parse takes but JSON.stringify cannot store.
 */
export function jsonBodyProblem(body: unknown): string | undefined {
  // A loop, not recursion, for the same reason as the depth bound.
  const todo: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }];
  for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
    const { value, path, depth } = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return `${path || 'the body'} contains a NUL (\\u0000) character`;
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
      const array = Array.isArray(value);
      for (const [k, v] of Object.entries(value)) {
        const here = array ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        if (k.includes('\u0000')) return `${here} contains a NUL (\\u0000) character`;
        todo.push({ value: v, path: here, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

export function jsonBody(maxBytes: number): RequestHandler[] {
  const limit = maxBytes > 0 ? maxBytes : Number.MAX_SAFE_INTEGER;
  // Refuse up front on a declared length, with Fn's message; chunked bodies are cut off by the parser.
  const declared: RequestHandler = (req, _res, next) => {
    const n = Number(req.get('content-length'));
    if (maxBytes > 0 && Number.isFinite(n) && n > maxBytes) {
      next(new ApiError(413, `Content-Length too large for this server, ${n} > max ${maxBytes}`));
      return;
    }
    next();
  };
  // The parser turns an empty body into {}; leave it undefined so handlers can say it is missing.
  const emptyIsMissing: RequestHandler = (req, _res, next) => {
    const len = req.get('content-length');
    if (len === '0' || (len === undefined && req.get('transfer-encoding') === undefined)) req.body = undefined;
    next();
  };
  const storable: RequestHandler = (req, _res, next) => {
    const problem = jsonBodyProblem(req.body);
    next(problem === undefined ? undefined : new ApiError(400, `Invalid JSON: ${problem}`));
  };
  // As Fn, any content type is read as JSON: `curl -d` sends form-encoded headers by default.
  return [declared, express.json({ limit, type: () => true, strict: true }), emptyIsMissing, storable];
}
