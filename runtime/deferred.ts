// A promise with its resolve/reject outside: each party parked in `next` is one of these.
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
  readonly settled: boolean;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  let settled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A gate nobody awaits yet must not crash the daemon when it is cancelled.
  promise.catch(() => {});
  return {
    promise,
    resolve: (v) => {
      if (settled) return;
      settled = true;
      resolve(v);
    },
    reject: (e) => {
      if (settled) return;
      settled = true;
      reject(e);
    },
    get settled() {
      return settled;
    },
  };
}

/** Node's longest timer (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer's delay for a wait of `ms`: none below 0, and a deadline weeks away held to the longest timer. */
export const timerDelay = (ms: number): number => Math.min(Math.max(0, ms), MAX_TIMER_MS);

/** Resolves after `ms`, or never when ms is Infinity; clear() stops the timer. */
export function delay(ms: number): { promise: Promise<'timeout'>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(ms)) timer = setTimeout(() => resolve('timeout'), timerDelay(ms));
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** Waits for `p` or `ms`, whichever comes first, leaving no timer behind (a rejection of `p` is thrown). */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  const t = delay(ms);
  try {
    await Promise.race([p, t.promise]);
  } finally {
    t.clear();
  }
}
