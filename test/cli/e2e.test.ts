// The `kiln` CLI end to end: a real server, real Docker, the CLI as a subprocess. The node
// template goes init -> deploy -> invoke; a second deploy bumps the version and runs the new
// code; CRUD and config round-trip; calls and logs show the calls made; each documented
// error prints its message and exits non-zero. The Lambda templates go init -> deploy ->
// invoke -> redeploy too (their files and build contexts are tested in templates.test.ts).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli, type CliRun } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { uniqueNodeId, type TestServer } from '../helpers/server.js';
import { inspectImage } from '../../images/inspect.js';

const P = `c${process.pid}`; // names (and so image names) no other test process uses
const APP = `${P}-app`;
const HELLO = `${P}-hello`;
const client = docker();

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};

const kiln = (args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Promise<CliRun> =>
  runCli(args, { cwd: opts.cwd ?? work, env: { ...env, ...opts.env }, ...(opts.input !== undefined && { input: opts.input }) });

/** Runs the CLI and asserts exit 0; returns stdout. */
async function ok(args: string[], opts: Parameters<typeof kiln>[1] = {}): Promise<string> {
  const r = await kiln(args, opts);
  assert.equal(r.code, 0, `kiln ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Runs the CLI and asserts a non-zero exit with an error matching `re` on stderr. */
async function fails(args: string[], re: RegExp, opts: Parameters<typeof kiln>[1] = {}): Promise<CliRun> {
  const r = await kiln(args, opts);
  assert.notEqual(r.code, 0, `kiln ${args.join(' ')} should fail\nstdout: ${r.stdout}`);
  assert.match(r.stderr, re);
  return r;
}

/** A host program (the C compiler) run in `cwd`; it fails the test when it fails. */
const run = async (file: string, args: string[], cwd: string): Promise<void> => {
  await promisify(execFile)(file, args, { cwd });
};
const callsFlushed = (): Promise<void> => srv.agent.flushRecords();

cliWorld(P, (w) => ({ srv, work, env } = w));

describe('kiln with the node template', () => {
  const dir = (): string => join(work, HELLO);

  test('init -> deploy -> invoke answers as the template says', async () => {
    assert.match(await ok(['init', '--runtime', 'node', '--name', HELLO]), new RegExp(`Function ${HELLO} \\(runtime node\\) created`));
    const out = await ok(['deploy', '--app', APP, '--create-app'], { cwd: dir() });
    assert.match(out, new RegExp(`Successfully created function: ${HELLO} with ${HELLO}:0.0.2`));
    assert.match(out, new RegExp(`Trigger Endpoint: ${srv.url}/t/${APP}/${HELLO}`));
    assert.match(await readFile(join(dir(), 'func.yaml'), 'utf8'), /^version: 0.0.2$/m);

    assert.equal(await ok(['invoke', APP, HELLO]), '{"message":"Hello World"}\n');
    assert.equal(await ok(['invoke', APP, HELLO, '--content-type', 'application/json'], { input: '{"name":"Bob"}' }), '{"message":"Hello Bob"}\n');
    assert.equal(await ok(['invoke', APP, HELLO, '--body', '{"name":"Ann"}']), '{"message":"Hello Ann"}\n');
    assert.match(await ok(['invoke', APP, HELLO, '--detached']), /^Call ID: [0-9A-Z]{26}\n$/);
  });

  test('invoke --trigger sends the method, headers and body given', async () => {
    const r = await kiln(['invoke', '--trigger', APP, `/${HELLO}`, '-X', 'PUT', '-H', 'X-Test: 1', '--body', '{"name":"T"}', '-i']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"message":"Hello T"}');
    assert.match(r.stderr, /^HTTP 200$/m);
    await callsFlushed();
    // The function saw the caller's method and header through Fn's gateway protocol.
    const calls = JSON.parse(await ok(['-o', 'json', 'calls', APP, HELLO])) as Array<{ id: string; trigger_id?: string }>;
    assert.ok(calls[0]?.trigger_id, 'the newest call came through the trigger');
  });

  test('deploy again bumps the version and the next invoke runs the new code', async () => {
    const code = (await readFile(join(dir(), 'func.js'), 'utf8'))
      .replace("'Hello '", "'Howdy '")
      .replace('fdk.handle(function (input) {', "fdk.handle(function (input) {\n  if (input && input.fail) throw new Error('deliberate failure');");
    await writeFile(join(dir(), 'func.js'), code);
    const out = await ok(['deploy', '--app', APP], { cwd: dir() });
    assert.match(out, new RegExp(`Successfully updated function: ${HELLO} with ${HELLO}:0.0.3`));
    assert.match(await readFile(join(dir(), 'func.yaml'), 'utf8'), /^version: 0.0.3$/m);
    assert.equal(await ok(['inspect', 'fn', APP, HELLO, 'image']), `"${HELLO}:0.0.3"\n`);
    assert.equal(await ok(['invoke', APP, HELLO]), '{"message":"Howdy World"}\n');
  });

  test("deploy updates func.yaml's triggers: a new source, a rename; others on the fn are kept", async () => {
    const yaml = join(dir(), 'func.yaml');
    const original = await readFile(yaml, 'utf8');
    const sourced = (text: string): string => text.replace(`source: /${HELLO}`, `source: /${HELLO}-v2`);
    await writeFile(yaml, sourced(original));
    let r = await kiln(['deploy', '--app', APP, '--no-bump'], { cwd: dir() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Updated trigger ${HELLO} \\(http /${HELLO}-v2\\)`));
    assert.match(await ok(['list', 'triggers', APP, HELLO]), new RegExp(`^${HELLO}\\s+[0-9A-Z]{26}\\s+http\\s+/${HELLO}-v2\\s`, 'm'));
    assert.equal(await ok(['invoke', '--trigger', APP, `/${HELLO}-v2`]), '{"message":"Howdy World"}');

    // Renamed in func.yaml with the same source: the trigger is renamed (a create would conflict).
    await ok(['create', 'trigger', APP, HELLO, 'by-hand', '--source', `/${HELLO}-hand`]);
    await writeFile(yaml, sourced(original).replace(`- name: ${HELLO}`, '- name: renamed'));
    r = await kiln(['deploy', '--app', APP, '--no-bump'], { cwd: dir() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Updated trigger renamed \\(was ${HELLO}\\) \\(http /${HELLO}-v2\\)`));
    assert.match(r.stderr, new RegExp(`Kept trigger by-hand .*\n?.*kiln delete trigger ${APP} ${HELLO} by-hand`));
    const names = (JSON.parse(await ok(['-o', 'json', 'list', 'triggers', APP, HELLO])) as Array<{ name: string }>).map((t) => t.name).sort();
    assert.deepEqual(names, ['by-hand', 'renamed']);

    // Back as the template wrote it (a new name and source: created), for the tests below.
    await ok(['delete', 'trigger', APP, HELLO, 'by-hand']);
    await writeFile(yaml, original);
    r = await kiln(['deploy', '--app', APP, '--no-bump'], { cwd: dir() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Created trigger ${HELLO} \\(http /${HELLO}\\)`));
    assert.match(r.stderr, /Kept trigger renamed/);
    await ok(['delete', 'trigger', APP, HELLO, 'renamed']);
  });

  test('an invoke the function fails exits non-zero and shows the error', async () => {
    const r = await fails(['invoke', APP, HELLO, '--content-type', 'application/json', '--body', '{"fail":true}'],
      new RegExp(`function ${APP}/${HELLO} failed \\(HTTP 502\\): .*deliberate failure`));
    assert.match(r.stderr, new RegExp(`kiln logs ${APP} ${HELLO} [0-9A-Z]{26}`));
  });

  test('a failed call that left no log gets no `kiln logs` hint (its image is missing)', async () => {
    const name = `${P}-noimage`;
    await ok(['create', 'fn', APP, name, 'kiln-test/does-not-exist:1']);
    const r = await fails(['invoke', APP, name], new RegExp(`function ${APP}/${name} failed \\(HTTP 502\\): .*kiln-test/does-not-exist:1`));
    assert.match(r.stderr, new RegExp(`\nCall [0-9A-Z]{26}: it left no log; \`kiln calls ${APP} ${name}\` lists its calls\.\n$`));
    assert.doesNotMatch(r.stderr, /kiln logs/);
    await ok(['delete', 'fn', APP, name]);
  });

  test('calls (newest first), calls get and logs show the call just made', async () => {
    const r = await kiln(['invoke', APP, HELLO, '--body', '{"name":"Logs"}', '--display-call-id']);
    assert.equal(r.code, 0, r.stderr);
    // As fn invoke: the call id on stdout, before the body.
    const id = /^Call ID: ([0-9A-Z]{26})\n\{"message":"\w+ Logs"\}\n$/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    await callsFlushed();
    const list = await ok(['calls', APP, HELLO]);
    const rows = list.trim().split('\n');
    assert.match(rows[0]!, /^ID\s+STATUS\s+CREATED\s+DURATION/);
    assert.match(rows[1]!, new RegExp(`^${id}\\s+success\\s`), 'newest first');
    assert.match(list, /error\s.*\sfunction answered 502/, 'the failed call is listed with its error');

    const detail = await ok(['calls', 'get', APP, HELLO, id]);
    assert.match(detail, new RegExp(`^Call: +${id}$`, 'm'));
    assert.match(detail, /^Status: +success$/m);
    assert.match(detail, /^Completed: .*\(ran \d+ ms\)$/m);
    assert.match(await ok(['logs', APP, HELLO, id]), /called for Logs/);
    // fn's spellings of the same
    assert.match((await ok(['list', 'calls', APP, HELLO, '-n', '1'])).trim().split('\n')[1]!, new RegExp(`^${id}\\s+success\\s`));
    assert.match(await ok(['get', 'call', APP, HELLO, id]), new RegExp(`^Call: +${id}$`, 'm'));
    assert.match(await ok(['get', 'logs', APP, HELLO, id]), /called for Logs/);
    const json = JSON.parse(await ok(['-o', 'json', 'logs', APP, HELLO, id])) as { call_id: string; log: string };
    assert.equal(json.call_id, id);
    await fails(['calls', APP, HELLO, '-n', '0'], /-n must be 1 to 100, not 0/);
    await fails(['logs', APP, HELLO, '01ARZ3NDEKTSV4RRFFQ69G5FAV'], new RegExp(`Call not found \\(HTTP 404\\)\n\`kiln calls ${APP} ${HELLO}\` lists`));
    await fails(['get', 'call', APP, HELLO, '01ARZ3NDEKTSV4RRFFQ69G5FAV'], /Call not found \(HTTP 404\)\n.*kiln calls/);
  });

  test('calls get charts the CPU and memory of a call long enough to be sampled', async () => {
    const spin = `${P}-spin`;
    await ok(['init', '--runtime', 'node', '--name', spin]);
    await writeFile(
      join(work, spin, 'func.js'),
      "const fdk = require('@fnproject/fdk');\nfdk.handle(() => { const end = Date.now() + 3000; let n = 0; while (Date.now() < end) n++; return { n: n > 0 }; });\n",
    );
    await ok(['deploy', '--app', APP], { cwd: join(work, spin) });
    const r = await kiln(['invoke', APP, spin, '--display-call-id']);
    assert.equal(r.code, 0, r.stderr);
    const id = /Call ID: (\S+)/.exec(r.stdout)![1]!;
    await callsFlushed();
    const detail = await ok(['calls', 'get', APP, spin, id]);
    assert.match(detail, /^cpu {2}[▁▂▃▄▅▆▇█]+ {2}peak \d+%, avg \d+% of one CPU$/m, detail);
    assert.match(detail, /^mem {2}[▁▂▃▄▅▆▇█]+ {2}peak [\d.]+ (KiB|MiB) of 128 MiB$/m, detail);
  });
});

describe('the Lambda templates', () => {
  test('lambda-node: init -> deploy -> invoke answers as the template says; a redeploy runs the new code', async () => {
    const name = `${P}-lnode`;
    const dir = join(work, name);
    await ok(['init', '--runtime', 'lambda-node', '--name', name]);
    assert.match(await ok(['build'], { cwd: dir }), new RegExp(`built successfully: ${name}:0.0.1`));
    const info = await inspectImage(client, `${name}:0.0.1`);
    assert.equal(info?.Config.WorkingDir, '/var/task');
    assert.deepEqual(info?.Config.Cmd, ['/var/task/bootstrap']);
    await ok(['deploy', '--app', APP, '--create-app'], { cwd: dir });
    assert.equal(await ok(['inspect', 'fn', APP, name, 'format']), '"lambda"\n');
    assert.equal(await ok(['invoke', APP, name]), '{"message":"Hello World"}\n');
    const r = await kiln(['invoke', APP, name, '--body', '{"name":"Lambda"}', '--display-call-id']);
    assert.equal(r.code, 0, r.stderr);
    const id = /^Call ID: ([0-9A-Z]{26})\n\{"message":"Hello Lambda"\}\n$/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    await callsFlushed();
    const log = await ok(['logs', APP, name, id]);
    assert.match(log, new RegExp(`START RequestId: ${id}`));
    assert.match(log, new RegExp(`request ${id} for Lambda`));
    assert.match(log, new RegExp(`REPORT RequestId: ${id}`));

    await writeFile(join(dir, 'index.mjs'), (await readFile(join(dir, 'index.mjs'), 'utf8')).replace('`Hello ', '`Howdy '));
    assert.match(await ok(['deploy', '--app', APP], { cwd: dir }), new RegExp(`Successfully updated function: ${name} with ${name}:0.0.3`));
    assert.equal(await ok(['invoke', APP, name]), '{"message":"Howdy World"}\n');
  });

  test("lambda-node: a handler's error (502, X-Amz-Function-Error) is shown with its type and stack, exit non-zero", async () => {
    const name = `${P}-lnode`;
    const dir = join(work, name);
    const handler = (await readFile(join(dir, 'index.mjs'), 'utf8')).replace(
      "const name = (event && typeof event === 'object' && event.name) || 'World';",
      // A trigger sends a function URL event: a body sent without a text Content-Type is base64 there.
      "const input = event && typeof event.body === 'string' ? JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body) : event;\n" +
        "  if (input && input.fail) throw Object.assign(new Error('the handler gave up'), { name: 'KilnTestError' });\n  const name = (event && typeof event === 'object' && event.name) || 'World';",
    );
    assert.match(handler, /KilnTestError/);
    await writeFile(join(dir, 'index.mjs'), handler);
    await ok(['deploy', '--app', APP], { cwd: dir }); // a new tag: hot containers of the old one are not reused
    const r = await fails(['invoke', APP, name, '--body', '{"fail":true}'], new RegExp(`function ${APP}/${name} failed \\(HTTP 502\\): KilnTestError: the handler gave up\n`));
    assert.match(r.stderr, /^ {4}at handler \(file:\/\/\/var\/task\/index\.mjs:\d+:\d+\)$/m, 'the stack, indented');
    assert.match(r.stderr, new RegExp(`kiln logs ${APP} ${name} [0-9A-Z]{26}`));
    assert.equal(r.stdout, '', 'the error body is not printed as an answer');
    // Through an HTTP trigger, whose caller may be anyone: a function URL's answer, never the
    // error's message or stack (the call's log and record keep them, and the CLI says where).
    const t = await fails(['invoke', '--trigger', APP, `/${name}`, '--body', '{"fail":true}'], new RegExp(`POST /t/${APP}/${name} answered HTTP 502: Internal Server Error\n`));
    assert.match(t.stderr, new RegExp(`kiln logs ${APP} FN [0-9A-Z]{26}`));
    assert.doesNotMatch(t.stdout + t.stderr, /KilnTestError|the handler gave up/);
    assert.equal(await ok(['invoke', APP, name, '--body', '{"name":"again"}']), '{"message":"Howdy again"}\n');
  });

  // Lambda code as AWS's Node runtime runs it, in one fn whose _HANDLER each test sets.
  const model = `${P}-lmodel`;
  const asHandler = (h: string): Promise<string> => ok(['config', 'fn', APP, model, 'set', '_HANDLER', h]);

  test("lambda-node: a callback handler's answer goes once its event loop is empty; the context has the log group and stream, clientContext and identity", async () => {
    const dir = join(work, model);
    await ok(['init', '--runtime', 'lambda-node', '--name', model]);
    await writeFile(join(dir, 'callback.js'), `exports.handler = (event, context, callback) => {
  const answer = { waited: false, logGroupName: context.logGroupName, logStreamName: context.logStreamName, clientContext: context.clientContext, identity: context.identity };
  setTimeout(() => { answer.waited = true; }, 50);
  callback(null, answer);
};
`);
    await writeFile(join(dir, 'logs.mjs'), "export const handler = async () => {\n  console.warn('a warning');\n  return 'ok';\n};\n");
    await writeFile(join(dir, 'stream.mjs'), `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'x-kiln': 'streamed', 'content-type': 'text/plain' } });
  stream.write('part 1\\n');
  await new Promise((r) => setTimeout(r, 20));
  stream.end('path ' + event.rawPath + '\\n');
});
`);
    await ok(['deploy', '--app', APP, '--create-app'], { cwd: dir });
    await asHandler('callback.handler');
    const clientContext = { custom: { k: 'v' } };
    const identity = { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' };
    const invoked = await fetch(`${srv.url}/2015-03-31/functions/${model}/invocations`, {
      method: 'POST', body: '{}',
      headers: { 'X-Amz-Client-Context': Buffer.from(JSON.stringify(clientContext)).toString('base64'), 'X-Amz-Cognito-Identity': JSON.stringify(identity) },
    });
    const answer = await invoked.text();
    assert.equal(invoked.status, 200, answer);
    const got = JSON.parse(answer) as { logStreamName: string };
    assert.match(got.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/, "the container's own stream, as the service names it");
    assert.deepEqual(got, { waited: true, logGroupName: `/aws/lambda/${model}`, logStreamName: got.logStreamName, clientContext, identity });
  });

  test("lambda-node: console writes Lambda's log lines, text (time, request id, level, message) or JSON (AWS_LAMBDA_LOG_FORMAT)", async () => {
    const logOf = async (): Promise<{ id: string; log: string }> => {
      const r = await kiln(['invoke', APP, model, '--display-call-id']);
      const id = /Call ID: ([0-9A-Z]{26})/.exec(r.stdout)?.[1];
      assert.ok(id, r.stdout + r.stderr);
      await callsFlushed();
      return { id, log: await ok(['logs', APP, model, id]) };
    };
    await asHandler('logs.handler');
    const text = await logOf();
    assert.match(text.log, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${text.id}\\tWARN\\ta warning$`, 'm'), text.log);
    await ok(['config', 'fn', APP, model, 'set', 'AWS_LAMBDA_LOG_FORMAT', 'JSON']);
    try {
      const json = await logOf();
      const records = json.log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(records.filter((r) => r.level === 'WARN').map((r) => [r.requestId, r.message]), [[json.id, 'a warning']], json.log);
    } finally {
      await ok(['config', 'fn', APP, model, 'unset', 'AWS_LAMBDA_LOG_FORMAT']);
    }
  });

  test('lambda-node: a streamified handler answers a trigger with HttpResponseStream (status, headers, then the body as it streams)', async () => {
    await asHandler('stream.handler');
    const res = await fetch(`${srv.url}/t/${APP}/${model}`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-kiln'), 'streamed');
    assert.equal(await res.text(), `part 1\npath /${model}\n`);
  });

  /** POST /invoke/<the model fn's id> with `body`: the status, X-Amz-Function-Error, the answer's JSON and the call's record. */
  const invokeModel = async (body: string): Promise<{ status: number; fnError: string | null; answer: Record<string, unknown>; error: string | undefined }> => {
    const id = JSON.parse(await ok(['inspect', 'fn', APP, model, 'id'])) as string;
    const r = await fetch(`${srv.url}/invoke/${id}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const answer = JSON.parse(await r.text()) as Record<string, unknown>;
    await callsFlushed();
    const callId = r.headers.get('fn-call-id');
    const calls = JSON.parse(await ok(['-o', 'json', 'calls', APP, model])) as Array<{ id: string; error?: string }>;
    return { status: r.status, fnError: r.headers.get('x-amz-function-error'), answer, error: calls.find((c) => c.id === callId)?.error };
  };

  test("lambda-node: _HANDLER's forms (a folder, nested exports) load; one that cannot be loaded answers 502 with the runtime's init error, typed and worded as AWS's client", async () => {
    const dir = join(work, model);
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'src', 'app.js'), "exports.a = { b: { handler: async () => ({ from: 'src/app.a.b.handler' }) } };\n");
    await writeFile(join(dir, 'broken.js'), 'exports.handler = (;\n');
    await ok(['deploy', '--app', APP], { cwd: dir });
    await asHandler('src/app.a.b.handler');
    assert.deepEqual((await invokeModel('{}')).answer, { from: 'src/app.a.b.handler' });
    await asHandler('broken.handler');
    const bad = await invokeModel('{}');
    assert.equal(bad.status, 502);
    assert.equal(bad.answer.errorType, 'Runtime.UserCodeSyntaxError');
    assert.match(String(bad.answer.errorMessage), /^SyntaxError: Unexpected token/);
    assert.match(bad.error ?? '', /^function answered 502: Runtime\.UserCodeSyntaxError: SyntaxError: Unexpected token/);
    await asHandler('index.nope');
    const missing = await invokeModel('{}');
    assert.deepEqual([missing.status, missing.answer.errorType, missing.answer.errorMessage], [502, 'Runtime.HandlerNotFound', 'index.nope is undefined or not exported']);
    assert.equal(missing.error, 'function answered 502: Runtime.HandlerNotFound: index.nope is undefined or not exported');
  });

  test("lambda-node: an uncaught exception or unhandled rejection during a call answers that call with its error (not Runtime.ExitError); the next call works", async () => {
    const dir = join(work, model);
    await writeFile(join(dir, 'crash.js'), `exports.handler = async (event) => {
  if (event.kind === 'throw') setTimeout(() => { throw new TypeError('thrown later'); }, 10);
  if (event.kind === 'reject') Promise.reject(new Error('nobody caught me'));
  if (event.kind === 'ok') return { ok: true };
  await new Promise((r) => setTimeout(r, 5000));
  return 'too late';
};
`);
    await ok(['deploy', '--app', APP], { cwd: dir });
    await asHandler('crash.handler');
    const thrown = await invokeModel('{"kind":"throw"}');
    assert.deepEqual([thrown.status, thrown.fnError, thrown.answer.errorType, thrown.answer.errorMessage], [502, 'TypeError', 'TypeError', 'thrown later'], JSON.stringify(thrown));
    assert.equal((thrown.answer.trace as string[])[0], 'TypeError: thrown later');
    assert.equal(thrown.error, 'function answered 502: TypeError: thrown later');
    assert.deepEqual((await invokeModel('{"kind":"ok"}')).answer, { ok: true }, 'the runtime was started afresh');
    const rejected = await invokeModel('{"kind":"reject"}');
    assert.deepEqual([rejected.status, rejected.answer.errorType, rejected.answer.errorMessage], [502, 'Runtime.UnhandledPromiseRejection', 'Error: nobody caught me'], JSON.stringify(rejected));
    assert.equal(rejected.error, 'function answered 502: Runtime.UnhandledPromiseRejection: Error: nobody caught me');
    assert.deepEqual((await invokeModel('{"kind":"ok"}')).answer, { ok: true });
  });

  test('lambda-shell: init -> deploy -> invoke answers as the template says; a redeploy runs the new code', async () => {
    const name = `${P}-lshell`;
    const dir = join(work, name);
    await ok(['init', '--runtime', 'lambda-shell', '--name', name]);
    // --registry (as fn's) prefixes the image name, over FN_REGISTRY and the context's
    assert.match(await ok(['build', '--registry', `${P}-reg`, name], { env: { FN_REGISTRY: 'not-this' } }), new RegExp(`built successfully: ${P}-reg/${name}:0.0.1`));
    assert.ok(await inspectImage(client, `${P}-reg/${name}:0.0.1`));
    await ok(['deploy', '--app', APP, '--create-app'], { cwd: dir });
    assert.equal((await inspectImage(client, `${name}:0.0.2`))?.Config.WorkingDir, '/var/task');
    assert.equal(await ok(['invoke', APP, name, '--body', '{"a":1}']), '{"message":"Hello from bash","length":7}\n');
    const r = await kiln(['invoke', APP, name, '--body', 'abc', '--display-call-id']);
    const id = /Call ID: ([0-9A-Z]{26})/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    await callsFlushed();
    assert.match(await ok(['logs', APP, name, id]), /event of 3 bytes/);

    await writeFile(join(dir, 'function.sh'), (await readFile(join(dir, 'function.sh'), 'utf8')).replace('Hello from bash', 'Howdy from bash'));
    await ok(['deploy', '--app', APP], { cwd: dir });
    assert.equal(await ok(['invoke', APP, name, '--body', '{}']), '{"message":"Howdy from bash","length":2}\n');
  });

  test("lambda-shell: a program and the library it links from lib/ run as on Lambda (PATH, LD_LIBRARY_PATH)", async () => {
    const name = `${P}-llib`;
    const dir = join(work, name);
    await ok(['init', '--runtime', 'lambda-shell', '--name', name]);
    // A real shared library in lib/ and a program linked to it without an rpath: only the
    // library path Lambda sets (it has /var/task/lib) lets the loader find it.
    await mkdir(join(dir, 'lib'));
    await writeFile(join(dir, 'greet.c'), 'const char *greeting(void) { return "hi from libgreet"; }\n');
    await writeFile(join(dir, 'main.c'), '#include <stdio.h>\nconst char *greeting(void);\nint main(void) { puts(greeting()); return 0; }\n');
    await run('cc', ['-shared', '-fPIC', '-o', 'lib/libgreet.so', 'greet.c'], dir);
    await run('cc', ['-o', 'greet', 'main.c', '-Llib', '-lgreet'], dir);
    await writeFile(join(dir, 'function.sh'), 'handler () {\n  printf \'%s|%s|%s\' "$(./greet)" "$PATH" "$LD_LIBRARY_PATH"\n}\n');
    await ok(['deploy', '--app', APP, '--create-app'], { cwd: dir });
    assert.deepEqual((await ok(['invoke', APP, name])).replace(/\n$/, '').split('|'), [
      'hi from libgreet',
      '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    ]);
    // The service lets a function's own settings override both.
    await ok(['config', 'fn', APP, name, 'set', 'LD_LIBRARY_PATH', '/var/task/lib']);
    const [greeting, , libraryPath] = (await ok(['invoke', APP, name])).replace(/\n$/, '').split('|');
    assert.deepEqual([greeting, libraryPath], ['hi from libgreet', '/var/task/lib']);
  });
});

describe('deploy --all', () => {
  test("deploys every function under the app's directory (app.yaml names the app), at any depth", async () => {
    const root = join(work, 'many');
    await mkdir(root);
    for (const [n, d] of [['a', 'a'], ['b', 'group/b']]) await ok(['init', '--runtime', 'node', '--name', `${P}-${n}`, join('many', d!)]);
    await writeFile(join(root, 'app.yaml'), `name: ${P}-many\n`);
    const out = await ok(['deploy', '--all', '--create-app'], { cwd: root });
    assert.match(out, new RegExp(`created function: ${P}-a with ${P}-a:0.0.2[^]*created function: ${P}-b with ${P}-b:0.0.2`));
    assert.equal(await ok(['invoke', `${P}-many`, `${P}-b`]), '{"message":"Hello World"}\n');

    // A broken one is named before any is deployed: every function's checks run first.
    await mkdir(join(root, 'z'));
    await writeFile(join(root, 'z', 'func.yaml'), 'name: z\nruntime: cobol\n');
    const r0 = await fails(['deploy', '--all', '-w', root], /^Error: deploy --all: z: bad func\.yaml: runtime "cobol" is not supported.*\n(.*\n)*Nothing was changed\.$/m);
    assert.doesNotMatch(r0.stderr, /Building image/);
    // One that fails only as it builds is named; the ones before it are deployed (here: updated, with -w).
    await writeFile(join(root, 'z', 'func.yaml'), `name: ${P}-z\nruntime: node\nentrypoint: node func.js\nbuild:\n  - exit 3\n`);
    const r = await fails(['deploy', '--all', '-w', root], /^Error: deploying z: build step 1\/1 failed: .*\n(.*\n)*The 2 before it were deployed\.$/m);
    assert.match(r.stdout, new RegExp(`updated function: ${P}-b with ${P}-b:0.0.3`));
    await ok(['delete', 'app', `${P}-many`]);
  });
});

describe('kiln start and kiln version', () => {
  test('start runs the server in the foreground until SIGTERM; version asks it', async () => {
    const dir = join(work, 'start');
    await mkdir(dir);
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../cli/main.js', import.meta.url)), 'start', '--port', '0'], {
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FN_HOST: '127.0.0.1', FN_LOG_LEVEL: 'info',
        FN_DB_URL: `sqlite3://${join(dir, 'fn.db')}`, FN_IOFS_PATH: join(dir, 'iofs'), KILN_NODE_ID: uniqueNodeId(),
        KILN_DOCKER_PULL: 'false', KILN_CONFIG_DIR: join(dir, 'config'),
        // The CLI's own settings stay with the CLI; an Fn setting Kiln does not read is named.
        FN_REGISTRY: 'registry.example/me', FN_TOKEN: 'a-token-of-20-chars-', FN_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit');
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /kiln listening on (http:\/\/\S+?)"/.exec(out);
          if (m?.[1]) {
            clearInterval(timer);
            resolve(m[1]);
          } else if (child.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`kiln start exited: ${out}`));
          }
        }, 50);
      });
      const v = await ok(['version'], { env: { FN_API_URL: url } });
      assert.match(v, /^Client version: \d+\.\d+\.\d+\nServer version: \d+\.\d+\.\d+\n$/);
      assert.match(out, /"settings":\["FN_LOG_FORMAT"\]/, 'the server warns of FN_LOG_FORMAT alone');
    } finally {
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, out);
    }
  });

  test("--version (first, or after fn's global flags) prints the CLI's version; init's --version is func.yaml's, as fn init", async () => {
    assert.match(await ok(['--version']), /^\d+\.\d+\.\d+\n$/);
    // As fn's main.go, which takes --version among its global flags (the context is not read).
    for (const args of [['--context', 'b', '--version'], ['-v', '--version'], ['-o', 'json', '--version'], ['--registry=r', '-ojson', '--version']]) {
      assert.match(await ok(args), /^\d+\.\d+\.\d+\n$/, args.join(' '));
    }
    await ok(['init', '--runtime', 'node', '--name', `${P}-opts`, '--version', '2.0.0', '-m', '256', '-c', 'A=b', '-w', join(work, 'opts-parent')], { cwd: tmpdir() });
    const f = await readFile(join(work, 'opts-parent', `${P}-opts`, 'func.yaml'), 'utf8');
    assert.match(f, /^version: 2\.0\.0$/m);
    assert.match(f, /^memory: 256$/m);
    assert.match(f, /^config:\n {2}A: b$/m);
  });

  test('version says when the server is not reachable, and still answers', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    assert.match(await ok(['version'], { env: { FN_API_URL: url } }), /Server version: \? \(Kiln server not reachable at/);
  });
});

describe('create, list, inspect, update, config and delete round-trip', () => {
  const app = `${P}-crud`;

  test('apps, fns, triggers and their config', async () => {
    assert.match(await ok(['create', 'app', app, '--config', 'A=1']), new RegExp(`Successfully created app: ${app}`));
    assert.match(await ok(['list', 'apps']), new RegExp(`^${app}\\s+[0-9A-Z]{26}$`, 'm'));
    await ok(['create', 'fn', app, 'f1', `${HELLO}:0.0.3`, '--memory', '256']);
    assert.equal(await ok(['inspect', 'fn', app, 'f1', 'memory']), '256\n');
    const fns = JSON.parse(await ok(['-o', 'json', 'list', 'fns', app])) as Array<{ name: string; image: string; format: string }>;
    assert.deepEqual(fns.map((f) => [f.name, f.image, f.format]), [['f1', `${HELLO}:0.0.3`, 'http-stream']]);
    await ok(['update', 'fn', app, 'f1', '--timeout', '60']);
    assert.equal(await ok(['inspect', 'fn', app, 'f1', 'timeout']), '60\n');

    assert.match(await ok(['create', 'trigger', app, 'f1', 't1', '--source', '/t1']), new RegExp(`Trigger Endpoint: ${srv.url}/t/${app}/t1`));
    assert.match(await ok(['list', 'triggers', app]), /^FUNCTION\s+NAME\s+ID\s+TYPE\s+SOURCE\s+ENDPOINT\n(.*\n)*f1\s+t1\s+[0-9A-Z]{26}\s+http\s+\/t1\s/);
    assert.equal(await ok(['invoke', '--trigger', app, '/t1']), '{"message":"Howdy World"}');
    await ok(['update', 'trigger', app, 'f1', 't1', '--source', '/t2']);
    assert.equal(await ok(['inspect', 'trigger', app, 'f1', 't1', 'source']), '"/t2"\n');

    assert.equal(await ok(['config', 'app', app, 'get', 'A']), '1\n');
    await ok(['config', 'app', app, 'set', 'B', 'two words']);
    assert.match(await ok(['config', 'app', app, 'list']), /^A\s+1\nB\s+two words\n$/m);
    await ok(['config', 'app', app, 'unset', 'A']);
    assert.deepEqual(JSON.parse(await ok(['-o', 'json', 'config', 'app', app, 'list'])), { B: 'two words' });
    await ok(['config', 'fn', app, 'f1', 'set', 'X', 'y']);
    assert.equal(await ok(['config', 'fn', app, 'f1', 'get', 'X']), 'y\n');
    await fails(['config', 'fn', app, 'f1', 'get', 'NOPE'], /no config key "NOPE" on fn/);
    await fails(['config', 'app', app, 'frob'], /unknown config action "frob"/);
    assert.equal(JSON.parse(await ok(['inspect', 'app', app])).config.B, 'two words');
    // fn's spellings: `config app APP KEY VALUE`, `get|list|unset config ...`
    await ok(['config', 'app', app, 'C', 'three']);
    assert.equal(await ok(['get', 'config', 'app', app, 'C']), 'three\n');
    assert.deepEqual(JSON.parse(await ok(['-o', 'json', 'list', 'config', 'app', app])), { B: 'two words', C: 'three' });
    await ok(['unset', 'config', 'app', app, 'C']);
    assert.deepEqual(JSON.parse(await ok(['-o', 'json', 'list', 'config', 'fn', app, 'f1'])), { X: 'y' });

    // The method, headers and body given reach the function through the trigger, and so does
    // the configuration (the tester fixture echoes them, and the env vars named in ECHO_ENV).
    await ok(['create', 'fn', app, 'echo', await fixtureImage('tester'), '--config', 'ECHO_ENV=B,X']);
    await ok(['create', 'trigger', app, 'echo', 'echo', '--source', '/echo']);
    const echo = JSON.parse(
      await ok(['invoke', '--trigger', app, '/echo', '-X', 'PUT', '-H', 'X-Test: yes', '--content-type', 'text/x-kiln', '--body', 'abc']),
    ) as { headers: Record<string, string>; body: string; env: Record<string, string> };
    assert.equal(echo.headers['fn-http-method'], 'PUT');
    assert.equal(echo.headers['fn-http-h-x-test'], 'yes');
    assert.equal(echo.headers['fn-http-h-content-type'], 'text/x-kiln');
    assert.equal(echo.body, 'abc');
    assert.equal(echo.env.B, 'two words', "the app's config is the function's environment");
    await ok(['config', 'fn', app, 'echo', 'set', 'B', 'fn wins']);
    const viaInvoke = JSON.parse(await ok(['invoke', app, 'echo', '--body', 'x'])) as { env: Record<string, string> };
    assert.equal(viaInvoke.env.B, 'fn wins');

    // As `fn invoke`: in the fn's directory, func.yaml's content_type is the default.
    const echoDir = join(work, 'echo-dir');
    await mkdir(echoDir);
    await writeFile(join(echoDir, 'func.yaml'), 'name: echo\ncontent_type: application/x-kiln\n');
    const contentType = async (cwd: string, extra: string[] = []): Promise<string | undefined> =>
      (JSON.parse(await ok(['invoke', app, 'echo', '--body', 'x', ...extra], { cwd })) as { headers: Record<string, string> }).headers['content-type'];
    assert.equal(await contentType(echoDir), 'application/x-kiln');
    assert.equal(await contentType(echoDir, ['--content-type', 'text/x-given']), 'text/x-given');
    assert.equal(await contentType(work), 'text/plain');
    await fails(['invoke', '--trigger', app, '/echo', '--detached'], /--detached goes with `kiln invoke APP FN`/);

    assert.match(await ok(['delete', 'trigger', app, 'f1', 't1']), /Successfully deleted trigger: t1/);
    assert.doesNotMatch(await ok(['list', 'triggers', app]), /t1/);
    await ok(['delete', 'fn', app, 'f1']);
    const left = JSON.parse(await ok(['-o', 'json', 'list', 'fns', app])) as Array<{ name: string }>;
    assert.deepEqual(left.map((f) => f.name), ['echo']);
    await ok(['delete', 'app', app]);
    assert.doesNotMatch(await ok(['list', 'apps']), new RegExp(app));
    await fails(['inspect', 'app', app], new RegExp(`app "${app}" not found`));
  });
});

describe('contexts', () => {
  test('create, use and show; FN_API_URL overrides the context', async () => {
    const cfg = { KILN_CONFIG_DIR: join(work, 'ctx-config') };
    const noUrl = { ...cfg, FN_API_URL: '' };
    await ok(['context', 'create', 'local', '--api-url', srv.url], { env: noUrl });
    await ok(['context', 'use', 'local'], { env: noUrl });
    assert.match(await ok(['context', 'list'], { env: noUrl }), /^\*\s+local\s+http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(await ok(['context', 'show'], { env: noUrl }), new RegExp(`API URL: ${srv.url} \\(from context "local"\\)`));
    assert.match(await ok(['list', 'apps'], { env: noUrl }), new RegExp(APP), 'the context finds the server');
    assert.match(await ok(['context', 'show'], { env: { ...cfg, FN_API_URL: 'http://127.0.0.1:1234' } }), /API URL: http:\/\/127\.0\.0\.1:1234 \(from FN_API_URL\)/);
    assert.match(await readFile(join(work, 'ctx-config', 'contexts', 'local.yaml'), 'utf8'), /api-url: http/);
    await fails(['context', 'use', 'nope'], /context "nope" not found/, { env: noUrl });
    // fn's spellings, and JSON for scripts
    assert.deepEqual(JSON.parse(await ok(['-o', 'json', 'create', 'context', 'other', '--api-url', 'http://127.0.0.1:1'], { env: noUrl })), {
      name: 'other', provider: 'default', 'api-url': 'http://127.0.0.1:1', token: '', registry: '',
    });
    await ok(['update', 'context', 'registry', 'me'], { env: noUrl });
    assert.equal(JSON.parse(await ok(['inspect', 'context', 'local'], { env: noUrl })).registry, 'me');
    assert.deepEqual(JSON.parse(await ok(['-o', 'json', 'use', 'context', 'other'], { env: noUrl })), { current: 'other' });
    assert.match(await ok(['list', 'contexts'], { env: noUrl }), /^\*\s+other\s/m);
    await ok(['use', 'context', 'local'], { env: noUrl });
    // No name: the current context, as JSON too.
    assert.deepEqual(JSON.parse(await ok(['inspect', 'context'], { env: noUrl })), { name: 'local', provider: 'default', 'api-url': srv.url, token: '', registry: 'me' });
    assert.deepEqual(JSON.parse(await ok(['-o', 'json', 'delete', 'context', 'other'], { env: noUrl })), { deleted: 'other' });
    const init = JSON.parse(await ok(['-o', 'json', 'init', '--runtime', 'lambda-shell', '--name', `${P}-json`])) as { name: string; files: string[] };
    assert.deepEqual([init.name, init.files], [`${P}-json`, ['bootstrap', 'func.yaml', 'function.sh']]);
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe('errors say what failed and what to do, and exit non-zero', () => {
  test('server not reachable names the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await fails(['list', 'apps'], new RegExp(`Kiln server not reachable at ${url}: ECONNREFUSED`), { env: { FN_API_URL: url } });
    assert.match(r.stderr, /kiln start/);
  });

  test('app not found, fn not found, trigger not found', async () => {
    await fails(['invoke', `${P}-nope`, HELLO], new RegExp(`app "${P}-nope" not found.*\\n.*kiln create app ${P}-nope`));
    await fails(['invoke', APP, 'nope'], new RegExp(`function "nope" not found in app "${APP}"`));
    await fails(['invoke', '--trigger', APP, '/nope'], /no HTTP trigger at \/t\/.*\/nope/);
    await fails(['deploy', '--app', `${P}-nope`], /app ".*-nope" not found.*\n.*--create-app/, { cwd: join(work, HELLO) });
  });

  test('bad func.yaml', async () => {
    const bad = join(work, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'func.yaml'), 'name: [x\n');
    await fails(['build'], /bad func\.yaml: .*func\.yaml is not valid YAML \(line 2, column 1\)/, { cwd: bad });
    await writeFile(join(bad, 'func.yaml'), 'name: x\nruntime: cobol\n');
    await fails(['deploy', '--app', APP], /runtime "cobol" is not supported/, { cwd: bad });
    await writeFile(join(bad, 'func.yaml'), 'name: x\nruntime: node\nentrypoint: node func.js\ntriggers:\n- name: t\n');
    await fails(['deploy', '--app', APP], /bad func\.yaml: .*triggers\[0\] needs a name and a source/, { cwd: bad });
    await fails(['build'], /no func\.yaml in .*\nRun this in a function directory/, { cwd: work });
    await fails(['deploy', '--all', '--app', APP, 'no-such-dir'], /no directory .*no-such-dir\n.*kiln init/);
    await fails(['init', '--runtime', 'cobol'], /unknown runtime "cobol"/);
  });

  test("a func.yaml number outside the server's range is refused before the build and the version bump", async () => {
    const name = `${P}-range`;
    await ok(['init', '--runtime', 'node', '--name', name]);
    const file = join(work, name, 'func.yaml');
    await writeFile(file, `${await readFile(file, 'utf8')}timeout: 900\n`);
    const r = await fails(['deploy', '--app', APP], /func\.yaml: timeout 900 is out of range: it must be 1 to 300 seconds \(0 counts as not given; the default is 30\)/, { cwd: join(work, name) });
    assert.doesNotMatch(r.stderr, /Deploying|Built|HTTP 400|kiln help/);
    assert.match(await readFile(file, 'utf8'), /^version: 0\.0\.1$/m, 'the version stays');
    assert.equal(await inspectImage(client, `${name}:0.0.2`), null, 'nothing was built');
    await fails(['inspect', 'fn', APP, name], new RegExp(`function "${name}" not found`));
  });

  test('init --runtime docker says how to make a docker function', async () => {
    const r = await fails(['init', '--runtime', 'docker', `${P}-dock`], /kiln init has no template for runtime docker/);
    assert.match(r.stderr, /write a func\.yaml with `runtime: docker` and a Dockerfile in the directory/);
    assert.doesNotMatch(r.stderr, /unknown runtime/);
  });

  test('Docker engine not reachable (DOCKER_HOST)', async () => {
    await fails(['build'], /Docker engine not reachable at unix:\/\/\/tmp\/nonexistent\.sock.*\n.*DOCKER_HOST/, {
      cwd: join(work, HELLO),
      env: { DOCKER_HOST: 'unix:///tmp/nonexistent.sock' },
    });
  });

  test('an image build that fails names the step and shows its output; the version stays', async () => {
    const df = join(work, `${P}-broken`);
    await mkdir(df);
    await writeFile(join(df, 'func.yaml'), `schema_version: 20180708\nname: ${P}-broken\nversion: 0.0.1\nruntime: docker\n`);
    await writeFile(join(df, 'Dockerfile'), 'FROM kiln/node:latest\nRUN ["node", "-e", "console.log(\'boom here\'); process.exit(3)"]\n');
    const r = await fails(['deploy', '--app', APP], /image build failed at step 2\/3 \(RUN \["node", "-e", .*\): The command .* returned a non-zero code: 3/, { cwd: df });
    assert.match(r.stderr, /Build output \(last lines\):\n(.*\n)*\s+boom here/);
    assert.match(await readFile(join(df, 'func.yaml'), 'utf8'), /^version: 0.0.1$/m);
  });

  test('bad options', async () => {
    await fails(['-o', 'xml', 'list', 'apps'], /--output must be "table" or "json"/);
    await fails(['create', 'fn', APP, 'x', 'img', '--memory', 'lots'], /--memory must be a whole number/);
    // Out of the server's range: refused by the CLI with the range, before any request; nothing written.
    await fails(['create', 'fn', APP, 'x', 'img', '--memory', '99999'], /--memory 99999 is out of range: it must be 1 to 8192 MB/);
    await fails(['update', 'fn', APP, HELLO, '--idle-timeout', '3601'], /--idle-timeout 3601 is out of range: it must be 1 to 3600 seconds/);
    await fails(['init', '--runtime', 'node', '--timeout', '301', `${P}-toolong`], /--timeout 301 is out of range: it must be 1 to 300 seconds/);
    await assert.rejects(readFile(join(work, `${P}-toolong`, 'func.yaml')), { code: 'ENOENT' });
    // What the server refuses otherwise is its 400, with the hint to check the values.
    await fails(['create', 'fn', APP, 'x', 'img', '--format', 'cobol'], /creating function "x": Invalid format on Fn: "cobol".*\(HTTP 400\)\nCheck the values given/);
    await fails(['create', 'app', APP], new RegExp(`creating app "${APP}": .*\\(HTTP 409\\)\nThe name is taken`));
  });
});
