// The web view's formatting, as tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  durationMs, formatBytes, formatDuration, formatPercent, formatRate, formatTimestamp, formatValue, safeHttpUrl, statusClass,
} from '../../web/format.js';

const KiB = 1024;
const MiB = KiB * KiB;
const GiB = MiB * KiB;

test('formatBytes', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1000.6, '1001 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * KiB, '10 KiB'],
    [1023.6 * KiB, '1.0 MiB'],
    [128 * MiB, '128 MiB'],
    [1.25 * GiB, '1.3 GiB'],
    [3 * 1024 * GiB, '3.0 TiB'],
    [5000 * 1024 * GiB, '5000 TiB'],
    [-1, '–'],
    [NaN, '–'],
    [Infinity, '–'],
  ];
  for (const [n, want] of cases) assert.equal(formatBytes(n), want, `formatBytes(${n})`);
});

test('formatRate', () => {
  assert.equal(formatRate(2048), '2.0 KiB/s');
  assert.equal(formatRate(0), '0 B/s');
  assert.equal(formatRate(NaN), '–');
});

test('formatDuration', () => {
  const cases: [number | undefined, string][] = [
    [0, '0 ms'],
    [0.4, '0 ms'],
    [850, '850 ms'],
    [999.4, '999 ms'],
    [1000, '1.00 s'],
    [1254, '1.25 s'],
    [9999, '9.99 s'],
    [12_540, '12.5 s'],
    [59_999, '59.9 s'],
    [60_000, '1 m 0 s'],
    [125_000, '2 m 5 s'],
    [3_600_000, '1 h 0 m'],
    [3_720_000, '1 h 2 m'],
    [undefined, '–'],
    [-5, '–'],
    [NaN, '–'],
  ];
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, `formatDuration(${ms})`);
});

test('durationMs', () => {
  const cases: [string | undefined, string | undefined, number | undefined][] = [
    ['2024-05-01T12:00:00.000Z', '2024-05-01T12:00:01.250Z', 1250],
    ['2024-05-01T12:00:01.000Z', '2024-05-01T12:00:00.000Z', -1000],
    [undefined, '2024-05-01T12:00:00.000Z', undefined],
    ['2024-05-01T12:00:00.000Z', undefined, undefined],
    ['soon', '2024-05-01T12:00:00.000Z', undefined],
  ];
  for (const [a, b, want] of cases) assert.equal(durationMs(a, b), want, `durationMs(${a}, ${b})`);
});

test('formatTimestamp', () => {
  const cases: [string | undefined, string][] = [
    ['2024-05-01T12:34:56.789Z', '2024-05-01 12:34:56.789 UTC'],
    ['2024-05-01T14:34:56.789+02:00', '2024-05-01 12:34:56.789 UTC'],
    [undefined, '–'],
    ['', '–'],
    ['<b>yesterday</b>', '<b>yesterday</b>'],
  ];
  for (const [iso, want] of cases) assert.equal(formatTimestamp(iso), want, `formatTimestamp(${iso})`);
});

test('formatPercent', () => {
  const cases: [number, string][] = [[0, '0.0%'], [0.44, '0.4%'], [9.96, '10.0%'], [12.4, '12%'], [250, '250%'], [NaN, '–']];
  for (const [v, want] of cases) assert.equal(formatPercent(v), want, `formatPercent(${v})`);
});

test('statusClass: Kiln’s statuses have their own class, anything else a neutral one', () => {
  const cases: [string, string][] = [
    ['success', 'status-success'],
    ['error', 'status-error'],
    ['timeout', 'status-timeout'],
    ['cancelled', 'status-cancelled'],
    ['running', 'status-running'],
    ['queued', 'status-queued'],
    ['Success', 'status-unknown'],
    ['x onmouseover=alert(1)', 'status-unknown'],
    ['', 'status-unknown'],
  ];
  for (const [status, want] of cases) assert.equal(statusClass(status), want, status);
});

test('safeHttpUrl: only absolute http(s) URLs become links', () => {
  const cases: [unknown, string | undefined][] = [
    ['http://localhost:8080/t/demo/hello', 'http://localhost:8080/t/demo/hello'],
    ['https://fn.example.com/invoke/01ABC', 'https://fn.example.com/invoke/01ABC'],
    ['HTTPS://Example.com', 'https://example.com/'],
    ['javascript:alert(1)', undefined],
    [' javascript:alert(1)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
    ['/t/demo/hello', undefined],
    ['//evil.example/x', undefined],
    ['', undefined],
    [42, undefined],
    [undefined, undefined],
    [{ href: 'http://x' }, undefined],
  ];
  for (const [v, want] of cases) assert.equal(safeHttpUrl(v), want, String(v));
});

test('formatValue', () => {
  const cases: [unknown, string][] = [['text', 'text'], [7, '7'], [true, 'true'], [null, 'null'], [{ a: [1] }, '{"a":[1]}'], [undefined, 'undefined']];
  for (const [v, want] of cases) assert.equal(formatValue(v), want);
});
