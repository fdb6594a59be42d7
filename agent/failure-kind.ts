// Why a call did not succeed, in a few fixed words an operator can alert on: the function's own
// failures apart from the platform's (capacity, the engine, images), which the recorded status
// (error) does not tell apart. A metrics label: never a fn id or an error's text.
import { AgentError, type AgentErrorKind } from './errors.js';
import { ContainerConfigError, DriverError, ImageNotFoundError } from '../drivers/errors.js';
import { ImageRefError } from '../drivers/image-name.js';

export type FailureKind =
  | 'function' //  the function failed: an error answer, a crash mid-call, an invalid or oversized answer
  | 'timeout' //   it ran past the fn's timeout
  | 'init' //      its container exited before it was ready, or did not open its socket in time
  | 'cancelled' // the caller went away
  | 'busy' //      no capacity within KILN_MAX_QUEUE_MSECS (503 Timed out - server too busy)
  | 'capacity' //  the fn asks for more memory than this server has (400)
  | 'image' //     the fn's image cannot be had or is no valid reference
  | 'config' //    the engine refused what the fn or its app names (a network, a syslog_url, its memory)
  | 'engine' //    the container engine failed or did not answer
  | 'request' //   the caller's request was over FN_MAX_REQUEST_SIZE
  | 'shutdown' //  the server was stopping
  | 'internal'; // anything else: a fault of Kiln's own (no Lambda runtime bundle, its host out of descriptors or disk, a bug)

/** Every value, for tests and documentation. */
export const FAILURE_KINDS: readonly FailureKind[] = [
  'function', 'timeout', 'init', 'cancelled', 'busy', 'capacity', 'image', 'config', 'engine', 'request', 'shutdown', 'internal',
];

// A Record, so a new AgentErrorKind does not compile until it is given a kind here.
const OF_AGENT_KIND: Record<AgentErrorKind, FailureKind> = {
  'timeout': 'timeout',
  'start-timeout': 'init',
  'init-failed': 'init',
  'function-failed': 'function',
  'invalid-response': 'function',
  // The function's own HTTP server refused the head as too large.
  'request-head-too-large': 'function',
  'response-too-large': 'function',
  'request-too-large': 'request',
  'server-busy': 'busy',
  'too-big-for-host': 'capacity',
  'image-unavailable': 'image',
  'network-refused': 'config',
  'shutting-down': 'shutdown',
  'unsupported-format': 'internal',
  'runtime-unavailable': 'internal',
  // The server's own host, not the function nor the engine.
  'out-of-resources': 'internal',
  'cancelled': 'cancelled',
};

/**
 * The kind of a call that ended with `status` other than success, from the error it failed with.
 * No error: the function answered with an error (or a Lambda function error) itself, or timed out.
 */
export function failureKind(status: 'error' | 'timeout' | 'cancelled', err?: unknown): FailureKind {
  if (err === undefined) return status === 'error' ? 'function' : status;
  if (err instanceof AgentError) return OF_AGENT_KIND[err.kind];
  if (err instanceof ImageNotFoundError || err instanceof ImageRefError) return 'image';
  if (err instanceof ContainerConfigError) return 'config';
  if (err instanceof DriverError) return 'engine';
  return 'internal';
}
