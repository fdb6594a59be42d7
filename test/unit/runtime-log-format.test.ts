// runtime/log-format.ts: Lambda's LogFormat and log levels, the JSON system records and the
// level filters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  applicationLineShown, invokeStatus, logEnv, parseLogSettings, reportRecord, runtimeDoneRecord, startRecord, systemRecord,
  systemRecordShown, type ApplicationLogLevel, type LogSettings, type SystemLogLevel, type SystemRecordType,
} from '../../runtime/log-format.js';

describe('parseLogSettings', () => {
  const rows: { name: string; env: Record<string, string>; want: LogSettings }[] = [
    { name: 'nothing set: Text', env: {}, want: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: [] } },
    { name: 'Text', env: { AWS_LAMBDA_LOG_FORMAT: 'Text' }, want: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: [] } },
    { name: 'TEXT, any case', env: { AWS_LAMBDA_LOG_FORMAT: 'TEXT' }, want: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: [] } },
    { name: 'an empty format: Text', env: { AWS_LAMBDA_LOG_FORMAT: '' }, want: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: [] } },
    { name: 'JSON: both levels INFO by default', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, want: { format: 'JSON', systemLevel: 'INFO', applicationLevel: 'INFO', warnings: [] } },
    { name: 'json, any case', env: { AWS_LAMBDA_LOG_FORMAT: 'json' }, want: { format: 'JSON', systemLevel: 'INFO', applicationLevel: 'INFO', warnings: [] } },
    {
      name: 'JSON with both levels', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'error', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'debug' },
      want: { format: 'JSON', systemLevel: 'DEBUG', applicationLevel: 'ERROR', warnings: [] },
    },
    {
      name: 'a bad format: Text, with a warning', env: { AWS_LAMBDA_LOG_FORMAT: 'xml' },
      want: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: ['AWS_LAMBDA_LOG_FORMAT=xml is neither JSON nor Text: using Text'] },
    },
    {
      name: 'bad levels: INFO, with warnings', env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'loud', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'TRACE' },
      want: {
        format: 'JSON', systemLevel: 'INFO', applicationLevel: 'INFO', warnings: [
          'KILN_LAMBDA_SYSTEM_LOG_LEVEL=TRACE is not one of DEBUG, INFO, WARN: using INFO',
          'AWS_LAMBDA_LOG_LEVEL=loud is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL: using INFO',
        ],
      },
    },
    {
      name: 'a system level with Text: no effect, with a warning', env: { KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'WARN', AWS_LAMBDA_LOG_LEVEL: 'DEBUG' },
      want: { format: 'Text', systemLevel: 'INFO', applicationLevel: undefined, warnings: ['KILN_LAMBDA_SYSTEM_LOG_LEVEL has no effect with the Text log format'] },
    },
  ];
  for (const r of rows) test(r.name, () => assert.deepEqual(parseLogSettings(r.env), r.want));
});

describe('logEnv', () => {
  test('Text adds nothing', () => assert.deepEqual(logEnv(parseLogSettings({ AWS_LAMBDA_LOG_LEVEL: 'DEBUG' })), {}));
  test('JSON: the format and the application level, as the service sets them', () =>
    assert.deepEqual(logEnv(parseLogSettings({ AWS_LAMBDA_LOG_FORMAT: 'json', AWS_LAMBDA_LOG_LEVEL: 'trace' })), {
      AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'TRACE',
    }));
});

describe('systemRecordShown', () => {
  // A record shows at its own level and at every level with more detail.
  const rows: [SystemRecordType, SystemLogLevel, boolean][] = [
    ['platform.start', 'DEBUG', true], ['platform.start', 'INFO', true], ['platform.start', 'WARN', false],
    ['platform.report', 'DEBUG', true], ['platform.report', 'INFO', true], ['platform.report', 'WARN', false],
    ['platform.runtimeDone', 'DEBUG', true], ['platform.runtimeDone', 'INFO', false], ['platform.runtimeDone', 'WARN', false],
    ['platform.fault', 'DEBUG', true], ['platform.fault', 'INFO', true], ['platform.fault', 'WARN', true],
  ];
  for (const [type, level, want] of rows) test(`${type} at ${level}: ${want}`, () => assert.equal(systemRecordShown(type, level), want));
});

describe('system records', () => {
  const t = new Date('2026-11-30T12:00:00.123Z');
  const rows: { name: string; line: string; want: string }[] = [
    {
      name: 'platform.start',
      line: systemRecord(t, 'platform.start', startRecord('r1', 'arn:aws:lambda:us-east-1:000000000000:function:f', '$LATEST')),
      want: '{"time":"2026-11-30T12:00:00.123Z","type":"platform.start","record":{"requestId":"r1","functionArn":"arn:aws:lambda:us-east-1:000000000000:function:f","version":"$LATEST"}}',
    },
    {
      name: 'platform.report, cold (initDurationMs)',
      line: systemRecord(t, 'platform.report', reportRecord('r1', { durationMs: 12.34, billedDurationMs: 13, memorySizeMB: 128, maxMemoryUsedMB: 40, initDurationMs: 55.5 }, 'success', undefined)),
      want: '{"time":"2026-11-30T12:00:00.123Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":12.34,"billedDurationMs":13,"memorySizeMB":128,"maxMemoryUsedMB":40,"initDurationMs":55.5},"status":"success"}}',
    },
    {
      name: 'platform.report, warm, memory unknown, an error',
      line: systemRecord(t, 'platform.report', reportRecord('r2', { durationMs: 1, billedDurationMs: 1, memorySizeMB: 256, maxMemoryUsedMB: undefined, initDurationMs: undefined }, 'error', 'TypeError')),
      want: '{"time":"2026-11-30T12:00:00.123Z","type":"platform.report","record":{"requestId":"r2","metrics":{"durationMs":1,"billedDurationMs":1,"memorySizeMB":256},"status":"error","errorType":"TypeError"}}',
    },
    {
      name: 'platform.runtimeDone',
      line: systemRecord(t, 'platform.runtimeDone', runtimeDoneRecord('r3', 'timeout', 'Sandbox.Timedout', 3000.5, 0)),
      want: '{"time":"2026-11-30T12:00:00.123Z","type":"platform.runtimeDone","record":{"requestId":"r3","status":"timeout","errorType":"Sandbox.Timedout","metrics":{"durationMs":3000.5,"producedBytes":0}}}',
    },
    {
      name: 'platform.fault: a string record',
      line: systemRecord(t, 'platform.fault', 'Fatal error: Runtime.ExitError: Runtime exited with error: exit status 1'),
      want: '{"time":"2026-11-30T12:00:00.123Z","type":"platform.fault","record":"Fatal error: Runtime.ExitError: Runtime exited with error: exit status 1"}',
    },
  ];
  for (const r of rows) test(r.name, () => assert.equal(r.line, r.want));
});

describe('invokeStatus', () => {
  const rows: [Parameters<typeof invokeStatus>[0], string | undefined, string][] = [
    ['response', undefined, 'success'], ['stream', undefined, 'success'], ['error', 'TypeError', 'error'],
    ['failure', 'Sandbox.Timedout', 'timeout'], ['failure', 'Runtime.ExitError', 'error'], ['failure', 'Extension.Crash', 'error'],
    ['failure', 'Runtime.InvalidResponseModeHeader', 'error'], ['failure', 'Sandbox.Failure', 'failure'],
  ];
  for (const [kind, type, want] of rows) test(`${kind} ${type ?? ''}: ${want}`, () => assert.equal(invokeStatus(kind, type), want));
});

describe('applicationLineShown', () => {
  const rows: [string, ApplicationLogLevel, boolean][] = [
    ['plain text', 'FATAL', true],
    ['{not json', 'FATAL', true],
    ['[1,2]', 'FATAL', true],
    ['{"level":"DEBUG","message":"x"}', 'INFO', false],
    ['{"level":"debug","message":"x"}', 'DEBUG', true],
    ['{"level":"ERROR","message":"x"}', 'WARN', true],
    ['{"level":"TRACE"}', 'TRACE', true],
    ['{"level":"TRACE"}', 'DEBUG', false],
    ['{"message":"no level: INFO"}', 'INFO', true],
    ['{"message":"no level: INFO"}', 'WARN', false],
    ['{"level":"verbose"}', 'INFO', true],
    ['{"level":"verbose"}', 'ERROR', false],
    ['{"level":3}', 'INFO', true],
    ['{"level":"FATAL"}', 'FATAL', true],
  ];
  for (const [line, level, want] of rows) test(`${line} at ${level}: ${want}`, () => assert.equal(applicationLineShown(line, level), want));
});
