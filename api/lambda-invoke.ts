// The AWS Lambda Invoke API as a second front door to the invoke path:
// `POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=]`, so the AWS SDKs and CLI
// (and RIE's curl) call Kiln's fns, lambda and http-stream alike. A plain node:http handler
// like /invoke's; boot.ts asks it only for requests that are neither /invoke nor /t/, so those
// pay nothing for it. Responses are buffered (the Invoke API's payloads are) to be answered in
// Lambda's terms: function errors as 200s with X-Amz-Function-Error, a log tail in a header.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CallLog } from '../agent/agent.js';
import { AgentError } from '../agent/errors.js';
import type { ResponseTarget } from '../agent/relay.js';
import { NotFoundError } from '../store/errors.js';
import type { Invoker } from './deps.js';
import { functionErrorPayload, LambdaApiError, sendJson, sendLambdaError, timedOutMessage } from './errors.js';
import { invokeDetached } from './invoke-handler.js';
import type { FnTarget, InvokeLookup } from './invoke-lookup.js';
import {
  DEFAULT_REGION, forwardedHeaders, functionArn, invokeOptions, invokePathName, KILN_ACCOUNT_ID, LAMBDA_INVOKE_PREFIX,
  logTail, parseFunctionName, qualifierParam, sigV4Region, type FunctionRef,
} from './lambda-request.js';
import { readBody } from './read-body.js';

export interface LambdaInvokeDeps {
  agent: Invoker;
  lookup: InvokeLookup;
  newId: () => string;
  log: Logger;
  maxRequestSize: number;
}

/** Kiln's (and Fn's) fn ids: ULIDs. A FunctionName of this form is tried as an id first. */
const FN_ID = /^[0-9A-Z]{26}$/;

/** The only version Kiln has: its fns have no published versions or aliases. */
const LATEST = '$LATEST';

/** How long a LogType Tail answer waits for a Lambda fn's REPORT line to reach the log. */
const LAMBDA_LOG_WAIT_MS = 500;
/** For an http-stream fn: until its output has been quiet this long, at most LOG_WAIT_MAX_MS. */
const LOG_QUIET_MS = 20;
const LOG_WAIT_MAX_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The call's log once it has settled: output reaches it through the container engine's log
 * stream, which can trail the answer by a few milliseconds. A Lambda fn's log is complete at its
 * REPORT line (or JSON record); an http-stream fn's when nothing more has come for a moment.
 */
async function settledLog(log: CallLog, lambda: boolean, requestId: string): Promise<string> {
  const until = Date.now() + (lambda ? LAMBDA_LOG_WAIT_MS : LOG_WAIT_MAX_MS);
  if (lambda) {
    const reported = (t: string) => t.includes(`REPORT RequestId: ${requestId}`) || (t.includes('"platform.report"') && t.includes(requestId));
    let text = log.toString();
    while (!reported(text) && Date.now() < until) {
      await sleep(5);
      text = log.toString();
    }
    return text;
  }
  let seen = -1;
  while (log.bytes !== seen && Date.now() < until) {
    seen = log.bytes;
    await sleep(LOG_QUIET_MS);
  }
  return log.toString();
}

/** A call's answer kept whole, to be given in Lambda's terms once complete. */
class BufferedAnswer implements ResponseTarget {
  headersSent = false;
  destroyed = false;
  status = 0;
  headers: OutgoingHttpHeaders = {};
  readonly chunks: Buffer[] = [];
  /** Why the answer was cut short after it began (a limit, a stream that failed). */
  error: Error | undefined;

  writeHead(status: number, headers: OutgoingHttpHeaders): this {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(chunk?: Buffer): void {
    if (chunk) this.chunks.push(chunk);
  }
  destroy(err?: Error): void {
    this.destroyed = true;
    this.error ??= err ?? new Error('the answer was cut short');
  }
  // Writes never wait (the answer is bounded by FN_MAX_RESPONSE_SIZE), so nobody listens.
  once(): void {}
  removeListener(): void {}

  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

/** Returns a handler that serves the Invoke API's path and answers false for every other request. */
export function lambdaInvokeHandler(deps: LambdaInvokeDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { agent, lookup, newId, log, maxRequestSize } = deps;

  const notFound = (ref: FunctionRef, region: string, qualifier?: string) =>
    new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${functionArn(ref.region ?? region, ref.account ?? KILN_ACCOUNT_ID, ref.name, qualifier)}`);

  /** A Kiln fn id, else a fn name unique across apps. */
  const resolve = async (ref: FunctionRef, region: string): Promise<FnTarget> => {
    if (FN_ID.test(ref.name)) {
      try {
        return await lookup.byFnId(ref.name);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    const found = await lookup.byFnName(ref.name);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      throw new LambdaApiError(400, 'InvalidParameterValueException',
        `Function name ${ref.name} is used in more than one app (${found.map((t) => t.app.name).join(', ')}): invoke it by its fn id`);
    }
    throw notFound(ref, region);
  };

  /** What an answer carries whatever it is: the request id, which is the call id. */
  const idHeaders = (callId: string) => ({ 'X-Amzn-RequestId': callId, 'Fn-Call-Id': callId });

  const serve = async (req: IncomingMessage, res: ServerResponse, url: string, name: string, callId: string, found: { timeoutSec?: number }) => {
    const options = invokeOptions(req.headers);
    const ref = parseFunctionName(name, qualifierParam(url));
    const region = ref.region ?? sigV4Region(req.headers.authorization) ?? DEFAULT_REGION;
    const target = await resolve(ref, region);
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST) throw notFound(ref, region, ref.qualifier);
    found.timeoutSec = target.fn.timeout;
    const body = await readBody(req, maxRequestSize);
    if (body.length > 0) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new LambdaApiError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(err as Error).message}`);
      }
    }
    if (options.invocationType === 'DryRun') {
      res.writeHead(204, idHeaders(callId));
      res.end();
      return;
    }
    const spec = { app: target.app, fn: target.fn, callId, headers: forwardedHeaders(req.headers), body };
    if (options.invocationType === 'Event') {
      return invokeDetached(agent, spec, log, () => {
        res.writeHead(202, { ...idHeaders(callId), 'content-length': '0' });
        res.end();
      });
    }

    // The caller going away before the answer cancels the call, as on /invoke.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let callLog: CallLog | undefined;
    const answer = new BufferedAnswer();
    let failure: unknown;
    try {
      await agent.invoke({ ...spec, signal: gone.signal, ...(options.tail && { onLog: (l: CallLog) => (callLog = l) }) }, answer);
    } catch (err) {
      failure = err;
    }
    if (failure === undefined && answer.error) {
      failure = answer.error instanceof AgentError ? answer.error : new AgentError('function-failed', answer.error.message);
    }
    const headers: Record<string, string> = idHeaders(callId);
    if (callLog) headers['X-Amz-Log-Result'] = logTail(await settledLog(callLog, target.fn.format === 'lambda', callId));
    if (failure !== undefined) {
      sendLambdaError(res, failure, log, { requestId: callId, headers, timeoutSec: target.fn.timeout });
      return;
    }
    let payload = answer.body();
    // 502 is the function's error (a Lambda fn's daemon names its type in X-Amz-Function-Error),
    // 504 its timeout: the service answers both with 200 and an Unhandled function error.
    if (answer.status === 502 || answer.status === 504) {
      headers['X-Amz-Function-Error'] = 'Unhandled';
      if (answer.status === 504 && (target.fn.format !== 'lambda' || payload.length === 0)) {
        payload = Buffer.from(functionErrorPayload(callId, 'Sandbox.Timedout', timedOutMessage(target.fn.timeout)));
      }
    }
    const type = answer.headers['content-type'];
    res.writeHead(200, {
      ...headers,
      'X-Amz-Executed-Version': LATEST,
      'content-type': typeof type === 'string' ? type : 'application/json',
      'content-length': payload.length,
    });
    res.end(payload);
  };

  return (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(LAMBDA_INVOKE_PREFIX)) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const encoded = invokePathName(path);
    if (encoded === undefined) return false;
    if (req.method !== 'POST') {
      sendJson(res, 405, { message: `Method not allowed: ${req.method} ${path}` }, { Allow: 'POST' });
      return true;
    }
    const callId = newId();
    const found: { timeoutSec?: number } = {};
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      name = '\u0000'; // not a FunctionName: parseFunctionName says so
    }
    serve(req, res, url, name, callId, found).catch((err: unknown) =>
      sendLambdaError(res, err, log, { requestId: callId, headers: idHeaders(callId), ...(found.timeoutSec !== undefined && { timeoutSec: found.timeoutSec }), context: { method: req.method, url } }));
    return true;
  };
}
