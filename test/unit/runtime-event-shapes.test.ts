// runtime/event-shapes.ts forLogs: what a Logs API subscriber receives for each Telemetry API event.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forLogs, type TelemetryEvent } from '../../runtime/event-shapes.js';

const time = '2026-01-01T00:00:00.000Z';
const ev = (type: string, record: unknown): TelemetryEvent => ({ time, type, record });
const types = (es: TelemetryEvent[]) => es.map((e) => e.type);

describe('forLogs', () => {
  test('init records and nothing else from them', () => {
    for (const t of ['platform.initStart', 'platform.initRuntimeDone', 'platform.initReport']) assert.deepEqual(forLogs(ev(t, {}), '2021-03-18'), []);
  });
  test('the subscription record has the Logs API name', () => {
    assert.deepEqual(types(forLogs(ev('platform.telemetrySubscription', { name: 'x', state: 'Subscribed', types: ['platform'] }), '2020-08-15')), ['platform.logsSubscription']);
  });
  test('report: platform.end, then the report with requestId and the five metrics only', () => {
    const report = ev('platform.report', {
      requestId: 'r', status: 'success', spans: [],
      metrics: { durationMs: 1.5, billedDurationMs: 2, memorySizeMB: 128, maxMemoryUsedMB: 40, initDurationMs: 9.1 },
    });
    assert.deepEqual(forLogs(report, '2020-08-15'), [
      ev('platform.end', { requestId: 'r' }),
      ev('platform.report', { requestId: 'r', metrics: { durationMs: 1.5, billedDurationMs: 2, memorySizeMB: 128, maxMemoryUsedMB: 40, initDurationMs: 9.1 } }),
    ]);
  });
  test('runtimeDone only from 2021-03-18; a crash adds platform.fault in every schema', () => {
    const ok = ev('platform.runtimeDone', { requestId: 'r', status: 'success', metrics: { durationMs: 1 } });
    assert.deepEqual(forLogs(ok, '2020-08-15'), []);
    assert.deepEqual(forLogs(ok, '2021-03-18'), [ev('platform.runtimeDone', { requestId: 'r', status: 'success' })]);
    for (const errorType of ['Runtime.ExitError', 'Extension.Crash']) {
      const crash = ev('platform.runtimeDone', { requestId: 'r', status: 'error', errorType });
      assert.deepEqual(forLogs(crash, '2020-08-15'), [ev('platform.fault', 'RequestId: r Process exited before completing request')]);
      assert.deepEqual(types(forLogs(crash, '2021-03-18')), ['platform.fault', 'platform.runtimeDone']);
    }
    // A function error or a timeout is no fault: nothing exited.
    assert.deepEqual(forLogs(ev('platform.runtimeDone', { requestId: 'r', status: 'error', errorType: 'TypeError' }), '2020-08-15'), []);
    assert.deepEqual(forLogs(ev('platform.runtimeDone', { requestId: 'r', status: 'timeout' }), '2020-08-15'), []);
    // The Logs API's statuses are success, failure and timeout.
    assert.deepEqual(forLogs(ev('platform.runtimeDone', { requestId: 'r', status: 'error', errorType: 'TypeError' }), '2021-03-18'), [ev('platform.runtimeDone', { requestId: 'r', status: 'failure' })]);
    assert.deepEqual(forLogs(ev('platform.runtimeDone', { requestId: 'r', status: 'timeout' }), '2021-03-18'), [ev('platform.runtimeDone', { requestId: 'r', status: 'timeout' })]);
  });
  test('start keeps requestId and version; log lines and extension records pass as they are', () => {
    assert.deepEqual(forLogs(ev('platform.start', { requestId: 'r', version: '$LATEST', tracing: {} }), '2020-08-15'), [ev('platform.start', { requestId: 'r', version: '$LATEST' })]);
    for (const e of [ev('function', 'a line'), ev('extension', 'b'), ev('platform.extension', { name: 'n', state: 'Ready', events: [] })]) assert.deepEqual(forLogs(e, '2020-08-15'), [e]);
  });
});
