// A best-effort answer bounded in time: `fallback` when the work has not settled within `ms`,
// or fails, or `signal` aborts first. The work itself is left to finish on its own.

export function within<T>(work: Promise<T>, ms: number, fallback: T, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve) => {
    const done = (v: T) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => done(fallback);
    const timer = setTimeout(onAbort, ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(done, onAbort);
  });
}
