// What the server log says about invokes, which bypass express and so pino-http: at debug one
// line per finished invoke, with pino-http's field names; at warn every invoke the platform
// failed (the engine, a container that would not start or get ready, no capacity), so that
// with the default level an operator still hears of an unreachable engine. A function's own
// failure, and a caller who went away, are the function's and the caller's business: not logged.
import { redactUrl } from './log-redact.js';
import { callerAddress, type TrustFn } from './trust-proxy.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AgentError } from '../agent/errors.js';
import { ContainerConfigError, DriverError, ImageNotFoundError } from '../drivers/errors.js';

/** The call an invoke became, filled in by its handler once known, for its debug line. */
export interface InvokeTrail {
  callId?: string;
  fnId?: string;
}

/** Why the platform, not the function or the caller, failed a call; undefined when it did not. */
export function platformFailure(err: unknown): string | undefined {
  if (err instanceof AgentError) {
    switch (err.kind) {
      case 'start-timeout':
      case 'init-failed':
      case 'server-busy':
      case 'image-unavailable':
      case 'out-of-resources':
      case 'runtime-unavailable':
        return err.kind;
      default:
        return undefined;
    }
  }
  if (err instanceof ImageNotFoundError) return 'image-unavailable';
  // Before DriverError, which it extends: the engine answered, and refused the container as configured.
  if (err instanceof ContainerConfigError) return 'container-config';
  if (err instanceof DriverError) return 'engine';
  return undefined;
}

/** Logs `err` at warn when the platform failed the call. */
export function warnPlatformFailure(log: Logger, err: unknown, callId: string, fnId: string): void {
  const kind = platformFailure(err);
  if (kind === undefined) return;
  const error = err instanceof Error ? err.message : String(err);
  log.warn({ call_id: callId, fn_id: fnId, kind, error }, `call failed: ${error}`);
}

/**
 * At debug, has a line logged when the invoke's answer is done (or cut off), and returns the
 * trail its handler fills in; at info and above returns undefined and costs nothing more.
 */
export function traceInvoke(log: Logger, req: IncomingMessage, res: ServerResponse, trust: TrustFn): InvokeTrail | undefined {
  if (!log.isLevelEnabled('debug')) return undefined;
  const started = performance.now();
  const trail: InvokeTrail = {};
  res.once('close', () => {
    log.debug(
      {
        // The caller as KILN_TRUST_PROXY says (as a Lambda fn's sourceIp), and no secret of its query.
        req: { method: req.method, url: redactUrl(req.url ?? '/'), remoteAddress: callerAddress(req, trust) },
        // No status when nothing was answered (res.statusCode would say 200).
        ...(res.headersSent && { res: { statusCode: res.statusCode } }),
        responseTime: Math.round(performance.now() - started),
        ...(trail.callId !== undefined && { call_id: trail.callId }),
        ...(trail.fnId !== undefined && { fn_id: trail.fnId }),
      },
      // pino-http's two messages.
      !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted',
    );
  });
  return trail;
}
