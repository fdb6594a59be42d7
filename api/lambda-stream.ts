// AWS Lambda's InvokeWithResponseStream as a third front door to the invoke path:
// `POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations[?Qualifier=]`, so
// the AWS SDKs' InvokeWithResponseStreamCommand calls Kiln's fns, lambda (response-streaming or
// buffered) and http-stream alike. A plain node:http handler like Invoke's, asked only after
// /invoke and /t/ have declined. The function's answer goes on as it comes, one PayloadChunk
// event per chunk, and an InvokeComplete event ends the stream: with ErrorCode and ErrorDetails
// when the function failed (its error, a timeout, a crash, a stream it broke off), and the log's
// last 4 KB with LogType Tail. Platform errors before the stream starts are answered as Invoke
// answers them (lambda-door.ts, api/errors.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallLog } from '../agent/agent.js';
import { AgentError } from '../agent/errors.js';
import type { Invoker } from './deps.js';
import { outcomeMessage, sendLambdaError, toLambdaError, type LambdaOutcome } from './errors.js';
import { EventStreamAnswer } from './event-stream-answer.js';
import { warnPlatformFailure } from './invoke-log.js';
import type { InvokeComplete } from './event-stream.js';
import { idHeaders, LATEST, lambdaDoor, type LambdaCall, type LambdaDoorDeps } from './lambda-door.js';
import { functionErrorAnswer } from './lambda-function-error.js';
import { logResult } from './lambda-log.js';
import { forwardedHeaders, STREAM_PATH, STREAM_TYPES } from './lambda-request.js';
import { callerAddress } from './trust-proxy.js';

export interface LambdaStreamDeps extends LambdaDoorDeps {
  agent: Invoker;
}

/** InvokeComplete's error members for a failure reported once the stream has begun. */
function completionError(outcome: LambdaOutcome, requestId: string): InvokeComplete {
  return outcome.kind === 'function'
    ? { ErrorCode: outcome.errorType, ErrorDetails: outcomeMessage(requestId, outcome) }
    : { ErrorCode: outcome.type, ErrorDetails: outcome.message };
}

/** Returns a handler that serves InvokeWithResponseStream's path and answers false for every other request. */
export function lambdaStreamHandler(deps: LambdaStreamDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { agent, log } = deps;

  const run = async ({ req, res, callId, options, target, body, admission, qualifier }: LambdaCall): Promise<void> => {
    // The caller going away before the end cancels the call, as on /invoke.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let callLog: CallLog | undefined;
    const answer = new EventStreamAnswer(res, { ...idHeaders(callId), 'X-Amz-Executed-Version': LATEST });
    let failure: unknown;
    try {
      await agent.invoke({
        app: target.app, fn: target.fn, callId, headers: forwardedHeaders(req.headers), body, signal: gone.signal, streamed: true, sourceIp: callerAddress(req, deps.trust),
        ...(options.tail && { onLog: (l: CallLog) => (callLog = l) }), ...(admission && { admission }), ...(qualifier !== undefined && { qualifier }),
      }, answer);
    } catch (err) {
      failure = err;
    }
    failure ??= answer.failure;
    if (failure !== undefined) warnPlatformFailure(log, failure, callId, target.fn.id);
    const timeoutSec = target.fn.timeout;
    const outcome = failure === undefined ? undefined : toLambdaError(failure, timeoutSec);
    // Nothing of the stream went out yet: a platform error is answered as Invoke answers it; the
    // function's own failure (a timeout, a crash before its first byte) is still a stream.
    if (outcome?.kind === 'platform' && !answer.headersSent) {
      sendLambdaError(res, failure, log, { requestId: callId, headers: idHeaders(callId), timeoutSec });
      return;
    }
    if (outcome?.kind === 'platform' && outcome.status === 500 && !(failure instanceof AgentError)) {
      log.error({ err: failure, call_id: callId }, 'response stream failed');
    }
    const complete: InvokeComplete = {};
    if (outcome) Object.assign(complete, completionError(outcome, callId));
    else if (answer.status === 502 || answer.status === 504) {
      const e = functionErrorAnswer(answer.status, answer.headers, answer.errorBody(), { requestId: callId, timeoutSec, lambda: target.fn.format === 'lambda' });
      complete.ErrorCode = e.errorType;
      complete.ErrorDetails = e.errorMessage;
    }
    if (callLog) complete.LogResult = await logResult(callLog, target, callId);
    answer.complete(complete);
  };

  return lambdaDoor(STREAM_PATH, STREAM_TYPES, deps, run);
}
