// JSON bodies for the REST API, bounded by FN_MAX_REQUEST_SIZE (0: no limit).
import express, { type RequestHandler } from 'express';
import { ApiError } from './errors.js';

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
  // As Fn, any content type is read as JSON: `curl -d` sends form-encoded headers by default.
  return [declared, express.json({ limit, type: () => true, strict: true }), emptyIsMissing];
}
