// Every failure becomes HTTP here, and only here: Fn's error body {"message": "...", "fields"?}.
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AgentError, StreamCutError, type AgentErrorKind } from '../agent/errors.js';
import { ContainerConfigError, DriverError, ImageNotFoundError } from '../drivers/errors.js';
import { ImageRefError } from '../drivers/image-name.js';
import { HostNotAllowedError } from './allowed-hosts.js';
import { UnauthorizedError } from './auth.js';
import { CrossSiteError } from './cross-site.js';
import { MethodNotAllowedError, PathNotFoundError } from './route-errors.js';
import {
  ConflictError, DatabaseConflictError, DatabaseFullError, DatabaseReadOnlyError, DatabaseTimeoutError, DatabaseUnavailableError, NotFoundError, UnstorableValueError,
} from '../store/errors.js';
import { loggedError } from '../store/db-log.js';
import { boundUnreadBody } from './unread-body.js';
import { BodyStalledError } from './read-body.js';
import { redactUrl } from './log-redact.js';
import { cutAnswer } from '../agent/cut-answer.js';

/** The answer to a URL with a NUL (%00), which no name, id or source holds. */
export const NUL_IN_URL = 'Invalid URL: it contains a NUL (%00) character';

/** The answer's words for a DatabaseTimeoutError (its own message, for the log, says more). */
export const DATABASE_TIMEOUT = 'database did not answer in time';

/** The answer's words for a DatabaseUnavailableError, as GET /health says them: no host, no driver's message. */
export const DATABASE_UNAVAILABLE = 'database unavailable';

/** The answer's words for a DatabaseReadOnlyError, as GET /health says them. */
export const DATABASE_READ_ONLY = 'database is read-only';

/** The answer's words for a DatabaseFullError: writes fail until space is freed on the database's disk. */
export const DATABASE_FULL = 'database is full';

/** The answer's words for a DatabaseConflictError: a deadlock the write lost each time it ran. */
export const DATABASE_CONFLICT = 'database conflict: the write met others changing the same rows; try again';

/** Seconds a 503's caller (and the Lambda APIs' throttled one) is told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 15;

/** Seconds before sending a write again after a DatabaseConflictError: the other write is long done. */
const CONFLICT_RETRY_AFTER_SECONDS = 1;

/** The header that asks a caller to try again in `seconds`. */
const retryAfter = (seconds = RETRY_AFTER_SECONDS): Record<string, string> => ({ 'Retry-After': String(seconds) });

/**
 * A request Kiln refuses as malformed: Fn's 400, naming the field at fault when there is one.
 * Refusals of other kinds have types of their own (ConflictError, PathNotFoundError, ...).
 */
export class ApiError extends Error {
  constructor(message: string, readonly fields?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, fields?: string): ApiError => new ApiError(message, fields);

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
  // The caller's headers, as the function gets them, are more than its HTTP server takes.
  'request-head-too-large': 431,
  'response-too-large': 502,
  'request-too-large': 413,
  'server-busy': 503,
  'too-big-for-host': 400,
  'image-unavailable': 502,
  'shutting-down': 503,
  'unsupported-format': 501,
  'out-of-resources': 503,
  'runtime-unavailable': 503,
  // As an image that cannot be had: the fn cannot run as written, and the message says why.
  'network-refused': 502,
  // Nobody is listening any more; nginx's "client closed request", which Fn records as 444.
  'cancelled': 499,
};

export interface HttpError {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** A 503 that asks the caller to try again. */
const unavailable = (message: string, seconds = RETRY_AFTER_SECONDS): HttpError => ({ status: 503, body: { message }, headers: retryAfter(seconds) });

/** Maps a thrown value to a status and Fn's error body. Unknown errors are 500s. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof AgentError) {
    const status = AGENT_STATUS[err.kind];
    return status === 503
      ? { status, body: { message: err.message }, headers: retryAfter() }
      : { status, body: { message: err.message } };
  }
  // A fn's image that cannot be had: the function is unreachable, and the message says how to fix it.
  if (err instanceof ImageNotFoundError || err instanceof ImageRefError) return { status: 502, body: { message: err.message } };
  if (err instanceof ContainerConfigError) return { status: 502, body: { message: err.message } };
  if (err instanceof DriverError) return { status: 503, body: { message: `container engine error: ${err.message}` }, headers: retryAfter() };
  // The rest of the body will not come: the connection closes after the answer.
  if (err instanceof BodyStalledError) return { status: 408, body: { message: err.message }, headers: { Connection: 'close' } };
  if (err instanceof ApiError) {
    const body: ErrorBody = { message: err.message };
    if (err.fields !== undefined) body.fields = err.fields;
    return { status: 400, body };
  }
  if (err instanceof UnauthorizedError) return { status: 401, body: { message: err.message }, headers: { 'WWW-Authenticate': err.challenge } };
  if (err instanceof HostNotAllowedError) return { status: 403, body: { message: err.message } };
  if (err instanceof CrossSiteError) return { status: 403, body: { message: err.message } };
  if (err instanceof PathNotFoundError) return { status: 404, body: { message: err.message } };
  if (err instanceof MethodNotAllowedError) return { status: 405, body: { message: err.message }, headers: { Allow: err.allow.join(', ') } };
  if (err instanceof NotFoundError) return { status: 404, body: { message: err.message } };
  if (err instanceof ConflictError) return { status: 409, body: { message: err.message } };
  if (err instanceof UnstorableValueError) return { status: 400, body: { message: err.message } };
  // The database is stopped, overloaded or cut off: worth trying again, as a busy server is.
  if (err instanceof DatabaseTimeoutError) return unavailable(DATABASE_TIMEOUT);
  // Out of space (a kind of unavailable, so before it): writes work again once space is freed.
  if (err instanceof DatabaseFullError) return unavailable(DATABASE_FULL);
  // Answering but refusing writes (a hot standby), as GET /health finds it: another kind of unavailable.
  if (err instanceof DatabaseReadOnlyError) return unavailable(DATABASE_READ_ONLY);
  // Refused, restarting or out of connections: as retryable, and more quickly said.
  if (err instanceof DatabaseUnavailableError) return unavailable(DATABASE_UNAVAILABLE);
  // Rolled back to break a deadlock, after the store ran it again a few times: nothing written, worth sending again.
  if (err instanceof DatabaseConflictError) return unavailable(DATABASE_CONFLICT, CONFLICT_RETRY_AFTER_SECONDS);
  // A path segment that is not valid percent-encoding (the router's decodeURIComponent).
  if (err instanceof URIError) return { status: 400, body: { message: `Invalid URL: ${err.message}` } };
  // Client errors from express's own modules (http-errors marks them `expose`): their own status.
  const e = err as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose === true) {
    return { status: e.status, body: { message: String(e.message) } };
  }
  return { status: 500, body: { message: 'internal server error' } };
}

/**
 * A JSON answer with its length, in one write. The invoke paths' early answers (errors before
 * the body was read) go through here, so here what is read of an unread body is bounded;
 * express's answers are bounded by the hook boot.ts puts on every request it passes on.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  boundUnreadBody(res);
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Failures the operator must hear of though the caller gets no 500. */
function logWorthy(err: unknown, status: number): boolean {
  return status === 500 || err instanceof DatabaseTimeoutError || err instanceof DatabaseUnavailableError || err instanceof DatabaseConflictError;
}

/** A failure's log fields: the request's URL with its secret-looking query values masked, as every request line has it. */
function failureFields(err: unknown, context: Record<string, unknown>): Record<string, unknown> {
  const { url } = context;
  return { ...loggedError(err), ...context, ...(typeof url === 'string' && { url: redactUrl(url) }) };
}

/** Answers with the error's status and Fn's body; cuts the connection when an answer has begun. */
/**
 * What a trigger's caller, who may be anyone, is answered for an error: toHttpError's status,
 * with Fn's fixed words where the message would carry what only the operator should see (a
 * failed start's output, the container engine's own text: host paths, internal addresses, an
 * app's syslog_url, a registry's refusal). The log and the call's record keep the detail.
 */
export function toPublicHttpError(err: unknown): HttpError {
  if (err instanceof AgentError) return toHttpError(err.forPublic());
  if (err instanceof ImageNotFoundError || err instanceof ImageRefError) return { status: 502, body: { message: PUBLIC_IMAGE_UNAVAILABLE } };
  if (err instanceof ContainerConfigError) return { status: 502, body: { message: PUBLIC_CONTAINER_FAILED } };
  if (err instanceof DriverError) return { status: 503, body: { message: PUBLIC_ENGINE_ERROR }, headers: retryAfter() };
  return toHttpError(err);
}

const PUBLIC_IMAGE_UNAVAILABLE = "the function's image is not available";
const PUBLIC_CONTAINER_FAILED = 'container failed to start';
const PUBLIC_ENGINE_ERROR = 'container engine error';

/** `publicCaller`: a trigger's (see toPublicHttpError); the log has the whole error either way. */
export function sendError(res: ServerResponse, err: unknown, log: Logger, context: Record<string, unknown> = {}, publicCaller = false): void {
  const { status, body, headers } = publicCaller ? toPublicHttpError(err) : toHttpError(err);
  if (logWorthy(err, status)) log.error(failureFields(err, context), 'request failed');
  if (res.headersSent || res.destroyed) {
    cutAnswer(res);
    return;
  }
  sendJson(res, status, body, headers);
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => sendError(res, err, log, { method: req.method, url: req.originalUrl });
}

/**
 * Answers an express route's refusal (no such path, another method) through express, whose
 * `Content-Type` and `Content-Length` header names these answers have always had (sendJson's
 * are lower-case).
 */
export function sendRouteError(res: Response, err: PathNotFoundError | MethodNotAllowedError): void {
  const { status, body, headers } = toHttpError(err);
  res.status(status).set(headers ?? {}).json(body);
}

/** Fn's answer for a route that does not exist. */
export const pathNotFound: RequestHandler = (req, res) => {
  sendRouteError(res, new PathNotFoundError(req.method, req.path));
};

// ---- The Lambda Invoke API's error shape (api/lambda-invoke.ts), mapped here beside Fn's ----

/** Lambda's error types the Invoke front door answers with. */
export type LambdaErrorType =
  | 'InvalidParameterValueException'
  | 'InvalidRequestContentException'
  | 'ResourceNotFoundException'
  | 'RequestTooLargeException'
  | 'TooManyRequestsException'
  | 'ServiceException'
  | 'EC2UnexpectedException'
  | 'InvalidRuntimeException'
  | 'ResourceNotReadyException'
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'UnrecognizedClientException'
  | 'AccessDeniedException';

/** Each type's status, as the service answers it: a type and its status cannot disagree. */
const LAMBDA_STATUS: Readonly<Record<LambdaErrorType, number>> = {
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  ResourceNotFoundException: 404,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  // Kiln's 503s to try again (its database, its host short of resources) are ServiceExceptions too: serviceUnavailable, below.
  ServiceException: 500,
  EC2UnexpectedException: 502,
  InvalidRuntimeException: 502,
  ResourceNotReadyException: 502,
  // The AWS protocols' answer to an operation the endpoint does not serve: 404, or 405 (an
  // override) for a served path with another method.
  UnknownOperationException: 404,
  // Not Lambda's (its IAM layer's), for Kiln's bearer token on this path.
  MissingAuthenticationTokenException: 401,
  UnrecognizedClientException: 401,
  // The service's 403 for a caller it will not serve; Kiln's, for a Host it does not answer to.
  AccessDeniedException: 403,
};

/** A request the Invoke API refuses, with Lambda's type (and message) for it; its status is the type's unless said. */
export class LambdaApiError extends Error {
  readonly status: number;

  constructor(readonly type: LambdaErrorType, message: string, options?: { status?: number }) {
    super(message);
    this.name = 'LambdaApiError';
    this.status = options?.status ?? LAMBDA_STATUS[type];
  }
}

/**
 * The JSON member the service's model gives each type's message (`Message` or `message`);
 * SDK v3 reads either, other SDKs the one of the model.
 */
const CAPITAL_MESSAGE = new Set<LambdaErrorType>(['ResourceNotFoundException', 'ServiceException', 'EC2UnexpectedException', 'InvalidRuntimeException']);

export type LambdaOutcome =
  /** A platform error: its status, `x-amzn-ErrorType`, and body `{"Type","message"|"Message"}`. */
  | { kind: 'platform'; status: number; type: LambdaErrorType; message: string; headers?: Record<string, string> }
  /**
   * The function's failure: a 200 with `X-Amz-Function-Error: Unhandled`, as the service answers
   * a sync call. `verbatim`: the message is already as the caller sees it (a runtime's own words,
   * or the daemon's `RequestId: … Error: …`), not to be put in the service's form again.
   */
  | { kind: 'function'; errorType: string; errorMessage: string; verbatim?: true };

/** A platform error of `type`, with the type's status unless `status` says otherwise. */
const platform = (type: LambdaErrorType, message: string, extra: { status?: number; headers?: Record<string, string> } = {}): LambdaOutcome =>
  ({ kind: 'platform', status: extra.status ?? LAMBDA_STATUS[type], type, message, ...(extra.headers && { headers: extra.headers }) });

/** Kiln's 503 to try again (its host, its database), as the service's ServiceException. */
const serviceUnavailable = (message: string, seconds = RETRY_AFTER_SECONDS): LambdaOutcome =>
  platform('ServiceException', message, { status: 503, headers: retryAfter(seconds) });

/**
 * Maps a thrown value to the Invoke API's answer. Failures of the function's own (a timeout, a
 * crash mid-call, an answer over the size limit) are what the service reports as Unhandled
 * function errors; failures to run it at all are platform errors with the closest Lambda type.
 */
export function toLambdaError(err: unknown, fnTimeoutSec?: number): LambdaOutcome {
  if (err instanceof LambdaApiError) return platform(err.type, err.message, { status: err.status });
  // Lambda's model has no type for it: the caller's request content, at HTTP's status for it.
  if (err instanceof BodyStalledError) return platform('InvalidRequestContentException', err.message, { status: 408, headers: { Connection: 'close' } });
  // A stream cut short by the function's own error (its type from the daemon's trailer); one cut
  // at the deadline is a timeout like any other (its kind), below.
  if (err instanceof StreamCutError && err.kind !== 'timeout') {
    return err.errorMessage !== undefined
      ? { kind: 'function', errorType: err.errorType, errorMessage: err.errorMessage, verbatim: true }
      : { kind: 'function', errorType: err.errorType, errorMessage: err.message };
  }
  if (err instanceof AgentError) {
    switch (err.kind) {
      case 'timeout': return { kind: 'function', errorType: 'Sandbox.Timedout', errorMessage: fnTimeoutSec === undefined ? err.message : timedOutMessage(fnTimeoutSec) };
      case 'function-failed': return { kind: 'function', errorType: 'Runtime.ExitError', errorMessage: err.message };
      case 'response-too-large': return { kind: 'function', errorType: 'Function.ResponseSizeTooLarge', errorMessage: err.message };
      case 'request-too-large': return platform('RequestTooLargeException', err.message);
      case 'request-head-too-large': return platform('InvalidRequestContentException', err.message);
      // The service's throttle: the same wait Kiln's 503 asks for.
      case 'server-busy': return platform('TooManyRequestsException', err.message, { headers: retryAfter() });
      case 'shutting-down': return platform('ServiceException', err.message, { headers: retryAfter() });
      // The server's host ran short: as a database that cannot answer, worth trying again.
      case 'runtime-unavailable':
      case 'out-of-resources': return serviceUnavailable(err.message);
      // The sandbox could not be set up (Lambda's "unexpected exception while setting up for the function").
      case 'start-timeout':
      case 'init-failed': return platform('EC2UnexpectedException', err.message);
      // The function does not speak its contract, or its format cannot run here.
      case 'invalid-response':
      case 'unsupported-format': return platform('InvalidRuntimeException', err.message);
      // Lambda's answer when a function's VPC connection cannot be had.
      case 'image-unavailable':
      case 'network-refused': return platform('ResourceNotReadyException', err.message);
      case 'too-big-for-host': return platform('InvalidParameterValueException', err.message);
      case 'cancelled': return platform('ServiceException', err.message);
    }
  }
  // The fn exists but its image cannot be had (yet): it is not ready to run.
  if (err instanceof ImageNotFoundError || err instanceof ImageRefError) return platform('ResourceNotReadyException', err.message);
  // Its network or log destination cannot be had: the fn's configuration, as a refused network is.
  if (err instanceof ContainerConfigError) return platform('ResourceNotReadyException', err.message);
  if (err instanceof DriverError) return platform('EC2UnexpectedException', `container engine error: ${err.message}`);
  if (err instanceof UnauthorizedError) {
    return err.reason === 'invalid'
      ? platform('UnrecognizedClientException', err.message, { headers: { 'WWW-Authenticate': err.challenge } })
      : platform('MissingAuthenticationTokenException', err.message, { headers: { 'WWW-Authenticate': err.challenge } });
  }
  if (err instanceof HostNotAllowedError) return platform('AccessDeniedException', err.message);
  if (err instanceof NotFoundError) return platform('ResourceNotFoundException', err.message);
  if (err instanceof DatabaseTimeoutError) return serviceUnavailable(DATABASE_TIMEOUT);
  if (err instanceof DatabaseFullError) return serviceUnavailable(DATABASE_FULL);
  if (err instanceof DatabaseReadOnlyError) return serviceUnavailable(DATABASE_READ_ONLY);
  if (err instanceof DatabaseUnavailableError) return serviceUnavailable(DATABASE_UNAVAILABLE);
  if (err instanceof DatabaseConflictError) return serviceUnavailable(DATABASE_CONFLICT, CONFLICT_RETRY_AFTER_SECONDS);
  return platform('ServiceException', 'internal server error');
}

/** The service's words for a call past its timeout (as Kiln's Lambda daemon says them). */
export const timedOutMessage = (seconds: number): string => `Task timed out after ${seconds.toFixed(2)} seconds`;

/** A function outcome's message as the caller sees it: in the service's form (`RequestId: <id> Error: <message>`) unless already given so. */
export function outcomeMessage(requestId: string, o: Extract<LambdaOutcome, { kind: 'function' }>): string {
  return o.verbatim ? o.errorMessage : `RequestId: ${requestId} Error: ${o.errorMessage}`;
}

/**
 * Answers an Invoke API request that failed: a platform error in Lambda's shape, or an
 * Unhandled function error. `headers` are the request's own (its id). Cuts the connection
 * when an answer has begun.
 */
export interface LambdaErrorContext {
  requestId: string;
  /** Headers for the answer (the call id, a log tail). */
  headers?: Record<string, string>;
  /** The fn's timeout, when a fn was found: a timeout's message names it. */
  timeoutSec?: number;
  /** For the log line of an unexpected error. */
  context?: Record<string, unknown>;
}

export function sendLambdaError(res: ServerResponse, err: unknown, log: Logger, ctx: LambdaErrorContext): void {
  const { requestId, headers = {}, context = {} } = ctx;
  const outcome = toLambdaError(err, ctx.timeoutSec);
  if (outcome.kind === 'platform' && logWorthy(err, outcome.status) && !(err instanceof AgentError)) log.error(failureFields(err, context), 'request failed');
  if (res.headersSent || res.destroyed) {
    cutAnswer(res);
    return;
  }
  const base = { ...headers, 'X-Amzn-RequestId': requestId };
  if (outcome.kind === 'function') {
    const body = JSON.stringify({ errorType: outcome.errorType, errorMessage: outcomeMessage(requestId, outcome) });
    res.writeHead(200, { ...base, 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Executed-Version': '$LATEST', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const body: Record<string, string> = { Type: outcome.status < 500 ? 'User' : 'Service', [CAPITAL_MESSAGE.has(outcome.type) ? 'Message' : 'message']: outcome.message };
  if (outcome.type === 'TooManyRequestsException') body.Reason = 'ConcurrentInvocationLimitExceeded';
  sendJson(res, outcome.status, body, { ...base, ...outcome.headers, 'x-amzn-ErrorType': outcome.type });
}
