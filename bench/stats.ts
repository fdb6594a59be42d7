// Latency summaries for benchmarks.

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i]!;
}

export interface Summary { n: number; p50: number; p99: number }

/** Runs `fn` `n` times after `warmup` unmeasured runs; times in milliseconds. */
export async function measure(n: number, warmup: number, fn: (i: number) => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { n, p50: percentile(times, 50), p99: percentile(times, 99) };
}

export const fmt = (s: Summary): string => `p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  (n=${s.n})`;
