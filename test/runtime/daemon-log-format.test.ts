// The daemon with Lambda's JSON log format (AWS_LAMBDA_LOG_FORMAT=JSON) on the host: the
// platform lines as JSON records, in the `kiln-log` header of a quiet call or after the
// function's output on stdout; the system level filter (KILN_LAMBDA_SYSTEM_LOG_LEVEL); the
// application level filter on the function's JSON lines; the runtime's environment; and a bad
// format value, which leaves the Text lines as they are.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { assertAccepted, bashRuntime, invoke, register, withDaemon, withSink, type Answer, type Daemon, type Json } from '../helpers/daemon.js';
import { LOG_HEADER, STREAM_ERROR_MESSAGE_TRAILER, STREAM_ERROR_TRAILER } from '../../runtime/wire.js';

const JSON_FORMAT = { AWS_LAMBDA_LOG_FORMAT: 'JSON' };

/** The platform lines that travelled with the answer. */
const kilnLog = (a: Answer): string => Buffer.from(String(a.headers[LOG_HEADER] ?? ''), 'base64').toString('utf8');

const records = (text: string): Json[] =>
  text.split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Json);

/** The runtime's streamed response of `id`: `body`, then `error` in its trailers; resolves once it is accepted. */
async function streamEndingWithError(d: Daemon, id: string, body: string, error: { errorType: string; errorMessage: string }): Promise<void> {
  const runtime = request({
    host: '127.0.0.1', port: d.port, method: 'POST', path: `/2018-06-01/runtime/invocation/${id}/response`,
    headers: {
      'lambda-runtime-function-response-mode': 'streaming', 'transfer-encoding': 'chunked', 'content-type': 'text/plain',
      trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    },
  });
  const posted = once(runtime, 'response') as Promise<[IncomingMessage]>;
  runtime.write(body);
  runtime.addTrailers({
    'Lambda-Runtime-Function-Error-Type': error.errorType,
    'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
  });
  runtime.end();
  const [res] = await posted;
  res.resume();
  assert.equal(res.statusCode, 202);
}

/** A bash runtime: prints its log settings once, then per event three lines (two JSON, one plain) and answers "ok". */
const PRINTING_RUNTIME = `
echo "env format=$AWS_LAMBDA_LOG_FORMAT level=$AWS_LAMBDA_LOG_LEVEL system=\${KILN_LAMBDA_SYSTEM_LOG_LEVEL:-unset}"
${bashRuntime(`echo '{"level":"debug","message":"too detailed"}'; echo '{"level":"ERROR","message":"kept"}'; echo "plain text from $ID"`)}`;

describe('JSON log format', () => {
  test('a quiet call: platform.start and platform.report in the kiln-log header, no END', () =>
    withDaemon({ env: JSON_FORMAT, functionName: 'jsonfn' }, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'j1' });
      assertAccepted(await d.post(inv.id, 'response', '{"ok":true}'));
      const a = await inv.answer;
      assert.equal(a.status, 200, a.text);
      const log = kilnLog(a);
      assert.ok(log.endsWith('\n'), log);
      const [start, report, ...rest] = records(log);
      assert.equal(log.split('\n').filter(Boolean).length, 2, log);
      assert.deepEqual(rest, []);
      assert.equal(start?.type, 'platform.start');
      assert.deepEqual(start?.record, { requestId: 'j1', functionArn: 'arn:aws:lambda:us-east-1:012345678912:function:jsonfn', version: '$LATEST' });
      assert.equal(report?.type, 'platform.report');
      assert.ok(!Number.isNaN(Date.parse(String(report?.time))), 'an ISO time');
      const r = report?.record as Json;
      assert.equal(r.requestId, 'j1');
      assert.equal(r.status, 'success');
      assert.equal(r.errorType, undefined);
      assert.deepEqual(Object.keys(r.metrics as Json).filter((k) => k !== 'maxMemoryUsedMB'), ['durationMs', 'billedDurationMs', 'memorySizeMB', 'initDurationMs']);
      assert.equal(r.metrics.memorySizeMB, 128);
      assert.equal(r.metrics.billedDurationMs, Math.max(1, Math.ceil(r.metrics.durationMs)));
      assert.doesNotMatch(d.output(), /START RequestId|END RequestId|REPORT RequestId/);
    }));

  test('system level DEBUG adds platform.runtimeDone; a function error is the status', () =>
    withDaemon({ env: { ...JSON_FORMAT, KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'debug' } }, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'j2' });
      const err = JSON.stringify({ errorMessage: 'bad', errorType: 'TypeError' });
      assertAccepted(await d.post(inv.id, 'error', err, { 'lambda-runtime-function-error-type': 'TypeError' }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      const recs = records(kilnLog(a));
      assert.deepEqual(recs.map((x) => x.type), ['platform.start', 'platform.runtimeDone', 'platform.report']);
      assert.equal(recs[1]?.record.status, 'error');
      assert.equal(recs[1]?.record.errorType, 'TypeError');
      assert.deepEqual(Object.keys(recs[1]?.record.metrics as Json), ['durationMs', 'producedBytes']);
      assert.equal(recs[2]?.record.status, 'error');
      assert.equal(recs[2]?.record.errorType, 'TypeError');
    }));

  test("a response stream the runtime's error ends: its records, after the stream, say error with its type and the bytes streamed", () =>
    withDaemon({ env: { ...JSON_FORMAT, KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'debug' } }, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'j-stream' });
      await streamEndingWithError(d, inv.id, '12345', { errorType: 'RangeError', errorMessage: 'mid-stream' });
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.trailers[STREAM_ERROR_TRAILER], 'RangeError');
      assert.equal(a.headers[LOG_HEADER], undefined, 'the records wait for the stream');
      await d.waitForOutput(/"type":"platform\.report"/);
      const recs = records(d.stdout().toString());
      assert.deepEqual(recs.map((x) => x.type), ['platform.start', 'platform.runtimeDone', 'platform.report']);
      for (const r of recs.slice(1)) {
        assert.equal(r.record.status, 'error', r.type);
        assert.equal(r.record.errorType, 'RangeError', r.type);
      }
      assert.equal((recs[1]?.record.metrics as Json).producedBytes, 5);
    }));

  test("an error type header's UTF-8 is its text in the records, and the caller's X-Amz-Function-Error has its bytes", () =>
    withDaemon({ env: { ...JSON_FORMAT, KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'debug' } }, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'j2u' });
      // node:http writes a header value's characters as bytes (Latin-1): these are UTF-8's.
      const wire = Buffer.from('Hdr😀Type').toString('latin1');
      assertAccepted(await d.post(inv.id, 'error', 'not json', { 'lambda-runtime-function-error-type': wire, 'content-type': 'text/plain' }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.equal(a.headers['x-amz-function-error'], wire, 'the bytes as they came');
      const recs = records(kilnLog(a));
      assert.equal(recs[1]?.record.errorType, 'Hdr😀Type');
      assert.equal(recs[2]?.record.errorType, 'Hdr😀Type');
    }));

  test("an error type header that is not UTF-8 reaches the caller's X-Amz-Function-Error byte for byte", () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'latin1' });
      const wire = Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString('latin1');
      assertAccepted(await d.post(inv.id, 'error', '{}', { 'lambda-runtime-function-error-type': wire }));
      const a = await inv.answer;
      assert.equal(a.status, 502);
      assert.deepEqual(Buffer.from(String(a.headers['x-amz-function-error']), 'latin1'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    }));

  test("a stream's long error message is cut between characters in Kiln's trailer", () =>
    withDaemon({}, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'long-message' });
      await streamEndingWithError(d, inv.id, 'part', { errorType: 'Error', errorMessage: `${'a'.repeat(1023)}😀` });
      const a = await inv.answer;
      assert.equal(Buffer.from(String(a.trailers[STREAM_ERROR_MESSAGE_TRAILER]), 'base64').toString('utf8'), 'a'.repeat(1023));
    }));

  test('an extension exiting with an error mid-invoke: the status the Telemetry API gives (error), with its type', () =>
    withDaemon({ env: { ...JSON_FORMAT, KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'debug' } }, async (d) => {
      const id = await register(d, 'quitter', ['INVOKE']);
      const ev = d.eventNext(id);
      const inv = await invoke(d, { 'fn-call-id': 'j3' });
      assert.equal((await ev).status, 200);
      const headers = { 'lambda-extension-identifier': id, 'lambda-extension-function-error-type': 'Extension.Fatal' };
      assertAccepted(await d.api('POST', '/2020-01-01/extension/exit/error', { headers, body: '{}' }));
      const a = await inv.answer;
      assert.equal(a.status, 502, a.text);
      const recs = records(kilnLog(a));
      assert.deepEqual(recs.map((x) => x.type), ['platform.start', 'platform.runtimeDone', 'platform.report']);
      for (const r of recs.slice(1)) {
        assert.equal(r.record.status, 'error', r.type);
        assert.equal(r.record.errorType, 'Extension.ExitError', r.type);
      }
    }));

  test('system level WARN: no platform line for a call', () =>
    withDaemon({ env: { ...JSON_FORMAT, KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'WARN' } }, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 'j3' });
      assertAccepted(await d.post(inv.id, 'response', '"ok"'));
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.equal(a.headers[LOG_HEADER], undefined);
      void d.next();
      await d.idle();
      assert.doesNotMatch(d.output(), /platform\.|RequestId/);
    }));

  test("the runtime's environment, the application level filter, and the records after the function's output", () =>
    withDaemon({ command: ['bash', '-c', PRINTING_RUNTIME], env: { ...JSON_FORMAT, AWS_LAMBDA_LOG_LEVEL: 'warn', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'INFO' } }, async (d) => {
      await d.waitForOutput(/env format=/);
      const a = await d.call('{}', { 'fn-call-id': 'j4' });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.headers[LOG_HEADER], undefined, 'the function printed: the records follow its lines on stdout');
      await d.waitForOutput(/"type":"platform\.report"/);
      const out = d.output();
      assert.match(out, /env format=JSON level=WARN system=unset/);
      assert.doesNotMatch(out, /too detailed/);
      const lines = out.split('\n');
      const at = (s: string) => lines.findIndex((l) => l.includes(s));
      assert.ok(at('"type":"platform.start"') >= 0, out);
      assert.ok(at('"type":"platform.start"') < at('"message":"kept"'), out);
      assert.ok(at('"message":"kept"') < at('plain text from j4'), out);
      assert.ok(at('plain text from j4') < at('"type":"platform.report"'), out);
      assert.ok(!out.includes('platform.runtimeDone'), 'runtimeDone is DEBUG');
    }));

  test('a bad format value: a warning, and the Text lines as before', () =>
    withDaemon({ env: { AWS_LAMBDA_LOG_FORMAT: 'yaml' } }, async (d) => {
      const inv = await invoke(d, { 'fn-call-id': 't1' });
      assertAccepted(await d.post(inv.id, 'response', '"ok"'));
      const a = await inv.answer;
      assert.equal(a.status, 200);
      assert.match(kilnLog(a), /^START RequestId: t1 Version: \$LATEST\nEND RequestId: t1\nREPORT RequestId: t1\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: (\d+|\?) MB\tInit Duration: [\d.]+ ms\t\n$/);
      assert.match(d.output(), /AWS_LAMBDA_LOG_FORMAT=yaml is neither JSON nor Text: using Text/);
    }));
});

describe('JSON log format: the Telemetry API\'s function records', () => {
  test('a JSON line is its record as an object (level, message), a plain line a string', () =>
    withSink((sink) =>
      // The runtime waits a moment before its first `next`, so the test (the extension) registers during init.
      withDaemon({ command: ['bash', '-c', `sleep 1\n${PRINTING_RUNTIME}`], env: JSON_FORMAT }, async (d) => {
        const id = await register(d, 'otel', []);
        const sub = await d.api('PUT', '/2022-07-01/telemetry', {
          headers: { 'lambda-extension-identifier': id },
          body: JSON.stringify({ schemaVersion: '2022-12-13', types: ['function'], buffering: { timeoutMs: 25 }, destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${sink.port}/` } }),
        });
        assert.equal(sub.status, 200, sub.text);
        void d.eventNext(id);
        const inv = await invoke(d, { 'fn-call-id': 'rec1' });
        assert.equal((await inv.answer).status, 200);
        await sink.waitFor('function');
        const recs = () => sink.events().filter((e) => e.type === 'function').map((e) => e.record as unknown);
        for (let i = 0; i < 50 && !recs().some((r) => typeof r === 'string' && r.startsWith('plain')); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(recs().some((r) => typeof r === 'object' && r !== null && (r as Json).message === 'kept' && (r as Json).level === 'ERROR'), JSON.stringify(recs()));
        assert.ok(recs().includes('plain text from rec1'), JSON.stringify(recs()));
      }),
    ));
});
