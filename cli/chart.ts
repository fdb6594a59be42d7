// A compact text chart of a call's stored stats: one sparkline for CPU, one for memory.
// Pure functions, so the drawing is tested on its own.

const BARS = '▁▂▃▄▅▆▇█';

/** Averages `values` into at most `width` equal buckets, in order. */
export function resample(values: number[], width: number): number[] {
  if (width <= 0) return [];
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.floor(((i + 1) * values.length) / width);
    const part = values.slice(from, Math.max(to, from + 1));
    out.push(part.reduce((a, b) => a + b, 0) / part.length);
  }
  return out;
}

/**
 * One bar per value, from ▁ (zero or the lowest) to █ (the highest); scaled from 0 so a
 * flat, busy line reads high and a flat idle one low. Non-finite values draw as a space.
 */
export function sparkline(values: number[], width = 40): string {
  const v = resample(values, width);
  const finite = v.filter((x) => Number.isFinite(x));
  const max = Math.max(0, ...finite);
  return v
    .map((x) => {
      if (!Number.isFinite(x)) return ' ';
      if (max <= 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.max(0, Math.round((x / max) * (BARS.length - 1))))];
    })
    .join('');
}

export interface Sample {
  timestamp: string;
  metrics: Record<string, number>;
}

/** CPU use between consecutive samples, in % of one CPU, from the cumulative `cpu_total` (ns). */
export function cpuPercents(stats: Sample[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < stats.length; i++) {
    const a = stats[i - 1]!;
    const b = stats[i]!;
    const dt = Date.parse(b.timestamp) - Date.parse(a.timestamp);
    const dc = (b.metrics.cpu_total ?? 0) - (a.metrics.cpu_total ?? 0);
    // Decimated windows can share a time, and a restarted counter goes down; neither is a rate.
    if (!(dt > 0) || dc < 0) continue;
    out.push((dc / (dt * 1e6)) * 100);
  }
  return out;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** The chart's lines: CPU and memory sparklines with their peaks, or why there is none. */
export function statsChart(stats: Sample[], width = 40): string[] {
  if (stats.length === 0) return ['no stats recorded (the call ended before the first sample)'];
  const lines: string[] = [];
  const cpu = cpuPercents(stats);
  if (cpu.length > 0) {
    const peak = Math.max(...cpu);
    const avg = cpu.reduce((a, b) => a + b, 0) / cpu.length;
    lines.push(`cpu  ${sparkline(cpu, width)}  peak ${peak.toFixed(0)}%, avg ${avg.toFixed(0)}% of one CPU`);
  } else {
    lines.push('cpu  (one sample: no rate)');
  }
  const mem = stats.map((s) => s.metrics.mem_usage ?? 0);
  const limit = Math.max(0, ...stats.map((s) => s.metrics.mem_limit ?? 0));
  lines.push(
    `mem  ${sparkline(mem, width)}  peak ${formatBytes(Math.max(...mem))}${limit > 0 ? ` of ${formatBytes(limit)}` : ''}`,
  );
  lines.push(`     ${stats.length} samples, ${stats[0]!.timestamp} to ${stats[stats.length - 1]!.timestamp}`);
  return lines;
}
