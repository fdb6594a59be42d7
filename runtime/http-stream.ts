// The agent's side of the container: Fn's http-stream contract on FN_LISTENER. Each
// `POST /call` becomes one invocation; `GET /.kiln/idle` answers once every party is back in
// `next` (the agent freezes or reuses the container only then); `POST /.kiln/shutdown`
// runs the shutdown sequence before the agent removes the container.
import { chmod, rm, symlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream';
import { failureBody, failureMessage, truncatedResponse } from './errors.js';
import type { ContainerLog } from './container-log.js';
import { functionUrlAnswer, functionUrlEvent, gatewayRequest } from './function-url.js';
import { header, headerText, MAX_HEADER_BYTES, sendJson, serverTimeouts, trailerError } from './http-util.js';
import type { InvokeEvent, Outcome, ShutdownReason } from './invocation.js';
import type { Sandbox } from './sandbox.js';
import { HTTP_INTEGRATION_TYPE, splitPrelude } from './stream-prelude.js';
import { decodeClientContext, jsonObjectText, newId, newTraceId } from './trace.js';
import {
  BUSY_AFTER_HEADER, DAEMON_TRAILERS, DEADLINE_HEADER, IDLE_FOR_INVOKE, IDLE_FOR_PARAM, IDLE_PATH, LOG_FROM_HEADER, LOG_HEADER, QUALIFIER_HEADER,
  REPORT_LATE_HEADER, SHUTDOWN_PATH, SHUTDOWN_REASON_PARAM, STREAM_ERROR_MESSAGE_TRAILER, STREAM_ERROR_TRAILER, STREAMING_HEADER,
  STREAMING_MODE,
} from './wire.js';

// The names below are the contract's (runtime/wire.ts). A stream that fails after its first byte
// ends with the error trailers rather than a broken connection, which would cost the container.
const STREAM_TRAILERS = DAEMON_TRAILERS.join(', ');

/**
 * The longest value the answer's head takes from the runtime (an error type, a content type):
 * the runtime may send 1 MiB headers, and the head must stay within MAX_ANSWER_HEAD.
 */
const MAX_ANSWER_VALUE = 1024;
const bounded = (v: string): string => (v.length > MAX_ANSWER_VALUE ? v.slice(0, MAX_ANSWER_VALUE) : v);
/** Text (a message) bounded the same way, never cut between the two halves of a surrogate pair. */
const boundedText = (v: string): string => {
  if (v.length <= MAX_ANSWER_VALUE) return v;
  const c = v.charCodeAt(MAX_ANSWER_VALUE - 1);
  return v.slice(0, c >= 0xd800 && c <= 0xdbff ? MAX_ANSWER_VALUE - 1 : MAX_ANSWER_VALUE);
};
/** An error type as a header: the bytes the runtime's header came with (one character each). */
const errorTypeHeader = (type: string): string => bounded(type);

/**
 * The most a Lambda answer's head may take: 16 KiB, what Node's clients (fetch, node:http) and
 * many proxies read by default, so the caller can read what it gets; less room for the status
 * line and what node:http adds (Date, Connection, Transfer-Encoding). Past it the answer is a
 * 502 Function.ResponseSizeTooLarge, a Lambda error, rather than a head the caller cannot read.
 * (The agent reads 1 MiB, for http-stream fns as Fn's does.)
 */
export const MAX_ANSWER_HEAD = 16 * 1024 - 512;

type Head = Record<string, string | string[]>;

/** A head's size as written: `name: value\r\n` a line (values are latin1, a byte a character). */
function headBytes(...heads: Head[]): number {
  let n = 0;
  for (const h of heads) {
    for (const [k, v] of Object.entries(h)) {
      if (typeof v === 'string') n += k.length + v.length + 4;
      else for (const one of v) n += k.length + one.length + 4;
    }
  }
  return n;
}

/** A head over MAX_ANSWER_HEAD: the function's error, as an answer over the payload limit is. */
function headTooLarge(size: number): Extract<Outcome, { kind: 'error' }> {
  const errorType = 'Function.ResponseSizeTooLarge';
  const errorMessage = `Response headers (${size} bytes) exceeded maximum allowed size (${MAX_ANSWER_HEAD} bytes).`;
  return { kind: 'error', errorType, contentType: 'application/json', body: Buffer.from(JSON.stringify({ errorType, errorMessage })) };
}

/** Kiln's own headers on an answer (the agent reads and strips them). */
const kilnHeaders = (o: Outcome): Record<string, string> => ({
  ...(o.log && { [LOG_HEADER]: Buffer.from(o.log).toString('base64') }),
  ...(o.logFrom !== undefined && { [LOG_FROM_HEADER]: String(o.logFrom) }),
  ...(o.busyAfter && { [BUSY_AFTER_HEADER]: '1' }),
  ...(o.reportLate && { [REPORT_LATE_HEADER]: '1' }),
  ...(o.deadlineMs !== undefined && { [DEADLINE_HEADER]: String(o.deadlineMs) }),
});

export interface HttpStreamDeps {
  sandbox: Sandbox;
  /** The container's log, for the lines a stream's error adds to the call's log. */
  out: ContainerLog;
  /** The fn's timeout, for calls that carry no Fn-Deadline. */
  timeoutMs: number;
  functionName: string;
  /** Called after a shutdown request has been answered. */
  onShutdown(): void;
}

/** The caller's deadline: Fn-Deadline (RFC 3339), else now + the fn's timeout. */
export function deadlineOf(fnDeadline: string | undefined, now: number, timeoutMs: number): number {
  const t = fnDeadline ? Date.parse(fnDeadline) : NaN;
  return Number.isFinite(t) ? t : now + timeoutMs;
}

/**
 * The ARN the invocation was made by, as the service gives it: with the version or alias the
 * caller named (`...:function:name:$LATEST`), else the function's own.
 */
export function qualifiedArn(arn: string, qualifier: string | undefined): string {
  return qualifier && /^(\$LATEST|[A-Za-z0-9_-]{1,128})$/.test(qualifier) ? `${arn}:${qualifier}` : arn;
}

/** The event of a call with no payload: the service passes `{}` (runtimes JSON.parse the event). */
const EMPTY_EVENT = Buffer.from('{}');

export function eventFrom(req: IncomingMessage, body: Buffer, arn: string, timeoutMs: number, functionName: string): InvokeEvent {
  const now = Date.now();
  // `{"cognitoIdentityId","cognitoIdentityPoolId"}`; runtimes JSON.parse it, so only an object passes.
  const cognito = jsonObjectText(header(req, 'x-amz-cognito-identity') ?? '');
  const clientContext = decodeClientContext(header(req, 'x-amz-client-context'));
  const requestId = header(req, 'fn-call-id') || newId();
  // Through an HTTP trigger the function gets what a function URL would send it.
  const gateway = gatewayRequest(req);
  // A trigger's caller's trace header comes wrapped with its others; the event always has one,
  // the invocation's, as a function URL's does.
  const traceId = (gateway ? gateway.headers['x-amzn-trace-id'] : header(req, 'x-amzn-trace-id')) || newTraceId(now);
  if (gateway) gateway.headers['x-amzn-trace-id'] = traceId;
  return {
    requestId,
    deadlineMs: deadlineOf(header(req, 'fn-deadline'), now, timeoutMs),
    body: gateway ? Buffer.from(JSON.stringify(functionUrlEvent(gateway, body, requestId, now, functionName))) : body.length > 0 ? body : EMPTY_EVENT,
    traceId,
    invokedFunctionArn: qualifiedArn(arn, header(req, QUALIFIER_HEADER)),
    ...(clientContext !== undefined && { clientContext }),
    ...(cognito && { cognitoIdentity: cognito }),
  };
}

/** An HTTP status and headers in Fn's gateway protocol: Fn-Http-Status and wrapped headers. */
function gatewayHead(status: number, h: Head): Head {
  const headers: Head = { 'fn-http-status': String(status) };
  for (const [k, v] of Object.entries(h)) headers[`fn-http-h-${k}`] = v;
  if (h['content-type'] !== undefined) headers['content-type'] = h['content-type'];
  return headers;
}

/** A function URL answer in Fn's gateway protocol (a head too large for the agent: the function's error). */
function answerGateway(res: ServerResponse, requestId: string, o: Extract<Outcome, { kind: 'response' }>, log: Head, out: ContainerLog): void {
  const a = functionUrlAnswer(o.body);
  const head = { ...gatewayHead(a.status, a.headers), 'content-length': String(a.body.length), ...log };
  const size = headBytes(head);
  if (size > MAX_ANSWER_HEAD) return answer(res, requestId, withLogOf(o, headTooLarge(size)), true, out);
  res.writeHead(200, head);
  res.end(a.body);
}

type StreamOutcome = Extract<Outcome, { kind: 'stream' }>;

/** The errorMessage of a runtime's error body (JSON, as its trailer carries it); undefined when it has none. */
export function errorMessageOf(body: Buffer): string | undefined {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    const m = typeof v === 'object' && v !== null ? (v as { errorMessage?: unknown }).errorMessage : undefined;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Kiln's own headers on a streamed answer's head. */
const STREAM_HEAD_BYTES = headBytes({ [STREAMING_HEADER]: STREAMING_MODE, trailer: STREAM_TRAILERS });

/**
 * A response stream, relayed chunk by chunk (the marker header tells the agent not to buffer).
 * The head waits for the first byte: a stream that fails before writing anything (the Node
 * client's streamifyResponse handler throwing) is the function's error, not an empty 200.
 * Through an HTTP trigger, an http-integration-response stream's prelude becomes the status
 * and headers, as function URLs do. Cut short at the deadline: a stream already begun is
 * truncated (the agent sees the error trailer), one not begun answers the timeout.
 */
function answerStream(res: ServerResponse, requestId: string, o: StreamOutcome, gateway: boolean, log: Record<string, string>, out: ContainerLog): void {
  const from = o.from;
  let cutShort = false;
  const prelude = gateway && o.contentType.split(';')[0]!.trim() === HTTP_INTEGRATION_TYPE;
  let pending: Buffer | undefined = Buffer.alloc(0);
  const start = (head: Record<string, string | string[]>, first: Buffer) => {
    pending = undefined;
    res.writeHead(200, { ...head, [STREAMING_HEADER]: STREAMING_MODE, trailer: STREAM_TRAILERS, ...log });
    res.flushHeaders();
    if (first.length > 0) res.write(first);
  };
  const plain = { 'content-type': bounded(o.contentType) };
  /** An outcome answered whole (nothing of the stream reached the caller), with the call's platform lines. */
  const withLog = <T extends Outcome>(outcome: T): T => withLogOf(o, outcome);
  /** A stream already begun ends with its error in Kiln's trailers (the caller has its 200). */
  const endWithError = (errorType: string, errorMessage: string | undefined) => {
    res.addTrailers({
      [STREAM_ERROR_TRAILER]: errorTypeHeader(errorType),
      ...(errorMessage !== undefined && { [STREAM_ERROR_MESSAGE_TRAILER]: Buffer.from(boundedText(errorMessage)).toString('base64') }),
      ...lateTrailer(),
    });
    res.end();
  };
  // Said as the stream ends, as a header says it on a buffered answer.
  const lateTrailer = (): Record<string, string> => (o.relayed.reportLate?.() ? { [REPORT_LATE_HEADER]: '1' } : {});
  // Listeners must not throw (nothing would catch it): a head that cannot be written ends the answer.
  const guarded = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      res.destroy(err as Error);
    }
  };
  from.on('data', (chunk: Buffer) => guarded(() => {
    // The agent's connection is gone: the rest is read and dropped, so the runtime's POST ends.
    if (res.destroyed || cutShort) return;
    o.relayed.bytes += chunk.length;
    if (pending === undefined) {
      if (!res.write(chunk)) {
        from.pause();
        res.once('drain', () => from.resume());
      }
      return;
    }
    if (!prelude) return start(plain, chunk);
    pending = Buffer.concat([pending, chunk]);
    const split = splitPrelude(pending);
    if (!split) return;
    const head = gatewayHead(split.head.status, split.head.headers);
    const size = headBytes(head, log) + STREAM_HEAD_BYTES;
    if (size <= MAX_ANSWER_HEAD) return start(head, split.rest);
    // Nothing reached the caller yet: the error is the answer; the rest of the stream is dropped.
    pending = undefined;
    cutShort = true;
    const tooLarge = headTooLarge(size);
    o.relayed.errorType = tooLarge.errorType;
    answer(res, requestId, withLog(tooLarge), gateway, out);
  }));
  from.on('end', () => guarded(() => {
    const failed = trailerError(from);
    if (failed && !cutShort) o.relayed.errorType = failed.errorType;
    if (res.destroyed || cutShort) return o.done.resolve();
    // Nothing reached the caller yet (no byte, or a prelude that never ended): the error is the answer.
    if (pending !== undefined && (pending.length === 0 || prelude) && failed) {
      answer(res, '', withLog(failed), gateway, out);
    } else {
      // A mid-stream error comes in the runtime's trailers (its body base64 JSON): the caller
      // already has a 200, so the error travels on in Kiln's own trailer.
      if (pending !== undefined) start(prelude && pending.length > 0 ? gatewayHead(200, {}) : plain, pending);
      if (!failed) {
        res.addTrailers(lateTrailer());
        res.end();
      } else {
        out.write(`Response stream error: ${headerText(failed.errorType)}\n`);
        endWithError(failed.errorType, errorMessageOf(failed.body));
      }
    }
    o.done.resolve();
  }));
  // The runtime's POST broke off (its connection lost, a malformed chunk): the caller's answer
  // ends as the service ends it, truncated, not with a broken connection (the agent would drop
  // the container for that).
  from.on('error', (err) => {
    if (!cutShort) o.relayed.errorType ??= truncatedResponse.errorType;
    o.done.reject(err);
    if (cutShort || res.destroyed) return;
    guarded(() => {
      out.write(`Response stream error: ${truncatedResponse.errorType}\n`);
      if (pending !== undefined) answer(res, requestId, withLog({ kind: 'failure', status: 502, failure: truncatedResponse }), gateway, out);
      else endWithError(truncatedResponse.errorType, failureMessage(requestId, truncatedResponse));
    });
  });
  void o.cut.promise.then((cut) => guarded(() => {
    if (from.readableEnded) return;
    // Already answered (a prelude too large): only the runtime's stream is left to stop.
    if (cutShort) {
      from.destroy();
      return o.done.resolve();
    }
    cutShort = true;
    // The runtime's POST is cut too; the sandbox resets after a timeout anyway.
    from.destroy();
    if (!res.destroyed) {
      if (pending !== undefined) answer(res, requestId, withLog(cut), gateway, out);
      else endWithError(cut.failure.errorType, failureMessage(requestId, cut.failure));
    }
    o.done.resolve();
  }));
  // Also when the connection closed before this answer began ('close' would never come): the
  // runtime's POST is then read to its end and dropped, and 'end' settles `done` (its 202).
  finished(res, () => {
    if (from.readableEnded) o.done.resolve();
    else from.resume();
  });
}

/** Another outcome in the place of `o`, with its platform lines, log offset and busy mark. */
function withLogOf<T extends Outcome>(o: Outcome, outcome: T): T {
  return { ...outcome, ...(o.log !== undefined && { log: o.log }), ...(o.logFrom !== undefined && { logFrom: o.logFrom }), ...(o.busyAfter && { busyAfter: true }), ...(o.reportLate && { reportLate: true }) };
}

function answer(res: ServerResponse, requestId: string, o: Outcome, gateway: boolean, out: ContainerLog): void {
  const log = kilnHeaders(o);
  switch (o.kind) {
    case 'response':
      if (gateway) return answerGateway(res, requestId, o, log, out);
      // As the Invoke API does: a buffered payload is JSON, whatever type the runtime posted it with.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': o.body.length, ...log });
      res.end(o.body);
      return;
    case 'stream':
      return answerStream(res, requestId, o, gateway, log, out);
    case 'error':
      res.writeHead(502, { 'content-type': bounded(o.contentType), 'content-length': o.body.length, 'x-amz-function-error': errorTypeHeader(o.errorType), ...log });
      res.end(o.body);
      return;
    case 'failure': {
      const body = Buffer.from(failureBody(requestId, o.failure));
      res.writeHead(o.status, { 'content-type': 'application/json', 'content-length': body.length, 'x-amz-function-error': 'Unhandled', ...log });
      res.end(body);
      return;
    }
  }
}

export function httpStreamHandler(deps: HttpStreamDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { sandbox } = deps;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/call') {
      // The agent enforces the request size limit before the call gets here.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const event = eventFrom(req, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), sandbox.invokedFunctionArn, deps.timeoutMs, deps.functionName);
          sandbox.invoke(event, (o) => {
            try {
              answer(res, event.requestId, o, req.headers['fn-intent'] === 'httprequest', deps.out);
            } catch (err) {
              // An answer that cannot be written must not take the daemon down with it.
              sendJson(res, 500, { message: (err as Error).message });
            }
          });
        } catch (err) {
          sendJson(res, 500, { message: (err as Error).message });
        }
      });
      return;
    }
    req.resume();
    if (req.method === 'GET' && path === IDLE_PATH) {
      // ?for=invoke: free for the next invoke (the agent's wait after a busy-after answer);
      // else idle enough to freeze.
      const forInvoke = new URL(req.url ?? '/', 'http://x').searchParams.get(IDLE_FOR_PARAM) === IDLE_FOR_INVOKE;
      void (forInvoke ? sandbox.free() : sandbox.idle()).then(() => sendJson(res, 200, { idle: true }));
      return;
    }
    if (req.method === 'POST' && path === SHUTDOWN_PATH) {
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get(SHUTDOWN_REASON_PARAM);
      const reason: ShutdownReason = q === 'timeout' || q === 'failure' ? q : 'spindown';
      void sandbox.shutdown(reason).then(() => {
        sendJson(res, 200, { shutdown: reason });
        res.on('finish', deps.onShutdown);
      });
      return;
    }
    sendJson(res, 404, { message: `${req.method} ${path} not found` });
  };
}

/**
 * Listens as Fn's contract asks: bind a private socket, make it 0666, then link
 * `lsnr.sock` to it (relative), so the agent sees the socket only once it accepts.
 */
export async function listenHttpStream(listener: string, handler: (req: IncomingMessage, res: ServerResponse) => void, headersTimeoutMs: number): Promise<Server> {
  const path = listener.replace(/^unix:/, '');
  const dir = dirname(path);
  const phony = join(dir, `phony${basename(path)}`);
  await rm(phony, { force: true });
  // The socket is also within reach of the function's own processes (/tmp/iofs is in the container).
  const server = createServer({ keepAliveTimeout: 0, maxHeaderSize: MAX_HEADER_BYTES, ...serverTimeouts(headersTimeoutMs) }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(phony, () => resolve());
  });
  await chmod(phony, 0o666);
  await rm(path, { force: true });
  await symlink(basename(phony), path);
  return server;
}
