// How values read in the web view: sizes, durations, times, statuses, links.
// Pure and free of the DOM, so they are tested with tables in Node.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units: `512 B`, `1.5 KiB`, `128 MiB`; anything not a size is `–`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n < 1024) return `${Math.round(n)} B`;
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  // One decimal while it says something (below 10), none above, as `ls -h`.
  const shown = v < 10 ? (Math.round(v * 10) / 10).toFixed(1) : Math.round(v).toString();
  // Rounding can reach the next unit (1023.6 KiB): say 1.0 MiB rather than 1024 KiB.
  if (shown === '1024' && u < UNITS.length - 1) return `1.0 ${UNITS[u + 1]}`;
  return `${shown} ${UNITS[u]}`;
}

/** A rate in bytes per second. */
export function formatRate(bytesPerSecond: number): string {
  const b = formatBytes(bytesPerSecond);
  return b === '–' ? b : `${b}/s`;
}

/** Milliseconds as a person reads them: `850 ms`, `1.25 s`, `12.5 s`, `2 m 5 s`, `1 h 2 m`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 10) / 100).toFixed(2)} s`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}

/** Milliseconds from one RFC 3339 time to another; undefined when either is missing or bad. */
export function durationMs(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isFinite(a) && Number.isFinite(b) ? b - a : undefined;
}

/** An RFC 3339 time as `2024-05-01 12:00:00.123 UTC`; missing is `–`, unreadable as given. */
export function formatTimestamp(iso: string | undefined): string {
  if (iso === undefined || iso === '') return '–';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** A share in percent: `0.4%`, `12%`, `250%`. */
export function formatPercent(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v < 10 ? `${(Math.round(v * 10) / 10).toFixed(1)}%` : `${Math.round(v)}%`;
}

const STATUSES = new Set(['queued', 'running', 'success', 'error', 'timeout', 'cancelled']);

/** The CSS class that colours a call's status; a status Kiln does not know gets a neutral one. */
export function statusClass(status: string): string {
  return STATUSES.has(status) ? `status-${status}` : 'status-unknown';
}

/** `value` when it is an absolute http(s) URL, the only kind the page makes a link of. */
export function safeHttpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
}

/** An annotation's value as text: a string as it is, anything else as JSON. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  const json = JSON.stringify(v);
  return json === undefined ? String(v) : json;
}
