// The Runtime API (2018-06-01), Extensions API (2020-01-01), Telemetry API (2022-07-01) and
// Logs API (2020-08-15) on 127.0.0.1:9001: request parsing and answers; the transitions
// themselves are the sandbox's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { failureBody, invalidRequestId, LambdaApiError, truncatedBody } from './errors.js';
import { header, headerText, MAX_PAYLOAD, readBody, sendError, sendJson, TooLarge, trailerError } from './http-util.js';
import type { EventType, ExtensionAgent } from './extension-agent.js';
import type { InvokeEvent, Outcome } from './invocation.js';
import type { Sandbox } from './sandbox.js';
import { deferred } from './deferred.js';
import { parseSubscription, validation, type Telemetry } from './telemetry.js';
import { newId } from './trace.js';
import { HTTP_INTEGRATION_TYPE } from './stream-prelude.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ERROR_CAUSE_TYPE = 'application/vnd.aws.lambda.error.cause+json';
const ACCEPTED = { status: 'OK' };
/** The subscribe answer's body: the JSON string "OK", quotes included (4 bytes). */
const SUBSCRIBED = Buffer.from('"OK"');

export interface LambdaApiDeps {
  sandbox: Sandbox;
  telemetry: Telemetry;
  functionName: string;
  functionVersion: string;
  handler: string;
  /** The port the APIs listen on, which no subscriber may take. */
  apiPort?: number;
  /** A runtime's largest buffered answer (response, error, init error); 0: none. Default Lambda's. */
  maxResponseBytes?: number;
}

/**
 * The invoke headers, spelled as the service (Go, canonical case) spells them: HTTP names are
 * case-insensitive, but shell runtimes grep the raw header block, some without -i.
 */
function invokeHeaders(e: InvokeEvent): Record<string, string> {
  const h: Record<string, string> = {
    // The service's Invoke payload is JSON, and it (as RIE) says application/json whatever the
    // caller sent: awslambdaric parses the event only for exactly that type.
    'Content-Type': 'application/json',
    'Lambda-Runtime-Aws-Request-Id': e.requestId,
    'Lambda-Runtime-Deadline-Ms': String(e.deadlineMs),
    'Lambda-Runtime-Invoked-Function-Arn': e.invokedFunctionArn,
    'Lambda-Runtime-Trace-Id': e.traceId,
  };
  if (e.clientContext) h['Lambda-Runtime-Client-Context'] = e.clientContext;
  if (e.cognitoIdentity) h['Lambda-Runtime-Cognito-Identity'] = e.cognitoIdentity;
  return h;
}

/**
 * The runtime's 202, once the caller's answer has been written: respond() hands the answer over
 * in a setImmediate (and the http-stream side writes it in that callback's microtasks), so an
 * immediate queued now runs after it. The 202 wakes the runtime, whose next `GET next` would
 * otherwise compete with the answer for the CPU.
 */
const acceptAfterAnswer = (res: ServerResponse): void => {
  setImmediate(() => sendJson(res, 202, ACCEPTED));
};

/** The request id in a /response or /error path; one that does not decode is no current id. */
function requestIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequestId();
  }
}

/**
 * The function's error type from the runtime's header, as posted (free-form), else Unhandled: the
 * header's bytes (one character each), passed on as they came; records decode it (headerText).
 */
const functionErrorType = (req: IncomingMessage): string => header(req, 'lambda-runtime-function-error-type') || 'Unhandled';

/** `/error` body: forwarded verbatim; an error-cause document loses its `errorCause`. */
function errorBody(req: IncomingMessage, body: Buffer): { contentType: string; body: Buffer } {
  const type = header(req, 'content-type') ?? 'application/json';
  if (type.split(';')[0]!.trim() !== ERROR_CAUSE_TYPE) return { contentType: type, body };
  try {
    const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    delete doc.errorCause;
    return { contentType: 'application/json', body: Buffer.from(JSON.stringify(doc)) };
  } catch {
    return { contentType: 'application/json', body };
  }
}

/** What the caller gets when the runtime's answer is over the limit (the invoke counts as answered). */
const tooLargeOutcome = (size: string, max: number): Outcome => ({
  kind: 'error', errorType: 'Function.ResponseSizeTooLarge', contentType: 'application/json',
  body: Buffer.from(JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${max} bytes).` })),
});

/** What becomes of the invoke when the runtime's answer cannot be read whole. */
interface Unreadable {
  tooLarge(size: string): void;
  truncated(): void;
}

/**
 * A buffered payload (6 MB). Over it, `tooLarge` runs and the runtime gets 413; broken off
 * mid-body (the runtime's connection lost, a malformed chunk), `truncated` runs and the
 * runtime gets 400 TruncatedHTTPRequest (into a connection most likely gone).
 */
async function readPayload(req: IncomingMessage, max: number, unreadable?: Unreadable): Promise<Buffer> {
  try {
    return await readBody(req, max === 0 ? Infinity : max);
  } catch (err) {
    if (err instanceof TooLarge) {
      unreadable?.tooLarge(err.message);
      throw new LambdaApiError(413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${max} bytes).`);
    }
    unreadable?.truncated();
    throw err;
  }
}

/**
 * The register body `{"events":[...]}`. What Go's json.Unmarshal would reject (no body, not
 * JSON, events not a list of strings) is 403 InvalidRequestFormat, as the service answers.
 */
function parseRegister(raw: Buffer): EventType[] {
  const invalid = (msg: string) => new LambdaApiError(403, 'InvalidRequestFormat', msg);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalid(raw.length === 0 ? 'unexpected end of JSON input' : 'The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.configurationKeys) && b.configurationKeys.length > 0) {
    throw invalid('configurationKeys are deprecated; use environment variables instead');
  }
  const events = b.events ?? [];
  if (!Array.isArray(events) || !events.every((e) => typeof e === 'string')) throw invalid('events must be a list of strings');
  const bad = events.find((e) => e !== 'INVOKE' && e !== 'SHUTDOWN');
  if (bad !== undefined) throw new LambdaApiError(403, 'Extension.InvalidEventType', `${String(bad)}: unknown event type`);
  return events as EventType[];
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: RegExpExecArray) => void | Promise<void>;

/** A path of the APIs, the methods it takes and its handler (`params`: the path's regex groups). */
interface Route {
  methods: readonly string[];
  path: string | RegExp;
  handle: Handler;
}

const route = (methods: string | readonly string[], path: string | RegExp, handle: Handler): Route => ({
  methods: typeof methods === 'string' ? [methods] : methods,
  path,
  handle,
});

/** A plain path's match: no groups. */
const NO_PARAMS = Object.assign([''], { index: 0, input: '' }) as RegExpExecArray;

/**
 * A known path asked with a method it does not take: 405 with one `Allow` per method and no
 * body, as the service's router (go-chi) answers.
 */
function methodNotAllowed(res: ServerResponse, methods: readonly string[]): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader('allow', methods);
  res.writeHead(405, { 'content-length': 0 });
  res.end();
}

export function lambdaApi(deps: LambdaApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { sandbox, maxResponseBytes = MAX_PAYLOAD } = deps;

  const agentOf = (req: IncomingMessage): ExtensionAgent => {
    const id = header(req, 'lambda-extension-identifier');
    if (!id) throw new LambdaApiError(403, 'Extension.MissingExtensionIdentifier', 'Missing Lambda-Extension-Identifier header');
    if (!UUID.test(id)) throw new LambdaApiError(403, 'Extension.InvalidExtensionIdentifier', 'Invalid Lambda-Extension-Identifier');
    const agent = sandbox.agents.get(id);
    if (!agent) throw new LambdaApiError(403, 'Extension.UnknownExtensionIdentifier', 'Unknown extension');
    return agent;
  };

  const json = async (req: IncomingMessage): Promise<unknown> => {
    const body = await readBody(req, 1024 * 1024).catch((err: unknown) => {
      if (err instanceof TooLarge) throw new LambdaApiError(413, 'RequestEntityTooLarge', 'The request body is over 1 MiB');
      throw err;
    });
    if (body.length === 0) return {};
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new LambdaApiError(400, 'InvalidRequestFormat', 'The request body is not valid JSON');
    }
  };

  /**
   * An invoke's /response or /error that cannot be read whole is its answer all the same, as
   * the service counts it (the runtime is then ResponseSent and calls `next`): too large,
   * Function.ResponseSizeTooLarge; broken off, Runtime.TruncatedResponse (the service's type
   * for a cut response), rather than leaving the caller to wait for the deadline. Both name
   * their type in X-Amz-Function-Error, so the call's record names it too.
   */
  const unreadable = (id: string): Unreadable => ({
    tooLarge: (size) => sandbox.respond(id, tooLargeOutcome(size, maxResponseBytes)),
    truncated: () => sandbox.respond(id, {
      kind: 'error', errorType: truncatedBody.errorType, contentType: 'application/json', body: Buffer.from(failureBody(id, truncatedBody)),
    }),
  });

  async function runtimeResponse(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    sandbox.checkRespond(id);
    const mode = header(req, 'lambda-runtime-function-response-mode');
    const contentType = header(req, 'content-type') ?? 'application/json';
    // Empty is no mode, as the service reads it (Go's Header.Get): a buffered response.
    if (mode && mode !== 'streaming') {
      req.resume();
      sandbox.respond(id, { kind: 'failure', status: 502, failure: { errorType: 'Runtime.InvalidResponseModeHeader', errorMessage: `Invalid response mode: ${mode}` } });
      throw new LambdaApiError(400, 'InvalidFunctionResponseMode', 'The Lambda-Runtime-Function-Response-Mode header must be "streaming"');
    }
    // A function URL answer (a prelude, 8 NULs, the body) is a stream whatever the mode header:
    // aws-lambda-go's lambdaurl streams it with none (the service streams it because the
    // function URL's invoke mode says so).
    if (mode === 'streaming' || contentType.split(';')[0]!.trim() === HTTP_INTEGRATION_TYPE) {
      const done = deferred<void>();
      sandbox.respond(id, { kind: 'stream', contentType, from: req, done, cut: deferred(), relayed: { bytes: 0 } });
      // Answered once the whole stream has been relayed to the caller.
      await done.promise.catch(() => {});
      sendJson(res, 202, ACCEPTED);
      return;
    }
    // Buffered, whatever the framing: aws-lambda-go always posts chunked, with no mode header.
    const body = await readPayload(req, maxResponseBytes, unreadable(id));
    sandbox.respond(id, trailerError(req) ?? { kind: 'response', contentType, body });
    acceptAfterAnswer(res);
  }

  // One table for routing and for 405s: a path the APIs know, asked with another method, is
  // answered as the service's router (chi) answers it.
  const routes: Route[] = [
    // Runtime API
    route('GET', '/2018-06-01/runtime/invocation/next', async (_req, res) => {
      const event = await sandbox.runtimeNext();
      const body = event.body;
      res.writeHead(200, { ...invokeHeaders(event), 'Content-Length': body.length });
      res.end(body);
    }),
    route('POST', /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/response$/, (req, res, m) => runtimeResponse(req, res, requestIdOf(m[1]!))),
    route('POST', /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/error$/, async (req, res, m) => {
      const id = requestIdOf(m[1]!);
      sandbox.checkRespond(id);
      const body = await readPayload(req, maxResponseBytes, unreadable(id));
      sandbox.respond(id, { kind: 'error', errorType: functionErrorType(req), ...errorBody(req, body) });
      acceptAfterAnswer(res);
    }),
    route('POST', '/2018-06-01/runtime/init/error', async (req, res) => {
      const body = await readPayload(req, maxResponseBytes);
      sandbox.initError({ errorType: functionErrorType(req), ...errorBody(req, body) });
      sendJson(res, 202, ACCEPTED);
    }),
    route('GET', '/2018-06-01/ping', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('pong');
    }),

    // Extensions API
    route('POST', '/2020-01-01/extension/register', async (req, res) => {
      const name = header(req, 'lambda-extension-name');
      if (!name) throw new LambdaApiError(403, 'Extension.InvalidExtensionName', 'Empty extension name');
      const events = parseRegister(await readBody(req, 1024 * 1024).catch(() => Buffer.alloc(0)));
      const agent = sandbox.register(name, events);
      const out: Record<string, string> = { functionName: deps.functionName, functionVersion: deps.functionVersion, handler: deps.handler };
      if ((header(req, 'lambda-extension-accept-feature') ?? '').split(',').map((s) => s.trim()).includes('accountId')) out.accountId = '012345678912';
      sendJson(res, 200, out, { 'Lambda-Extension-Identifier': agent.id });
    }),
    route('GET', '/2020-01-01/extension/event/next', async (req, res) => {
      const agent = agentOf(req);
      const event = await sandbox.agentNext(agent);
      sendJson(res, 200, event, { 'Lambda-Extension-Event-Identifier': newId() });
    }),
    route('POST', /^\/2020-01-01\/extension\/(init|exit)\/error$/, (req, res, m) => {
      const agent = agentOf(req);
      const type = headerText(header(req, 'lambda-extension-function-error-type') ?? '');
      if (!type) throw new LambdaApiError(403, 'Extension.MissingHeader', 'Missing Lambda-Extension-Function-Error-Type header');
      req.resume();
      sandbox.agentError(agent, m[1] as 'init' | 'exit', type);
      sendJson(res, 202, ACCEPTED);
    }),

    // Telemetry and Logs APIs (Logs also takes POST, as Kiln always has)
    route('PUT', '/2022-07-01/telemetry', (req, res) => subscribe(req, res, 'telemetry')),
    route(['PUT', 'POST'], '/2020-08-15/logs', (req, res) => subscribe(req, res, 'logs')),
  ];

  async function subscribe(req: IncomingMessage, res: ServerResponse, api: 'telemetry' | 'logs'): Promise<void> {
    const agent = agentOf(req);
    const body = await json(req).catch((err: unknown) => {
      throw err instanceof LambdaApiError ? validation(api, err.message) : err;
    });
    deps.telemetry.subscribe(parseSubscription(api, agent.name, body, deps.apiPort));
    // The service writes the JSON string "OK" with no type, which Go's server sniffs as text.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': SUBSCRIBED.length });
    res.end(SUBSCRIBED);
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = (req.url ?? '/').split('?')[0]!;
    // The references write some paths with a trailing slash (`/2022-07-01/telemetry/`): the same path.
    const path = target.length > 1 && target.endsWith('/') ? target.slice(0, -1) : target;
    const method = req.method ?? 'GET';
    for (const r of routes) {
      const m = typeof r.path === 'string' ? (path === r.path ? NO_PARAMS : null) : r.path.exec(path);
      if (!m) continue;
      if (r.methods.includes(method)) return r.handle(req, res, m);
      req.resume();
      return methodNotAllowed(res, r.methods);
    }
    req.resume();
    throw new LambdaApiError(404, 'ResourceNotFound', `${method} ${path} is not part of the Lambda APIs`);
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    dispatch(req, res).catch((err: unknown) => {
      req.resume();
      sendError(res, err);
    });
  };
  return oneAtATime(handle);
}

/**
 * Requests pipelined on one connection are handled one after another, each once the answer
 * before it is done, as the service's server (Go's) handles them. node:http runs the handler of
 * a pipelined request at once: a `next` sent right behind a /response ran while that response
 * was still being read (the runtime still Running) and was served the same event again.
 */
function oneAtATime(handle: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  // Only connections with a request waiting have a queue; an answer that is over takes the next.
  const queues = new WeakMap<Socket, Array<() => void>>();
  const busy = new WeakSet<Socket>();
  const run = (socket: Socket, req: IncomingMessage, res: ServerResponse): void => {
    busy.add(socket);
    res.once('close', () => {
      const next = queues.get(socket)?.shift();
      if (next) next();
      else busy.delete(socket);
    });
    handle(req, res);
  };
  return (req, res) => {
    const socket = req.socket;
    if (!busy.has(socket)) return run(socket, req, res);
    let queue = queues.get(socket);
    if (!queue) queues.set(socket, (queue = []));
    queue.push(() => run(socket, req, res));
  };
}
