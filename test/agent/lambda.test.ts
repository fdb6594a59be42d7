// `format: lambda` fns on real Docker: Kiln's daemon in the container serves the Runtime,
// Extensions and Telemetry APIs to unmodified custom runtimes and extensions.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call } from '../helpers/server.js';
import { LOG_HEADER, SOURCE_IP_HEADER } from '../../runtime/wire.js';

const paused = async (s: AgentSuite): Promise<boolean[]> => {
  const list = await nodeContainers(s.docker, s.srv.nodeId);
  return Promise.all(list.map(async (c) => (await s.docker.getContainer(c.Id).inspect()).State.Paused));
};

async function callLog(s: AgentSuite, fnId: string, callId: string): Promise<string> {
  await s.srv.agent.flushRecords();
  const r = await call(s.srv.url, 'GET', `/v2/fns/${fnId}/calls/${callId}/log`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return String(r.body.log ?? JSON.stringify(r.body) ?? '');
}

/**
 * A request from 127.0.0.2, a loopback address other than the 127.0.0.1 the daemon falls back
 * to, so the event's sourceIp can only be it if the server passed the caller's address on.
 */
function fromAnotherAddress(base: string, method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers, localAddress: '127.0.0.2' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Reads a streamed body that must be cut short: the caller must not take it for a whole one,
 * so it ends with an error, not a clean end. Returns what arrived before the cut.
 */
async function readCutStream(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  await assert.rejects(async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      text += Buffer.from(value).toString();
    }
  });
  return text;
}

describe('the AWS blog demo: a bash bootstrap and a bash+curl extension', () => {
  let s: AgentSuite;
  let image: string;
  before(async () => {
    image = await lambdaFixtureImage('blog-demo');
    s = await agentSuite('lambda-blog');
  });
  after(() => s.close());

  test('answers at once although the extension works on; a call meanwhile gets another container; each freezes once its extension is done', async () => {
    const fn = await s.mkFn('demo', { image, format: 'lambda', config: { EXTENSION_WORK_SECONDS: '2' } });
    const r1 = await s.invoke(fn.id, { hello: 'kiln' });
    const firstAt = Date.now();
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    const callId = r1.headers.get('fn-call-id');
    assert.deepEqual(r1.body, { echo: { hello: 'kiln' }, requestId: callId });

    // While the extension works the container must not be frozen.
    await sleep(600);
    assert.deepEqual(await paused(s), [false]);

    // Its sandbox is busy until the extension calls next again: as the service does, the next
    // call goes to another one rather than waiting out the extension's work.
    const r2 = await s.invoke(fn.id, { n: 2 });
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.equal((await nodeContainers(s.docker, s.srv.nodeId)).length, 2, 'the second call got a container of its own');
    const id2 = r2.headers.get('fn-call-id')!;

    // Once everything is parked in next (each extension's 2 s), both containers freeze.
    assert.ok(await eventually(async () => (await paused(s)).join() === 'true,true', 10000, 100), 'frozen once everything is parked');
    assert.ok(Date.now() - firstAt >= 1500, 'not frozen before the extension was done');
    // A call now finds a free container: none is started.
    const r3 = await s.invoke(fn.id, { n: 3 });
    assert.equal(r3.status, 200, JSON.stringify(r3.body));
    assert.equal((await nodeContainers(s.docker, s.srv.nodeId)).length, 2, 'the third call reused a container');

    const log = await callLog(s, fn.id, callId!);
    assert.match(log, new RegExp(`START RequestId: ${callId} Version: \\$LATEST`));
    // The extension's work on the first event ended after its answer: its lines are the first call's.
    assert.match(log, /\[extension1\.sh\] Done processing\n/);
    // Stored after its answer, as late output is: 0.5 s after the extension's last line.
    let log2 = '';
    await eventually(async () => (log2 = await callLog(s, fn.id, id2)).includes('Done processing'), 5000, 100);
    assert.equal(log2.split(callId!).length - 1, 0, log2);
    assert.equal(log2.split('Done processing').length - 1, 1, `only its own extension work, stored after its answer: ${log2}`);
    // A fresh sandbox's first call (its REPORT has an init), not the first container's second.
    assert.match(log2, /REPORT RequestId: \S+\tDuration: [\d.]+ ms\t.*Init Duration: [\d.]+ ms/);
    assert.match(log, /\[extension1\.sh\] Received INVOKE: \{"eventType":"INVOKE","deadlineMs":\d+,"requestId":"[^"]+","invokedFunctionArn":"arn:aws:lambda:us-east-1:\d{12}:function:demo","tracing":\{"type":"X-Amzn-Trace-Id","value":"Root=1-/);
    assert.match(log, /\[runtime\] invoke /);
    assert.match(log, new RegExp(`END RequestId: ${callId}`));
    assert.match(log, new RegExp(`REPORT RequestId: ${callId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: [\\d.]+ ms`));
    // END and REPORT come once the extension is done, as the service writes them: its 2 s are in the duration.
    const report = new RegExp(`Done processing\n(?:.*\n)*?END RequestId: ${callId}\nREPORT RequestId: ${callId}\tDuration: ([\\d.]+) ms`).exec(log);
    assert.ok(report && Number(report[1]) >= 1900, log);
  });
});

describe('the blog demo with room for one container', () => {
  let s: AgentSuite;
  before(async () => {
    // 200 MiB: one 128 MB container fits, a second does not.
    s = await agentSuite('lambda-blog-one', { FN_MAX_TOTAL_MEMORY_BYTES: String(200 * 1024 * 1024) });
  });
  after(() => s.close());

  test("a call that comes while the last one's extension works waits for the sandbox, then gets its whole timeout", async () => {
    const fn = await s.mkFn('tail-deadline', { image: await lambdaFixtureImage('blog-demo'), format: 'lambda', timeout: 2, config: { EXTENSION_WORK_SECONDS: '1.5' } });
    assert.equal((await s.invoke(fn.id, { n: 1 })).status, 200);
    const firstAt = Date.now();
    await sleep(300);
    const r2 = await s.invoke(fn.id, { n: 2 });
    const secondAt = Date.now();
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.equal((await nodeContainers(s.docker, s.srv.nodeId)).length, 1, 'no room for another: the same container');
    assert.ok(secondAt - firstAt >= 1200, `it waited for the extension (${secondAt - firstAt} ms after the first answer)`);
    const id2 = r2.headers.get('fn-call-id')!;
    let log2 = '';
    await eventually(async () => (log2 = await callLog(s, fn.id, id2)).includes('Done processing'), 8000, 100);
    const deadline = Number(/Received INVOKE: \{"eventType":"INVOKE","deadlineMs":(\d+)/.exec(log2)?.[1]);
    // Its INVOKE went out once the extension's 1.5 s on the first call were over: the 2 s run from then.
    assert.ok(deadline - firstAt >= 3300, `the deadline runs from when the sandbox took the call (${deadline - firstAt} ms after the first answer)`);
    assert.doesNotMatch(log2, /timed out|Received SHUTDOWN/i, 'the extension finished within the call\'s time: no reset');
  });
});

describe('the blog demo retiring', () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('lambda-retire');
  });
  after(() => s.close());

  test("the extension's SHUTDOWN handling runs when the container retires (idle timeout), and is in the last call's log", async () => {
    const fn = await s.mkFn('retire', { image: await lambdaFixtureImage('blog-demo'), format: 'lambda', idle_timeout: 1, config: { EXTENSION_WORK_SECONDS: '0' } });
    const r = await s.invoke(fn.id, { bye: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(await eventually(async () => (await nodeContainers(s.docker, s.srv.nodeId)).length === 0, 8000), 'the container retired');
    await sleep(100);
    const log = await callLog(s, fn.id, r.headers.get('fn-call-id')!);
    assert.match(log, /\[extension1\.sh\] Received SHUTDOWN: \{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":\d+\}/);
    assert.match(log, /\[extension1\.sh\] Exiting/);
  });
  test('the idle timeout runs from when the extension is done with the last call; then SHUTDOWN is sent', async () => {
    const fn = await s.mkFn('retire-busy', { image: await lambdaFixtureImage('blog-demo'), format: 'lambda', idle_timeout: 1, timeout: 10, config: { EXTENSION_WORK_SECONDS: '4' } });
    const r = await s.invoke(fn.id, { bye: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const answeredAt = Date.now();
    assert.ok(await eventually(async () => (await nodeContainers(s.docker, s.srv.nodeId)).length === 0, 15000), 'the container retired');
    // Busy while the extension works (4 s from the INVOKE), idle for 1 s after: never retired sooner.
    assert.ok(Date.now() - answeredAt >= 4500, `not before the extension's work and then the idle timeout were over (${Date.now() - answeredAt} ms)`);
    await sleep(100);
    const log = await callLog(s, fn.id, r.headers.get('fn-call-id')!);
    assert.match(log, /\[extension1\.sh\] Done processing\n[^]*\[extension1\.sh\] Received SHUTDOWN: \{"eventType":"SHUTDOWN","shutdownReason":"spindown"/);
  });
});

describe("AWS's own runtime interface client (aws-lambda-ric from npm, unmodified)", () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('lambda-ric');
  });
  after(() => s.close());

  test('runs a plain handler: responses, errors with X-Amz-Function-Error, the context, the log', async () => {
    const fn = await s.mkFn('ric', { image: await lambdaFixtureImage('node-ric'), format: 'lambda', memory: 192 });
    const ok = await s.invoke(fn.id, { name: 'RIC' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.message, 'Hello RIC');
    assert.equal(ok.body.functionName, 'ric');
    assert.equal(String(ok.body.memoryLimitInMB), '192');
    assert.match(ok.body.arn, /^arn:aws:lambda:us-east-1:\d{12}:function:ric$/);
    assert.equal(ok.body.remainingOk, true);
    const id = ok.headers.get('fn-call-id')!;
    const log = await callLog(s, fn.id, id);
    assert.match(log, new RegExp(`START RequestId: ${id} Version: \\$LATEST\n[^\n]*\t${id}\tINFO\thandling ${id}\nEND RequestId: ${id}\nREPORT RequestId: ${id}\t`));

    const bad = await s.invoke(fn.id, { fail: true });
    assert.equal(bad.status, 502);
    assert.equal(bad.headers.get('x-amz-function-error'), 'Unhandled');
    assert.equal(bad.body.errorType, 'TypeError');
    assert.equal(bad.body.errorMessage, 'the handler failed on purpose');
    assert.equal((await s.invoke(fn.id, {})).body.message, 'Hello World');
  });

  test("config's _HANDLER takes the place of the image's CMD; an empty body is the event {}; a call that prints past a pipe's worth has its lines before END", async () => {
    const fn = await s.mkFn('ricchatty', { image: await lambdaFixtureImage('node-ric'), format: 'lambda', config: { _HANDLER: 'index.chatty' } });
    // No body: the client parses the event `{}`, as the service passes it (it failed on an empty one).
    const empty = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST' });
    assert.equal(empty.status, 200, await empty.clone().text());
    assert.deepEqual(await empty.json(), { printed: 0 }, 'the handler config names, not the CMD\'s index.handler');
    // AWS's client posts its answer synchronously: what it printed past what the daemon had read
    // waits in its own buffer until the post is accepted, and must still come before END (which
    // so follows the answer, stored with the late output).
    for (let i = 0; i < 3; i++) {
      const r = await s.invoke(fn.id, { lines: 1000 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const id = r.headers.get('fn-call-id')!;
      let log = '';
      await eventually(async () => (log = await callLog(s, fn.id, id)).includes(`REPORT RequestId: ${id}`), 5000, 100);
      const start = log.indexOf(`START RequestId: ${id}`);
      const end = log.indexOf(`END RequestId: ${id}`);
      assert.ok(start >= 0 && end > start, log.slice(0, 300));
      const inside = log.slice(start, end).split('\n').filter((l) => l.includes('\tINFO\tline ')).length;
      assert.equal(inside, 1000, `call ${i}: ${inside} of the 1000 lines between START and END`);
    }
  });

  test('AWS_LAMBDA_LOG_FORMAT=JSON: JSON platform records, and the client logs JSON itself', async () => {
    const fn = await s.mkFn('ricjson', { image: await lambdaFixtureImage('node-ric'), format: 'lambda', config: { AWS_LAMBDA_LOG_FORMAT: 'JSON' } });
    const ok = await s.invoke(fn.id, { name: 'JSON' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const id = ok.headers.get('fn-call-id')!;
    const log = await callLog(s, fn.id, id);
    // The client's bin prints one plain line before it patches the console: passed on as it is.
    assert.match(log, /^Executing 'index.handler' in function directory '\/var\/task'$/m);
    const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.type ?? l.level), ['platform.start', 'INFO', 'platform.report'], log);
    assert.deepEqual(lines[0]?.record, { requestId: id, functionArn: ok.body.arn, version: '$LATEST' });
    assert.equal(lines[1]?.requestId, id);
    assert.equal(lines[1]?.message, `handling ${id}`);
    const report = lines[2]?.record as { requestId: string; status: string; metrics: Record<string, number> };
    assert.equal(report.requestId, id);
    assert.equal(report.status, 'success');
    assert.equal(report.metrics.memorySizeMB, 128);
    assert.ok(report.metrics.maxMemoryUsedMB! > 0, log);
    assert.doesNotMatch(log, /START RequestId|REPORT RequestId/);
  });

  test("streams a handler made with the client's awslambda.streamifyResponse, chunk by chunk", async () => {
    const fn = await s.mkFn('ricstream', { image: await lambdaFixtureImage('node-ric'), format: 'lambda', config: { STREAM: '1' } });
    const res = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    let text = '';
    const t0 = Date.now();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(Date.now() - t0);
      text += Buffer.from(value).toString();
    }
    assert.equal(text, 'part 0\npart 1\npart 2\npart 3\n');
    assert.ok(arrivals.length >= 3 && arrivals[arrivals.length - 1]! - arrivals[0]! >= 500, `arrivals ${arrivals.join(', ')}`);
  });

  test('a stream that fails after its first byte is cut short for the caller, recorded as an error, and the container stays', async () => {
    const fn = await s.mkFn('ricstreamfail', { image: await lambdaFixtureImage('node-ric'), format: 'lambda', config: { STREAM: '1' } });
    const res = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ failAfter: 1 }) });
    assert.equal(res.status, 200);
    const callId = res.headers.get('fn-call-id')!;
    assert.equal(await readCutStream(res), 'part 0\npart 1\n');
    const [recorded] = await s.calls(fn.id);
    assert.equal(recorded!.id, callId);
    assert.equal(recorded!.status, 'error');
    assert.match(recorded!.error ?? '', /mid-stream: RangeError/);
    assert.match(await callLog(s, fn.id, callId), /Response stream error: RangeError/);
    // Failed as it wrote its first bytes: they and the head arrive with the error, and are not lost with it.
    const now = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ failNow: true }) });
    assert.equal(now.status, 200);
    assert.equal(await readCutStream(now), 'part 0\n');
    // Through a trigger, a function URL stream that failed after its prelude, before any body
    // byte: the caller still gets the prelude's status and headers, then the cut.
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'streamfail', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/streamfail' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const viaTrigger = await fetch(`${s.srv.url}/t/lambda-ric/streamfail`, { method: 'POST', body: JSON.stringify({ preludeThenFail: true }) });
    assert.equal(viaTrigger.status, 201);
    assert.equal(viaTrigger.headers.get('x-prelude'), 'sent');
    assert.equal(await readCutStream(viaTrigger), '');
    // A function's error, not a broken container: the next call runs in the same one.
    const ids = async () => (await nodeContainers(s.docker, s.srv.nodeId)).map((c) => c.Id).sort();
    const before = await ids();
    const ok = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: '{}' });
    assert.equal(await ok.text(), 'part 0\npart 1\npart 2\npart 3\n');
    assert.deepEqual(await ids(), before);
  });
});

describe('an image whose own ENTRYPOINT is the runtime', () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('lambda-entry');
  });
  after(() => s.close());

  test('runs as the bootstrap with its CMD, in its working directory, the CMD naming the handler', async () => {
    const fn = await s.mkFn('entry', { image: await lambdaFixtureImage('shell-entrypoint'), format: 'lambda' });
    const r = await s.invoke(fn.id, { x: 1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // The image's NODE_OPTIONS (a --require of a file that is not there) reaches its runtime, and
    // does not stop Kiln's daemon, a Node program, from starting.
    assert.deepEqual(r.body, { arg: 'my.handler', handler: 'my.handler', cwd: '/srv', node_options: '--require /nonexistent/preload.cjs', event: { x: 1 } });
  });

  test("a NODE_OPTIONS in the fn's config, one Kiln's Node does not know, is the runtime's, not the daemon's", async () => {
    const fn = await s.mkFn('entry-node-options', { image: await lambdaFixtureImage('shell-entrypoint'), format: 'lambda', config: { NODE_OPTIONS: '--no-such-option-for-kiln' } });
    const r = await s.invoke(fn.id, { y: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((r.body as { node_options?: string }).node_options, '--no-such-option-for-kiln');
  });
});

describe('a Node runtime using fetch against the Runtime API', () => {
  let s: AgentSuite;
  let image: string;
  before(async () => {
    image = await lambdaFixtureImage('node-runtime');
    s = await agentSuite('lambda-node');
  });
  after(() => s.close());

  test('a response, with the Lambda environment and invoke headers', async () => {
    // A config key naming a setting of Kiln's daemon does not retune it.
    const fnConfig = { _HANDLER: 'index.handler', KILN_LAMBDA_API_ADDRESS: '127.0.0.1:9555' };
    const fn = await s.mkFn('env', { image, format: 'lambda', memory: 256, config: fnConfig });
    const r = await s.invoke(fn.id, { action: 'env' }, { 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('content-type'), 'application/json');
    const { env, headers, cwd, hosts } = r.body;
    // With no network (the default), the sandbox's names still resolve to its loopback, from the
    // hosts file Kiln binds: the container keeps the cheapest start (no network sandbox at all).
    assert.deepEqual(hosts, { localhost: '127.0.0.1', 'sandbox.localdomain': '127.0.0.1', sandbox: '127.0.0.1' });
    const [mine] = (await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fn.id);
    // dockerode's types lack Config.NetworkDisabled, which the engine reports.
    const config = (await s.docker.getContainer(mine!.Id).inspect()).Config as { NetworkDisabled?: boolean };
    assert.equal(config.NetworkDisabled, true);
    assert.equal(env.AWS_LAMBDA_RUNTIME_API, '127.0.0.1:9001');
    assert.equal(env._HANDLER, 'index.handler');
    assert.equal(env.LAMBDA_TASK_ROOT, '/var/task');
    assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'env');
    assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
    assert.equal(env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.equal(env.TZ, ':UTC');
    assert.equal(cwd, '/var/task');
    assert.equal(headers['lambda-runtime-aws-request-id'], r.headers.get('fn-call-id'));
    assert.equal(headers['lambda-runtime-trace-id'], 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    assert.match(headers['lambda-runtime-invoked-function-arn'], /^arn:aws:lambda:us-east-1:\d{12}:function:env$/);
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    assert.ok(deadline > Date.now() && deadline <= Date.now() + 30_000 + 1000, `deadline ${deadline}`);
  });

  test("a quiet call's START, END and REPORT reach its log, in order, and never the caller", async () => {
    const fn = await s.mkFn('quiet', { image: await lambdaFixtureImage('node-hello'), format: 'lambda', config: { _HANDLER: 'index.handler' } });
    for (const name of ['one', 'two']) {
      const r = await s.invoke(fn.id, { name });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { message: `Hello ${name}` });
      assert.equal(r.headers.get(LOG_HEADER), null);
      const id = r.headers.get('fn-call-id')!;
      const lines = (await callLog(s, fn.id, id)).replace(/\n$/, '').split('\n');
      assert.equal(lines.length, 3, lines.join('\n'));
      assert.equal(lines[0], `START RequestId: ${id} Version: $LATEST`);
      assert.equal(lines[1], `END RequestId: ${id}`);
      assert.match(lines[2]!, new RegExp(`^REPORT RequestId: ${id}\tDuration: [\\d.]+ ms\tBilled Duration: \\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \\d+ MB\t${name === 'one' ? 'Init Duration: [\\d.]+ ms\t' : ''}$`));
    }
  });

  test('a missing image answers 502 naming it, recorded, no container left', async () => {
    const fn = await s.mkFn('noimage', { image: 'kiln-test/no-such-lambda:1', format: 'lambda' });
    const r = await s.invoke(fn.id, {});
    assert.equal(r.status, 502);
    assert.match(r.body.message, /image "kiln-test\/no-such-lambda:1" is not available/);
    assert.equal((await s.calls(fn.id))[0]?.status, 'error');
    assert.equal((await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Image.includes('no-such')).length, 0);
  });

  test('a function error answers 502 with the posted error and X-Amz-Function-Error', async () => {
    const fn = await s.mkFn('err', { image, format: 'lambda' });
    const r = await s.invoke(fn.id, { action: 'error' });
    assert.equal(r.status, 502);
    assert.equal(r.headers.get('x-amz-function-error'), 'MyError');
    assert.deepEqual(r.body, { errorMessage: 'it failed', errorType: 'MyError', stackTrace: ['at handler'] });
    const calls = await s.calls(fn.id);
    assert.equal(calls[0]!.status, 'error');
    // The record names the error and its message (an Event call's record is their only trace).
    assert.equal(calls[0]!.error, 'function answered 502: MyError: it failed');
    // The sandbox is fine: the next call answers.
    assert.equal((await s.invoke(fn.id, { action: 'echo' })).status, 200);
  });

  test('an error type in the header alone is recorded as the UTF-8 it was sent in, and passed on as the same bytes', async () => {
    const fn = await s.mkFn('hdrerr', { image, format: 'lambda' });
    const r = await s.invoke(fn.id, { action: 'header-error', type: 'Hdr😀Type' });
    assert.equal(r.status, 502);
    // A header value is read as Latin-1 (a character a byte): its bytes are the runtime's own.
    assert.deepEqual(Buffer.from(r.headers.get('x-amz-function-error') ?? '', 'latin1'), Buffer.from('Hdr😀Type'));
    assert.equal((await s.calls(fn.id))[0]!.error, 'function answered 502: Hdr😀Type');
  });

  test('a runtime crash fails the call with Runtime.ExitError; the sandbox re-initialises', async () => {
    const fn = await s.mkFn('crash', { image, format: 'lambda' });
    const r = await s.invoke(fn.id, { action: 'crash' });
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.errorType, 'Runtime.ExitError');
    assert.match(r.body.errorMessage, /^RequestId: \S+ Error: Runtime exited with error: exit status 7$/);
    assert.match((await s.calls(fn.id))[0]!.error ?? '', /^function answered 502: Runtime\.ExitError: RequestId: \S+ Error: Runtime exited with error: exit status 7$/);
    const again = await s.invoke(fn.id, { action: 'echo', n: 1 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body.echo, { action: 'echo', n: 1 });
  });

  // Each crash left what the runtime had started running in the container: with 50 pids and
  // Node's threads, the fourth made every later start fail (sigabrt) while calls kept coming.
  test('what a crashed runtime started goes with it: crash after crash, the sandbox keeps working', async () => {
    const fn = await s.mkFn('crash-child', { image, format: 'lambda' });
    for (let i = 0; i < 5; i++) {
      const r = await s.invoke(fn.id, { action: 'crash', child: true });
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.equal(r.body.errorType, 'Runtime.ExitError', JSON.stringify(r.body));
    }
    const again = await s.invoke(fn.id, { action: 'echo', n: 2 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const [c] = (await nodeContainers(s.docker, s.srv.nodeId)).filter((x) => x.Labels[FN_LABEL] === fn.id);
    assert.ok(c);
    const top = await s.docker.getContainer(c.Id).top({ ps_args: '-o pid,args' });
    const orphans = ((top.Processes ?? []) as string[][]).filter((p) => (p[1] ?? '').includes('setTimeout'));
    assert.deepEqual(orphans, [], 'no helper of a crashed runtime is left');
  });

  // Timeouts of 2-3 s, timed from a warm container: the next call re-initialises the runtime
  // within the fn's timeout, which on a loaded machine took more than 1 s.
  test('a call past the fn timeout answers 504 Sandbox.Timedout; the next call works', async () => {
    const fn = await s.mkFn('slow', { image, format: 'lambda', timeout: 3 });
    assert.equal((await s.invoke(fn.id, { action: 'sleep', ms: 1 })).status, 200, 'warm');
    const t0 = Date.now();
    const r = await s.invoke(fn.id, { action: 'sleep', ms: 10_000 });
    assert.equal(r.status, 504, JSON.stringify(r.body));
    assert.equal(r.body.errorType, 'Sandbox.Timedout');
    assert.match(r.body.errorMessage, /Task timed out after 3\.\d\d seconds/);
    assert.ok(Date.now() - t0 < 6000, 'answered at the deadline');
    const again = await s.invoke(fn.id, { action: 'sleep', ms: 1 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const calls = await s.calls(fn.id);
    assert.deepEqual(calls.map((c) => c.status), ['success', 'timeout', 'success']);
    assert.match(calls[1]!.error ?? '', /^function answered 504: Sandbox\.Timedout: RequestId: \S+ Error: Task timed out after 3\.00 seconds$/);
    // The log says why it ended, as the service's log stream does after a timeout's REPORT.
    const id = calls[1]!.id;
    const log = String((await call(s.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${id}/log`)).body.log);
    assert.match(log, new RegExp(`\nREPORT RequestId: ${id}\t[^\n]*\n\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${id} Task timed out after 3\\.00 seconds\n`), log);
  });

  test('an init error answers with the posted error; a crash at init with Runtime.ExitError', async () => {
    const fn = await s.mkFn('initerr', { image, format: 'lambda', config: { INIT_ERROR: '1' } });
    const r = await s.invoke(fn.id, { action: 'echo' });
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.headers.get('x-amz-function-error'), 'Runtime.InitFailed');
    assert.deepEqual(r.body, { errorMessage: 'init went wrong', errorType: 'InitFailed' });
    const fn2 = await s.mkFn('initcrash', { image, format: 'lambda', config: { INIT_CRASH: '1' } });
    const r2 = await s.invoke(fn2.id, { action: 'echo' });
    assert.equal(r2.status, 502, JSON.stringify(r2.body));
    assert.equal(r2.body.errorType, 'Runtime.ExitError');
    assert.match(r2.body.errorMessage, /exit status 3/);
    const calls = await s.calls(fn2.id);
    assert.equal(calls[0]!.status, 'error');
  });

  test("a slow init is not the first call's time: a 4.5 s init, then a whole 1 s timeout for the call", async () => {
    const fn = await s.mkFn('slowinit', { image, format: 'lambda', timeout: 1, config: { INIT_DELAY_MS: '4500' } });
    const t0 = Date.now();
    const r = await s.invoke(fn.id, { action: 'sleep', ms: 500 });
    const took = Date.now() - t0;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(took >= 5000, `answered after ${took} ms`);
    const calls = await s.calls(fn.id);
    assert.deepEqual(calls.map((c) => c.status), ['success']);
  });

  test('a streamed response reaches the caller chunk by chunk', async () => {
    const fn = await s.mkFn('stream', { image, format: 'lambda' });
    const res = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ action: 'stream', chunks: 5, gapMs: 300 }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    const reader = res.body!.getReader();
    const t0 = Date.now();
    const first = await reader.read();
    const firstAt = Date.now() - t0;
    let text = Buffer.from(first.value!).toString();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    const total = Date.now() - t0;
    assert.equal(text, [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(''));
    assert.ok(total - firstAt >= 900, `the chunks came at once (first at ${firstAt} ms, last at ${total} ms)`);
  });

  test('a stream still going at the fn timeout is cut short for the caller, recorded as a timeout; the next call works', async () => {
    // 3 s: after the timeout the sandbox initialises again within the next call's timeout, which
    // on a loaded machine took over 2 s (Extension registration did not finish within 1899 ms).
    const fn = await s.mkFn('endless', { image, format: 'lambda', timeout: 3 });
    assert.equal((await s.invoke(fn.id, { action: 'echo', n: 1 })).status, 200, 'warm');
    const t0 = Date.now();
    const res = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ action: 'stream', chunks: 20, gapMs: 300 }) });
    assert.equal(res.status, 200);
    const callId = res.headers.get('fn-call-id')!;
    // As the service does: the status already sent stands, the body is truncated.
    const text = await readCutStream(res);
    assert.ok(Date.now() - t0 < 5500, `cut after ${Date.now() - t0} ms, not at the deadline`);
    assert.match(text, /^chunk 0\n(chunk \d\n)*$/);
    assert.ok(!text.includes('chunk 19'), text);
    const [recorded] = await s.calls(fn.id);
    assert.equal(recorded!.id, callId);
    assert.equal(recorded!.status, 'timeout');
    assert.match(recorded!.error ?? '', /timed out mid-stream: Sandbox\.Timedout/);
    const again = await s.invoke(fn.id, { action: 'echo', n: 2 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });

  test('a stream whose caller does not read is cut at the fn timeout all the same, recorded as a timeout', async () => {
    const fn = await s.mkFn('slow-reader', { image, format: 'lambda', timeout: 3, memory: 256 });
    assert.equal((await s.invoke(fn.id, { action: 'echo', n: 1 })).status, 200, 'warm');
    // Far more than the agent holds for a slow caller (6 MiB) and the sockets between.
    const url = new URL(`${s.srv.url}/invoke/${fn.id}`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
      req.once('response', resolve);
      req.end(JSON.stringify({ action: 'stream', chunks: 400, chunkBytes: 256 * 1024, gapMs: 5 }));
    });
    res.pause();
    assert.equal(res.statusCode, 200);
    const callId = String(res.headers['fn-call-id']);
    const t0 = Date.now();
    // Before, the daemon's cut waited behind the unread bytes: the agent's backstop (the timeout
    // plus 10 s) ended it, recorded only as 'Timed out'.
    assert.ok(await eventually(async () => (await s.calls(fn.id)).some((c) => c.id === callId && c.status === 'timeout'), 8000), 'recorded as a timeout');
    assert.ok(Date.now() - t0 < 6000, `recorded ${Date.now() - t0} ms after the stream began`);
    const [recorded] = (await s.calls(fn.id)).filter((c) => c.id === callId);
    assert.match(recorded!.error ?? '', /timed out mid-stream: Sandbox\.Timedout/);
    const whole = await new Promise<boolean>((resolve) => {
      res.once('end', () => resolve(true));
      res.once('error', () => resolve(false));
      res.once('aborted', () => resolve(false));
      res.resume();
    });
    assert.equal(whole, false, 'the caller sees its stream cut short');
    const again = await s.invoke(fn.id, { action: 'echo', n: 2 });
    assert.equal(again.status, 200, JSON.stringify(again.body));
  });

  test('a response over 6 MB fails with Function.ResponseSizeTooLarge and the runtime gets 413', async () => {
    const fn = await s.mkFn('big', { image, format: 'lambda', memory: 256 });
    const r = await s.invoke(fn.id, { action: 'big', bytes: 6 * 1024 * 1024 + 200 });
    assert.equal(r.status, 502, JSON.stringify(r.body).slice(0, 200));
    assert.equal(r.body.errorType, 'Function.ResponseSizeTooLarge');
    assert.match(r.body.errorMessage, /exceeded maximum allowed payload size \(6291556 bytes\)/);
    // The runtime prints this once its POST is answered, after the caller's answer: late output,
    // stored with the call a moment later.
    let log = '';
    await eventually(async () => (log = await callLog(s, fn.id, r.headers.get('fn-call-id')!)).includes('big response answered'), 5000, 100);
    assert.match(log, /big response answered 413 \{"errorMessage":"Exceeded maximum allowed payload size \(6291556 bytes\)\.","errorType":"RequestEntityTooLarge"\}/);
    // Up to the limit is fine, and what the runtime was told is accepted reaches the caller: the
    // agent's bound (FN_MAX_RESPONSE_SIZE, by default this limit) is the daemon's.
    for (const bytes of [6 * 1024 * 1024, 6 * 1024 * 1024 + 100]) {
      const ok = await fetch(`${s.srv.url}/invoke/${fn.id}`, { method: 'POST', body: JSON.stringify({ action: 'big', bytes }) });
      assert.equal(ok.status, 200);
      assert.equal((await ok.text()).length, bytes);
    }
  });

  test('an OPA-like extension serves the function on loopback during each call', async () => {
    const fn = await s.mkFn('opa', { image, format: 'lambda' });
    const alice = await s.invoke(fn.id, { action: 'opa', user: 'alice' });
    assert.equal(alice.status, 200, JSON.stringify(alice.body));
    assert.deepEqual(alice.body, { result: true, decidedBy: 'opa-extension' });
    const bob = await s.invoke(fn.id, { action: 'opa', user: 'bob' });
    assert.deepEqual(bob.body, { result: false, decidedBy: 'opa-extension' });
  });

  test('an HTTP trigger sends a function URL event and maps the result as function URLs do', async () => {
    const fn = await s.mkFn('web', { image, format: 'lambda' });
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'web', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/web' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const plain = await fetch(`${s.srv.url}/t/lambda-node/web?q=1&q=2`, { method: 'PUT', body: 'hi there', headers: { 'content-type': 'text/plain', cookie: 'c1=v1; c2=v2', 'x-one': 'uno' } });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-type'), 'application/json');
    const { echo } = (await plain.json()) as { echo: any };
    assert.equal(echo.version, '2.0');
    assert.equal(echo.rawPath, '/web');
    assert.equal(echo.rawQueryString, 'q=1&q=2');
    assert.deepEqual(echo.queryStringParameters, { q: '1,2' });
    assert.deepEqual(echo.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(echo.headers['x-one'], 'uno');
    // As a function URL's: the caller's Host, which frameworks build the request's URL from.
    assert.equal(echo.headers.host, new URL(s.srv.url).host);
    assert.equal(echo.requestContext.domainName, new URL(s.srv.url).host);
    assert.equal(echo.requestContext.http.method, 'PUT');
    assert.equal(echo.body, 'hi there');
    assert.equal(echo.isBase64Encoded, false);

    const made = await fetch(`${s.srv.url}/t/lambda-node/web?action=http`, { method: 'POST' });
    assert.equal(made.status, 201);
    assert.equal(made.headers.get('x-kiln'), 'yes');
    assert.equal(made.headers.get('content-type'), 'text/plain');
    assert.deepEqual(made.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(await made.text(), 'made /web POST');
  });

  // Node joined the repeated lines (wrapped, with ", "): the second Cookie line's first cookie
  // stuck to the first line's last, and Content-Type kept only its first value on the way in.
  test('an HTTP trigger: a repeated header joined with commas in the event, as function URLs do, and every Cookie line in cookies', async () => {
    const fn = await s.mkFn('repeat', { image, format: 'lambda' });
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'repeat', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/repeat' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const text = await new Promise<string>((resolve, reject) => {
      const lines = ['Host', new URL(s.srv.url).host, 'X-Foo', 'a', 'Cookie', 'c1=v1; c2=v2', 'X-Foo', 'b', 'Cookie', 'c3=v3', 'Content-Type', 'text/plain', 'Content-Type', 'text/html', 'Content-Length', '2'];
      request(`${s.srv.url}/t/lambda-node/repeat`, { method: 'POST', headers: lines }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
      }).on('error', reject).end('hi');
    });
    const { echo } = JSON.parse(text) as { echo: { headers: Record<string, string>; cookies: string[] } };
    assert.equal(echo.headers['x-foo'], 'a,b');
    assert.equal(echo.headers['content-type'], 'text/plain,text/html');
    assert.deepEqual(echo.cookies, ['c1=v1', 'c2=v2', 'c3=v3']);
    assert.equal(echo.headers.cookie, undefined);
  });

  test("a function URL event's sourceIp is the caller's address, whatever X-Forwarded-For or Kiln-Source-Ip the caller sends", async () => {
    const fn = await s.mkFn('whoami', { image, format: 'lambda' });
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'whoami', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/whoami' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const spoofed = { 'x-forwarded-for': '6.6.6.6', [SOURCE_IP_HEADER]: '7.7.7.7' };
    const viaTrigger = await fromAnotherAddress(s.srv.url, 'GET', '/t/lambda-node/whoami', spoofed);
    assert.equal(viaTrigger.status, 200, JSON.stringify(viaTrigger.body));
    const { echo } = viaTrigger.body;
    assert.equal(echo.requestContext.http.sourceIp, '127.0.0.2');
    // As AWS's front end: the caller's list, then the address it came from.
    assert.equal(echo.headers['x-forwarded-for'], '6.6.6.6, 127.0.0.2');
    assert.equal(echo.headers[SOURCE_IP_HEADER], undefined);
    // /invoke passes the caller's headers as they are (as Fn's does), Fn-Intent too: the event
    // it then makes still has the caller's real address.
    const viaInvoke = await fromAnotherAddress(s.srv.url, 'POST', `/invoke/${fn.id}`, {
      ...spoofed, 'fn-intent': 'httprequest', 'fn-http-method': 'GET', 'fn-http-request-url': '/t/lambda-node/whoami',
    });
    assert.equal(viaInvoke.status, 200, JSON.stringify(viaInvoke.body));
    assert.equal(viaInvoke.body.echo.requestContext.http.sourceIp, '127.0.0.2');
  });

  test("a function error through an HTTP trigger: the caller gets a function URL's 502 Internal Server Error, never the error's message or stack; the record keeps them", async () => {
    const fn = await s.mkFn('url-error', { image, format: 'lambda' });
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'url-error', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/url-error' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const r = await fetch(`${s.srv.url}/t/lambda-node/url-error?action=error`);
    assert.equal(r.status, 502);
    assert.equal(r.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(r.headers.get('x-amz-function-error'), null);
    assert.equal(await r.text(), 'Internal Server Error');
    const [recorded] = await s.calls(fn.id);
    assert.equal(recorded!.status, 'error');
    assert.equal(recorded!.error, 'function answered 502: MyError: it failed');
    // Through /invoke, the function's own answer, as before.
    const direct = await s.invoke(fn.id, { action: 'error' });
    assert.equal(direct.status, 502);
    assert.equal(direct.headers.get('x-amz-function-error'), 'MyError');
    assert.deepEqual(direct.body, { errorMessage: 'it failed', errorType: 'MyError', stackTrace: ['at handler'] });
  });

  // The agent once read only 16 KiB of an answer's head: past that its connection to the container
  // broke, the container was dropped and the caller got the agent's own 502 a second later.
  test('a function URL result with 20 KiB of headers: 502 Internal Server Error to the caller, Function.ResponseSizeTooLarge recorded; the container stays', async () => {
    const fn = await s.mkFn('bighead', { image, format: 'lambda' });
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'bighead', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/bighead' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const warmup = await fetch(`${s.srv.url}/t/lambda-node/bighead?action=http`);
    assert.equal(warmup.status, 201, await warmup.text());
    const ids = async () => (await nodeContainers(s.docker, s.srv.nodeId)).map((c) => c.Id).sort();
    const before = await ids();

    const big = await fetch(`${s.srv.url}/t/lambda-node/bighead?action=bigheaders&bytes=20000`);
    const text = await big.text();
    assert.equal(big.status, 502, text);
    assert.equal(text, 'Internal Server Error');
    assert.equal(big.headers.get('x-amz-function-error'), null);
    const [recorded] = await s.calls(fn.id);
    assert.equal(recorded!.status, 'error');
    assert.match(recorded!.error ?? '', /^function answered 502: Function\.ResponseSizeTooLarge: .*headers/);

    // The function's error, not a broken container: the next call runs in the same one.
    const ok = await fetch(`${s.srv.url}/t/lambda-node/bighead?action=http`);
    assert.equal(ok.status, 201, await ok.text());
    assert.deepEqual(await ids(), before);
  });

  test('a call that prints megabytes keeps all of its output, none of it in the next call\'s log', async () => {
    const fn = await s.mkFn('chatty', { image, format: 'lambda', memory: 256 });
    // About 0.9 MiB, under the log's 1 MiB cap: more than the pipes and buffers on the way hold.
    const lines = 900;
    const first = await s.invoke(fn.id, { action: 'log', lines, size: 1024 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await s.invoke(fn.id, { action: 'echo', n: 2 });
    assert.equal(second.status, 200);
    const firstId = first.headers.get('fn-call-id')!;
    const secondId = second.headers.get('fn-call-id')!;
    const count = (log: string) => log.split('\n').filter((l) => l.startsWith('lll')).length;
    let log = '';
    await eventually(async () => count((log = await callLog(s, fn.id, firstId))) >= lines, 10_000, 200);
    assert.equal(count(log), lines, `the first call's log has all ${lines} lines`);
    assert.match(log, new RegExp(`last line of ${firstId}`));
    const log2 = await callLog(s, fn.id, secondId);
    assert.doesNotMatch(log2, /lll|last line of/, 'none of them in the second call\'s log');
  });

  for (const after of [false, true]) test(`a chatty runtime kept off the CPU after its answer, printing ${after ? 'after' : 'before'} it: the output it still held stays its call's`, async () => {
    const fn = await s.mkFn(`stalled-${after}`, { image, format: 'lambda', memory: 256 });
    const lines = 900;
    const first = await s.invoke(fn.id, { action: 'log', lines, size: 1024, stallMs: 1000, after });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const second = await s.invoke(fn.id, { action: 'echo', n: 2 });
    assert.equal(second.status, 200);
    const count = (log: string) => log.split('\n').filter((l) => l.startsWith('lll')).length;
    const firstId = first.headers.get('fn-call-id')!;
    let log = '';
    await eventually(async () => count((log = await callLog(s, fn.id, firstId))) >= lines, 10_000, 200);
    const log2 = await callLog(s, fn.id, second.headers.get('fn-call-id')!);
    assert.equal(count(log), lines, `the first call's log has all ${lines} lines (the second has ${count(log2)})`);
    assert.doesNotMatch(log2, /lll|last line of/, 'none of them in the second call\'s log');
  });

  test('an extension crash fails the call with Extension.Crash; the sandbox re-initialises', async () => {
    const fn = await s.mkFn('extcrash', { image, format: 'lambda', config: { OPA_CRASH_ONCE: '1' } });
    const r = await s.invoke(fn.id, { action: 'sleep', ms: 1500 });
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.errorType, 'Extension.Crash');
    assert.match(r.body.errorMessage, /Extension opa exited with error: exit status 1/);
    const again = await s.invoke(fn.id, { action: 'opa', user: 'alice' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body, { result: true, decidedBy: 'opa-extension' });
  });

  test('a telemetry subscriber receives the platform events, with a real maxMemoryUsedMB', async () => {
    const fn = await s.mkFn('tel', { image, format: 'lambda', memory: 192 });
    const first = await s.invoke(fn.id, { action: 'echo' });
    assert.equal(first.status, 200);
    const firstId = first.headers.get('fn-call-id');
    // Delivery is buffered and asynchronous (the first call's report follows its runtime's next):
    // asked again until that report is in, for up to 3 s.
    let events: { type: string; record: any }[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(300);
      const r = await s.invoke(fn.id, { action: 'telemetry' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      events = r.body as { type: string; record: any }[];
      if (events.some((e) => e.type === 'platform.report' && e.record.requestId === firstId)) break;
    }
    const types = events.map((e) => e.type);
    for (const t of ['platform.initStart', 'platform.initRuntimeDone', 'platform.initReport', 'platform.start', 'platform.runtimeDone', 'platform.report']) {
      assert.ok(types.includes(t), `${t} missing from ${types.join(', ')}`);
    }
    const report = events.find((e) => e.type === 'platform.report' && e.record.requestId === firstId);
    assert.ok(report, 'no platform.report for the first call');
    const m = report.record.metrics;
    assert.equal(m.memorySizeMB, 192);
    assert.ok(m.maxMemoryUsedMB > 5 && m.maxMemoryUsedMB < 192, `maxMemoryUsedMB ${m.maxMemoryUsedMB}`);
    assert.ok(m.durationMs > 0 && m.billedDurationMs >= Math.ceil(m.durationMs) - 1);
    assert.ok(m.initDurationMs > 0);
    assert.ok(events.some((e) => e.type === 'function' && /handling/.test(String(e.record))), 'function log lines are delivered');
  });
});

describe('behind a trusted proxy (KILN_TRUST_PROXY=loopback)', () => {
  let s: AgentSuite;
  let image: string;
  before(async () => {
    image = await lambdaFixtureImage('node-runtime');
    s = await agentSuite('lambda-proxy', { KILN_TRUST_PROXY: 'loopback' });
  });
  after(() => s.close());

  test("sourceIp is the address the proxy added: X-Forwarded-For's right-most untrusted entry", async () => {
    const fn = await s.mkFn('whoami', { image, format: 'lambda' });
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'whoami', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/whoami' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    // The caller wrote 6.6.6.6; the proxy (at 127.0.0.2, loopback) appended the address it saw.
    const r = await fromAnotherAddress(s.srv.url, 'GET', '/t/lambda-proxy/whoami', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7', [SOURCE_IP_HEADER]: '7.7.7.7' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.echo.requestContext.http.sourceIp, '203.0.113.7');
    assert.equal(r.body.echo.headers['x-forwarded-for'], '6.6.6.6, 203.0.113.7');
    assert.equal(r.body.echo.headers[SOURCE_IP_HEADER], undefined);
    // The same through the Lambda Invoke API: an Invoke makes no function URL event, whatever it sends.
    const invoked = await fromAnotherAddress(s.srv.url, 'POST', `/2015-03-31/functions/${fn.id}/invocations`, {
      'x-forwarded-for': '203.0.113.7', [SOURCE_IP_HEADER]: '7.7.7.7', 'fn-intent': 'httprequest',
    }, JSON.stringify({ n: 1 }));
    assert.equal(invoked.status, 200, JSON.stringify(invoked.body));
    assert.deepEqual(invoked.body.echo, { n: 1 });
  });

  test("a trusted proxy's X-Forwarded-Proto is the endpoint annotations' scheme (express's req.protocol)", async () => {
    const fn = await s.mkFn('annotated');
    const viaProxy = await fromAnotherAddress(s.srv.url, 'GET', `/v2/fns/${fn.id}`, { 'x-forwarded-proto': 'https' });
    assert.match(viaProxy.body.annotations['fnproject.io/fn/invokeEndpoint'], /^https:\/\/127\.0\.0\.1:\d+\/invoke\//);
    const plain = await fromAnotherAddress(s.srv.url, 'GET', `/v2/fns/${fn.id}`, {});
    assert.match(plain.body.annotations['fnproject.io/fn/invokeEndpoint'], /^http:\/\//);
  });

  test('an http-stream fn gets no caller address: its trigger passes the headers as Fn does', async () => {
    const fn = await s.mkFn('plain');
    const t = await call(s.srv.url, 'POST', '/v2/triggers', { name: 'plain', app_id: s.appId, fn_id: fn.id, type: 'http', source: '/plain' });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const r = await fromAnotherAddress(s.srv.url, 'GET', '/t/lambda-proxy/plain', { 'x-forwarded-for': '6.6.6.6', [SOURCE_IP_HEADER]: '7.7.7.7' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const seen = r.body.headers as Record<string, string>;
    assert.equal(seen['fn-http-h-x-forwarded-for'], '6.6.6.6');
    assert.deepEqual(Object.keys(seen).filter((k) => k.includes(SOURCE_IP_HEADER)), []);
  });
});

describe('a chatty Lambda call that is its container\'s last', () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('lambda-chatty', { FN_MAX_LOG_SIZE_BYTES: String(20 * 1024 * 1024) });
  });
  after(() => s.close());

  // The answer waits at most 1 s for the output to be read; 3 MB through the engine's log may
  // take longer, and the rest is the call's all the same (its offsets), stored at the retirement.
  test('keeps all of its 3 MB of output through the retirement', async () => {
    const fn = await s.mkFn('chatty-last', { image: await lambdaFixtureImage('node-runtime'), format: 'lambda', memory: 256, idle_timeout: 1 });
    const lines = 3000;
    const r = await s.invoke(fn.id, { action: 'log', lines, size: 1024 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const id = r.headers.get('fn-call-id')!;
    const retired = await eventually(async () => (await nodeContainers(s.docker, s.srv.nodeId)).every((c) => c.Labels[FN_LABEL] !== fn.id), 15_000, 200);
    assert.ok(retired, 'the container retired');
    const log = await callLog(s, fn.id, id);
    assert.equal(log.split('\n').filter((l) => l.startsWith('lll')).length, lines);
    assert.match(log, new RegExp(`last line of ${id}\\n`), 'its last line too');
  });
});
