// Every failure becomes HTTP here, and only here: Fn's error body {"message": "...", "fields"?}.
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { AgentError, type AgentErrorKind } from '../agent/errors.js';
import { DriverError, ImageNotFoundError } from '../drivers/errors.js';
import { ImageRefError } from '../drivers/image-name.js';
import { UnauthorizedError } from './auth.js';
import { ConflictError, NotFoundError, UnstorableValueError } from '../store/errors.js';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly fields?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, fields?: string): ApiError => new ApiError(400, message, fields);

export interface ErrorBody {
  message: string;
  fields?: string;
}

/** Fn's statuses for what can go wrong running a call. */
const AGENT_STATUS: Record<AgentErrorKind, number> = {
  'timeout': 504,
  'start-timeout': 504,
  'init-failed': 502,
  'function-failed': 502,
  'invalid-response': 502,
  'response-too-large': 502,
  'request-too-large': 413,
  'server-busy': 503,
  'too-big-for-host': 400,
  'image-unavailable': 502,
  'shutting-down': 503,
  'unsupported-format': 501,
  // Nobody is listening any more; nginx's "client closed request", which Fn records as 444.
  'cancelled': 499,
};

export interface HttpError {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** Maps a thrown value to a status and Fn's error body. Unknown errors are 500s. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof AgentError) {
    const status = AGENT_STATUS[err.kind];
    return status === 503
      ? { status, body: { message: err.message }, headers: { 'Retry-After': '15' } }
      : { status, body: { message: err.message } };
  }
  // A fn's image that cannot be had: the function is unreachable, and the message says how to fix it.
  if (err instanceof ImageNotFoundError || err instanceof ImageRefError) return { status: 502, body: { message: err.message } };
  if (err instanceof DriverError) return { status: 503, body: { message: `container engine error: ${err.message}` }, headers: { 'Retry-After': '15' } };
  if (err instanceof ApiError) {
    const body: ErrorBody = { message: err.message };
    if (err.fields !== undefined) body.fields = err.fields;
    return { status: err.status, body };
  }
  if (err instanceof UnauthorizedError) return { status: 401, body: { message: err.message }, headers: { 'WWW-Authenticate': err.challenge } };
  if (err instanceof NotFoundError) return { status: 404, body: { message: err.message } };
  if (err instanceof ConflictError) return { status: 409, body: { message: err.message } };
  if (err instanceof UnstorableValueError) return { status: 400, body: { message: err.message } };
  // body-parser's own errors carry a `type`.
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') {
    return { status: 400, body: { message: `Invalid JSON: ${(err as Error).message}` } };
  }
  if (type === 'entity.too.large') return { status: 413, body: { message: 'Request body too large' } };
  // A path segment that is not valid percent-encoding (the router's decodeURIComponent).
  if (err instanceof URIError) return { status: 400, body: { message: `Invalid URL: ${err.message}` } };
  // Other client errors from body-parser (http-errors marks them `expose`): their own status.
  const e = err as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true) {
    return { status: e.status, body: { message: String(e.message) } };
  }
  return { status: 500, body: { message: 'internal server error' } };
}

/** A JSON answer with its length, in one write. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers with the error's status and Fn's body; cuts the connection when an answer has begun. */
export function sendError(res: ServerResponse, err: unknown, log: Logger, context: Record<string, unknown> = {}): void {
  const { status, body, headers } = toHttpError(err);
  if (status === 500) log.error({ err, ...context }, 'request failed');
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  sendJson(res, status, body, headers);
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => sendError(res, err, log, { method: req.method, url: req.originalUrl });
}

/** Fn's answer for a route that does not exist. */
export const pathNotFound: RequestHandler = (req, res) => {
  res.status(404).json({ message: `Path not found: ${req.method} ${req.path}` });
};
