// The arithmetic of a call's stats charts: which series a call has, their values, and how
// they scale into an SVG path. Pure and free of the DOM (views/chart.ts draws the result).
//
// Stats are Docker's, with Fn's names: cpu_total, cpu_user, cpu_kernel (cumulative CPU
// nanoseconds), net_rx, net_tx, disk_read, disk_write (cumulative bytes) are counters, so a
// chart shows their rate between samples; mem_usage and mem_limit are levels, shown as given.

export interface Sample {
  timestamp: string;
  metrics: Record<string, number>;
}

/** One value at a time (ms since the epoch). */
export interface Point {
  t: number;
  v: number;
}

/** Points of a level metric: every sample that has a finite value for it. */
export function levelSeries(stats: readonly Sample[], key: string): Point[] {
  const out: Point[] = [];
  for (const s of stats) {
    const t = Date.parse(s.timestamp);
    const v = s.metrics[key];
    if (Number.isFinite(t) && typeof v === 'number' && Number.isFinite(v)) out.push({ t, v });
  }
  return out;
}

/**
 * Points of a counter's rate, per millisecond times `perMs`, between consecutive samples that
 * have it, dated at the later one. Decimated windows can share a time and a restarted counter
 * goes down: neither is a rate, so both are skipped.
 */
export function rateSeries(stats: readonly Sample[], key: string, perMs = 1): Point[] {
  const level = levelSeries(stats, key);
  const out: Point[] = [];
  for (let i = 1; i < level.length; i++) {
    const a = level[i - 1]!;
    const b = level[i]!;
    const dt = b.t - a.t;
    const dv = b.v - a.v;
    if (dt > 0 && dv >= 0) out.push({ t: b.t, v: (dv / dt) * perMs });
  }
  return out;
}

/** CPU use in % of one CPU, from cpu_total (ns): ns per ms / 1e6 × 100. */
export function cpuPercentSeries(stats: readonly Sample[]): Point[] {
  return rateSeries(stats, 'cpu_total', 1e-4);
}

/** The smallest 1, 2 or 5 × 10ⁿ at or above `v`, so an axis ends on a round number; 1 for nothing. */
export function niceCeil(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const exp = Math.floor(Math.log10(v));
  for (let e = exp; ; e++) {
    for (const m of [1, 2, 5]) {
      // Round off float noise (3 × 10^-1 is 0.30000000000000004) before comparing.
      const step = Number((m * 10 ** e).toPrecision(12));
      if (step >= v) return step;
    }
  }
}

export interface Box {
  width: number;
  height: number;
  /** Blank space on every side, so a line on the edge is not clipped. */
  pad: number;
}

export interface Scale {
  tMin: number;
  tMax: number;
  /** The value at the top of the box; values above it are drawn at the top. */
  yMax: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * SVG coordinates of points: time left to right, value bottom to top (SVG's y grows down),
 * rounded to 0.1. A zero time span puts every point in the middle; values are clamped into
 * the box.
 */
export function scalePoints(points: readonly Point[], box: Box, scale: Scale): [number, number][] {
  const w = box.width - 2 * box.pad;
  const hgt = box.height - 2 * box.pad;
  const span = scale.tMax - scale.tMin;
  return points.map(({ t, v }) => {
    const fx = span > 0 ? (t - scale.tMin) / span : 0.5;
    const fy = scale.yMax > 0 ? Math.min(1, Math.max(0, v / scale.yMax)) : 0;
    return [round1(box.pad + Math.min(1, Math.max(0, fx)) * w), round1(box.pad + (1 - fy) * hgt)];
  });
}

/** An SVG path through the coordinates; one point is a zero-length segment (a dot with round caps). */
export function pathData(coords: readonly (readonly [number, number])[]): string {
  if (coords.length === 0) return '';
  const [first, ...rest] = coords;
  const start = `M${first![0]},${first![1]}`;
  if (rest.length === 0) return `${start} h0`;
  return `${start} ${rest.map(([x, y]) => `L${x},${y}`).join(' ')}`;
}

export type Unit = 'percent' | 'bytes' | 'bytesPerSecond';

export interface Line {
  /** What the line is, for the legend. */
  label: string;
  /** CSS class of the line (its colour). */
  cls: string;
  points: Point[];
  /** A limit rather than a measurement (drawn dashed). */
  limit?: boolean;
}

export interface ChartSpec {
  id: 'cpu' | 'memory' | 'network' | 'disk';
  title: string;
  unit: Unit;
  yMax: number;
  lines: Line[];
  /** The highest measured value (limits aside), for the caption. */
  peak: number;
}

const peakOf = (lines: readonly Line[]): number =>
  Math.max(0, ...lines.filter((l) => !l.limit).flatMap((l) => l.points.map((p) => p.v)));

/** The time span every chart of a call shares, so they line up. */
export function timeSpan(stats: readonly Sample[]): { tMin: number; tMax: number } | undefined {
  const ts = stats.map((s) => Date.parse(s.timestamp)).filter(Number.isFinite);
  if (ts.length === 0) return undefined;
  return { tMin: Math.min(...ts), tMax: Math.max(...ts) };
}

/**
 * The charts a call's stats make: CPU (when there are two samples to make a rate from),
 * memory (usage against the limit), and network and disk rates when they moved.
 */
export function buildCharts(stats: readonly Sample[]): ChartSpec[] {
  const charts: ChartSpec[] = [];

  const cpu = cpuPercentSeries(stats);
  if (cpu.length > 0) {
    const lines: Line[] = [{ label: '% of one CPU', cls: 'line-cpu', points: cpu }];
    // 100% (one full CPU) is the least top, so an idle call draws low rather than full height.
    charts.push({ id: 'cpu', title: 'CPU', unit: 'percent', yMax: Math.max(100, niceCeil(peakOf(lines))), lines, peak: peakOf(lines) });
  }

  const usage = levelSeries(stats, 'mem_usage');
  if (usage.length > 0) {
    const lines: Line[] = [{ label: 'used', cls: 'line-mem', points: usage }];
    const limit = levelSeries(stats, 'mem_limit').filter((p) => p.v > 0);
    if (limit.length > 0) lines.push({ label: 'limit', cls: 'line-limit', points: limit, limit: true });
    const top = Math.max(0, ...lines.flatMap((l) => l.points.map((p) => p.v)));
    charts.push({ id: 'memory', title: 'Memory', unit: 'bytes', yMax: top > 0 ? top : 1, lines, peak: peakOf(lines) });
  }

  for (const [id, title, series] of [
    ['network', 'Network', [['net_rx', 'received', 'line-rx'], ['net_tx', 'sent', 'line-tx']]],
    ['disk', 'Disk', [['disk_read', 'read', 'line-read'], ['disk_write', 'written', 'line-write']]],
  ] as const) {
    const lines: Line[] = series
      .map(([key, label, cls]) => ({ label, cls, points: rateSeries(stats, key, 1000) }))
      .filter((l) => l.points.length > 0);
    // Counters that did not move during the call (a container with no network) draw nothing.
    if (peakOf(lines) === 0) continue;
    // Byte rates top out at their peak: decimal round numbers make odd binary labels.
    charts.push({ id, title, unit: 'bytesPerSecond', yMax: peakOf(lines), lines, peak: peakOf(lines) });
  }
  return charts;
}
