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

/** How long a LogType Tail answer waits for a Lambda fn's REPORT record to reach the log. */
const REPORT_WAIT_MS = 500;
/**
 * Otherwise: for the first output at most LOG_FIRST_MS (a fn may print nothing), then until it
 * has been quiet LOG_QUIET_MS, at most LOG_WAIT_MAX_MS in all.
 */
const LOG_FIRST_MS = 100;
const LOG_QUIET_MS = 20;
const LOG_WAIT_MAX_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether a lambda fn's log will carry a REPORT record: always in the text format; in the JSON
 * format only while the system log level lets INFO records through (the daemon's
 * AWS_LAMBDA_LOG_FORMAT and KILN_LAMBDA_SYSTEM_LOG_LEVEL, from the fn's config).
 */
export function reportExpected(config: Record<string, string>): boolean {
  if ((config.AWS_LAMBDA_LOG_FORMAT ?? '').trim().toUpperCase() !== 'JSON') return true;
  const level = (config.KILN_LAMBDA_SYSTEM_LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  return level === 'INFO' || level === 'DEBUG';
}

/**
 * The end of the call's log once it has settled: output reaches the log through the container
 * engine's log stream, which can trail the answer by a few milliseconds. Only the last 4 KB are
 * looked at, so waiting costs next to nothing whatever the log's size.
 */
async function settledTail(log: CallLog, reportOf: string | undefined): Promise<Buffer> {
  const started = Date.now();
  if (reportOf !== undefined) {
    const text = `REPORT RequestId: ${reportOf}`;
    const reported = (t: Buffer) => t.includes(text) || (t.includes('"platform.report"') && t.includes(reportOf));
    while (!reported(log.tail()) && Date.now() - started < REPORT_WAIT_MS) await sleep(5);
    return log.tail();
  }
  let seen = log.written;
  while (Date.now() - started < LOG_WAIT_MAX_MS) {
    await sleep(LOG_QUIET_MS);
    if (log.written !== seen) {
      seen = log.written;
      continue;
    }
    if (seen > 0 || Date.now() - started >= LOG_FIRST_MS) break;
  }
  return log.tail();
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
    // Kiln has no versions or aliases: any other qualifier names nothing, whichever fn it is of.
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST) throw notFound(ref, region, ref.qualifier);
    const target = await resolve(ref, region);
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
    if (callLog) {
      const lambda = target.fn.format === 'lambda' && reportExpected({ ...target.app.config, ...target.fn.config });
      headers['X-Amz-Log-Result'] = logTail(await settledTail(callLog, lambda ? callId : undefined));
    }
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
      name = encoded; // malformed percent-encoding: not a FunctionName, and parseFunctionName says so
    }
    serve(req, res, url, name, callId, found).catch((err: unknown) =>
      sendLambdaError(res, err, log, { requestId: callId, headers: idHeaders(callId), ...(found.timeoutSec !== undefined && { timeoutSec: found.timeoutSec }), context: { method: req.method, url } }));
    return true;
  };
}
