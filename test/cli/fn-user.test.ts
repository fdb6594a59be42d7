// The CLI as a long-time user of Fn's `fn` types it (a review's findings, end to end): a real
// server, real Docker, the CLI as a subprocess. fn's global flags before the command; the
// commands, flags and answers fn's scripts rely on.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliRunners, runCli, type CliRun } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { sqliteDb } from '../helpers/db.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { call, startServer, type TestServer } from '../helpers/server.js';

const P = `u${process.pid}`; // names (and so image names) no other test process uses

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};

const runners = cliRunners(() => env);
const ok = (args: string[], cwd: string = work, extraEnv: Record<string, string> = {}): Promise<CliRun> => runners.ok(args, cwd, extraEnv);
const { fails } = runners;
const json = <T>(r: CliRun): T => JSON.parse(r.stdout) as T;

cliWorld(P, (w) => ({ srv, work, env } = w));

/**
 * A second server with these settings on its own SQLite file, for one test: `run` gets the
 * CLI's environment for it and an app with a fn of the tester fixture; all is gone after.
 */
async function withServer(settings: Record<string, string>, app: string, run: (at: Record<string, string>) => Promise<void>): Promise<void> {
  const db = await sqliteDb();
  const other = await startServer(db.url, settings);
  try {
    const at = { ...env, FN_API_URL: other.url };
    await ok(['create', 'app', app], work, at);
    await ok(['create', 'fn', app, 'fx', await fixtureImage('tester')], work, at);
    await run(at);
    await ok(['delete', 'app', app], work, at);
  } finally {
    await other.stop();
    await db.cleanup();
  }
}

describe("fn's global flags before the command", () => {
  test('--verbose/-v, --context and --registry are taken before the command; the commands keep their own', async () => {
    const APP = `${P}-glob`;
    await ok(['create', 'app', APP]);
    assert.match((await ok(['--verbose', 'list', 'apps'])).stdout, new RegExp(`^${APP}\\s`, 'm'));
    assert.match((await ok(['-v', '-o', 'json', 'list', 'apps'])).stdout, new RegExp(`"name": "${APP}"`));
    // --context: that context for this run (its own --registry is still create's, after the command).
    await ok(['context', 'create', 'other', '--api-url', srv.url, '--registry', 'ctxreg']);
    const noUrl = { KILN_CONFIG_DIR: env.KILN_CONFIG_DIR! };
    const shown = await runCli(['--context', 'other', 'context', 'show'], { cwd: work, env: noUrl });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^Current context: other\nAPI URL: ${srv.url} \\(from context "other"\\)\nRegistry: ctxreg\n`));
    const listed = await runCli(['--context=other', 'list', 'apps'], { cwd: work, env: noUrl });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${APP}\\s`, 'm'));
    await fails(['--context', 'nope', 'list', 'apps'], work, /context "nope" \(--context\) not found/);
    // --registry and -v before build: the image's prefix, and all of the build output.
    const NAME = `${P}-glob-fn`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const built = await ok(['-v', '--registry', 'globreg', 'build'], join(work, NAME));
    assert.match(built.stdout, new RegExp(`built successfully: globreg/${NAME}:0\\.0\\.1`));
    const quiet = await ok(['build'], join(work, NAME));
    assert.ok(built.stderr.split('\n').length > quiet.stderr.split('\n').length, `-v shows more build output\n${built.stderr}\n---\n${quiet.stderr}`);
    // The command's own flags win and still work after it.
    assert.match((await ok(['--registry', 'globreg', 'build', '--registry', 'cmdreg'], join(work, NAME))).stdout, new RegExp(`cmdreg/${NAME}:0\\.0\\.1`));
    await ok(['delete', 'app', APP]);
  });
});

describe("deploy with triggers the server would refuse", () => {
  test('a bad type, a source without /, a twin name or source: refused before anything is built or changed', async () => {
    const APP = `${P}-badtrig`;
    const NAME = `${P}-badtrig`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const dir = join(work, NAME);
    const head = (await readFile(join(dir, 'func.yaml'), 'utf8')).replace(/\ntriggers:[\s\S]*$/, '\n');
    const cases: Array<[string, RegExp]> = [
      ['- {name: a, type: cron, source: /a}', /type "cron" is not supported/],
      ['- {name: a, type: HTTP, source: /a}', /type "HTTP" is not supported \(the server takes it in lower case only\)/],
      ['- {name: a, source: a}', /source "a" must start with "\/"/],
      ['- {name: a, source: /a}\n- {name: a, source: /b}', /two triggers have the name "a"/],
      ['- {name: a, source: /a}\n- {name: b, source: /a}', /two triggers have the http source "\/a"/],
    ];
    for (const [list, re] of cases) {
      const yaml = `${head}triggers:\n${list}\n`;
      await writeFile(join(dir, 'func.yaml'), yaml);
      const r = await fails(['deploy', '--app', APP, '--create-app'], dir, re);
      assert.doesNotMatch(r.stderr, /Step \d|Deploying/, 'nothing was built');
      assert.equal(await readFile(join(dir, 'func.yaml'), 'utf8'), yaml, 'the version is not bumped');
    }
    assert.equal((await call(srv.url, 'GET', `/v2/apps?name=${APP}`)).body.items.length, 0, 'no app was created');
    assert.equal((await docker().listImages({ filters: JSON.stringify({ reference: [`${NAME}:0.0.2`] }) })).length, 0, 'no image was built');
  });
});

describe('an answer cut short', () => {
  test('(the server cut it at FN_MAX_RESPONSE_SIZE) is a clear error with the bytes that came and the call id', async () => {
    await withServer({ FN_MAX_RESPONSE_SIZE: String(100 * 1024) }, `${P}-cut`, async (at) => {
      const r = await runCli(['invoke', `${P}-cut`, 'fx', '--body', '{"bytes":400000}'], { cwd: work, env: at });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^Error: calling function u\d+-cut\/fx: the answer \(HTTP 200\) was cut short after \d+ bytes: .*\nCall [0-9A-Z]{26}\. A likely reason is the server's response size limit \(FN_MAX_RESPONSE_SIZE\)/);
      assert.equal(r.stdout, '', 'nothing of it is printed');
    });
  });
});

describe('invoke APP FN -i', () => {
  test('prints the status line and headers of a failed call too, before the error', async () => {
    const APP = `${P}-head`;
    await ok(['create', 'app', APP]);
    await ok(['create', 'fn', APP, 'fails', await fixtureImage('tester')]);
    const r = await fails(['invoke', APP, 'fails', '-i', '--body', '{"status":502,"raw":"{\\"message\\":\\"bad day\\"}"}'], work, /function .*fails failed \(HTTP 502\): bad day/);
    assert.match(r.stderr, /^HTTP 502\n(?:[a-z0-9-]+: .*\n)*fn-call-id: [0-9A-Z]{26}\n(?:[a-z0-9-]+: .*\n)*\nError: function/);
    assert.equal(r.stdout, '');
    await ok(['delete', 'app', APP]);
  });
});

describe('invoke --trigger and a 404', () => {
  test("a function's own 404 saying \"Trigger not found\" is its answer (body, -i head, call id); the server's is a routing miss", async () => {
    const APP = `${P}-nf`;
    await ok(['create', 'app', APP]);
    await ok(['create', 'fn', APP, 'nf', await fixtureImage('tester')]);
    await ok(['create', 'trigger', APP, 'nf', 'nf', '--source', '/nf']);
    const body = JSON.stringify({ headers: { 'Fn-Http-Status': '404' }, raw: '{"message":"Trigger not found: no such page"}' });
    const r = await fails(['invoke', '--trigger', APP, '/nf', '--body', body, '-i', '--display-call-id'], work, /POST \/t\/.*\/nf answered HTTP 404: Trigger not found: no such page/);
    assert.equal(r.stdout, '{"message":"Trigger not found: no such page"}', 'the body as the caller gets it');
    assert.match(r.stderr, /^HTTP 404\n/);
    assert.match(r.stderr, /^Call ID: [0-9A-Z]{26}$/m);
    assert.doesNotMatch(r.stderr, /no HTTP trigger at/);
    // The server's own 404 has no call id: still a routing miss.
    await fails(['invoke', '--trigger', APP, '/missing'], work, /no HTTP trigger at \/t\/.*\/missing \(Trigger not found/);
    await ok(['delete', 'app', APP]);
  });
});

describe('invoke APP FN with a body over the server\'s limit', () => {
  test('says the body is too large for the server (413), without the calls hint: the function never ran', async () => {
    await withServer({ FN_MAX_REQUEST_SIZE: '1024' }, `${P}-413`, async (at) => {
      const r = await runCli(['invoke', `${P}-413`, 'fx', '--body', 'x'.repeat(4096)], { cwd: work, env: at });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^Error: the request body \(4096 bytes\) is too large for the server \(HTTP 413\)/);
      assert.match(r.stderr, /was not called\. The server's limit is its FN_MAX_REQUEST_SIZE/);
      assert.doesNotMatch(r.stderr, /kiln calls|failed \(HTTP 413\)/);
    });
  });
});

describe('kiln bump', () => {
  test("bumps func.yaml's version (patch, --minor, --major, -w) without building; func.json stays JSON", async () => {
    const NAME = `${P}-bump`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const dir = join(work, NAME);
    const before = await readFile(join(dir, 'func.yaml'), 'utf8');
    const r = await ok(['bump'], dir);
    assert.equal(r.stdout, 'Bumped to version 0.0.2\n');
    assert.equal(r.stderr, '', 'nothing is built');
    assert.equal(await readFile(join(dir, 'func.yaml'), 'utf8'), before.replace('version: 0.0.1', 'version: 0.0.2'));
    assert.equal((await ok(['bm', '--minor'], dir)).stdout, 'Bumped to version 0.1.0\n');
    assert.equal((await ok(['bump', '--major', '-w', dir])).stdout, 'Bumped to version 1.0.0\n');
    assert.match(await readFile(join(dir, 'func.yaml'), 'utf8'), /^version: 1\.0\.0$/m);
    const jdir = join(work, 'bumpjson');
    await mkdir(jdir);
    await writeFile(join(jdir, 'func.json'), JSON.stringify({ name: 'j', version: '0.0.9', runtime: 'node' }, null, 2) + '\n');
    assert.deepEqual(json<{ version: string }>(await ok(['-o', 'json', 'bump'], jdir)), { name: 'j', version: '0.0.10' });
    assert.equal(await readFile(join(jdir, 'func.json'), 'utf8'), '{\n  "name": "j",\n  "version": "0.0.10",\n  "runtime": "node"\n}\n');
    await fails(['bump'], work, /no func\.yaml in/);
  });
});

describe('get logs / get call APP FN last', () => {
  test("last (or l) is the fn's newest call, as fn's logs.go; a fn without calls says so", async () => {
    const APP = `${P}-last`;
    await ok(['create', 'app', APP]);
    await ok(['create', 'fn', APP, 'echo', await fixtureImage('tester')]);
    await fails(['get', 'logs', APP, 'echo', 'last'], work, /no calls of .*\/echo yet, so no "last" call/);
    await ok(['invoke', APP, 'echo', '--body', '{"log":"first one"}']);
    const second = await ok(['invoke', APP, 'echo', '--body', '{"log":"second one"}', '--display-call-id']);
    const id = /^Call ID: ([0-9A-Z]{26})$/m.exec(second.stdout)?.[1];
    assert.ok(id, second.stdout);
    await srv.agent.flushRecords();
    for (const last of ['last', 'l']) {
      assert.match((await ok(['get', 'logs', APP, 'echo', last])).stdout, /second one/);
      assert.equal(json<{ id: string }>(await ok(['-o', 'json', 'get', 'call', APP, 'echo', last])).id, id);
    }
    assert.doesNotMatch((await ok(['logs', APP, 'echo', 'last'])).stdout, /first one/);
    await ok(['delete', 'app', APP]);
  });
});

describe('kiln init and upper-case names', () => {
  test('--name MyFunc and a directory UpDir are lower-cased, as fn init, and it says so', async () => {
    const r = await ok(['init', '--runtime', 'node', '--name', `${P}-MyFunc`]);
    const name = `${P}-myfunc`;
    assert.match(r.stdout, new RegExp(`^Function ${name} \\(runtime node\\) created in ${join(work, `${P}-MyFunc`)}:`));
    assert.match(r.stderr, new RegExp(`Function name "${P}-MyFunc" lower-cased to "${name}"`));
    assert.match(await readFile(join(work, `${P}-MyFunc`, 'func.yaml'), 'utf8'), new RegExp(`^name: ${name}$`, 'm'));
    const up = join(work, 'UpDir');
    await mkdir(up);
    await ok(['init', '--runtime', 'node'], up);
    assert.match(await readFile(join(up, 'func.yaml'), 'utf8'), /^name: updir$/m);
  });
});

describe("flags fn users' scripts pass", () => {
  test('delete app -f/-r, create trigger -t http, init --format/--init-image, unset context', async () => {
    const APP = `${P}-flags`;
    await ok(['create', 'app', APP]);
    await ok(['create', 'fn', APP, 'f1', 'img:0.0.1']);
    await ok(['create', 'trigger', APP, 'f1', 't1', '-t', 'http', '--source', '/t1']);
    await fails(['create', 'trigger', APP, 'f1', 't2', '-t', 'cron', '--source', '/t2'], work, /Trigger Type Not Supported/);
    assert.match((await ok(['delete', 'app', APP, '-f', '-r'])).stdout, new RegExp(`Successfully deleted app: ${APP}`));
    assert.equal((await call(srv.url, 'GET', `/v2/apps?name=${APP}`)).body.items.length, 0);

    const NAME = `${P}-fmt`;
    await ok(['init', '--runtime', 'node', '--name', NAME, '--format', 'http-stream']);
    await fails(['init', '--runtime', 'node', '--name', `${NAME}2`, '-f', 'lambda'], work, /--format lambda is not one Kiln has for runtime node/);
    // fn init's help lists default and http: for node they are written as http-stream.
    for (const f of ['http', 'default']) {
      const r = await ok(['init', '--runtime', 'node', '--name', `${NAME}-${f}`, '-f', f]);
      assert.match(r.stderr, new RegExp(`Format ${f} written as http-stream`));
      assert.match(await readFile(join(work, `${NAME}-${f}`, 'func.yaml'), 'utf8'), /^format: http-stream$/m);
    }
    await fails(['init', '--runtime', 'lambda-node', '--name', `${NAME}4`, '-f', 'http'], work, /--format http is not one Kiln has for runtime lambda-node/);
    // --trigger is lower-cased, as fn init does, then checked.
    await ok(['init', '--runtime', 'node', '--name', `${NAME}-trig`, '--trigger', 'HTTP']);
    assert.match(await readFile(join(work, `${NAME}-trig`, 'func.yaml'), 'utf8'), new RegExp(`- name: ${NAME}-trig\n\\s+type: http\n\\s+source: /${NAME}-trig\n`));
    await fails(['init', '--runtime', 'node', '--name', `${NAME}5`, '--trigger', 'CRON'], work, /unknown trigger type "cron"/);
    await fails(['init', '--runtime', 'node', '--init-image', 'fnproject/node:init', '--name', `${NAME}3`], work, /You can't supply --runtime with --init-image/);

    await ok(['context', 'create', 'mine', '--api-url', srv.url]);
    await ok(['context', 'use', 'mine']);
    assert.match((await ok(['unset', 'context'])).stdout, /Successfully unset current context: using "default"/);
    assert.match((await ok(['context', 'show'])).stdout, /^Current context: default$/m);
  });
});

describe("func.yaml fields Kiln does not use", () => {
  test('deploy goes on, with one warning line naming them (build_image/run_image: the local base image is used)', async () => {
    const APP = `${P}-extra`;
    const NAME = `${P}-extra`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const dir = join(work, NAME);
    const yaml = await readFile(join(dir, 'func.yaml'), 'utf8');
    await writeFile(join(dir, 'func.yaml'), `${yaml}build_image: fnproject/node:dev\nrun_image: fnproject/node\nexpects:\n  config: []\nmystery: 1\n`);
    const r = await ok(['deploy', '--app', APP, '--create-app'], dir);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    assert.deepEqual(warnings, [
      "warning: func.yaml fields Kiln does not use: build_image, run_image, expects, mystery (the build uses Kiln's local base image instead of build_image and run_image)",
    ]);
    await ok(['delete', 'app', APP]);
  });
});

describe('invoke --endpoint URL', () => {
  test("POSTs straight to that URL (the fn's invokeEndpoint), with no app/fn lookup", async () => {
    const APP = `${P}-ep`;
    await ok(['create', 'app', APP]);
    await ok(['create', 'fn', APP, 'echo', await fixtureImage('tester')]);
    const endpoint = json<Record<string, string>>(await ok(['inspect', 'fn', APP, 'echo', 'annotations']))['fnproject.io/fn/invokeEndpoint']!;
    assert.match(endpoint, new RegExp(`^${srv.url}/invoke/[0-9A-Z]{26}$`));
    // The API URL points nowhere: only the endpoint is asked.
    const r = await ok(['invoke', '--endpoint', endpoint, '--body', '{"raw":"pong"}'], work, { FN_API_URL: 'http://127.0.0.1:9' });
    assert.equal(r.stdout, 'pong\n');
    await fails(['invoke', '--endpoint', 'not a url'], work, /invalid endpoint "not a url"/);
    await fails(['invoke'], work, /missing app and function name/);
    await ok(['delete', 'app', APP]);
  });
});
