// One request to the container engine, bounded: an engine that takes the connection and never
// answers (Docker 20.10's removal deadlock) would otherwise hold whatever waits on it for ever.
import { DriverError } from '../errors.js';

/**
 * How long the engine may take to answer one request of a start (inspect, create, attach, the
 * wait's head, start), a removal, or a sweep's list and removals.
 */
export const ENGINE_CALL_MS = 60_000;

/**
 * How long the engine may take to pause or unpause a container (Fn's pauseTimeout): a call waits
 * on an unpause, so one the engine does not answer drops the container, and the call waits for a start.
 */
export const PAUSE_MS = 5_000;

/**
 * Runs `call` and gives up after `ms` with a DriverError naming `what`. The request gets an abort
 * signal of its own (the stop `signal` aborts it too) that is let go of once the engine answers:
 * an attach's stream lives on after its answer and must not be cut when the deadline passes. A
 * request that takes no signal (dockerode's image inspect) is left to the engine, not waited on.
 */
export function engineCall<T>(what: string, ms: number, call: (abortSignal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DriverError(`${what}: the container engine did not answer within ${ms} ms`);
      reject(err);
      ac.abort(err);
    }, ms);
  });
  const onStop = () => ac.abort(signal?.reason);
  if (signal?.aborted) onStop();
  else signal?.addEventListener('abort', onStop, { once: true });
  return Promise.race([call(ac.signal), late]).finally(() => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onStop);
  });
}
