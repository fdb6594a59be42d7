// Thins a call's resource samples to a bounded number (Fn's Decimate), so a long call's
// stats stay a fixed size when stored with the call.
import type { Stat } from './contract.js';

/** How many samples a call keeps (Fn keeps 240: four minutes at one a second, in full). */
export const MAX_CALL_STATS = 240;

/**
 * Reduces time-sorted `stats` to at most `maxSamples` by splitting their time span into
 * `maxSamples` equal windows and averaging each non-empty window into one sample.
 * Windows with no samples (gaps in time) yield nothing, so fewer may come back.
 * The result never shares objects with the input.
 */
export function decimate(maxSamples: number, stats: readonly Stat[]): Stat[] {
  const first = stats[0];
  const last = stats[stats.length - 1];
  // Flooring (and the negated test, which also catches NaN) keeps the window count a
  // positive integer even if a caller passes something odd.
  const windows = Math.floor(maxSamples);
  if (!(windows > 0) || first === undefined || last === undefined) return [];
  if (stats.length <= windows) return stats.map(copyStat);

  const span = last.timestamp - first.timestamp;
  const buckets: Stat[][] = Array.from({ length: windows }, () => []);
  for (const s of stats) {
    // Multiplying before dividing keeps the index exact for integer ms; a zero span puts
    // everything in window 0. Clamping both ends means the last sample (index == windows)
    // and any out-of-order sample still land in a real window.
    const raw = span > 0 ? Math.floor(((s.timestamp - first.timestamp) * windows) / span) : 0;
    const index = Math.min(windows - 1, Math.max(0, raw));
    buckets[index]?.push(s);
  }

  const out: Stat[] = [];
  for (const bucket of buckets) {
    if (bucket.length > 0) out.push(average(bucket, first.timestamp));
  }
  return out;
}

/** One sample averaging `samples` (non-empty); `origin` is any timestamp near theirs. */
function average(samples: readonly Stat[], origin: number): Stat {
  // Summing offsets rather than epoch ms keeps the sum far from float precision limits.
  let offsets = 0;
  const sums = new Map<string, { total: number; count: number }>();
  for (const s of samples) {
    offsets += s.timestamp - origin;
    for (const [key, value] of Object.entries(s.metrics)) {
      const acc = sums.get(key);
      if (acc) {
        acc.total += value;
        acc.count += 1;
      } else {
        sums.set(key, { total: value, count: 1 });
      }
    }
  }
  // A metric missing from some samples is averaged over the ones that have it, so a
  // missed reading doesn't drag the average towards zero.
  // Whole numbers, rounded down, as Fn's averages of its uint64 metrics (a Go client decoding
  // them as integers would fail on 2500.5). fromEntries defines own properties, so even a key
  // like "__proto__" stays a metric.
  const metrics = Object.fromEntries([...sums].map(([key, { total, count }]) => [key, Math.floor(total / count)]));
  return { timestamp: Math.round(origin + offsets / samples.length), metrics };
}

function copyStat(s: Stat): Stat {
  return { timestamp: s.timestamp, metrics: { ...s.metrics } };
}
