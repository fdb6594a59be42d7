// The daemon's lifecycle on the host with real processes: the blog demo's bash+curl bootstrap
// and extension (test/fixtures/lambda/blog-demo), and small scripts that time out, crash or
// never register. Init order, the busy window after an answer, idle, the SHUTDOWN sequence,
// timeouts and resets, crashes, init bounds and a missing bootstrap.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertAccepted, bashRuntime, fixturePath, stillAlive, withDaemon, type Answer, type Daemon, type DaemonOptions } from '../helpers/daemon.js';
import { BUSY_AFTER_HEADER, LOG_FROM_HEADER, LOG_HEADER, REPORT_LATE_HEADER } from '../../runtime/wire.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON in tests
type Json = Record<string, any>;

const BLOG = (workSeconds: string, extra: DaemonOptions = {}): DaemonOptions => ({
  command: [fixturePath('lambda', 'blog-demo', 'var', 'task', 'bootstrap')],
  extensionsDir: fixturePath('lambda', 'blog-demo', 'opt', 'extensions'),
  ...extra,
  env: { EXTENSION_WORK_SECONDS: workSeconds, ...extra.env },
});

/** An extension that registers for INVOKE, and exits (status 3) on its first event. */
const CRASHER = `#!/bin/bash
H=$(mktemp)
curl -sS -D "$H" -XPOST "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/register" \\
  -H "Lambda-Extension-Name: $(basename "$0")" -d '{"events":["INVOKE"]}' >/dev/null
ID=$(grep -Fi Lambda-Extension-Identifier "$H" | tr -d '[:space:]' | cut -d: -f2)
echo "[crasher] registered"
curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/event/next" -H "Lambda-Extension-Identifier: $ID" >/dev/null
echo "[crasher] exiting mid-invoke"
exit 3
`;

/** A bootstrap that takes one event and exits (status 2) without answering. */
/** A runtime that prints a line and then text with no newline in each invocation, before its answer. */
const PARTIAL_LINE_RUNTIME = bashRuntime(`echo "head of $ID"; printf 'tail of %s' "$ID"`);

const CRASHING_RUNTIME = `curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next" >/dev/null; echo "[runtime] dying"; exit 2`;

const count = (text: string, s: string): number => text.split(s).length - 1;

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

function assertFailure(a: Answer, status: number, errorType: string, requestId?: string): Json {
  assert.equal(a.status, status, `status (body ${a.text})`);
  assert.equal(a.headers['x-amz-function-error'], 'Unhandled');
  const body = a.json() as Json;
  assert.equal(body.errorType, errorType, a.text);
  if (requestId) assert.match(String(body.errorMessage), new RegExp(`^RequestId: ${requestId} Error: `));
  return body;
}

function assertApiError400(a: Answer): void {
  assert.equal(a.status, 400, a.text);
  assert.equal((a.json() as Json).errorType, 'InvalidRequestID');
}

/** The JSON the blog extension echoed after "Received SHUTDOWN: ". */
function shutdownEvent(out: string): Json {
  const m = /Received SHUTDOWN: (\{.*\})/.exec(out);
  assert.ok(m?.[1], 'the extension received SHUTDOWN');
  return JSON.parse(m[1]) as Json;
}

describe('the blog demo (bash+curl bootstrap and extension)', () => {
  test('init order, an answer before the extension is done, idle after it, the next invoke waits for it', () =>
    withDaemon(BLOG('1'), async (d) => {
      await d.waitForOutput(/\[runtime\] init/);
      const out0 = d.output();
      // The daemon starts the bootstrap once the register request is in, which may be before
      // the extension prints its answer: "Registering" comes before the runtime, always.
      const registering = out0.indexOf('[extension1.sh] Registering');
      assert.ok(registering >= 0, 'the extension registered');
      assert.ok(registering < out0.indexOf('[runtime] init'), 'the extension registers before the runtime starts');
      await d.waitForOutput(/\[extension1\.sh\] Registered: \{"functionName":"daemon-test","functionVersion":"\$LATEST","handler":""\}/);

      const t0 = Date.now();
      const a = await d.call('{"a":1}', { 'fn-call-id': 'call1' });
      const answeredAfter = Date.now() - t0;
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.json(), { echo: { a: 1 }, requestId: 'call1' });
      assert.ok(answeredAfter < 900, `answered after ${answeredAfter} ms, before the extension's 1 s of work`);
      assert.equal(count(d.output(), 'Done processing'), 0, 'the extension is still working when the answer comes');
      assert.equal(a.headers[BUSY_AFTER_HEADER], '1', 'the agent is told the sandbox stays busy after the answer');

      const idle = await d.idle();
      const idleAfter = Date.now() - t0;
      assert.equal(idle.status, 200);
      assert.equal(count(d.output(), 'Done processing'), 1, 'idle answers after the extension is done');
      assert.ok(idleAfter >= 900, `idle after ${idleAfter} ms`);

      // Two calls at once: the second waits for the first's busy window (the extension's work).
      const t1 = Date.now();
      const first = d.call('{"n":2}', { 'fn-call-id': 'call2' });
      const second = d.call('{"n":3}', { 'fn-call-id': 'call3' });
      const [b, c] = await Promise.all([first.then((x) => ({ x, at: Date.now() - t1 })), second.then((x) => ({ x, at: Date.now() - t1 }))]);
      assert.deepEqual(b.x.json(), { echo: { n: 2 }, requestId: 'call2' });
      assert.deepEqual(c.x.json(), { echo: { n: 3 }, requestId: 'call3' });
      assert.ok(b.at < 900, `first answered after ${b.at} ms`);
      assert.ok(c.at - b.at >= 900, `second answered ${c.at - b.at} ms after the first`);
      const out = d.output();
      assert.ok(out.indexOf('[runtime] invoke call3') > out.indexOf('Done processing', out.indexOf('invoke call2')), 'call3 starts after the extension finished call2');
      assert.match(out, /START RequestId: call1 Version: \$LATEST/);
      assert.match(out, /END RequestId: call1/);
      assert.match(out, /REPORT RequestId: call1\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB/);
      await d.idle();
    }));

  test("END and REPORT wait for the extension's work after the answer: its duration counts it, as the service bills it", () =>
    withDaemon(BLOG('1'), async (d) => {
      const a = await d.call('{}', { 'fn-call-id': 'late1' });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.headers[LOG_HEADER], undefined, 'no END or REPORT travels with the answer');
      assert.equal(a.headers[REPORT_LATE_HEADER], '1', 'the agent is told they come later (a LogType Tail does not wait for them)');
      assert.doesNotMatch(d.output(), /END RequestId: late1/, 'not before the extension is done');
      await d.idle();
      const out = d.output();
      const m = /\[extension1\.sh\] Done processing\n(?:.*\n)*?END RequestId: late1\nREPORT RequestId: late1\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\t/.exec(out);
      assert.ok(m, `END and REPORT after the extension's last line: ${out}`);
      assert.ok(Number(m[1]) >= 950, `the duration (${m[1]} ms) includes the extension's 1 s`);
      assert.equal(Number(m[2]), Math.ceil(Number(m[1])));
      assert.doesNotMatch(out, /late1 Task timed out/);
    }));

  test('an extension that overruns the deadline after the answer: REPORT, then the timeout line, then the reset', () =>
    withDaemon(BLOG('3', { timeoutSec: 1 }), async (d) => {
      const t0 = Date.now();
      const a = await d.call('{}', { 'fn-call-id': 'over1' });
      assert.equal(a.status, 200, a.text);
      assert.ok(Date.now() - t0 < 900, 'the answer did not wait for the extension');
      await d.waitForOutput(/over1 Task timed out after 1\.00 seconds\n/, 5000);
      const out = d.output();
      const m = /END RequestId: over1\nREPORT RequestId: over1\tDuration: ([\d.]+) ms\t[^\n]*\n\S+Z over1 Task timed out after 1\.00 seconds\n/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) >= 950 && Number(m[1]) < 2500, `the duration (${m[1]} ms) runs to the deadline`);
      assert.equal(count(out, 'END RequestId: over1'), 1, 'one END');
      // The reset followed: the next call runs in a fresh generation (its REPORT has an init).
      const b = await d.call('{}', { 'fn-call-id': 'over2' });
      assert.equal(b.status, 200, b.text);
      await d.waitForOutput(/REPORT RequestId: over2\t[^\n]*Init Duration: [\d.]+ ms/, 8000);
    }));

  test('the JSON format: platform.runtimeDone at the answer, platform.report (status timeout) once the extension overran', () =>
    withDaemon(BLOG('3', { timeoutSec: 1, env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', KILN_LAMBDA_SYSTEM_LOG_LEVEL: 'DEBUG' } }), async (d) => {
      const a = await d.call('{}', { 'fn-call-id': 'jover' });
      assert.equal(a.status, 200, a.text);
      const records = (): Json[] => d.output().split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Json)
        .filter((r) => r.record?.requestId === 'jover');
      await d.waitForOutput(/"type":"platform\.report"[^\n]*"requestId":"jover"|"requestId":"jover"[^\n]*"type":"platform\.report"/, 5000);
      const done = records().find((r) => r.type === 'platform.runtimeDone');
      const report = records().find((r) => r.type === 'platform.report');
      assert.equal(done?.record.status, 'success', JSON.stringify(records()));
      assert.ok(done.record.metrics.durationMs < 900, 'the runtime was done at once');
      assert.equal(report?.record.status, 'timeout', JSON.stringify(report));
      assert.ok(report.record.metrics.durationMs >= 950, `the whole invocation ran to the deadline: ${report.record.metrics.durationMs}`);
      assert.equal(records().filter((r) => r.type === 'platform.report').length, 1);
    }));

  test("each answer's kiln-log-from is where its invocation begins in stdout: the last call's late lines come before it", () =>
    withDaemon(BLOG('0.3'), async (d) => {
      const calls = ['from1', 'from2'].map((id) => d.call('{}', { 'fn-call-id': id }));
      const answers = await Promise.all(calls);
      await d.idle();
      const stdout = d.stdout();
      // The two may reach the daemon in either order: the one with the smaller offset ran first.
      const [[id1, from1], [id2, from2]] = answers.map((a): [string, number] => {
        assert.equal(a.status, 200, a.text);
        const v = a.headers[LOG_FROM_HEADER];
        assert.match(String(v), /^\d+$/);
        return [String((a.json() as Json).requestId), Number(v)];
      }).sort((x, y) => x[1] - y[1]) as [[string, number], [string, number]];
      const first = stdout.subarray(from1, from2).toString();
      assert.match(first, new RegExp(`^START RequestId: ${id1} Version: \\$LATEST\n`));
      // The extension's work on the first event, after the answer, belongs before the second START.
      assert.match(first, /\[extension1\.sh\] Done processing\n/);
      const second = stdout.subarray(from2).toString();
      assert.match(second, new RegExp(`^START RequestId: ${id2} Version: \\$LATEST\n`));
      assert.equal(count(second, id1), 0, second);
      assert.match(stdout.subarray(0, from1).toString(), /\[extension1\.sh\] Registered/);
    }));

  test("a re-init inside a call is that call's output: its kiln-log-from comes before the runtime's init lines", () =>
    withDaemon({ command: ['bash', '-c', `echo "[runtime] init $$"; ${CRASHING_RUNTIME}`] }, async (d) => {
      const first = await d.call('{}', { 'fn-call-id': 'crash1' });
      assert.equal(first.status, 502, first.text);
      const second = await d.call('{}', { 'fn-call-id': 'crash2' });
      assert.equal(second.status, 502, second.text);
      const from2 = Number(second.headers[LOG_FROM_HEADER]);
      assert.ok(Number.isSafeInteger(from2), String(second.headers[LOG_FROM_HEADER]));
      await d.waitForOutput(/\[runtime\] dying[\s\S]*\[runtime\] dying/);
      const stdout = d.stdout();
      const before = stdout.subarray(0, from2).toString();
      const after = stdout.subarray(from2).toString();
      assert.equal(count(before, '[runtime] init'), 1, `the boot init only: ${before}`);
      assert.equal(count(after, '[runtime] init'), 1, `the re-init, in the second call's part: ${after}`);
    }));

  test('POST /.kiln/shutdown?reason=spindown: SHUTDOWN to the extension, exit 0, no process left', () =>
    withDaemon(BLOG('0.2'), async (d) => {
      await d.waitForOutput(/\[runtime\] init/);
      const a = await d.call('{"x":1}', { 'fn-call-id': 'before-shutdown' });
      assert.equal(a.status, 200, a.text);
      await d.idle();
      const pids = d.descendants();
      assert.ok(pids.length >= 2, `the bootstrap and the extension run: ${pids.join(',')}`);

      const before = Date.now();
      const s = await d.shutdown('spindown');
      assert.equal(s.status, 200, s.text);
      assert.deepEqual(s.json(), { shutdown: 'spindown' });
      const exit = await d.exited;
      assert.deepEqual(exit, { code: 0, signal: null });

      const out = d.output();
      const ev = shutdownEvent(out);
      assert.equal(ev.eventType, 'SHUTDOWN');
      assert.equal(ev.shutdownReason, 'spindown');
      assert.equal(typeof ev.deadlineMs, 'number');
      assert.ok(ev.deadlineMs > before && ev.deadlineMs <= Date.now() + 2000, `deadlineMs ${ev.deadlineMs}`);
      assert.match(out, /\[extension1\.sh\] Exiting/);
      assert.deepEqual(stillAlive(pids), [], 'no bootstrap or extension process remains');
    }));

  test("the runtime's share of the shutdown, as the service's: SIGTERM, then 300 ms (500 ms with an internal extension) before SIGKILL and SHUTDOWN to the external extensions", async () => {
    // A runtime that ignores SIGTERM (saying when it came) and an extension saying when SHUTDOWN came.
    const runtime = (internal: boolean) => `
trap 'echo "[runtime] TERM $(date +%s%3N)"' TERM
${internal ? `H=$(mktemp)
curl -sS -D "$H" -XPOST "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/register" -H "Lambda-Extension-Name: inside" -d '{"events":["INVOKE"]}' >/dev/null
IID=$(grep -Fi Lambda-Extension-Identifier "$H" | tr -d '[:space:]' | cut -d: -f2)
curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/event/next" -H "Lambda-Extension-Identifier: $IID" >/dev/null &` : ''}
curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next" >/dev/null &
wait $!
echo "[runtime] still here"
sleep 10 & wait $!
sleep 10 & wait $!`;
    const extension = `#!/bin/bash
H=$(mktemp)
curl -sS -D "$H" -XPOST "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/register" -H "Lambda-Extension-Name: $(basename "$0")" -d '{"events":["SHUTDOWN"]}' >/dev/null
ID=$(grep -Fi Lambda-Extension-Identifier "$H" | tr -d '[:space:]' | cut -d: -f2)
echo "[outside] registered"
curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension/event/next" -H "Lambda-Extension-Identifier: $ID" >/dev/null
echo "[outside] SHUTDOWN $(date +%s%3N)"
`;
    for (const [internal, low, high] of [[false, 250, 520], [true, 450, 1000]] as const) {
      await withDaemon({ command: ['bash', '-c', runtime(internal)], extensions: { outside: extension } }, async (d) => {
        await d.waitForOutput(/\[outside\] registered/);
        await sleep(300);
        assert.equal((await d.shutdown('spindown')).status, 200);
        await d.exited;
        const out = d.output();
        const term = Number(/\[runtime\] TERM (\d+)/.exec(out)?.[1]);
        const shutdown = Number(/\[outside\] SHUTDOWN (\d+)/.exec(out)?.[1]);
        assert.ok(term > 0 && shutdown > 0, out);
        const share = shutdown - term;
        assert.ok(share >= low && share < high, `internal ${internal}: SHUTDOWN ${share} ms after the runtime's SIGTERM`);
      });
    }
  });

  test('SIGTERM to the daemon: the same spindown sequence, exit 0', () =>
    withDaemon(BLOG('0.2'), async (d) => {
      await d.waitForOutput(/\[extension1\.sh\] Waiting for event/);
      await d.waitForOutput(/\[runtime\] init/);
      await sleep(100);
      const pids = d.descendants();
      d.child.kill('SIGTERM');
      assert.deepEqual(await d.exited, { code: 0, signal: null });
      assert.equal(shutdownEvent(d.output()).shutdownReason, 'spindown');
      assert.deepEqual(stillAlive(pids), []);
    }));
});

describe('timeouts, crashes and init failures', () => {
  /**
   * The test is the runtime: it takes the event and never answers; the fn's timeout is 1 s.
   * `initFirst`: init is over before the call comes (the usual case); else the call comes
   * first and waits for init (the runtime's first next comes after it).
   */
  async function timeOutOnce(d: Daemon, initFirst: boolean): Promise<void> {
    let next: Promise<Answer> | undefined;
    if (initFirst) {
      next = d.next();
      await d.waitForOutput(/\[extension1\.sh\] Waiting for event/);
      await sleep(200);
    } else {
      await d.waitForOutput(/\[extension1\.sh\] Waiting for event/);
    }
    const firstGen = d.descendants();
    const t0 = Date.now();
    const call = d.call('{}', { 'fn-call-id': 'slow' });
    if (!initFirst) {
      await sleep(100);
      next = d.next();
    }
    const a = await call;
    assert.equal((await next!).status, 200);
    const took = Date.now() - t0;
    const body = assertFailure(a, 504, 'Sandbox.Timedout', 'slow');
    assert.equal(a.headers[BUSY_AFTER_HEADER], '1', 'a reset follows: busy after the answer');
    assert.equal(body.errorMessage, 'RequestId: slow Error: Task timed out after 1.00 seconds');
    assert.ok(took >= 900 && took < 3000, `timed out after ${took} ms`);

    await d.idle();
    const ev = shutdownEvent(d.output());
    assert.equal(ev.eventType, 'SHUTDOWN');
    assert.equal(ev.shutdownReason, 'timeout');
    assert.deepEqual(stillAlive(firstGen), [], 'the first generation is gone after the reset');
    // A late answer for the timed-out call is refused.
    assertApiError400(await d.post('slow', 'response'));
  }

  /** After a reset: the next call re-initialises (the extension registers again) and is served. */
  async function reinitialises(d: Daemon): Promise<void> {
    const next = d.next();
    const b = d.call('{"again":true}', { 'fn-call-id': 'fresh' });
    const event = await next;
    assert.equal(event.headers['lambda-runtime-aws-request-id'], 'fresh');
    assert.equal((await d.post('fresh', 'response', '"ok"')).status, 202);
    const answer = await b;
    assert.equal(answer.status, 200, answer.text);
    assert.equal(count(d.output(), '[extension1.sh] Registering'), 2, 'the extension registered again (re-init)');
    await d.waitForOutput(/\[extension1\.sh\] Received INVOKE: .*"requestId":"fresh"/, 3000);
  }

  const TIMING_OUT = BLOG('0.1', { command: ['sleep', '1000'], timeoutSec: 1 });

  test('a timeout: 504 Sandbox.Timedout, SHUTDOWN reason timeout to the extension, the processes reset', () =>
    withDaemon(TIMING_OUT, (d) => timeOutOnce(d, true)));

  test('after a timeout during the first call (which waited for init), the next call re-initialises', () =>
    withDaemon(TIMING_OUT, async (d) => {
      await timeOutOnce(d, false);
      await reinitialises(d);
    }));

  // After a reset the boot init's result is spent: the next call must run a fresh init.
  test('after a timeout (init done before the first call), the next call re-initialises', () =>
    withDaemon(TIMING_OUT, async (d) => {
      await timeOutOnce(d, true);
      await reinitialises(d);
    }));

  // With real processes: an extension crashing between invokes resets the sandbox; the next
  // call re-initialises.
  test('an extension crash between invokes: the next call re-initialises and is answered', () =>
    withDaemon(BLOG('0.1', { timeoutSec: 2 }), async (d) => {
      await d.waitForOutput(/\[runtime\] init/);
      await sleep(200);
      assert.equal((await d.call('{"n":1}', { 'fn-call-id': 'c1' })).status, 200);
      await d.idle();
      const ext = d.descendants().find((pid) => /extension1\.sh/.test(cmdline(pid)));
      assert.ok(ext, 'the extension runs');
      process.kill(ext, 'SIGKILL');
      await d.waitForOutput(/Fatal error: Extension\.Crash: Extension extension1\.sh exited with error: signal: killed/);
      await d.idle();
      const a = await d.call('{"n":2}', { 'fn-call-id': 'c2' });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.json(), { echo: { n: 2 }, requestId: 'c2' });
    }));

  test('an extension that exits mid-invoke: 502 Extension.Crash', () =>
    withDaemon({ extensions: { crasher: CRASHER } }, async (d) => {
      const next = d.next();
      await d.waitForOutput(/\[crasher\] registered/);
      const a = await d.call('{}', { 'fn-call-id': 'crash' });
      assert.equal((await next).status, 200);
      const body = assertFailure(a, 502, 'Extension.Crash', 'crash');
      assert.equal(body.errorMessage, 'RequestId: crash Error: Extension crasher exited with error: exit status 3');
      // The late answer of the runtime is refused; the sandbox resets.
      await d.idle();
      assert.equal((await d.post('crash', 'response')).status, 400);
    }));

  test('a runtime that exits mid-invoke: 502 Runtime.ExitError', () =>
    withDaemon({ command: ['bash', '-c', CRASHING_RUNTIME] }, async (d) => {
      const a = await d.call('{}', { 'fn-call-id': 'rt-crash' });
      const body = assertFailure(a, 502, 'Runtime.ExitError', 'rt-crash');
      assert.equal(body.errorMessage, 'RequestId: rt-crash Error: Runtime exited with error: exit status 2');
      assert.match(d.output(), /\[runtime\] dying/);
    }));

  test('an extension that never registers: the boot init ends at KILN_LAMBDA_INIT_TIMEOUT_MS, the retry at the fn timeout', () =>
    withDaemon({ extensions: { mute: '#!/bin/sh\nexec sleep 1000\n' }, initTimeoutMs: 500, timeoutSec: 1 }, async (d) => {
      const t0 = Date.now();
      const a = await d.call('{}', { 'fn-call-id': 'cold' });
      const took = Date.now() - t0;
      // The boot init's 500 ms are not the call's: its retry inside the invoke has the whole second.
      assert.ok(took >= 900 && took < 3500, `answered after ${took} ms`);
      const body = assertFailure(a, 504, 'Sandbox.Timedout', 'cold');
      assert.match(body.errorMessage, /Extension registration did not finish within (9\d\d|1\d\d\d) ms/);
      assert.equal(count(d.output(), 'Extension registration did not finish'), 2, 'the boot init, then its retry');
      await d.idle();
      assert.deepEqual(d.descendants(), [], 'the mute extension is killed by the reset');

      // The next call re-initialises, bounded by the fn timeout again.
      const t1 = Date.now();
      const b = await d.call('{}', { 'fn-call-id': 'cold2' });
      const took2 = Date.now() - t1;
      assertFailure(b, 504, 'Sandbox.Timedout', 'cold2');
      assert.ok(took2 >= 900 && took2 < 2500, `re-init answered after ${took2} ms`);
    }));

  test('a boot init that runs past KILN_LAMBDA_INIT_TIMEOUT_MS is retried by the first call, under the fn timeout', () =>
    withDaemon({ initTimeoutMs: 300, timeoutSec: 5 }, async (d) => {
      // The test is the runtime, and calls next only after the boot init has run out of time.
      await d.waitForOutput(/Runtime init did not finish within (29\d|300) ms/);
      const firstGen = d.descendants();
      const call = d.call('{"late":true}', { 'fn-call-id': 'retried' });
      // The call resets the sandbox and starts a new runtime; only then is a next the new runtime's.
      while (!d.descendants().some((pid) => !firstGen.includes(pid))) await sleep(20);
      const event = await d.next();
      assert.equal(event.headers['lambda-runtime-aws-request-id'], 'retried');
      assertAccepted(await d.post('retried', 'response', '"ok"'));
      const a = await call;
      assert.equal(a.status, 200, a.text);
      assert.equal(a.text, '"ok"');
    }));

  test("a call that waits for the boot init gets the fn's whole timeout after it", () =>
    withDaemon({ timeoutSec: 1 }, async (d) => {
      const t0 = Date.now();
      const call = d.call('{}', { 'fn-call-id': 'patient' });
      // Init (the runtime's first next) ends 1.5 s after the call came: more than the fn's timeout.
      await sleep(1500);
      // The deadline is set when the event goes out, after this next was asked for: timed from
      // both ends of the next, so a slow answer to it on a loaded machine is not taken from the
      // 1 s (200 ms are left for the daemon to take the call; the call came 1.5 s before).
      const asked = Date.now();
      const event = await d.next();
      const deadline = Number(event.headers['lambda-runtime-deadline-ms']);
      assert.ok(deadline >= asked + 800 && deadline <= Date.now() + 1000, `deadline ${deadline - asked} ms after the next was asked for`);
      assertAccepted(await d.post('patient', 'response', '"in time"'));
      const a = await call;
      assert.equal(a.status, 200, a.text);
      assert.ok(Date.now() - t0 >= 1500);
    }));

  test("a call that waits behind the last one's tail gets the fn's whole timeout after it", () =>
    withDaemon({ timeoutSec: 1 }, async (d) => {
      const first = d.call('{}', { 'fn-call-id': 'ahead' });
      await d.next();
      assertAccepted(await d.post('ahead', 'response', '"done"'));
      assert.equal((await first).status, 200);
      // The runtime (this test) works on after its answer: the next call waits in the daemon.
      const second = d.call('{}', { 'fn-call-id': 'behind' });
      await sleep(700);
      const asked = Date.now();
      const event = await d.next();
      const deadline = Number(event.headers['lambda-runtime-deadline-ms']);
      assert.ok(deadline >= asked + 800 && deadline <= Date.now() + 1000, `deadline ${deadline - asked} ms after the next was asked for`);
      await sleep(500);
      assertAccepted(await d.post('behind', 'response', '"in time"'));
      const a = await second;
      assert.equal(a.status, 200, a.text);
    }));

  test('a flood of output while the container log is backed up waits in the runtime, not in the daemon', () =>
    withDaemon({ command: ['bash', '-c', 'echo flood-begins; yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 30000000; echo; echo flood-written; sleep 1000'] }, async (d) => {
      await d.waitForOutput(/flood-begins/);
      // The log reader (the engine, here the test) stops reading.
      d.child.stdout!.pause();
      await sleep(1500);
      const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'))?.[1]) / 1024;
      assert.ok(rssMb < 100, `daemon RSS ${rssMb.toFixed(0)} MB with 30 MB of output written at it`);
      assert.ok(!d.output().includes('flood-written'), 'the runtime is held at its write');
      d.child.stdout!.resume();
      // Polled: a pattern matched at every chunk of 30 MB of output would take minutes.
      for (let i = 0; i < 300 && !d.output().includes('flood-written'); i++) await sleep(200);
      assert.ok(d.output().includes('flood-written'), 'the runtime finished once the log was read again');
    }));

  test('a line with no newline comes out in 256 KiB pieces', () =>
    withDaemon({ command: ['bash', '-c', 'head -c 600000 /dev/zero | tr "\\0" x; echo; echo end-of-line; sleep 1000'] }, async (d) => {
      await d.waitForOutput(/end-of-line/);
      const pieces = d.output().split('\n').filter((l) => /^x+$/.test(l)).map((l) => l.length);
      assert.deepEqual(pieces, [262144, 262144, 600000 - 2 * 262144]);
    }));

  test("what the runtime prints without a newline is its invocation's last line, not the start of the next one's", () =>
    withDaemon({ command: ['bash', '-c', PARTIAL_LINE_RUNTIME] }, async (d) => {
      const answers: Answer[] = [];
      for (const id of ['part1', 'part2']) answers.push(await d.call('{}', { 'fn-call-id': id }));
      for (const a of answers) assert.equal(a.status, 200);
      await d.waitForOutput(/REPORT RequestId: part2/);
      const stdout = d.stdout();
      const from2 = Number(answers[1]!.headers[LOG_FROM_HEADER]);
      const first = stdout.subarray(0, from2).toString();
      assert.match(first, /START RequestId: part1 Version: \S+\nhead of part1\nEND RequestId: part1\nREPORT RequestId: part1\t[^\n]*\ntail of part1\n$/, first);
      assert.match(stdout.subarray(from2).toString(), /^START RequestId: part2 Version: \S+\nhead of part2\n/);
    }));

  test('a missing bootstrap: 502 Runtime.InvalidEntrypoint, again on the next call', () =>
    withDaemon({ command: ['/nonexistent/kiln/bootstrap'] }, async (d) => {
      const a = await d.call('{}', { 'fn-call-id': 'nb1' });
      const body = assertFailure(a, 502, 'Runtime.InvalidEntrypoint', 'nb1');
      assert.match(body.errorMessage, /\/nonexistent\/kiln\/bootstrap/);
      // The invoke whose init failed still has its platform lines, as RIE sends them.
      const platform = Buffer.from(String(a.headers[LOG_HEADER] ?? ''), 'base64').toString('utf8');
      assert.match(platform, /^START RequestId: nb1 Version: \$LATEST\nEND RequestId: nb1\nREPORT RequestId: nb1\t/);
      assertFailure(await d.call('{}', { 'fn-call-id': 'nb2' }), 502, 'Runtime.InvalidEntrypoint', 'nb2');
    }));

  test('no bootstrap and no command: 502 Runtime.InvalidEntrypoint', () =>
    withDaemon({ command: [] }, async (d) => {
      const body = assertFailure(await d.call('{}', { 'fn-call-id': 'none' }), 502, 'Runtime.InvalidEntrypoint', 'none');
      assert.match(body.errorMessage, /no bootstrap/);
    }));
});

describe('a runtime that prints all the time', () => {
  // Node, as runtimes are: it prints a line every turn of its event loop, and answers each
  // event at once. Its output never stops, so it never counts as all read: the daemon's waits
  // for it are bounded and must not cost the call its timeout.
  const CHATTY = `
const api = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime/invocation';
const chatter = () => { console.log('chatter ' + Date.now()); setImmediate(chatter); };
chatter();
(async () => {
  for (;;) {
    const next = await fetch(api + '/next');
    const id = next.headers.get('lambda-runtime-aws-request-id');
    await next.text();
    await fetch(api + '/' + id + '/response', { method: 'POST', body: '"ok"' });
  }
})();`;
  test('each call is answered well within its 1 s timeout, none a Sandbox.Timedout', () =>
    withDaemon({ command: [process.execPath, '-e', CHATTY], timeoutSec: 1 }, async (d) => {
      // One call untimed first: a call's wait for the boot init (node's own start, and its first
      // fetch) is not its time, and on a loaded machine it took the first call to 2.7 s.
      const first = await d.call('{}', { 'fn-call-id': 'chatty-first' });
      assert.equal(first.status, 200, first.text);
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        const a = await d.call('{}', { 'fn-call-id': `chatty-${i}` });
        const took = Date.now() - t0;
        assert.equal(a.status, 200, a.text);
        assert.ok(took < 900, `call ${i} took ${took} ms`);
        assert.equal(a.headers[BUSY_AFTER_HEADER], undefined, 'no extension: free once the runtime is back in next');
        assert.equal(a.headers[REPORT_LATE_HEADER], undefined, 'no extension: END and REPORT are not held back');
      }
    }));
});
