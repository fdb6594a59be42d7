// A command's own handling of Ctrl-C around work that leaves something to clean up (a container):
// the work gets an AbortSignal, and the process's listeners are its only while it runs.
import { Interrupted } from './errors.js';

/**
 * Runs `work` with a signal aborted, its reason an Interrupted, by a SIGINT or SIGTERM that comes
 * while it runs; the work cleans up and rejects with it (when it comes too late to heed, the work
 * finishes). Outside it, the signals kill as ever.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: 'SIGINT' | 'SIGTERM'): void => controller.abort(new Interrupted(sig));
  // Once each: a second Ctrl-C while the work cleans up kills the process, as the operator asks.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
