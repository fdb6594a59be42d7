// What can go wrong with a call on the agent's side; api/errors.ts maps each kind to HTTP.

export type AgentErrorKind =
  | 'timeout' //              the call ran past the fn's timeout (504)
  | 'start-timeout' //        the container did not open its socket in time (504)
  | 'init-failed' //          the container exited before it was ready (502)
  | 'function-failed' //      the container died or broke the connection mid-call (502)
  | 'invalid-response' //     the container answered with a status other than 200/502/504 (502)
  | 'request-head-too-large' // the function's own HTTP server refused the request's head as too large (431)
  | 'response-too-large' //   the answer was over FN_MAX_RESPONSE_SIZE (502)
  | 'request-too-large' //    the request body was over FN_MAX_REQUEST_SIZE (413)
  | 'server-busy' //          no capacity within the bounded wait (503, Retry-After)
  | 'too-big-for-host' //     the fn asks for more memory or CPU than the host has (400)
  | 'image-unavailable' //    the image is not present and cannot be pulled (400: fix the fn)
  | 'shutting-down' //        the server is stopping (503)
  | 'unsupported-format' //   the fn's format cannot run on this server yet (501)
  | 'runtime-unavailable' //  the Lambda runtime bundle cannot be prepared for now, a host error (503, Retry-After)
  | 'network-refused' //      the fn asks for a network the server does not (or no longer) allow (502: fix the fn)
  | 'out-of-resources' //     the server's host ran out of file descriptors, disk space or inodes preparing a container (503, Retry-After)
  | 'cancelled'; //           the client went away (recorded; nobody to answer)

export class AgentError extends Error {
  /** What the container printed, for the log of the call it failed (a start that failed: its start-up output). */
  readonly output?: string;
  /**
   * The message for a trigger's caller, who may be anyone, when `message` says more than such a
   * caller should read (what the container printed: a connection string, say).
   */
  readonly publicMessage?: string;

  constructor(readonly kind: AgentErrorKind, message: string, options?: { cause?: unknown; output?: string; publicMessage?: string }) {
    super(message, options);
    this.name = 'AgentError';
    if (options?.output !== undefined) this.output = options.output;
    if (options?.publicMessage !== undefined) this.publicMessage = options.publicMessage;
  }

  /** This error as a trigger's caller gets it. */
  forPublic(): AgentError {
    return this.publicMessage === undefined ? this : new AgentError(this.kind, this.publicMessage);
  }
}

/**
 * A bounded wait for capacity ran out (503). A container launch that fails with it speaks for no
 * caller in particular: each waiting call has its own bound, and only that ends its wait.
 */
export class WaitExpired extends AgentError {
  constructor() {
    super('server-busy', 'Timed out - server too busy');
    this.name = 'WaitExpired';
  }
}

/** The Lambda error type the daemon names when it cuts a stream at the call's deadline. */
export const STREAM_TIMEOUT_TYPE = 'Sandbox.Timedout';

/**
 * A Lambda response stream cut short after its first byte: the error type the Lambda daemon's
 * trailer named (the runtime's own, Runtime.TruncatedResponse, or Sandbox.Timedout at the
 * deadline) and, when it sent one, the error's message. The caller already has part of the
 * answer, so this only ever cuts an answer begun; its kind says whether the function timed out.
 */
export class StreamCutError extends AgentError {
  constructor(readonly errorType: string, readonly errorMessage?: string) {
    const timedOut = errorType === STREAM_TIMEOUT_TYPE;
    super(timedOut ? 'timeout' : 'function-failed', `function ${timedOut ? 'timed out' : 'failed'} mid-stream: ${errorType}`);
    this.name = 'StreamCutError';
  }
}
