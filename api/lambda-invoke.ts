// The AWS Lambda Invoke API as a second front door to the invoke path:
// `POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=]`, so the AWS SDKs and CLI
// (and RIE's curl) call Kiln's fns, lambda and http-stream alike. A plain node:http handler
// like /invoke's; boot.ts asks it only for requests that are neither /invoke nor /t/, so those
// pay nothing for it. Responses are buffered (the Invoke API's payloads are) to be answered in
// Lambda's terms: function errors as 200s with X-Amz-Function-Error, a log tail in a header.
// What both invoke APIs share (the FunctionName, options, payload, DryRun) is lambda-door.ts.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CallLog } from '../agent/agent.js';
import { AgentError } from '../agent/errors.js';
import type { ResponseTarget } from '../agent/relay.js';
import type { Invoker } from './deps.js';
import { sendLambdaError } from './errors.js';
import { invokeDetached } from './invoke-handler.js';
import { warnPlatformFailure } from './invoke-log.js';
import { idHeaders, LATEST, lambdaDoor, type LambdaCall, type LambdaDoorDeps } from './lambda-door.js';
import { functionErrorAnswer } from './lambda-function-error.js';
import { logResult } from './lambda-log.js';
import { forwardedHeaders, INVOKE_PATH, INVOKE_TYPES } from './lambda-request.js';
import { callerAddress } from './trust-proxy.js';

export interface LambdaInvokeDeps extends LambdaDoorDeps {
  agent: Invoker;
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
  const { agent, log } = deps;

  const run = async ({ req, res, callId, options, target, body, admission, qualifier }: LambdaCall): Promise<void> => {
    const spec = {
      app: target.app, fn: target.fn, callId, headers: forwardedHeaders(req.headers), body, sourceIp: callerAddress(req, deps.trust),
      ...(admission && { admission }), ...(qualifier !== undefined && { qualifier }),
    };
    if (options.invocationType === 'Event') {
      try {
        return await invokeDetached(agent, spec, log, () => {
          res.writeHead(202, { ...idHeaders(callId), 'content-length': '0' });
          res.end();
        });
      } catch (err) {
        warnPlatformFailure(log, err, callId, target.fn.id);
        throw err;
      }
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
      await agent.invoke({ ...spec, signal: gone.signal, buffered: true, ...(options.tail && { onLog: (l: CallLog) => (callLog = l) }) }, answer);
    } catch (err) {
      failure = err;
    }
    if (failure === undefined && answer.error) {
      failure = answer.error instanceof AgentError ? answer.error : new AgentError('function-failed', answer.error.message);
    }
    const headers: Record<string, string> = idHeaders(callId);
    if (callLog) headers['X-Amz-Log-Result'] = await logResult(callLog, target, callId);
    if (failure !== undefined) {
      warnPlatformFailure(log, failure, callId, target.fn.id);
      sendLambdaError(res, failure, log, { requestId: callId, headers, timeoutSec: target.fn.timeout });
      return;
    }
    let payload = answer.body();
    // 502 is the function's error (a Lambda fn's daemon names its type in X-Amz-Function-Error),
    // 504 its timeout: the service answers both with 200 and an Unhandled function error.
    if (answer.status === 502 || answer.status === 504) {
      headers['X-Amz-Function-Error'] = 'Unhandled';
      payload = functionErrorAnswer(answer.status, answer.headers, payload, { requestId: callId, timeoutSec: target.fn.timeout, lambda: target.fn.format === 'lambda' }).payload;
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

  return lambdaDoor(INVOKE_PATH, INVOKE_TYPES, deps, run);
}
