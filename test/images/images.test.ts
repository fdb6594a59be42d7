// images/ against a real Docker engine: the imported Node base image, function images built
// from a directory, and the two fixture functions speaking http-stream over a unix socket.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureNodeBaseImage, NODE_BASE_LATEST, sharedLibraries } from '../../images/base-image.js';
import { buildFunctionImage, dependencyClosure, functionDockerfile } from '../../images/function-image.js';
import { parseFuncYaml, splitCommand } from '../../images/func-yaml.js';
import { inspectImage } from '../../images/inspect.js';
import { docker, fixtureImage, postCall, projectRoot, startFunctionContainer } from '../helpers/images.js';
import { assertEnsureIsNoop, importFiles, leftoverContainers, runLocked as run } from '../helpers/base-images.js';

const client = docker();
const runLocked = (image: string, cmd: string[]): ReturnType<typeof run> => run(client, image, cmd);

/** This process's socket and function directories (other test files run in parallel). */
async function leftoverTempDirs(): Promise<string[]> {
  const mine = [`kiln-io-${process.pid}-`, `kiln-fn-${process.pid}-`];
  return (await readdir(tmpdir())).filter((n) => mine.some((p) => n.startsWith(p)));
}

let baseTag = '';
let tempBefore: string[] = [];

before(async () => {
  tempBefore = await leftoverTempDirs();
  baseTag = await ensureNodeBaseImage(client);
});

after(async () => {
  const leaked = (await leftoverTempDirs()).filter((n) => !tempBefore.includes(n));
  assert.deepEqual(leaked, [], 'temp dirs left behind');
  assert.equal((await leftoverContainers(client)).length, 0, 'containers left behind');
});

describe('func.yaml and helpers', () => {
  test('parses top-level scalars and skips nested blocks', () => {
    const f = parseFuncYaml(
      'schema_version: 20180708\nname: "hello"\nversion: 0.0.1 # comment\nruntime: node\nentrypoint: node func.js\nconfig:\n  A: b\ntriggers:\n- name: x\n',
    );
    assert.equal(f.name, 'hello');
    assert.equal(f.version, '0.0.1');
    assert.equal(f.entrypoint, 'node func.js');
    assert.equal(f.fields['config'], undefined);
    assert.equal(f.fields['A'], undefined);
  });

  test('splits entrypoints with quotes', () => {
    assert.deepEqual(splitCommand(`node  "my func.js" --x='a b'`), ['node', 'my func.js', '--x=a b']);
    assert.deepEqual(splitCommand(`node ""`), ['node', '']);
    assert.throws(() => splitCommand(`node "x`), /unterminated/);
    assert.deepEqual(splitCommand('node func.js'), ['node', 'func.js']);
  });

  test('the Dockerfile uses exec form (the base image has no shell)', () => {
    assert.equal(
      functionDockerfile('kiln/node:latest', ['node', 'func.js']),
      'FROM kiln/node:latest\nCOPY function/ /function/\nWORKDIR /function\nENTRYPOINT ["node","func.js"]\n',
    );
  });

  test('vendoring the fdk takes its dependency closure', async () => {
    const root = join(projectRoot(), 'node_modules');
    const names = (await dependencyClosure(root, ['@fnproject/fdk'])).map((d) => d.slice(root.length + 1));
    for (const n of ['@fnproject/fdk', 'cross-spawn', 'which', 'isexe', 'path-key', 'shebang-command', 'shebang-regex']) {
      assert.ok(names.some((x) => x === n || x.endsWith(`/node_modules/${n}`)), `${n} in ${names.join(', ')}`);
    }
    await assert.rejects(dependencyClosure(root, ['kiln-no-such-package']), /cannot vendor kiln-no-such-package/);
  });

  test('ldd finds the loader and libc for node', async () => {
    const libs = await sharedLibraries(process.execPath);
    if (libs.length === 0) return; // a static node needs nothing
    assert.ok(libs.some((l) => /ld-linux|ld-musl/.test(l)), libs.join(' '));
  });
});

describe('base image', () => {
  test('runs node read-only as 1000:1000 without a network', async () => {
    assert.equal(baseTag, `kiln/node:${process.version.slice(1)}`);
    const r = await runLocked(NODE_BASE_LATEST, [
      'node',
      '-e',
      'console.log(process.version, process.getuid(), require("os").userInfo().username, process.cwd())',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${process.version} 1000 fn /function`);
  });

  test('/tmp is writable and the root is not', async () => {
    const r = await runLocked(NODE_BASE_LATEST, [
      'node',
      '-e',
      'const fs=require("fs");fs.writeFileSync("/tmp/x","y");try{fs.writeFileSync("/function/x","y")}catch(e){console.log(e.code)}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'EROFS');
  });

  test('building twice does not rebuild', async () => {
    await assertEnsureIsNoop(client, baseTag, () => ensureNodeBaseImage(client));
  });
});

describe('buildFunctionImage errors', () => {
  let dir = '';
  const cleanup: Array<() => Promise<unknown>> = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `kiln-fn-${process.pid}-`));
    await writeFile(join(dir, 'func.js'), 'console.log("hi")\n');
  });
  after(async () => {
    for (const f of cleanup) await f().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  test('no func.yaml', async () => {
    await assert.rejects(buildFunctionImage(client, dir, 'kiln-test/never:1'), (err: Error) => {
      assert.match(err.message, /no func\.yaml in /);
      return true;
    });
  });

  test('func.yaml without an entrypoint or a cmd', async () => {
    await writeFile(join(dir, 'func.yaml'), 'schema_version: 20180708\nname: bad\nversion: 0.0.1\n');
    await assert.rejects(buildFunctionImage(client, dir, 'kiln-test/never:1'), /func\.yaml in .* has no entrypoint and no cmd/);
  });

  test('a base image that does not exist is named', async () => {
    await writeFile(join(dir, 'func.yaml'), 'name: bad\nentrypoint: node func.js\n');
    await assert.rejects(
      buildFunctionImage(client, dir, 'kiln-test/never:1', { baseImage: 'kiln-test/no-such-base:0' }),
      /base image kiln-test\/no-such-base:0 does not exist locally/,
    );
    assert.equal(await inspectImage(client, 'kiln-test/never:1'), null);
  });

  test("the engine's build error is reported", async () => {
    // A base where /function is a file, so the build's COPY fails inside the engine.
    const badBase = `kiln-test/bad-base:${process.pid}`;
    await importFiles(client, badBase, { function: 'x' });
    cleanup.push(() => client.getImage(badBase).remove({ force: true }));
    await assert.rejects(
      buildFunctionImage(client, dir, `kiln-test/never:${process.pid}`, { baseImage: badBase }),
      (err: Error) => {
        assert.match(err.message, /^building image kiln-test\/never:\d+ from .* failed: \S/);
        return true;
      },
    );
    assert.equal(await inspectImage(client, `kiln-test/never:${process.pid}`), null);
  });
});

describe('fixture functions over http-stream', () => {
  test('tester echoes the call, keeps the connection alive, and fails on demand', async (t) => {
    const image = await fixtureImage('tester');
    const fc = await startFunctionContainer(client, image, { FN_APP_ID: 'app1', SECRET: 's', ECHO_ENV: 'SECRET' });
    t.after(() => fc.remove());
    await fc.ready();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());

    const a = await postCall(fc.socketPath, '{}', { 'Fn-Call-Id': 'call-1', 'Fn-Http-H-X-Thing': 'yes' }, agent);
    assert.equal(a.status, 200, a.body);
    const echo = JSON.parse(a.body) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      env: Record<string, string>;
      calls: number;
      pid: number;
    };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/call');
    assert.equal(echo.headers['fn-call-id'], 'call-1');
    assert.equal(echo.headers['fn-http-h-x-thing'], 'yes');
    assert.equal(echo.env['FN_FORMAT'], 'http-stream');
    assert.equal(echo.env['FN_APP_ID'], 'app1');
    assert.equal(echo.env['SECRET'], 's');
    assert.equal(echo.calls, 1);

    const b = await postCall(
      fc.socketPath,
      JSON.stringify({ status: 502, headers: { 'Fn-Http-Status': '201', 'Fn-Http-H-X-Out': 'o' } }),
      { 'Fn-Call-Id': 'call-2' },
      agent,
    );
    assert.equal(b.status, 502);
    assert.equal(b.headers['fn-http-status'], '201');
    assert.equal(b.headers['fn-http-h-x-out'], 'o');
    assert.equal(b.reused, true, 'the second call reuses the kept-alive connection');

    const c = await postCall(fc.socketPath, JSON.stringify({ bytes: 200_000 }), {}, agent);
    assert.equal(c.status, 200);
    assert.equal(c.headers['content-type'], 'text/plain');
    assert.equal(c.body.length, 200_000);
    assert.match(c.body, /^x+$/);

    const d = await postCall(fc.socketPath, 'not json', {}, agent);
    assert.equal((JSON.parse(d.body) as { calls: number }).calls, 4);

    await assert.rejects(postCall(fc.socketPath, JSON.stringify({ log: 'last words', crash: true }), {}, agent));
    const state = (await fc.container.wait()) as { StatusCode: number };
    assert.equal(state.StatusCode, 1);
    const logs = await fc.logs();
    assert.match(logs.stdout, /last words/);
    assert.match(logs.stderr, /last words/);
  });

  test('tester MODE=exit fails at start with its message', async (t) => {
    const fc = await startFunctionContainer(client, await fixtureImage('tester'), { MODE: 'exit' });
    t.after(() => fc.remove());
    await assert.rejects(fc.ready(5000), /container exited \(3\) before listening: boom at start/);
  });

  test('hello-fdk (the real @fnproject/fdk) answers', async (t) => {
    const image = await fixtureImage('hello-fdk');
    const fc = await startFunctionContainer(client, image);
    t.after(() => fc.remove());
    await fc.ready();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());

    const a = await postCall(fc.socketPath, '', { 'Fn-Call-Id': 'c1' }, agent);
    assert.equal(a.status, 200, a.body);
    assert.deepEqual(JSON.parse(a.body), { message: 'Hello World' });
    assert.match(String(a.headers['fn-fdk-version']), /^fdk-node\//);

    const b = await postCall(fc.socketPath, JSON.stringify({ name: 'Kiln' }), { 'Fn-Call-Id': 'c2' }, agent);
    assert.equal(b.status, 200, b.body);
    assert.deepEqual(JSON.parse(b.body), { message: 'Hello Kiln' });
  });

  test('fixture images are cached by content', async () => {
    const tag = await fixtureImage('tester');
    assert.match(tag, /^kiln-test\/tester:[0-9a-f]{12}$/);
    assert.ok(await inspectImage(client, tag));
    const info = await inspectImage(client, await fixtureImage('hello-fdk'));
    assert.deepEqual(info?.Config.Entrypoint, ['node', 'func.js']);
    assert.equal(info?.Config.WorkingDir, '/function');
  });
});
