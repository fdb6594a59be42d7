// One call over a container's socket, its answer relayed to the caller as it arrives.
// Written against undici's dispatch handler API: no response stream object or async
// iterator per call, and backpressure is pause()/resume() on the container's connection.
import type { OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { AgentError, STREAM_TIMEOUT_TYPE, StreamCutError } from './errors.js';
import { headerText, toCallerResponse, type Headers } from './headers.js';
import { headOf } from './content-sniff.js';
import { answerHeaders } from './answer-headers.js';
import { lambdaErrorOf } from './call-error.js';
import { publicErrorAnswer, type PublicErrorAnswer } from './public-error-answer.js';
import { cutAnswer, type BegunAnswer } from './cut-answer.js';
import type { HeadMeter } from './head-meter.js';
import {
  BUSY_AFTER_HEADER, DEADLINE_HEADER, LOG_FROM_HEADER, LOG_HEADER, REPORT_LATE_HEADER, STREAM_ERROR_MESSAGE_TRAILER,
  STREAM_ERROR_TRAILER, STREAMING_HEADER, STREAMING_MODE,
} from '../runtime/wire.js';

/** Where a call's answer goes: a node ServerResponse, or a sink for detached calls. */
export interface ResponseTarget extends BegunAnswer {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  /** A ServerResponse's: sends the head written so far. */
  flushHeaders?(): void;
  /** A ServerResponse's: the bytes written and not yet taken by the caller's connection. */
  readonly writableLength?: number;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * How much of an answer's head (status line and headers) the agent reads. Node's 16 KiB default
 * is too little for what functions send (large cookies, policies, tokens); Fn's Go client reads
 * 10 MB. 1 MiB covers real heads and bounds what one call can make the agent hold.
 */
export const MAX_RESPONSE_HEAD_BYTES = 1024 * 1024;

/**
 * What a lambda fn's error answer may take whatever the response limit: the daemon's own error
 * documents (Function.ResponseSizeTooLarge naming the limit, say) run to a few hundred bytes, and
 * under a tiny FN_MAX_RESPONSE_SIZE they would be cut and the caller told of Kiln's limit instead.
 */
export const LAMBDA_ERROR_ROOM = 4096;

/** Below this, and up to the response limit, an answer is buffered and sent with its length. */
export const RESPONSE_WINDOW = 64 * 1024;

/** FN_MAX_RESPONSE_SIZE's default: Lambda's payload limit, 6 MiB and 100 bytes, as the service and RIE enforce it. */
export const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/**
 * What of an answer the server holds for a caller that reads slower than the function writes:
 * under a response limit, that much (a whole answer, as Fn buffers every answer before writing
 * it); with none (0), the limit's default.
 */
const aheadFor = (maxBytes: number): number => (maxBytes > 0 ? maxBytes : DEFAULT_MAX_RESPONSE_BYTES);

export interface RelayOptions {
  /** FN_MAX_RESPONSE_SIZE; 0 means none. */
  maxBytes: number;
  /** The bound on an answer passed on as a stream (a Lambda response stream, or passThrough); 0 means none. */
  maxStreamedBytes: number;
  /** Through a trigger: Fn-Http-Status and Fn-Http-H-* are unwrapped. */
  gateway: boolean;
  /** The caller asked HEAD (through a trigger): a length the function gave is the answer's, as in Fn. */
  head?: boolean;
  /** Aborts the exchange (timeout, caller gone, container exited); its reason is kept. */
  signal: AbortSignal;
  /** Pass every answer on chunk by chunk as it comes, however short (no window). */
  passThrough?: boolean;
  /**
   * The container runs Kiln's Lambda daemon: only then is its Kiln-Response-Mode believed (a
   * stream, with the streamed bound). Any other fn could send the header itself.
   */
  lambda?: boolean;
  /** Give an answer without a Content-Type Fn's sniffed one (the Fn doors; not the Lambda APIs). */
  sniff?: boolean;
  /**
   * Lambda: told, as the answer's head arrives (a stream's long before its end), where the
   * invocation's output begins in the container's log (Kiln-Log-From); undefined when not said.
   */
  onLogFrom?(offset: number | undefined): void;
  /** The connection's head meter, armed as the request goes out (see head-meter.ts). */
  meter?: HeadMeter;
  /**
   * The fn's timeout: how long a caller may take over what is left of its answer once the
   * function has written all of it; then its connection is cut. Unset: no bound.
   */
  timeoutMs?: number;
}

/**
 * Waits until the caller's connection drains. Bounded by the call's signal, so a caller that
 * stops reading cannot hold the container past the fn's timeout.
 */
function drained(res: ResponseTarget, signal: AbortSignal): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('caller connection closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      res.removeListener('drain', onDrain);
      res.removeListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('caller connection closed'));
    const onAbort = () => done(new Error('aborted while the caller was not reading'));
    if (signal.aborted) return onAbort();
    res.once('drain', onDrain);
    res.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const asError = (reason: unknown): Error => (reason instanceof Error ? reason : new Error(String(reason)));

/**
 * The function is done with an answer its caller has not taken all of: the container is free,
 * and what is left is held for the caller `ms` more at most, then its connection is cut.
 */
function letGoAfter(res: ResponseTarget, ms: number | undefined): void {
  if (ms === undefined || res.destroyed || !((res.writableLength ?? 0) > 0)) return;
  const timer = setTimeout(() => cutAnswer(res, new Error('the caller did not take the rest of its answer in time')), ms);
  res.once('close', () => clearTimeout(timer));
}

export interface RelayResult {
  status: number;
  /** X-Amz-Function-Error of a 502/504 (the Lambda layer's error type). */
  functionError?: string;
  /** A Lambda 502/504's error document (its type and message), when its body was read whole. */
  errorDoc?: { errorType?: string; errorMessage?: string };
  /** Log lines the Lambda daemon sent with its answer (Kiln-Log), for the call's log. */
  platformLog?: Buffer;
  /** A Lambda response stream that failed after its first byte: the error type (the caller's stream was cut short). */
  streamError?: string;
  /** The Lambda daemon said its sandbox stays busy after this answer (Kiln-Busy-After). */
  busyAfter?: true;
  /** The Lambda daemon said the invocation's END and REPORT follow later, once its extensions are done (Kiln-Report-Late). */
  reportLate?: true;
}

/** A function's HTTP server refused the request's head (431, or a close while it was sent). */
export const REQUEST_HEAD_TOO_LARGE = 'Request header fields too large for the function (its HTTP server refused them)';

/** A trailer's value as one string (undici gives repeated ones as an array). */
const trailerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** How long after a stream's deadline the agent waits for the daemon's own cut before it cuts the stream itself. */
const DEADLINE_GRACE_MS = 1000;

/** Kiln-Log-From's offset, or Kiln-Deadline's epoch ms; undefined when missing or not a whole number. */
function wholeNumberOf(v: string | string[] | undefined): number | undefined {
  const t = trailerValue(v);
  const n = t !== undefined && /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Sends the request and relays the answer. Resolves with the container's status (200, 502 or
 * 504) once the function's answer has all been handed to the caller's connection (what the
 * caller has not taken yet is held for it, up to the response limit: see letGoAfter). Rejects
 * with an AgentError for an invalid status or an answer over the limit, or with the
 * transport's error; answers that fit the window are sent whole with their length, longer ones
 * stream and one over the limit is cut.
 */
export function relayCall(
  client: Dispatcher, request: Dispatcher.DispatchOptions, res: ResponseTarget, opts: RelayOptions,
): Promise<RelayResult> {
  return new Promise<RelayResult>((resolve, reject) => {
    const { maxBytes, signal } = opts;
    // A caller that reads slower than the function writes is sent from memory, up to this much,
    // rather than holding the function (and its container) to the caller's pace.
    const ahead = aheadFor(maxBytes);
    let window = opts.passThrough ? 0 : maxBytes > 0 ? Math.min(RESPONSE_WINDOW, maxBytes + 1) : RESPONSE_WINDOW;
    /** This answer's bound: a stream's when the caller gets it as one, known from its head. */
    let limit = maxBytes;
    let controller: Dispatcher.DispatchController | undefined;
    /** The container's status (what the call is recorded by), and the caller's (a trigger's Fn-Http-Status). */
    let status = 0;
    let callerStatus = 0;
    let functionError: string | undefined;
    let errorDoc: RelayResult['errorDoc'];
    let platformLog: Buffer | undefined;
    let busyAfter = false;
    let reportLate = false;
    let streamError: string | undefined;
    let headers: Headers = {};
    let declaredLength: number | undefined;
    let pending: Buffer[] = [];
    let size = 0;
    /** A Lambda error answer passed through as it comes: its first bytes, for the call's record. */
    let errorHead: Buffer[] | undefined;
    /** A trigger's caller gets this for the function's error answer, whose body it never sees. */
    let masked: PublicErrorAnswer | undefined;
    let streaming = false;
    let settled = false;

    const onAbort = () => controller?.abort(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    let deadlineTimer: NodeJS.Timeout | undefined;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadlineTimer);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve({ status, ...(functionError !== undefined && { functionError }), ...(errorDoc && { errorDoc }), ...(platformLog && { platformLog }), ...(streamError !== undefined && { streamError }), ...(busyAfter && { busyAfter: true as const }), ...(reportLate && { reportLate: true as const }) });
    };
    const stop = (ctl: Dispatcher.DispatchController, err: Error) => {
      if (streaming) cutAnswer(res, err);
      ctl.abort(err);
    };

    client.dispatch(request, {
      onRequestStart(ctl) {
        controller = ctl;
        // Called as the request is written on the connection: what it reads next is this answer.
        opts.meter?.arm();
        if (signal.aborted) ctl.abort(asError(signal.reason));
      },
      onResponseStart(ctl, statusCode, raw) {
        // An interim answer (103 Early Hints, say): the answer follows it, as Go's client (Fn's) skips them.
        // (Not a 100 Continue Kiln never asked for: undici drops the connection on one, a 502.)
        if (statusCode < 200) return;
        status = statusCode;
        const lambdaStream = opts.lambda === true && raw[STREAMING_HEADER] === STREAMING_MODE;
        if (opts.passThrough || lambdaStream) limit = opts.maxStreamedBytes;
        // Only Kiln's daemon is believed to speak for the platform: any other fn could forge lines
        // (a REPORT, say) into its call's log this way.
        if (opts.lambda === true) {
          const kilnLog = raw[LOG_HEADER];
          if (kilnLog !== undefined) platformLog = Buffer.from(String(kilnLog), 'base64');
          opts.onLogFrom?.(wholeNumberOf(raw[LOG_FROM_HEADER]));
          busyAfter = raw[BUSY_AFTER_HEADER] !== undefined;
          reportLate = raw[REPORT_LATE_HEADER] !== undefined;
        }
        // The function's HTTP server (an FDK's, whose Node server takes 16 KiB) refused the
        // head: the caller's headers, wrapped for the contract, are too large for it. The call
        // never ran, and the function is fine.
        if (status === 431) {
          ctl.abort(new AgentError('request-head-too-large', REQUEST_HEAD_TOO_LARGE));
          return;
        }
        if (status !== 200 && status !== 502 && status !== 504) {
          ctl.abort(new AgentError('invalid-response', `invalid function response: status ${status}`));
          return;
        }
        if (opts.lambda === true && status !== 200) {
          errorHead = [];
          if (limit > 0) {
            limit = Math.max(limit, LAMBDA_ERROR_ROOM);
            // Buffered whole too (unless everything streams), so its type and message reach the call's record.
            if (window > 0) window = Math.max(window, LAMBDA_ERROR_ROOM + 1);
          }
        }
        const declared = Number(raw['content-length']);
        if (limit > 0 && Number.isFinite(declared) && declared > limit) {
          ctl.abort(new AgentError('response-too-large', `function response body too large: ${declared} > max ${limit} bytes`));
          return;
        }
        // 502 and 504 are the function's own error answers: passed on as they are, with the
        // Lambda layer's X-Amz-Function-Error naming the error's type (believed from Kiln's
        // daemon only: any other function could send it); a trigger's caller gets Fn's or a
        // function URL's fixed words instead, the body read only for the record (errorHead).
        callerStatus = status;
        if (status === 200) ({ status: callerStatus, headers, declaredLength } = toCallerResponse(raw as Headers, opts.gateway));
        else {
          const fe = opts.lambda === true ? raw['x-amz-function-error'] : undefined;
          if (fe !== undefined) functionError = headerText(String(fe));
          if (opts.gateway) masked = publicErrorAnswer(status, opts.lambda === true);
          else {
            if (raw['content-type'] !== undefined) headers['content-type'] = raw['content-type'];
            if (fe !== undefined) headers['x-amz-function-error'] = fe;
          }
        }
        // A Lambda response stream: each chunk goes on as it comes.
        if (lambdaStream && !masked) {
          streaming = true;
          // The daemon cuts a stream at its deadline with an error trailer, which reaches the agent
          // only after what the caller has not read yet: past the deadline (and a moment for that
          // trailer), the stream is ended here, as the daemon would have ended it.
          const deadline = wholeNumberOf(raw[DEADLINE_HEADER]);
          if (deadline !== undefined) {
            deadlineTimer = setTimeout(() => {
              streamError = STREAM_TIMEOUT_TYPE;
              const err = new StreamCutError(STREAM_TIMEOUT_TYPE);
              // Settled first: the abort reports the error back to this relay, as a failure of its own.
              settle(undefined);
              cutAnswer(res, err);
              ctl.abort(err);
            }, Math.max(0, deadline - Date.now()) + DEADLINE_GRACE_MS);
          }
          res.writeHead(callerStatus, headers);
          // Out now, not with the first byte: a function URL stream's head (its prelude) may come
          // long before its body, and one cut before any byte still owes the caller its status.
          res.flushHeaders?.();
        }
      },
      onResponseData(ctl, chunk) {
        size += chunk.length;
        if (limit > 0 && size > limit) {
          stop(ctl, new AgentError('response-too-large', `function response body too large: over ${limit} bytes`));
          return;
        }
        if (masked) {
          if (errorHead && size - chunk.length <= LAMBDA_ERROR_ROOM) errorHead.push(chunk);
          return;
        }
        if (!streaming) {
          pending.push(chunk);
          if (size < window) return;
          streaming = true;
          errorHead?.push(...pending);
          res.writeHead(callerStatus, answerHeaders(callerStatus, headers, headOf(pending), { sniff: opts.sniff === true }));
          for (const p of pending) res.write(p);
          pending = [];
          return;
        }
        // Kept up to an error document's size (past it, lambdaErrorOf reads nothing anyway).
        if (errorHead && size - chunk.length <= LAMBDA_ERROR_ROOM) errorHead.push(chunk);
        if (!res.write(chunk) && (res.writableLength ?? Infinity) >= ahead) {
          ctl.pause();
          drained(res, signal).then(() => ctl.resume(), (err: Error) => ctl.abort(err));
        }
      },
      onResponseEnd(_ctl, trailers) {
        // The daemon's trailers: any other function could send them too.
        const failed = opts.lambda === true ? trailerValue(trailers[STREAM_ERROR_TRAILER]) : undefined;
        // A stream's END and REPORT following later is said as it ends (its head went out long before).
        if (opts.lambda === true && trailers[REPORT_LATE_HEADER] !== undefined) reportLate = true;
        if (masked) {
          res.writeHead(masked.status, { 'content-type': masked.contentType, 'content-length': masked.body.length });
          res.end(masked.body);
          if (errorHead) errorDoc = lambdaErrorOf(Buffer.concat(errorHead));
        } else if (streaming && failed !== undefined) {
          // The caller already has a 200 and part of the body: ending it cleanly would pass a
          // failed stream off as a whole one, so it is cut short (no last chunk), with the
          // error typed for callers that can still say what happened (the Lambda APIs).
          streamError = headerText(failed);
          const message = trailerValue(trailers[STREAM_ERROR_MESSAGE_TRAILER]);
          cutAnswer(res, new StreamCutError(streamError, message === undefined ? undefined : Buffer.from(message, 'base64').toString('utf8')));
        } else if (streaming) {
          res.end();
          letGoAfter(res, opts.timeoutMs);
          // An error answer that streamed through (everything streams): its type and message for the record.
          if (errorHead) errorDoc = lambdaErrorOf(Buffer.concat(errorHead));
        } else {
          // Headers and body in one write.
          const body = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
          // A HEAD answer has no body: the length is the one the function said its GET would have,
          // whatever it wrote (Go's server, Fn's, keeps a handler's Content-Length on a HEAD).
          const length = opts.head === true && declaredLength !== undefined ? declaredLength : size;
          res.writeHead(callerStatus, answerHeaders(callerStatus, headers, body, { sniff: opts.sniff === true, length }));
          res.end(body);
          letGoAfter(res, opts.timeoutMs);
          if (status !== 200 && opts.lambda === true) errorDoc = lambdaErrorOf(body);
        }
        settle(undefined);
      },
      onResponseError(_ctl, err) {
        if (streaming && !res.destroyed) cutAnswer(res, err);
        // The function's answer, not the container, is at fault: said at once, as its error.
        if ((err as { code?: unknown }).code === 'UND_ERR_HEADERS_OVERFLOW') {
          settle(new AgentError('response-too-large', `function response headers too large: over ${MAX_RESPONSE_HEAD_BYTES} bytes`));
          return;
        }
        settle(err);
      },
    });
  });
}
