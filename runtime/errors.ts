// The Lambda APIs' error answers: `{"errorMessage","errorType"}` with a status, as the service sends.
export class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** The runtime asked for a change of state its state does not allow (`to`: the state it asked for): the service's 403. */
export const invalidStateTransition = (from: string, to: string) =>
  new LambdaApiError(403, 'InvalidStateTransition', `State transition from ${from} to ${to} failed for runtime. Error: State transition is not allowed`);
export const invalidRequestId = () => new LambdaApiError(400, 'InvalidRequestID', 'Invalid request ID');
/** A request whose body broke off (its connection lost, a malformed chunk): the service's answer. */
export const truncatedRequest = () => new LambdaApiError(400, 'TruncatedHTTPRequest', 'HTTP request detected as truncated');

/** A failure the caller sees: the Lambda error type and message (e.g. Runtime.ExitError). */
export interface FunctionFailure {
  errorType: string;
  errorMessage: string;
}

/**
 * A response stream whose POST broke off before its end (the runtime's connection lost, or a
 * malformed chunk): the service's type for a cut response.
 */
export const truncatedResponse: FunctionFailure = {
  errorType: 'Runtime.TruncatedResponse',
  errorMessage: "The runtime's response stream ended before it was complete",
};

/** The same for a buffered /response or /error whose body broke off: the invoke counts as answered with it. */
export const truncatedBody: FunctionFailure = {
  errorType: 'Runtime.TruncatedResponse',
  errorMessage: "The runtime's response body ended before it was complete",
};

/** A platform-detected failure's message as the service words it for the caller. */
export const failureMessage = (requestId: string, f: FunctionFailure): string => `RequestId: ${requestId} Error: ${f.errorMessage}`;

/** The caller's body for a platform-detected failure, formatted as the service does. */
export function failureBody(requestId: string, f: FunctionFailure): string {
  return JSON.stringify({ errorType: f.errorType, errorMessage: failureMessage(requestId, f) });
}
