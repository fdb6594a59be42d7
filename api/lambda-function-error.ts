// A function's own error answer (the container's 502 or 504) in Lambda's terms, for both
// invoke APIs: Invoke answers its payload with X-Amz-Function-Error, InvokeWithResponseStream
// its type and message as InvokeComplete's ErrorCode and ErrorDetails. A pure function.
import type { OutgoingHttpHeaders } from 'node:http';
import { headerText } from '../agent/headers.js';
import { timedOutMessage } from './errors.js';

export interface FunctionErrorAnswer {
  /** What Invoke answers as the payload. */
  payload: Buffer;
  /** The error's type: the Lambda runtime's, else the payload's errorType, else Unhandled. */
  errorType: string;
  /** Its message as the caller reads it: the payload's errorMessage, else the payload as text. */
  errorMessage: string;
}

export interface FunctionErrorContext {
  requestId: string;
  /** The fn's timeout in seconds (a timeout's message names it). */
  timeoutSec: number;
  /** A lambda fn: its daemon words its errors itself (and names their type in X-Amz-Function-Error). */
  lambda: boolean;
}

const UNHANDLED = 'Unhandled';

/** A JSON object's string member, if the text is one and has it. */
function member(json: unknown, name: string): string | undefined {
  const v = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The error of a container's 502 (the function's error) or 504 (its timeout). A lambda fn's
 * daemon sends the service's error JSON itself; anything else timing out (or a lambda 504 with
 * no body) is answered as the service words a timeout.
 */
export function functionErrorAnswer(status: 502 | 504, headers: OutgoingHttpHeaders, body: Buffer, ctx: FunctionErrorContext): FunctionErrorAnswer {
  if (status === 504 && (!ctx.lambda || body.length === 0)) {
    const errorType = 'Sandbox.Timedout';
    const errorMessage = `RequestId: ${ctx.requestId} Error: ${timedOutMessage(ctx.timeoutSec)}`;
    return { payload: Buffer.from(JSON.stringify({ errorType, errorMessage })), errorType, errorMessage };
  }
  const json = parse(body);
  // The daemon names a runtime's error type in the header, and marks a failure it found itself
  // (a crash, a timeout) Unhandled, its body naming the type.
  const named = headers['x-amz-function-error'];
  const runtimeType = ctx.lambda && typeof named === 'string' && named !== '' && named !== UNHANDLED ? headerText(named) : undefined;
  const errorType = runtimeType ?? member(json, 'errorType') ?? UNHANDLED;
  return { payload: body, errorType, errorMessage: member(json, 'errorMessage') ?? body.toString('utf8') };
}
