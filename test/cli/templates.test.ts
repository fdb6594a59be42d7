// `kiln init`'s templates: the files each writes, the build context and Dockerfile each gets,
// and the two Lambda bootstraps run on this host against a fake Runtime API (the Lambda layer
// that serves the real one inside containers is built separately).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { planBuild } from '../../cli/build.js';
import { initFunction } from '../../cli/commands/init.js';
import { lambdaShellTemplate } from '../../cli/templates/lambda-shell.js';
import { funcTriggers, readFuncYaml } from '../../images/func-yaml.js';
import { functionBuildContext } from '../../images/function-image.js';
import { SHELL_TOOLS } from '../../images/shell-image.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-cli-tpl-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const dirFor = (n: string): string => join(tmp, n);

describe('kiln init', () => {
  const cases = [
    { runtime: 'node', files: ['func.js', 'func.yaml', 'package.json'], format: 'http-stream', kind: 'http-stream' },
    { runtime: 'lambda-node', files: ['bootstrap', 'func.yaml', 'index.mjs'], format: 'lambda', kind: 'lambda' },
    { runtime: 'lambda-shell', files: ['bootstrap', 'func.yaml', 'function.sh'], format: 'lambda', kind: 'lambda' },
  ];
  for (const c of cases) {
    test(`${c.runtime}: files, func.yaml fields and a build plan`, async () => {
      const dir = dirFor(c.runtime);
      assert.deepEqual(await initFunction(dir, c.runtime, c.runtime), c.files);
      const f = await readFuncYaml(dir);
      assert.equal(f.schema_version, '20180708');
      assert.equal(f.name, c.runtime);
      assert.equal(f.version, '0.0.1');
      assert.equal(f.runtime, c.runtime);
      assert.equal(f.format, c.format);
      // As fn init: only asked for (a default here would undo `kiln update fn` at each deploy).
      assert.deepEqual([f.memory, f.timeout, f.idle_timeout, f.config], [undefined, undefined, undefined, undefined]);
      assert.deepEqual(funcTriggers(f), [{ name: c.runtime, type: 'http', source: `/${c.runtime}` }]);
      assert.equal(f.entrypoint, c.runtime === 'node' ? 'node func.js' : undefined);
      assert.equal((await planBuild(dir, f)).kind, c.kind);
      if (c.files.includes('bootstrap')) assert.equal((await stat(join(dir, 'bootstrap'))).mode & 0o777, 0o755);
    });
  }

  test('node depends on the Fn FDK, which the build vendors', async () => {
    const pkg = JSON.parse(await readFile(join(dirFor('node'), 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(pkg.dependencies['@fnproject/fdk']);
    assert.deepEqual((await planBuild(dirFor('node'), await readFuncYaml(dirFor('node')))).vendor, ['@fnproject/fdk']);
  });

  test("fn init's options set func.yaml's version, memory, timeouts and config", async () => {
    await initFunction(dirFor('opts'), 'lambda-node', 'opts', { version: '1.2.3', memory: 256, timeout: 60, idle_timeout: 5, config: { A: 'b' } });
    const f = await readFuncYaml(dirFor('opts'));
    assert.deepEqual([f.version, f.memory, f.timeout, f.idle_timeout, f.config], ['1.2.3', 256, 60, 5, { A: 'b' }]);
    await assert.rejects(initFunction(dirFor('x3'), 'node', 'x3', { version: 'latest' }), /--version "latest" is not MAJOR.MINOR.PATCH/);
    assert.equal(existsSync(dirFor('x3')), false);
    // Bumpable, but it tags the image as it is (--no-bump, build), and "+" is in no Docker tag.
    await assert.rejects(initFunction(dirFor('x6'), 'node', 'x6', { version: '1.0.0+b1' }), /--version "1\.0\.0\+b1" cannot tag an image/);
    assert.equal(existsSync(dirFor('x6')), false);
  });

  test('a name with a dot gets a trigger deploy takes: the dot made "-" in its name, the source as the name', async () => {
    await initFunction(dirFor('my.func'), 'node', 'my.func');
    assert.deepEqual(funcTriggers(await readFuncYaml(dirFor('my.func'))), [{ name: 'my-func', type: 'http', source: '/my.func' }]);
    await initFunction(dirFor('my.trig'), 'node', 'my.trig', { triggerType: 'http' });
    assert.deepEqual(funcTriggers(await readFuncYaml(dirFor('my.trig'))), [{ name: 'my-trig', type: 'http', source: '/my.trig' }]);
  });

  test("fn init's --entrypoint, --cmd and --trigger (named as current fn names it: N at /N)", async () => {
    await initFunction(dirFor('ep'), 'node', 'ep', { entrypoint: 'node --enable-source-maps func.js', triggerType: 'http' });
    const ep = await readFuncYaml(dirFor('ep'));
    assert.equal(ep.entrypoint, 'node --enable-source-maps func.js');
    assert.equal(ep.cmd, undefined);
    assert.deepEqual(ep.triggers, [{ name: 'ep', type: 'http', source: '/ep' }]);
    await initFunction(dirFor('cm'), 'node', 'cm', { cmd: 'node func.js' });
    const cm = await readFuncYaml(dirFor('cm'));
    assert.deepEqual([cm.entrypoint, cm.cmd], [undefined, 'node func.js']);
    await assert.rejects(initFunction(dirFor('x4'), 'node', 'x4', { triggerType: 'cron' }), /unknown trigger type "cron"/);
    await assert.rejects(initFunction(dirFor('x5'), 'lambda-node', 'x5', { entrypoint: 'node x.js' }), /--entrypoint and --cmd are for runtime node/);
  });

  test('node: a package.json (or func.js) already there gets neither file, as fn init (no func.js requiring an FDK it does not list)', async () => {
    for (const [own, content] of [['package.json', '{"name": "mine", "dependencies": {}}\n'], ['func.js', '// mine\n']] as const) {
      const dir = dirFor(`own-${own}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, own), content);
      assert.deepEqual(await initFunction(dir, 'node', 'own'), ['func.yaml']);
      assert.equal(await readFile(join(dir, own), 'utf8'), content);
      assert.deepEqual((await readdir(dir)).sort(), ['func.yaml', own].sort());
    }
  });

  test('--force rewrites func.yaml and keeps the code already there, as fn init', async () => {
    const dir = dirFor('forced');
    await initFunction(dir, 'node', 'forced');
    await writeFile(join(dir, 'func.js'), '// mine\n');
    await assert.rejects(initFunction(dir, 'node', 'forced', { memory: 512 }), /already has a func\.yaml/);
    assert.deepEqual(await initFunction(dir, 'node', 'forced', { memory: 512 }, true), ['func.yaml'], 'only what it wrote');
    assert.equal((await readFuncYaml(dir)).memory, 512);
    assert.equal(await readFile(join(dir, 'func.js'), 'utf8'), '// mine\n');
  });

  test('refuses an existing function, an unknown runtime, a bad name', async () => {
    await assert.rejects(initFunction(dirFor('node'), 'node', 'node'), /already has a func.yaml/);
    await mkdir(dirFor('json'), { recursive: true });
    await writeFile(join(dirFor('json'), 'func.json'), '{}');
    await assert.rejects(initFunction(dirFor('json'), 'node', 'json'), /already has a func.yaml/);
    await assert.rejects(initFunction(dirFor('x1'), 'python', 'x1'), /unknown runtime "python"/);
    await assert.rejects(initFunction(dirFor('x2'), 'node', 'Bad Name'), /invalid function name/);
    assert.equal(existsSync(dirFor('x1')), false);
  });
});

describe('build contexts', () => {
  test('lambda-node: files in /var/task FROM kiln/node', async () => {
    const b = await functionBuildContext(dirFor('lambda-node'), { kind: 'lambda', baseImage: 'kiln/node:latest' });
    assert.equal(
      b.dockerfile,
      'FROM kiln/node:latest\nCOPY function/ /var/task/\nWORKDIR /var/task\n' +
        'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin\n' +
        'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib\n' +
        'CMD ["/var/task/bootstrap"]\n',
    );
    assert.deepEqual([...b.context.entries.keys()].sort(), ['function', 'function/bootstrap', 'function/func.yaml', 'function/index.mjs']);
    const boot = b.context.entries.get('function/bootstrap');
    assert.ok(boot?.kind === 'file' && (boot.mode & 0o111) !== 0, 'bootstrap stays executable');
  });

  test('lambda-shell: FROM kiln/shell', async () => {
    const b = await functionBuildContext(dirFor('lambda-shell'), { kind: 'lambda', baseImage: 'kiln/shell:latest' });
    assert.match(b.dockerfile, /^FROM kiln\/shell:latest\nCOPY function\/ \/var\/task\/\nWORKDIR \/var\/task\n/);
    assert.equal(b.baseImage, 'kiln/shell:latest');
    assert.ok(b.context.entries.has('function/function.sh'));
  });

  test("lambda-shell: what its files say the base image lacks, kiln/shell's recipe does not have", async () => {
    const text = Object.values(lambdaShellTemplate('x')).map((f) => f.content).join('\n');
    const claimed = [...text.matchAll(/\bnot ([a-z]+)/g)].map((m) => m[1]!);
    assert.deepEqual(claimed.filter((tool) => (SHELL_TOOLS as readonly string[]).includes(tool)), []);
  });

  test('node: ENTRYPOINT from func.yaml and the vendored FDK', async () => {
    const b = await functionBuildContext(dirFor('node'), { vendor: ['@fnproject/fdk'] });
    assert.match(b.dockerfile, /ENTRYPOINT \["node","func.js"\]/);
    assert.ok(b.context.entries.has('function/node_modules/@fnproject/fdk/package.json'));
  });

  test("runtime docker: the directory's own Dockerfile, once", async () => {
    const dir = dirFor('docker');
    await initFunction(dir, 'node', 'docker');
    await writeFile(join(dir, 'Dockerfile'), 'FROM kiln/node:latest\nCOPY . /function/\n');
    const b = await functionBuildContext(dir, { kind: 'dockerfile' });
    assert.equal(b.dockerfile, 'FROM kiln/node:latest\nCOPY . /function/\n');
    assert.equal(b.baseImage, null);
    assert.deepEqual([...b.context.entries.keys()].sort(), ['func.js', 'func.yaml', 'package.json']);
    await assert.rejects(functionBuildContext(dirFor('node'), { kind: 'dockerfile' }), /no Dockerfile/);
  });
});

interface Posted {
  path: string;
  errorType: string | undefined;
  body: string;
  /** The request's own headers and trailers (a streamed /response's error is in its trailers). */
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
}

/** An event, with `Lambda-Runtime-*` headers of its own besides the request id and deadline. */
type FakeEvent = string | { body: string; headers: Record<string, string> };

/** A Runtime API with a queue of events; `next` waits when the queue is empty. */
async function fakeRuntimeApi(events: FakeEvent[]): Promise<{ addr: string; posted: Posted[]; waitPosts(n: number): Promise<void>; close(): Promise<void> }> {
  const posted: Posted[] = [];
  const held: http.ServerResponse[] = [];
  let seq = 0;
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/2018-06-01/runtime/invocation/next') {
        const ev = events.shift();
        if (ev === undefined) return void held.push(res);
        const { body: evBody, headers } = typeof ev === 'string' ? { body: ev, headers: {} } : ev;
        res.writeHead(200, {
          'Lambda-Runtime-Aws-Request-Id': `req-${++seq}`,
          'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000),
          'content-type': 'application/json',
          ...headers,
        });
        return void res.end(evBody);
      }
      const e = req.headers['lambda-runtime-function-error-type'];
      posted.push({ path: req.url ?? '', errorType: typeof e === 'string' ? e : undefined, body, headers: req.headers, trailers: req.trailers });
      res.writeHead(202).end('{"status":"OK"}');
      waiters.splice(0).forEach((w) => w());
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return {
    addr: `127.0.0.1:${port}`,
    posted,
    waitPosts: async (n) => {
      const end = Date.now() + 10_000;
      while (posted.length < n) {
        if (Date.now() > end) throw new Error(`only ${posted.length} posts: ${JSON.stringify(posted)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: async () => {
      held.forEach((r) => r.destroy());
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Runs a template's bootstrap on this host against a fake Runtime API serving `events`, until
 * it has posted `posts` times; the image's node is /usr/local/bin/node, here the test's own runs it.
 */
async function runBootstrap(
  runtime: 'lambda-node' | 'lambda-shell', events: FakeEvent[], posts: number, env: Record<string, string> = {}, opts: { exits?: boolean } = {},
): Promise<{ posted: Posted[]; stdout: string; stderr: string; code: number | null }> {
  const dir = dirFor(runtime);
  const api = await fakeRuntimeApi(events);
  const cmd = runtime === 'lambda-node' ? process.execPath : 'bash';
  // A group of its own, killed whole: bash waiting on its curl's long poll of next would put off
  // its SIGTERM until curl ended, and curl waits on the fake API, closed only after (a hang).
  const p = spawn(cmd, [join(dir, 'bootstrap')], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_RUNTIME_API: api.addr, LAMBDA_TASK_ROOT: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const closed = once(p, 'close');
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let code: number | null = null;
  try {
    await api.waitPosts(posts);
    // One that exits by itself (as after an init error) is given time to; the test sees its code.
    if (opts.exits) code = (await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]) as [number | null] | undefined)?.[0] ?? null;
  } finally {
    try {
      process.kill(-p.pid!, 'SIGTERM');
    } catch {
      // the group is gone already (it exited by itself)
    }
    await closed; // what it printed before its last post is all read
    await api.close();
  }
  return { posted: api.posted, stdout, stderr, code };
}

/** Runs the lambda-node bootstrap with a handler of its own: `file` (in the task root) holds `code`, `_HANDLER` is `<file>.handler`. */
async function withHandler(
  file: string, code: string, events: FakeEvent[], posts: number, env: Record<string, string> = {},
): Promise<{ posted: Posted[]; stdout: string; stderr: string; code: number | null }> {
  const path = join(dirFor('lambda-node'), file);
  await writeFile(path, code);
  try {
    return await runBootstrap('lambda-node', events, posts, { _HANDLER: `${file.replace(/\.[^.]+$/, '')}.handler`, ...env });
  } finally {
    await rm(path, { force: true });
  }
}

const noCurl = !existsSync('/usr/bin/curl') && 'no curl on this host';

describe('lambda bootstraps against a fake Runtime API', () => {
  test("lambda-node answers the handler's result", async () => {
    const { posted } = await runBootstrap('lambda-node', ['{"name":"Lambda"}'], 1);
    assert.deepEqual([posted[0]!.path, posted[0]!.errorType, posted[0]!.body], ['/2018-06-01/runtime/invocation/req-1/response', undefined, '{"message":"Hello Lambda"}']);
  });

  test('lambda-node runs in a function whose package.json says "type": "module" (Node then loads the bootstrap as an ES module)', async () => {
    const pkg = join(dirFor('lambda-node'), 'package.json');
    await writeFile(pkg, '{"type":"module"}\n');
    try {
      const { posted, stderr } = await runBootstrap('lambda-node', ['{"name":"ESM"}'], 1);
      assert.equal(posted[0]?.body, '{"message":"Hello ESM"}', stderr);
    } finally {
      await rm(pkg, { force: true });
    }
  });

  test('lambda-node posts a thrown error to /error with its type', async () => {
    const extra = join(dirFor('lambda-node'), 'failing.mjs');
    await writeFile(extra, 'export const handler = async (e) => { if (e.fail) throw new TypeError("no good"); return e; };\n');
    try {
      const { posted } = await runBootstrap('lambda-node', ['{"fail":true}'], 1, { _HANDLER: 'failing.handler' });
      assert.equal(posted[0]!.path, '/2018-06-01/runtime/invocation/req-1/error');
      assert.equal(posted[0]!.errorType, 'TypeError');
      assert.equal(JSON.parse(posted[0]!.body).errorMessage, 'no good');
    } finally {
      await rm(extra, { force: true });
    }
  });

  test('lambda-node reports a missing handler module to /init/error', async () => {
    const { posted } = await runBootstrap('lambda-node', [], 1, { _HANDLER: 'nope.handler' });
    assert.equal(posted[0]!.path, '/2018-06-01/runtime/init/error');
    assert.equal(posted[0]!.errorType, 'Runtime.ImportModuleError');
  });

  test('lambda-shell (bash and curl of this host) answers like the AWS tutorial runtime', { skip: noCurl }, async () => {
    const { posted, stderr } = await runBootstrap('lambda-shell', ['{"a":1}', 'hello'], 2);
    assert.deepEqual(
      posted.map((x) => [x.path, x.body]),
      [
        ['/2018-06-01/runtime/invocation/req-1/response', '{"message":"Hello from bash","length":7}'],
        ['/2018-06-01/runtime/invocation/req-2/response', '{"message":"Hello from bash","length":5}'],
      ],
    );
    assert.match(stderr, /event of 7 bytes/);
  });

  test('lambda-shell posts a failing handler to /error', { skip: noCurl }, async () => {
    const { posted } = await runBootstrap('lambda-shell', ['{}'], 1, { _HANDLER: 'function.missing' });
    assert.equal(posted[0]!.path, '/2018-06-01/runtime/invocation/req-1/error');
    assert.equal(posted[0]!.errorType, 'Unhandled');
  });
});

describe("lambda-node runs handlers as AWS's Node.js runtime does", () => {
  test('a callback handler: callback(null, result) once the event loop is empty (unless told not to wait), callback(err) an error, context.succeed, a returned promise', async () => {
    const code = `exports.handler = (event, context, callback) => {
  if (event.fail) return callback(new RangeError('called back with an error'));
  if (event.text) return callback('just text');
  if (event.legacy) return context.succeed({ legacy: true });
  if (event.promise) return Promise.resolve({ promised: typeof callback });
  const answer = { waited: false };
  context.callbackWaitsForEmptyEventLoop = event.wait;
  setTimeout(() => { answer.waited = true; }, 50);
  callback(null, answer);
};
`;
    const events = ['{"wait":true}', '{"wait":false}', '{"fail":true}', '{"text":true}', '{"legacy":true}', '{"promise":true}'];
    const { posted } = await withHandler('callback.js', code, events, events.length);
    const at = (i: number): [string, string | undefined, unknown] => [posted[i]!.path.replace(/^.*\/req-\d+\//, ''), posted[i]!.errorType, JSON.parse(posted[i]!.body)];
    assert.deepEqual(at(0), ['response', undefined, { waited: true }], 'the answer went once the timer had run');
    assert.deepEqual(at(1), ['response', undefined, { waited: false }], 'callbackWaitsForEmptyEventLoop = false: at once');
    assert.deepEqual(at(2).slice(0, 2), ['error', 'RangeError']);
    assert.equal((at(2)[2] as { errorMessage: string }).errorMessage, 'called back with an error');
    assert.deepEqual(at(3), ['error', 'string', { errorType: 'string', errorMessage: 'just text', trace: [] }], "a non-Error is typed as AWS's runtime types it");
    assert.deepEqual(at(4), ['response', undefined, { legacy: true }]);
    assert.deepEqual(at(5), ['response', undefined, { promised: 'function' }]);
  });

  test("an error is posted as AWS's client posts it: {errorType, errorMessage, trace} with the whole stack; non-Errors typed by typeof", async () => {
    const code = `class MyError extends Error {}
class Named extends Error { constructor(m) { super(m); this.name = 'NamedError'; } }
exports.handler = async (event) => {
  switch (event.kind) {
    case 'error': throw new Error('boom');
    case 'class': throw new MyError('mine');
    case 'named': throw new Named('named');
    case 'cause': throw new Error('outer', { cause: new Error('inner') });
    case 'del': throw new Error('a\\x7Fb');
    case 'object': throw { a: 1 };
    case 'bare': throw Object.create(null);
    case 'getter': throw Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('unreadable'); } });
    case 'null': throw null;
  }
};
`;
    const kinds = ['error', 'class', 'named', 'cause', 'del', 'object', 'bare', 'getter', 'null'];
    const { posted } = await withHandler('errors.js', code, kinds.map((kind) => JSON.stringify({ kind })), kinds.length);
    const report = (i: number): { errorType: string; errorMessage: string; trace?: string[] } => JSON.parse(posted[i]!.body);
    const head = (i: number): [string | undefined, string, string, string | undefined] => [posted[i]!.errorType, report(i).errorType, report(i).errorMessage, report(i).trace?.[0]];
    assert.deepEqual(head(0), ['Error', 'Error', 'boom', 'Error: boom'], 'the trace begins with the stack\'s first line');
    assert.match(report(0).trace![1]!, /^ {4}at exports\.handler \(.*errors\.js:\d+:\d+\)$/);
    assert.deepEqual(Object.keys(report(0)), ['errorType', 'errorMessage', 'trace']);
    assert.deepEqual(head(1), ['Error', 'Error', 'mine', 'Error: mine'], "a class's type is its name, which it inherits");
    assert.deepEqual(head(2), ['NamedError', 'NamedError', 'named', 'NamedError: named']);
    assert.deepEqual(head(3), ['Error', 'Error', 'outer', 'Error: outer'], 'a cause is not posted');
    assert.deepEqual(head(4), ['Error', 'Error', 'a%7Fb', 'Error: a%7Fb']);
    assert.deepEqual(report(5), { errorType: 'object', errorMessage: '[object Object]', trace: [] });
    // As AWS's client: logging the error makes an Error of it, which fails for an object with no
    // toString; that failure is the invocation's error.
    assert.deepEqual(head(6), ['TypeError', 'TypeError', 'Cannot convert object to primitive value', 'TypeError: Cannot convert object to primitive value']);
    assert.deepEqual(report(7), { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack' });
    assert.deepEqual(report(8), { errorType: 'string', errorMessage: 'handled', trace: [] }, 'a promise rejected with null fails as context.fail() does');
  });

  test("an uncaught exception or unhandled rejection while a call runs is that call's error, logged, and the runtime exits (129, 128 for a rejection)", async () => {
    const code = `exports.handler = async (event) => {
  if (event.kind === 'throw') setTimeout(() => { throw new TypeError('thrown later'); }, 10);
  if (event.kind === 'reject') Promise.reject(new Error('nobody caught me'));
  if (event.kind === 'text') Promise.reject('just text');
  await new Promise((r) => setTimeout(r, 5000));
  return 'too late';
};
`;
    const cases: Array<[string, number, string, string, string]> = [
      ['throw', 129, 'Uncaught Exception', 'TypeError', 'thrown later'],
      ['reject', 128, 'Unhandled Promise Rejection', 'Runtime.UnhandledPromiseRejection', 'Error: nobody caught me'],
      ['text', 128, 'Unhandled Promise Rejection', 'Runtime.UnhandledPromiseRejection', 'just text'],
    ];
    const path = join(dirFor('lambda-node'), 'crash.js');
    await writeFile(path, code);
    try {
      for (const [kind, exit, label, type, message] of cases) {
        const r = await runBootstrap('lambda-node', [JSON.stringify({ kind })], 1, { _HANDLER: 'crash.handler' }, { exits: true });
        const report = JSON.parse(r.posted[0]!.body) as { errorType: string; errorMessage: string; trace: string[] };
        assert.deepEqual([r.posted[0]!.path, r.posted[0]!.errorType, report.errorType, report.errorMessage], ['/2018-06-01/runtime/invocation/req-1/error', type, type, message], kind);
        assert.equal(report.trace[0], `${type}: ${message}`, kind);
        assert.match(r.stdout, new RegExp(`\treq-1\tERROR\t${label} \t\\{"errorType":"${type.replace('.', '\\.')}"`), kind);
        assert.equal(r.posted.length, 1, `${kind}: nothing else is posted`);
        assert.equal(r.code, exit, kind);
      }
    } finally {
      await rm(path, { force: true });
    }
  });

  test("NODE_PATH is the managed runtime's when unset (layers' /opt/nodejs folders first) and require searches it; AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA leaves out the awslambda global", async () => {
    const code = "exports.handler = async () => ({ nodePath: process.env.NODE_PATH, paths: require.resolve.paths('some-package'), awslambda: typeof awslambda });\n";
    const major = process.versions.node.split('.')[0];
    const managed = `/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`;
    const { posted } = await withHandler('paths.js', code, ['{}'], 1);
    const got = JSON.parse(posted[0]!.body) as { nodePath: string; paths: string[]; awslambda: string };
    assert.equal(got.nodePath, managed);
    for (const dir of managed.split(':')) assert.ok(got.paths.includes(dir), `${dir} in ${got.paths.join(' ')}`);
    assert.equal(got.awslambda, 'object');
    const own = await withHandler('paths.js', code, ['{}'], 1, { NODE_PATH: '/mine', AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: 'true' });
    const mine = JSON.parse(own.posted[0]!.body) as { nodePath: string; paths: string[]; awslambda: string };
    assert.deepEqual([mine.nodePath, mine.paths.includes('/opt/nodejs/node_modules'), mine.awslambda], ['/mine', false, 'undefined']);
  });

  test('the context has the log group and stream, clientContext, identity and callbackWaitsForEmptyEventLoop', async () => {
    const code = `export const handler = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  invokedFunctionArn: context.invokedFunctionArn,
  functionName: context.functionName,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  clientContext: context.clientContext,
  identity: context.identity,
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  remaining: context.getRemainingTimeInMillis() > 0,
  legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
});
`;
    const clientContext = { client: { installation_id: 'i-1' }, custom: { k: 'v' }, env: { platform: 'kiln' } };
    const identity = { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' };
    const arn = 'arn:aws:lambda:us-east-1:012345678912:function:fake';
    const { posted } = await withHandler('ctx.mjs', code, [
      { body: '{}', headers: { 'Lambda-Runtime-Client-Context': JSON.stringify(clientContext), 'Lambda-Runtime-Cognito-Identity': JSON.stringify(identity), 'Lambda-Runtime-Invoked-Function-Arn': arn } },
      '{}',
    ], 2, { AWS_LAMBDA_FUNCTION_NAME: 'fake', AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fake', AWS_LAMBDA_LOG_STREAM_NAME: '$LATEST' });
    assert.deepEqual(JSON.parse(posted[0]!.body), {
      awsRequestId: 'req-1', invokedFunctionArn: arn, functionName: 'fake', logGroupName: '/aws/lambda/fake', logStreamName: '$LATEST',
      clientContext, identity, callbackWaitsForEmptyEventLoop: true, remaining: true, legacy: ['function', 'function', 'function'],
    });
    const plain = JSON.parse(posted[1]!.body) as Record<string, unknown>;
    assert.deepEqual([plain.clientContext, plain.identity], [undefined, undefined], 'without the headers, none');
  });

  test('awslambda.streamifyResponse: the body is streamed (chunked, streaming mode), HttpResponseStream.from writes the prelude, a failure goes in the trailers', async () => {
    const code = `export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  if (event.http) responseStream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'x-kiln': 'yes' } });
  else responseStream.setContentType('text/plain');
  responseStream.write('part 1\\n');
  await new Promise((r) => setTimeout(r, 20));
  if (event.fail) throw new RangeError('failed mid-stream');
  responseStream.write({ id: context.awsRequestId });
  responseStream.end('part 3\\n');
});
`;
    const { posted } = await withHandler('stream.mjs', code, ['{}', '{"http":true}', '{"fail":true}'], 3);
    for (const p of posted) {
      assert.match(p.path, /^\/2018-06-01\/runtime\/invocation\/req-\d\/response$/);
      assert.equal(p.headers['lambda-runtime-function-response-mode'], 'streaming');
      assert.equal(p.headers['transfer-encoding'], 'chunked');
    }
    assert.equal(posted[0]!.headers['content-type'], 'text/plain');
    assert.equal(posted[0]!.body, 'part 1\n{"id":"req-1"}part 3\n');
    assert.deepEqual(posted[0]!.trailers, {});
    assert.equal(posted[1]!.headers['content-type'], 'application/vnd.awslambda.http-integration-response');
    assert.equal(posted[1]!.body, `{"statusCode":201,"headers":{"x-kiln":"yes"}}${'\0'.repeat(8)}part 1\n{"id":"req-2"}part 3\n`);
    assert.equal(posted[2]!.body, 'part 1\n');
    assert.equal(posted[2]!.trailers['lambda-runtime-function-error-type'], 'RangeError');
    const report = JSON.parse(Buffer.from(posted[2]!.trailers['lambda-runtime-function-error-body'] ?? '', 'base64').toString()) as { errorType: string; errorMessage: string };
    assert.deepEqual([report.errorType, report.errorMessage], ['RangeError', 'failed mid-stream']);
  });

  const logging = `export const handler = async () => {
  console.log('to', 'log', 1);
  console.info('an info');
  console.warn('a warning');
  console.error('an error\\non two lines');
  console.debug('a debug');
  console.log({ a: 1 });
  return 'ok';
};
`;

  test("console writes Lambda's text lines: time, request id, level, message (a message's newlines as \\r)", async () => {
    const { stdout } = await withHandler('logs.mjs', logging, ['{}'], 1);
    const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    const expected = ['INFO\tto log 1', 'INFO\tan info', 'WARN\ta warning', 'ERROR\tan error\ron two lines', 'DEBUG\ta debug', 'INFO\t{ a: 1 }'];
    const lines = stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, expected.length, stdout);
    lines.forEach((line, i) => assert.match(line, new RegExp(`^${time}\treq-1\t${expected[i]!.replace(/[{}]/g, '\\$&')}$`)));
  });

  test('with AWS_LAMBDA_LOG_FORMAT=JSON, console writes JSON records and AWS_LAMBDA_LOG_LEVEL drops the more detailed', async () => {
    const { stdout } = await withHandler('logs.mjs', logging, ['{}'], 1, { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'INFO' });
    const records = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { timestamp: string; level: string; requestId: string; message: unknown });
    assert.deepEqual(records.map((r) => [r.level, r.requestId, r.message]), [
      ['INFO', 'req-1', 'to log 1'],
      ['INFO', 'req-1', 'an info'],
      ['WARN', 'req-1', 'a warning'],
      ['ERROR', 'req-1', 'an error\non two lines'],
      ['INFO', 'req-1', { a: 1 }],
    ]);
    for (const r of records) assert.ok(!Number.isNaN(Date.parse(r.timestamp)), r.timestamp);
  });
});

describe("lambda-node loads _HANDLER as AWS's Node.js runtime does", () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmp, 'task-'));
    const files: Record<string, string> = {
      'index.js': "exports.a = { b: { handler: async () => 'nested' } };\n",
      'src/app.js': "exports.handler = async () => 'in a folder';\n",
      'tla.mjs': "const v = await new Promise((r) => setTimeout(() => r('top-level await'), 20));\nexport const handler = async () => v;\n",
      'common.cjs': "module.exports.handler = async () => 'cjs';\n",
      'mod/package.json': '{"type":"module"}\n',
      'mod/h.js': "export const handler = async () => 'a .js ES module';\n",
      'both.js': "exports.handler = async () => '.js before .mjs';\n",
      'both.mjs': "export const handler = async () => 'mjs';\n",
      'node_modules/pkg/index.js': "exports.handler = async () => 'a package';\n",
      'default.mjs': "export default { handler: async () => 'default' };\n",
      'broken.js': 'exports.handler = (;\n',
      'brokenesm.mjs': 'export const handler = (;\n',
      'notfn.js': 'exports.handler = 42;\n',
      'throws.js': "throw new RangeError('failed loading');\n",
      'esmmissing.mjs': "import x from 'no-such-package';\nexport const handler = async () => x;\n",
      'flagged.mjs': "const h = async () => 'x';\nh[Symbol.for('aws.lambda.runtime.handler.streaming')] = 'request';\nexport const handler = h;\n",
    };
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(root, name, '..'), { recursive: true });
      await writeFile(join(root, name), text);
    }
  });

  const run = (handler: string, exits = false): ReturnType<typeof runBootstrap> =>
    runBootstrap('lambda-node', ['{}'], 1, { _HANDLER: handler, LAMBDA_TASK_ROOT: root }, { exits });

  test('nested exports, a folder, .mjs with top-level await, .cjs, .js under "type": "module", .js before .mjs, a package in node_modules, a default export by its path', async () => {
    const cases: Array<[string, string]> = [
      ['index.a.b.handler', 'nested'],
      ['src/app.handler', 'in a folder'],
      ['tla.handler', 'top-level await'],
      ['common.handler', 'cjs'],
      ['mod/h.handler', 'a .js ES module'],
      ['both.handler', '.js before .mjs'],
      ['pkg.handler', 'a package'],
      ['default.default.handler', 'default'],
    ];
    for (const [handler, want] of cases) {
      const { posted, stdout } = await run(handler);
      assert.deepEqual([posted[0]!.path, posted[0]!.body], ['/2018-06-01/runtime/invocation/req-1/response', JSON.stringify(want)], `${handler}: ${stdout}`);
    }
  });

  test("a load that fails is posted to /init/error with the client's type and wording, logged as an Uncaught Exception, and the runtime exits 129", async () => {
    const cases: Array<[string, string, string | RegExp]> = [
      ['nodot', 'Runtime.MalformedHandlerName', 'Bad handler'],
      ['../up.handler', 'Runtime.MalformedHandlerName', "'../up.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names."],
      ['missing.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'missing'\nRequire stack:\n- /],
      ['broken.handler', 'Runtime.UserCodeSyntaxError', /^SyntaxError: Unexpected token/],
      ['brokenesm.handler', 'Runtime.UserCodeSyntaxError', /^SyntaxError: Unexpected token/],
      ['index.nope', 'Runtime.HandlerNotFound', 'index.nope is undefined or not exported'],
      ['default.handler', 'Runtime.HandlerNotFound', 'default.handler is undefined or not exported'],
      ['notfn.handler', 'Runtime.HandlerNotFound', 'notfn.handler is not a function'],
      ['throws.handler', 'RangeError', 'failed loading'],
      // As the client (3.3.0) has it: an ES module's missing import is no MODULE_NOT_FOUND.
      ['esmmissing.handler', 'Error', /^Cannot find package 'no-such-package' imported from /],
      ['flagged.handler', 'Runtime.MalformedStreamingHandler', 'Only response streaming is supported.'],
    ];
    for (const [handler, type, message] of cases) {
      const { posted, stdout, code } = await run(handler, true);
      const report = JSON.parse(posted[0]!.body) as { errorType: string; errorMessage: string; trace: string[] };
      assert.deepEqual([posted[0]!.path, posted[0]!.errorType, report.errorType], ['/2018-06-01/runtime/init/error', type, type], handler);
      if (typeof message === 'string') assert.equal(report.errorMessage, message, handler);
      else assert.match(report.errorMessage, message, handler);
      // The stack's first line: the type (with Node's [code], if any) and the message's first line.
      assert.ok(report.trace[0]!.startsWith(type) && report.trace[0]!.endsWith(`: ${report.errorMessage.split('\n')[0]}`), `${handler}: ${report.trace[0]}`);
      assert.match(stdout, new RegExp(`\tundefined\tERROR\tUncaught Exception \t\\{"errorType":"${type.replace('.', '\\.')}"`), handler);
      assert.equal(code, 129, handler);
    }
  });
});
