// The invoke path, POST /invoke/:fn_id and ANY /t/:app_name/<source>, served by a plain
// node:http handler ahead of express: it is the hot path, and express's per-request work
// (prototype swaps, routing through every router) was most of Kiln's overhead per call.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Admission, InvokeSpec } from '../agent/agent.js';
import type { ResponseTarget } from '../agent/relay.js';
import type { Invoker } from './deps.js';
import { runAdmitted } from './admitted.js';
import { AgentError } from '../agent/errors.js';
import { ApiError, NUL_IN_URL, sendError } from './errors.js';
import { MethodNotAllowedError, PathNotFoundError } from './route-errors.js';
import { loggedError } from '../store/db-log.js';
import { requestGatewayUrl } from './gateway-url.js';
import type { FnTarget, InvokeLookup } from './invoke-lookup.js';
import { platformFailure, traceInvoke, warnPlatformFailure, type InvokeTrail } from './invoke-log.js';
import { callerHeaders } from './caller-headers.js';
import { readBody } from './read-body.js';
import { pathOf } from './request-path.js';
import { callerAddress, forwardedFor, type TrustFn } from './trust-proxy.js';

export interface InvokeHandlerDeps {
  agent: Invoker;
  lookup: InvokeLookup;
  newId: () => string;
  log: Logger;
  maxRequestSize: number;
  /** KILN_BODY_IDLE_TIMEOUT_MSECS: the longest wait for the body's next bytes; 0: no bound. */
  bodyIdleTimeoutMs: number;
  /**
   * Keep the caller's Authorization header from functions called through /invoke: with
   * KILN_AUTH_TOKENS set it is Kiln's own token (api/auth.ts). A trigger's caller's header is the
   * function's business and goes through.
   */
  stripAuthorization?: boolean;
  /** KILN_TRUST_PROXY as express compiled it: who the caller is (see trust-proxy.ts). */
  trust: TrustFn;
}

/** Where a detached call's answer goes: nowhere. */
const discard: ResponseTarget = {
  headersSent: false,
  destroyed: false,
  writeHead: () => undefined,
  write: () => true,
  end: () => undefined,
  destroy: () => undefined,
  once: () => undefined,
  removeListener: () => undefined,
};

/**
 * Runs a call detached: `accept` answers the caller once a container has the call, so a busy
 * server or a broken image still answers with its error (thrown), and the caller does not wait
 * for the function; a failure after that is only logged. /invoke's `Fn-Invoke-Type: detached`
 * and the Lambda Invoke API's `Event` both use it.
 */
export async function invokeDetached(
  agent: Invoker, spec: Omit<InvokeSpec, 'signal' | 'onAccepted'>, log: Logger, accept: () => void,
): Promise<void> {
  let accepted = false;
  const onAccepted = () => {
    accepted = true;
    accept();
  };
  try {
    await agent.invoke({ ...spec, signal: new AbortController().signal, onAccepted }, discard);
  } catch (err) {
    if (!accepted) throw err;
    // As for a call with a caller: the platform's failures at warn, the function's own (an error,
    // a timeout) not at all, and anything unexpected at error, without a database's statement.
    if (platformFailure(err) !== undefined) warnPlatformFailure(log, err, spec.callId, spec.fn.id);
    else if (!(err instanceof AgentError)) log.error({ ...loggedError(err), call_id: spec.callId, fn_id: spec.fn.id }, 'detached call failed');
  }
}

/**
 * Path segments decoded as express would; undefined when a segment is malformed or decodes to
 * a NUL (express then answers the 400 for both; see api/server.ts).
 */
function segments(path: string): string[] | undefined {
  try {
    const parts = path.split('/').map(decodeURIComponent);
    return parts.some((p) => p.includes('\u0000')) ? undefined : parts;
  } catch {
    return undefined;
  }
}

/** Returns a handler that serves invokes and answers false for every other request. */
export function invokeHandler(deps: InvokeHandlerDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { agent, lookup, newId, log, stripAuthorization = false, trust } = deps;
  const bodyLimits = { maxBytes: deps.maxRequestSize, idleMs: deps.bodyIdleTimeoutMs };

  const run = async (
    req: IncomingMessage, res: ServerResponse, target: FnTarget, extra: Pick<InvokeSpec, 'triggerId' | 'gateway' | 'admission'>, trail: InvokeTrail | undefined,
  ) => {
    const body = await readBody(req, bodyLimits);
    const callId = newId();
    res.setHeader('Fn-Call-Id', callId);
    if (trail) {
      trail.callId = callId;
      trail.fnId = target.fn.id;
    }
    // Every value of a repeated header reaches the function, as on Fn (Node's req.headers joins or drops them).
    let headers = callerHeaders(req);
    if (stripAuthorization && extra.triggerId === undefined && headers.authorization !== undefined) {
      const { authorization: _kilnToken, ...rest } = headers;
      headers = rest;
    }
    // A Lambda fn's trigger is its function URL: X-Forwarded-For as AWS's front end gives it,
    // ending in the caller's address (Fn passes an http-stream fn's headers as they came).
    // Only a Lambda daemon is told the caller's address: asked for no other fn, on the warm path.
    const lambda = target.fn.format === 'lambda';
    if (extra.gateway && lambda) headers = { ...headers, 'x-forwarded-for': forwardedFor(req, trust) };
    const spec = { app: target.app, fn: target.fn, callId, headers, body, ...(lambda && { sourceIp: callerAddress(req, trust) }), ...extra };
    try {
      // Only /invoke may be detached: as Fn, a trigger's caller headers reach the function wrapped
      // (Fn-Http-H-Fn-Invoke-Type) and the call stays synchronous, so a public trigger URL cannot be
      // made to queue fire-and-forget calls.
      if (extra.triggerId === undefined && req.headers['fn-invoke-type'] === 'detached') {
        // As Fn: 202 with no body; the call id is in the Fn-Call-Id header set above.
        return await invokeDetached(agent, spec, log, () => {
          res.writeHead(202, { 'content-length': '0' });
          res.end();
        });
      }
      // The caller going away before the answer is complete cancels the call.
      const gone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      await agent.invoke({ ...spec, signal: gone.signal }, res);
    } catch (err) {
      warnPlatformFailure(log, err, callId, target.fn.id);
      throw err;
    }
  };

  /**
   * A path under /invoke/ or /t/ that names no fn or trigger, answered here as express would
   * answer it: passed on, it would reach express past the token check, which lets /t/ through.
   */
  const unrouted = (req: IncomingMessage, res: ServerResponse, path: string): true => {
    sendError(res, path.includes('%00') ? new ApiError(NUL_IN_URL) : new PathNotFoundError(req.method, path), log);
    return true;
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const path = pathOf(url);
    const isInvoke = path.startsWith('/invoke/');
    if (!isInvoke && !path.startsWith('/t/')) return false;
    const trail = traceInvoke(log, req, res, trust);
    let work: (admission: Admission | undefined) => Promise<void>;
    if (isInvoke) {
      const parts = segments(path.slice('/invoke/'.length));
      if (!parts || parts.length !== 1 || parts[0] === '') return unrouted(req, res, path);
      if (req.method !== 'POST') {
        sendError(res, new MethodNotAllowedError(req.method, path, ['POST']), log);
        return true;
      }
      work = (admission) => lookup.byFnId(parts[0]!).then((t) => run(req, res, t, { ...(admission && { admission }) }, trail));
    } else {
      const parts = segments(path.slice('/t/'.length));
      if (!parts || parts[0] === '' || parts[0] === undefined) return unrouted(req, res, path);
      const [appName, ...rest] = parts;
      work = (admission) => lookup.byTrigger(appName, `/${rest.join('/')}`).then((t) =>
        run(req, res, t, { triggerId: t.trigger.id, gateway: { method: req.method ?? 'GET', url: requestGatewayUrl(req) }, ...(admission && { admission }) }, trail),
      );
    }
    // A trigger's caller may be anyone: it gets no more than Fn's fixed messages say (toPublicHttpError).
    runAdmitted(agent, work, (err) => sendError(res, err, log, { method: req.method, url }, !isInvoke));
    return true;
  };
}
