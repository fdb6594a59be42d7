// How results are printed: aligned text tables for people, JSON (`--output json`) for scripts.
import { printable } from './printable.js';

export type OutputFormat = 'table' | 'json';

export function parseOutputFormat(v: string): OutputFormat {
  if (v === 'table' || v === 'json') return v;
  throw new Error(`--output must be "table" or "json", not "${v}"`);
}

/** Columns padded to their widest cell; the last column is not padded. Cells are printable (see printable.ts). */
export function table(headers: string[], cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `key=value` pairs as a table of two columns, sorted by key. */
export function keyValues(map: Record<string, unknown>): string {
  const keys = Object.keys(map).sort();
  return table(
    ['KEY', 'VALUE'],
    keys.map((k) => [k, typeof map[k] === 'string' ? (map[k] as string) : JSON.stringify(map[k])]),
  );
}

/** Milliseconds between two RFC 3339 times, or undefined when either is missing. */
export function durationMs(from?: string, to?: string): number | undefined {
  if (!from || !to) return undefined;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? d : undefined;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
