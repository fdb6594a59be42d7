// One invocation as the sandbox runs it: the event the runtime receives, what the caller is
// answered with, and the pure reading of that answer (its status, error type, bytes) that the
// platform lines and the Telemetry API's records share.
import type { IncomingMessage } from 'node:http';
import type { Deferred } from './deferred.js';
import type { FunctionFailure } from './errors.js';
import type { ExtensionAgent } from './extension-agent.js';
import { headerText } from './http-util.js';
import { invokeStatus, type InvokeStatus } from './log-format.js';

export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

/** What the runtime's `next` receives. */
export interface InvokeEvent {
  requestId: string;
  deadlineMs: number;
  body: Buffer;
  traceId: string;
  invokedFunctionArn: string;
  clientContext?: string;
  cognitoIdentity?: string;
}

/** Where an invocation's answer goes: called once, in the turn the answer is ready. */
export type Reply = (answer: Outcome) => void;

/** What a response stream's relay found: the bytes passed on, and the error it ended with, if any. */
export interface StreamRelayed {
  bytes: number;
  /** Set when it ended with the runtime's error (its trailers), or broke off. */
  errorType?: string;
  /**
   * Asked as the stream ends: true when its END and REPORT will follow later (extensions still
   * at work), which the agent is told in a trailer (the head is long gone).
   */
  reportLate?: () => boolean;
}

/** A platform failure answered to the caller (a timeout, a crash, a bad bootstrap). */
export type FailureOutcome = { kind: 'failure'; status: number; failure: FunctionFailure };

/** What a caller is answered with; `log` is the call's platform lines when they travel with the answer. */
export type Outcome = (
  | { kind: 'response'; contentType: string; body: Buffer }
  /**
   * `done` settles once the stream has been relayed; resolving `cut` ends it early with that
   * failure (the deadline bounds the whole stream, as the service's does).
   */
  | { kind: 'stream'; contentType: string; from: IncomingMessage; done: Deferred<void>; cut: Deferred<FailureOutcome>; relayed: StreamRelayed }
  | { kind: 'error'; errorType: string; contentType: string; body: Buffer }
  | FailureOutcome
) & {
  log?: string;
  /** Where the invocation's output begins in the container's log (its byte offset), for the agent. */
  logFrom?: number;
  /**
   * The sandbox stays busy after this answer (an INVOKE-subscribed extension still at work, or
   * a reset to come): the agent gives the container no other call until it is idle, as the
   * service sends the next invoke to another sandbox meanwhile.
   */
  busyAfter?: boolean;
  /**
   * The invocation's END and REPORT come after the answer, once its extensions are done
   * (Invocation.reportLate): a LogType Tail answer need not wait for them.
   */
  reportLate?: boolean;
  /**
   * A stream's: the invocation's deadline (epoch ms), so the agent can end the stream for a caller
   * that holds it up (the daemon's own cut, its trailer, waits behind what the caller has not read).
   */
  deadlineMs?: number;
};

export interface Invocation {
  event: InvokeEvent;
  startedAt: number;
  /** performance.now() at start: durations with sub-millisecond precision. */
  t0: number;
  outcome: Deferred<Outcome>;
  /** Writes the caller's answer (called once, before any bookkeeping). */
  reply: Reply;
  /** Resolved once the answer has been handed to `reply`. */
  answered: Deferred<void>;
  /** Set on the call that ran (or followed) the init. */
  initMs: number | undefined;
  /** The extensions it was sent to: it is over once each is back in `next`. */
  subscribers: readonly ExtensionAgent[];
  /** The container log's length when it started: its output follows. */
  logFrom: number;
  /** The runtime's lines passed on before it started. */
  runtimeLinesFrom: number;
  /** The runtime's output bytes passed on before it started. */
  runtimeBytesFrom: number;
  /** Set when the log backed up while it ran. */
  logHeld?: boolean;
  /** performance.now() when the runtime began posting its response (or error). */
  responseStartAt?: number;
  /** Set once answered. */
  respondedAt?: number;
  durationMs?: number;
  memoryUsedMb?: number;
  /**
   * END and REPORT follow the answer, once the invocation is over: `extensions`, INVOKE extensions
   * were still at work at the answer (or the stream's end); `output`, the runtime printed so much
   * that some may still wait in its own buffer, flushed once it has its post accepted.
   */
  reportLate?: 'extensions' | 'output';
}

/** The first fatal error of a generation, and what to tell the caller. */
export interface Fatal {
  failure: FunctionFailure;
  /** `/init/error`'s posted body, answered verbatim. */
  posted?: { errorType: string; contentType: string; body: Buffer };
  status: 'error' | 'failure' | 'timeout';
}

/** The SHUTDOWN reason of the reset that follows a fatal error. */
export const resetReason = (f: Fatal): ShutdownReason => (f.status === 'timeout' ? 'timeout' : 'failure');

/** The bytes of its answer the runtime produced (a stream's, as relayed): runtimeDone's producedBytes. */
export const producedBytesOf = (o: Outcome): number => (o.kind === 'response' ? o.body.length : o.kind === 'stream' ? o.relayed.bytes : 0);

/** The error type as records have it: a runtime's (from its header's bytes) decoded as UTF-8. */
export function errorTypeOf(o: Outcome): string | undefined {
  if (o.kind === 'error') return headerText(o.errorType);
  if (o.kind === 'failure') return o.failure.errorType;
  if (o.kind === 'stream') return o.relayed.errorType === undefined ? undefined : headerText(o.relayed.errorType);
  return undefined;
}

export const statusOf = (o: Outcome): InvokeStatus => invokeStatus(o.kind, errorTypeOf(o));

/** A call past its deadline. The service names the configured timeout, not the time this sandbox saw. */
export const timeoutOutcome = (timeoutSec: number): FailureOutcome => ({
  kind: 'failure', status: 504, failure: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${timeoutSec.toFixed(2)} seconds` },
});

/** A generation's fatal error as the caller's answer: an init error's posted body verbatim. */
export function fatalOutcome(f: Fatal): Outcome {
  if (f.posted) return { kind: 'error', ...f.posted };
  return { kind: 'failure', status: f.status === 'timeout' ? 504 : 502, failure: f.failure };
}
