// runtime/platform-report.ts and runtime/invocation.ts: the platform's words about an
// invocation (START, END and REPORT, their JSON records, the Telemetry API's runtimeDone and
// report), and how an answer's status and error type are read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deferred } from '../../runtime/deferred.js';
import {
  errorTypeOf, fatalOutcome, producedBytesOf, statusOf, timeoutOutcome, type Fatal, type Invocation, type Outcome,
} from '../../runtime/invocation.js';
import { jsonRecord, type InvokeStatus, type LogSettings } from '../../runtime/log-format.js';
import {
  billedMs, endLines, reportEvent, reportLines, runtimeDoneEvent, runtimeDoneLine, settledStatus, startLine, type ReportSettings, type Settled,
} from '../../runtime/platform-report.js';

const TEXT: LogSettings = { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: [] };
const JSON_INFO: LogSettings = { format: 'JSON', systemLevel: 'INFO', applicationLevel: 'INFO', warnings: [] };
const JSON_WARN: LogSettings = { ...JSON_INFO, systemLevel: 'WARN' };
const JSON_DEBUG: LogSettings = { ...JSON_INFO, systemLevel: 'DEBUG' };
const settings = (log: LogSettings): ReportSettings => ({ functionVersion: '$LATEST', memoryMb: 128, timeoutSec: 3, log });

const ID = '8476a536-e9f4-11e8-9739-2dfe598c3fcd';
const STARTED = Date.parse('2026-12-03T10:00:00.000Z');

function invocation(over: Partial<Invocation> = {}): Invocation {
  return {
    event: { requestId: ID, deadlineMs: STARTED + 3000, body: Buffer.alloc(0), traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:hello' },
    startedAt: STARTED, t0: 1000, outcome: deferred(), reply: () => undefined, answered: deferred(), initMs: undefined,
    subscribers: [], logFrom: 0, runtimeLinesFrom: 0, runtimeBytesFrom: 0, durationMs: 12.345, memoryUsedMb: 41, ...over,
  };
}

const response: Outcome = { kind: 'response', contentType: 'application/json', body: Buffer.from('"hello"') };
const fnError: Outcome = { kind: 'error', errorType: 'Function.Oops', contentType: 'application/json', body: Buffer.from('{}') };
const crash: Outcome = { kind: 'failure', status: 502, failure: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 1' } };

describe('statusOf, errorTypeOf, producedBytesOf', () => {
  const rows: { name: string; o: Outcome; status: InvokeStatus; errorType: string | undefined; bytes: number }[] = [
    { name: 'a response', o: response, status: 'success', errorType: undefined, bytes: 7 },
    { name: "a function's error", o: fnError, status: 'error', errorType: 'Function.Oops', bytes: 0 },
    // A runtime's header bytes are read as Latin-1 by node:http: records decode them as UTF-8.
    { name: 'an error type in UTF-8', o: { ...fnError, errorType: Buffer.from('Fehler.Größe').toString('latin1') }, status: 'error', errorType: 'Fehler.Größe', bytes: 0 },
    { name: 'a crash', o: crash, status: 'error', errorType: 'Runtime.ExitError', bytes: 0 },
    { name: 'a timeout', o: timeoutOutcome(3), status: 'timeout', errorType: 'Sandbox.Timedout', bytes: 0 },
    { name: 'a platform failure', o: { kind: 'failure', status: 503, failure: { errorType: 'Sandbox.ShuttingDown', errorMessage: 'x' } }, status: 'failure', errorType: 'Sandbox.ShuttingDown', bytes: 0 },
  ];
  for (const r of rows) {
    test(r.name, () => {
      assert.equal(statusOf(r.o), r.status);
      assert.equal(errorTypeOf(r.o), r.errorType);
      assert.equal(producedBytesOf(r.o), r.bytes);
    });
  }
});

describe('timeoutOutcome and fatalOutcome', () => {
  test('a timeout names the configured timeout, two decimals, as the service does', () => {
    assert.deepEqual(timeoutOutcome(3), { kind: 'failure', status: 504, failure: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' } });
  });
  const posted = { errorType: 'Runtime.Custom', contentType: 'application/json', body: Buffer.from('{"errorMessage":"no"}') };
  const rows: { name: string; f: Fatal; want: Outcome }[] = [
    { name: "an init error: the runtime's post, verbatim", f: { failure: { errorType: 'Runtime.Custom', errorMessage: 'no' }, posted, status: 'error' }, want: { kind: 'error', ...posted } },
    { name: 'a crash: 502', f: { failure: crash.kind === 'failure' ? crash.failure : { errorType: '', errorMessage: '' }, status: 'error' }, want: crash },
    {
      name: 'an init past its bound: 504', f: { failure: { errorType: 'Sandbox.Timedout', errorMessage: 'Runtime init did not finish within 10000 ms' }, status: 'timeout' },
      want: { kind: 'failure', status: 504, failure: { errorType: 'Sandbox.Timedout', errorMessage: 'Runtime init did not finish within 10000 ms' } },
    },
  ];
  for (const r of rows) test(r.name, () => assert.deepEqual(fatalOutcome(r.f), r.want));
});

describe('billedMs', () => {
  const rows: [number, number][] = [[0, 1], [0.01, 1], [1, 1], [1.01, 2], [12.345, 13], [100, 100]];
  for (const [ms, want] of rows) test(`${ms} ms bills ${want}`, () => assert.equal(billedMs(ms), want));
});

describe('startLine', () => {
  const inv = invocation();
  test('Text: START with the version', () => assert.equal(startLine(settings(TEXT), inv.event, STARTED), `START RequestId: ${ID} Version: $LATEST\n`));
  test('JSON: the platform.start record', () => {
    const line = startLine(settings(JSON_INFO), inv.event, STARTED);
    assert.deepEqual(JSON.parse(line), { time: '2026-12-03T10:00:00.000Z', type: 'platform.start', record: { requestId: ID, functionArn: inv.event.invokedFunctionArn, version: '$LATEST' } });
    assert.ok(line.endsWith('}\n'));
  });
  test('JSON at system level WARN: nothing', () => assert.equal(startLine(settings(JSON_WARN), inv.event, STARTED), ''));
});

describe('endLines', () => {
  const at = Date.parse('2026-12-03T10:00:03.000Z');
  const rows: { name: string; log: LogSettings; inv: Invocation; o: Outcome; status: InvokeStatus; want: string | object[] }[] = [
    {
      name: 'Text: END and REPORT', log: TEXT, inv: invocation(), o: response, status: 'success',
      want: `END RequestId: ${ID}\nREPORT RequestId: ${ID}\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t\n`,
    },
    {
      name: 'Text: the first call after an init says its duration', log: TEXT, inv: invocation({ initMs: 180.5 }), o: response, status: 'success',
      want: `END RequestId: ${ID}\nREPORT RequestId: ${ID}\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 180.50 ms\t\n`,
    },
    {
      name: 'Text: memory unknown', log: TEXT, inv: invocation({ memoryUsedMb: undefined }), o: response, status: 'success',
      want: `END RequestId: ${ID}\nREPORT RequestId: ${ID}\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: ? MB\t\n`,
    },
    {
      name: "Text: a timeout's REPORT is followed by the service's line", log: TEXT, inv: invocation({ durationMs: 3000 }), o: timeoutOutcome(3), status: 'timeout',
      want: `END RequestId: ${ID}\nREPORT RequestId: ${ID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t\n` +
        `2026-12-03T10:00:03.000Z ${ID} Task timed out after 3.00 seconds\n`,
    },
    {
      name: "JSON at system level DEBUG: runtimeDone and report, with a function error's type", log: JSON_DEBUG, inv: invocation(), o: fnError, status: 'error',
      want: [
        { type: 'platform.runtimeDone', record: { requestId: ID, status: 'error', errorType: 'Function.Oops', metrics: { durationMs: 12.345, producedBytes: 0 } } },
        { type: 'platform.report', record: { requestId: ID, metrics: { durationMs: 12.345, billedDurationMs: 13, memorySizeMB: 128, maxMemoryUsedMB: 41 }, status: 'error', errorType: 'Function.Oops' } },
      ],
    },
    {
      name: 'JSON at INFO: report only (runtimeDone is DEBUG); a timeout carries no errorType', log: JSON_INFO, inv: invocation({ initMs: 5 }), o: timeoutOutcome(3), status: 'timeout',
      want: [
        { type: 'platform.report', record: { requestId: ID, metrics: { durationMs: 12.345, billedDurationMs: 13, memorySizeMB: 128, maxMemoryUsedMB: 41, initDurationMs: 5 }, status: 'timeout' } },
      ],
    },
    { name: 'JSON at system level WARN: nothing', log: JSON_WARN, inv: invocation(), o: response, status: 'success', want: '' },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const got = endLines(settings(r.log), r.inv, r.o, r.status, at);
      if (typeof r.want === 'string') assert.equal(got, r.want);
      else assert.deepEqual(got.trimEnd().split('\n').map((l) => { const { time: _t, ...rest } = JSON.parse(l) as { time: string }; return rest; }), r.want);
    });
  }
});

describe('runtimeDoneLine and reportLines: END and REPORT held for extensions at work after the answer', () => {
  const at = Date.parse('2026-12-03T10:00:03.000Z');
  const strip = (got: string) => got.trimEnd().split('\n').map((l) => { const { time: _t, ...rest } = JSON.parse(l) as { time: string }; return rest; });
  test('Text: nothing at the answer; END and REPORT later, with the timeout line when the extensions overran', () => {
    assert.equal(runtimeDoneLine(settings(TEXT), invocation(), response, 'success'), '');
    assert.equal(reportLines(settings(TEXT), invocation({ durationMs: 3000.5 }), { status: 'timeout', errorType: undefined }, at),
      `END RequestId: ${ID}\nREPORT RequestId: ${ID}\tDuration: 3000.50 ms\tBilled Duration: 3001 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t\n` +
      `2026-12-03T10:00:03.000Z ${ID} Task timed out after 3.00 seconds\n`);
  });
  test("JSON: runtimeDone (the runtime's success) at the answer, report (the invocation's timeout) later", () => {
    assert.deepEqual(strip(runtimeDoneLine(settings(JSON_DEBUG), invocation(), response, 'success')), [
      { type: 'platform.runtimeDone', record: { requestId: ID, status: 'success', metrics: { durationMs: 12.345, producedBytes: 7 } } },
    ]);
    assert.deepEqual(strip(reportLines(settings(JSON_DEBUG), invocation({ durationMs: 3000.5 }), { status: 'timeout', errorType: undefined }, at)), [
      { type: 'platform.report', record: { requestId: ID, metrics: { durationMs: 3000.5, billedDurationMs: 3001, memorySizeMB: 128, maxMemoryUsedMB: 41 }, status: 'timeout' } },
    ]);
    assert.equal(runtimeDoneLine(settings(JSON_INFO), invocation(), response, 'success'), '', 'runtimeDone is DEBUG');
  });
  test('endLines is the two together', () => {
    for (const log of [TEXT, JSON_DEBUG]) {
      const inv = invocation();
      assert.equal(endLines(settings(log), inv, fnError, 'error', at).replace(/"time":"[^"]+"/g, ''),
        (runtimeDoneLine(settings(log), inv, fnError, 'error') + reportLines(settings(log), inv, { status: 'error', errorType: 'Function.Oops' }, at)).replace(/"time":"[^"]+"/g, ''));
    }
  });
});

describe('settledStatus', () => {
  const crashed: Fatal = { failure: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited without providing a reason' }, status: 'error' };
  const extensionCrashed: Fatal = { failure: { errorType: 'Extension.Crash', errorMessage: 'Extension ext exited with error: exit status 1' }, status: 'error' };
  const rows: { name: string; status: InvokeStatus; o: Outcome; reset: 'timeout' | 'failure' | undefined; fatal: Fatal | undefined; want: Settled }[] = [
    { name: 'a success', status: 'success', o: response, reset: undefined, fatal: undefined, want: { status: 'success', errorType: undefined } },
    { name: "a function's error", status: 'error', o: fnError, reset: undefined, fatal: undefined, want: { status: 'error', errorType: 'Function.Oops' } },
    { name: 'a success the runtime died after', status: 'success', o: response, reset: 'failure', fatal: crashed, want: { status: 'error', errorType: 'Runtime.ExitError' } },
    { name: 'a success an extension died after', status: 'success', o: response, reset: 'failure', fatal: extensionCrashed, want: { status: 'error', errorType: 'Extension.Crash' } },
    { name: 'a success the runtime did not come back from in time', status: 'success', o: response, reset: 'timeout', fatal: undefined, want: { status: 'timeout', errorType: undefined } },
    { name: 'a function error stands whatever follows', status: 'error', o: fnError, reset: 'failure', fatal: crashed, want: { status: 'error', errorType: 'Function.Oops' } },
    { name: 'a timeout carries no errorType', status: 'timeout', o: timeoutOutcome(3), reset: 'timeout', fatal: undefined, want: { status: 'timeout', errorType: undefined } },
  ];
  for (const r of rows) test(r.name, () => assert.deepEqual(settledStatus(r.status, r.o, r.reset, r.fatal), r.want));
});

describe('runtimeDoneEvent', () => {
  const tracing = { type: 'X-Amzn-Trace-Id', value: invocation().event.traceId };
  const success: Settled = { status: 'success', errorType: undefined };
  test('a response: its three spans and the bytes it produced', () => {
    const got = runtimeDoneEvent(invocation({ responseStartAt: 1002 }), response, success, undefined, { responseEnd: 1003.5, runtimeDoneAt: 1004 });
    assert.deepEqual(got, {
      requestId: ID, status: 'success', metrics: { durationMs: 4, producedBytes: 7 },
      spans: [
        { name: 'responseLatency', start: '2026-12-03T10:00:00.000Z', durationMs: 2 },
        { name: 'responseDuration', start: '2026-12-03T10:00:00.002Z', durationMs: 1.5 },
        { name: 'runtimeOverhead', start: '2026-12-03T10:00:00.003Z', durationMs: 0.5 },
      ],
      tracing,
    });
  });
  test('a reset follows: the settled status and type, no runtimeOverhead', () => {
    const got = runtimeDoneEvent(invocation({ responseStartAt: 1002 }), response, { status: 'error', errorType: 'Runtime.ExitError' }, 'failure', { responseEnd: 1003, runtimeDoneAt: 1010 }) as { status: string; errorType: string; spans: { name: string }[] };
    assert.equal(got.status, 'error');
    assert.equal(got.errorType, 'Runtime.ExitError');
    assert.deepEqual(got.spans.map((s) => s.name), ['responseLatency', 'responseDuration']);
  });
  test('a function error: its type, and no spans (no response was posted)', () => {
    const got = runtimeDoneEvent(invocation({ responseStartAt: 1002 }), fnError, { status: 'error', errorType: 'Function.Oops' }, undefined, { responseEnd: 1003, runtimeDoneAt: 1004 });
    assert.deepEqual(got, { requestId: ID, status: 'error', metrics: { durationMs: 4, producedBytes: 0 }, tracing, errorType: 'Function.Oops' });
  });
});

describe('reportEvent', () => {
  test("metrics to the extensions' end, the init on the first call, extensionOverhead from the runtime's end", () => {
    const got = reportEvent(settings(TEXT), invocation({ initMs: 150, memoryUsedMb: 60 }), { status: 'success', errorType: undefined }, 1010, 1250.004);
    assert.deepEqual(got, {
      requestId: ID, status: 'success',
      metrics: { durationMs: 250, billedDurationMs: 250, memorySizeMB: 128, maxMemoryUsedMB: 60, initDurationMs: 150 },
      spans: [{ name: 'extensionOverhead', start: '2026-12-03T10:00:00.010Z', durationMs: 240 }],
    });
  });
  test('an error carries its type; memory unknown reads 0', () => {
    const got = reportEvent(settings(TEXT), invocation({ memoryUsedMb: undefined }), { status: 'error', errorType: 'Runtime.ExitError' }, 1001, 1001) as { metrics: { maxMemoryUsedMB: number }; errorType: string };
    assert.equal(got.metrics.maxMemoryUsedMB, 0);
    assert.equal(got.errorType, 'Runtime.ExitError');
  });
});

describe('jsonRecord', () => {
  const rows: [string, unknown][] = [
    ['plain text', 'plain text'],
    ['{"level":"INFO","message":"hi"}', { level: 'INFO', message: 'hi' }],
    ['{not json', '{not json'],
    ['[1,2]', '[1,2]'],
    ['{"a":1} trailing', '{"a":1} trailing'],
    [' {"a":1}', ' {"a":1}'],
  ];
  for (const [line, want] of rows) test(JSON.stringify(line), () => assert.deepEqual(jsonRecord(line), want));
});
