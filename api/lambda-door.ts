// What both Lambda invoke APIs (Invoke, InvokeWithResponseStream) do before a call runs: match
// their path, refuse another method, resolve the FunctionName (a fn id, a name, the ARN forms)
// and its qualifier, read the X-Amz-* options and the JSON payload, answer DryRun; and answer
// whatever fails in Lambda's error shape. Each API then runs the call its own way.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Admission } from '../agent/agent.js';
import type { Invoker } from './deps.js';
import { runAdmitted } from './admitted.js';
import { NotFoundError } from '../store/errors.js';
import { LambdaApiError, sendLambdaError } from './errors.js';
import type { FnTarget, InvokeLookup } from './invoke-lookup.js';
import { traceInvoke, type InvokeTrail } from './invoke-log.js';
import {
  DEFAULT_REGION, functionArn, functionNameIn, invokeOptions, KILN_ACCOUNT_ID, parseFunctionName, qualifierParam, sigV4Region,
  type FunctionRef, type InvocationType, type InvokeOptions, type LambdaPath,
} from './lambda-request.js';
import { readBody } from './read-body.js';
import { pathOf } from './request-path.js';
import type { TrustFn } from './trust-proxy.js';

export interface LambdaDoorDeps {
  /** Takes each call's request as it arrives (see Agent.admit). */
  agent: Pick<Invoker, 'admit'>;
  lookup: InvokeLookup;
  newId: () => string;
  log: Logger;
  maxRequestSize: number;
  /** KILN_BODY_IDLE_TIMEOUT_MSECS: the longest wait for the body's next bytes; 0: no bound. */
  bodyIdleTimeoutMs: number;
  /** KILN_TRUST_PROXY as express compiled it: who the caller is (see trust-proxy.ts). */
  trust: TrustFn;
}

/** A call that has passed the door: its fn, options and payload, and where to answer. */
export interface LambdaCall {
  req: IncomingMessage;
  res: ServerResponse;
  /** Kiln's call id, which is the Lambda request id. */
  callId: string;
  options: InvokeOptions;
  target: FnTarget;
  body: Buffer;
  /** Taken as the request arrived: for the agent (InvokeSpec.admission). */
  admission?: Admission;
  /** The version the caller named (only `$LATEST` is served): see InvokeSpec.qualifier. */
  qualifier?: string;
}

/** Kiln's (and Fn's) fn ids: ULIDs. A FunctionName of this form is tried as an id first. */
const FN_ID = /^[0-9A-Z]{26}$/;

/** The only version Kiln has: its fns have no published versions or aliases. */
export const LATEST = '$LATEST';

/** What every answer carries, as the service's: its request id. */
const requestIdHeader = (id: string): Record<string, string> => ({ 'X-Amzn-RequestId': id });

/** An answer about a call: its request id, which is the call's id (Fn-Call-Id, to look it up). */
export const idHeaders = (callId: string): Record<string, string> => ({ ...requestIdHeader(callId), 'Fn-Call-Id': callId });

/** What serving a request found out, for the error answer should it fail. */
interface Found {
  requestId: string;
  timeoutSec?: number;
  /** A call was made (and is recorded): an error answer names it. */
  called?: boolean;
}

/**
 * Returns a handler that serves `api`'s path with `run` (for the invocation types in `types`,
 * DryRun answered here) and answers false for every other request.
 */
export function lambdaDoor(
  api: LambdaPath, types: readonly InvocationType[], deps: LambdaDoorDeps, run: (call: LambdaCall) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { lookup, newId, log, trust } = deps;
  const bodyLimits = { maxBytes: deps.maxRequestSize, idleMs: deps.bodyIdleTimeoutMs };

  const notFound = (ref: FunctionRef, region: string, qualifier?: string) =>
    new LambdaApiError('ResourceNotFoundException', `Function not found: ${functionArn(ref.region ?? region, ref.account ?? KILN_ACCOUNT_ID, ref.name, qualifier)}`);

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
      throw new LambdaApiError('InvalidParameterValueException',
        `Function name ${ref.name} is used in more than one app (${found.map((t) => t.app.name).join(', ')}): invoke it by its fn id`);
    }
    throw notFound(ref, region);
  };

  const serve = async (
    req: IncomingMessage, res: ServerResponse, url: string, name: string, found: Found, trail: InvokeTrail | undefined, admission: Admission | undefined,
  ) => {
    const options = invokeOptions(req.headers, types);
    const ref = parseFunctionName(name, qualifierParam(url));
    const region = ref.region ?? sigV4Region(req.headers.authorization) ?? DEFAULT_REGION;
    // Kiln has no versions or aliases: any other qualifier names nothing, whichever fn it is of.
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST) throw notFound(ref, region, ref.qualifier);
    const target = await resolve(ref, region);
    found.timeoutSec = target.fn.timeout;
    if (trail) trail.fnId = target.fn.id;
    const body = await readBody(req, bodyLimits);
    // The call's id is made once its body is in, as /invoke's: ids begin with their time, and the
    // calls list's time filters take them to be within a minute of created_at (store/call-ids.ts),
    // which an upload of any length would otherwise break. Answers before this one carry the
    // request's first id.
    const callId = newId();
    found.requestId = callId;
    if (trail) trail.callId = callId;
    if (body.length > 0) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new LambdaApiError('InvalidRequestContentException', `Could not parse request body into json: ${(err as Error).message}`);
      }
    }
    if (options.invocationType === 'DryRun') {
      // Nothing runs and nothing is recorded: no call to name.
      res.writeHead(204, requestIdHeader(callId));
      res.end();
      return;
    }
    found.called = true;
    await run({ req, res, callId, options, target, body, ...(admission && { admission }), ...(ref.qualifier !== undefined && { qualifier: ref.qualifier }) });
  };

  return (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(api.prefix)) return false;
    const path = pathOf(url);
    const encoded = functionNameIn(path, api);
    if (encoded === undefined) return false;
    const trail = traceInvoke(log, req, res, trust);
    if (req.method !== 'POST') {
      // The AWS protocols' 405 for a served path asked with another method (their type's status is 404).
      const wrong = new LambdaApiError('UnknownOperationException', `Method not allowed: ${req.method} ${path}`, { status: 405 });
      sendLambdaError(res, wrong, log, { requestId: newId(), headers: { Allow: 'POST' } });
      return true;
    }
    const found: Found = { requestId: newId() };
    if (trail) trail.callId = found.requestId;
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      name = encoded; // malformed percent-encoding: not a FunctionName, and parseFunctionName says so
    }
    runAdmitted(deps.agent, (admission) => serve(req, res, url, name, found, trail, admission), (err) =>
      sendLambdaError(res, err, log, { requestId: found.requestId, headers: (found.called ? idHeaders : requestIdHeader)(found.requestId), ...(found.timeoutSec !== undefined && { timeoutSec: found.timeoutSec }), context: { method: req.method, url } }));
    return true;
  };
}
