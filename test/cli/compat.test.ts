// The CLI where it follows Fn's `fn` (fnproject/cli), end to end: a real server, real Docker,
// the CLI as a subprocess. Deploy never takes another fn's trigger; func.yaml's build steps,
// a Dockerfile beside any runtime, node<version>, cmd without entrypoint and func.json;
// invoke's output; list's columns and paging; fn's flags and aliases; deploy --all's names.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliRunners, type CliRun } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { call, type TestServer } from '../helpers/server.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url)); // the CLI, for a build step
const P = `k${process.pid}`; // names (and so image names) no other test process uses

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};

const runners = cliRunners(() => env);
const ok = (args: string[], cwd: string = work, extraEnv: Record<string, string> = {}): Promise<CliRun> => runners.ok(args, cwd, extraEnv);
const { fails } = runners;

/** An app whose fn `owner` has the trigger `owned` at /shared. */
async function appWithOwnedTrigger(app: string): Promise<void> {
  await ok(['create', 'app', app]);
  await ok(['create', 'fn', app, 'owner', 'owner:0.0.1']);
  await ok(['create', 'trigger', app, 'owner', 'owned', '--source', '/shared']);
}

/** A function directory under the work dir with these files. */
async function fnDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), text);
  }
  return dir;
}

const json = <T>(r: CliRun): T => JSON.parse(r.stdout) as T;

cliWorld(P, (w) => ({ srv, work, env } = w));

describe("deploy and another fn's triggers", () => {
  test("a trigger whose source another fn's trigger has is refused, naming that fn, before anything changes", async () => {
    const APP = `${P}-trig`;
    await appWithOwnedTrigger(APP);
    const funcYaml = [
      `name: ${P}-taker`,
      'version: 0.0.1',
      'runtime: node',
      'entrypoint: node func.js',
      'triggers:',
      '  - name: owned',
      '    type: http',
      '    source: /shared',
      '',
    ].join('\n');
    const dir = await fnDir('taker', { 'func.yaml': funcYaml, 'func.js': '' });
    await fails(['deploy', '--app', APP], dir, new RegExp(`cannot deploy ${P}-taker to app ${APP}: trigger owned \\(http /shared\\): fn "owner"'s trigger owned has that source\n.*Nothing was changed`));
    assert.equal(await readFile(join(dir, 'func.yaml'), 'utf8'), funcYaml, 'the version is not bumped');
    const fns = json<Array<{ name: string; id: string }>>(await ok(['-o', 'json', 'list', 'fns', APP]));
    assert.deepEqual(fns.map((f) => f.name), ['owner'], 'no fn was created');
    const t = json<{ fn_id: string; source: string }>(await ok(['inspect', 'trigger', APP, 'owner', 'owned']));
    assert.deepEqual(t, { ...t, fn_id: fns[0]!.id, source: '/shared' }, "the other fn's trigger is as it was");
    await ok(['delete', 'app', APP]);
  });
});

describe("func.yaml's build steps", () => {
  test('run with /bin/sh in the directory before the image build; a failing one stops it with its exit code', async () => {
    const dir = await fnDir('steps', {
      'func.yaml': `name: ${P}-steps\nversion: 0.0.1\nruntime: node\nentrypoint: node func.js\nbuild:\n  - echo made > made.txt; echo step-output\n  - exit 7\n`,
      'func.js': '',
    });
    const r = await fails(['build'], dir, /build step 2\/2 failed: `exit 7` exited with code 7/);
    assert.match(r.stderr, /step-output/);
    assert.doesNotMatch(r.stderr, /Building image/, 'no image build was started');
    assert.equal(await readFile(join(dir, 'made.txt'), 'utf8'), 'made\n');
  });
});

describe('a Dockerfile beside a runtime other than docker', () => {
  test('is the build, as fn; what the build steps made is in it', async () => {
    const dir = await fnDir('df', {
      'func.yaml': `name: ${P}-df\nversion: 0.0.1\nruntime: node\nentrypoint: node func.js\nbuild:\n  - echo from-step > step.txt\n`,
      'func.js': '',
      Dockerfile: 'FROM kiln/node:latest\nENV FROM_DOCKERFILE=yes\nCOPY step.txt /step.txt\n',
    });
    const r = await ok(['build'], dir);
    assert.match(r.stderr, /Building image .*-df:0\.0\.1 \(dockerfile\)/);
    const info = await docker().getImage(`${P}-df:0.0.1`).inspect();
    assert.ok((info.Config.Env ?? []).includes('FROM_DOCKERFILE=yes'), 'built from the directory\'s Dockerfile');
  });
});

describe('cmd without entrypoint', () => {
  test('is accepted; with neither, deploy --create-app fails before the app is created', async () => {
    const APP = `${P}-noep`;
    const dir = await fnDir('noep', { 'func.yaml': `name: ${P}-noep\nversion: 0.0.1\nruntime: node\n`, 'func.js': '' });
    await fails(['deploy', '--app', APP, '--create-app'], dir, /bad func\.yaml: no entrypoint and no cmd in /);
    await fails(['inspect', 'app', APP], dir, /app ".*-noep" not found/);
  });
});

describe("a func.json with Fn's node20 and cmd (no entrypoint)", () => {
  test("deploys and answers (invoke's output as fn's); the version is bumped in func.json", async () => {
    const APP = `${P}-json`;
    const NAME = `${P}-json`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const dir = join(work, NAME);
    await rm(join(dir, 'func.yaml'));
    await writeFile(join(dir, 'func.json'), JSON.stringify({ schema_version: 20180708, name: NAME, version: '0.0.1', runtime: 'node20', cmd: 'node func.js' }));
    const r = await ok(['deploy', '--app', APP, '--create-app'], dir);
    assert.match(r.stdout, new RegExp(`Successfully created function: ${NAME} with ${NAME}:0.0.2`));
    assert.equal(JSON.parse(await readFile(join(dir, 'func.json'), 'utf8')).version, '0.0.2');
    assert.match((await ok(['invoke', APP, NAME], dir)).stdout, /^\{"message":"Hello World"\}/);

    // invoke as fn's: the call id on stdout before the body, a newline after it; --method is accepted and ignored.
    const r2 = await ok(['invoke', APP, NAME, '--display-call-id', '--method', 'GET', '--body', '{"name":"Fn"}'], dir);
    assert.match(r2.stdout, /^Call ID: [0-9A-Z]{26}\n\{"message":"Hello Fn"\}\n$/);
    assert.match(r2.stderr, /--method GET is ignored/);
    await ok(['delete', 'app', APP]);
  });
});

describe('npm dependencies vendored from Kiln', () => {
  test('a range the bundled version does not satisfy fails the deploy before anything changes', async () => {
    const APP = `${P}-npm`;
    const dir = await fnDir('npm', {
      'func.yaml': `name: ${P}-npm\nversion: 0.0.1\nruntime: node\nentrypoint: node func.js\n`,
      'func.js': '',
      'package.json': JSON.stringify({ name: 'x', dependencies: { '@fnproject/fdk': '>=0.0.13', yaml: '^1.10.0' } }),
    });
    const r = await fails(['deploy', '--app', APP, '--create-app'], dir, /package\.json wants yaml@\^1\.10\.0, but Kiln bundles yaml 2\./);
    assert.match(r.stderr, /no registry/);
    await fails(['inspect', 'app', APP], dir, /not found/);
  });
});

describe("list, as fn's", () => {
  const APP = `${P}-list`;
  test("fns: NAME IMAGE ID (then FORMAT), so awk '{print $3}' is the id; -n/--n and --cursor", async () => {
    await ok(['create', 'app', APP]);
    for (const f of ['fa', 'fb', 'fc']) await ok(['create', 'fn', APP, f, `${f}:0.0.1`]);
    const all = json<Array<{ name: string; id: string; app_id: string }>>(await ok(['-o', 'json', 'list', 'fns', APP]));
    const out = (await ok(['list', 'fns', APP])).stdout;
    assert.match(out, /^NAME\s+IMAGE\s+ID\s+FORMAT\n/);
    const third = out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[2]);
    assert.deepEqual(third, all.map((f) => f.id));

    assert.deepEqual(json<Array<{ name: string }>>(await ok(['-o', 'json', 'list', 'fns', APP, '-n', '2'])).map((f) => f.name), ['fa', 'fb']);
    assert.deepEqual(json<Array<{ name: string }>>(await ok(['-o', 'json', 'list', 'fns', APP, '--n', '1'])).map((f) => f.name), ['fa']);
    const page = await call<{ next_cursor: string }>(srv.url, 'GET', `/v2/fns?app_id=${all[0]!.app_id}&per_page=1`);
    const fromCursor = json<Array<{ name: string }>>(await ok(['-o', 'json', 'list', 'fns', APP, '--cursor', page.body.next_cursor]));
    assert.deepEqual(fromCursor.map((f) => f.name), ['fb', 'fc']);
    assert.ok(json<unknown[]>(await ok(['-o', 'json', 'list', 'apps', '-n', '1'])).length === 1);
  });
  test('triggers APP FN: NAME ID TYPE SOURCE ENDPOINT; triggers APP: FUNCTION first', async () => {
    await ok(['create', 'trigger', APP, 'fa', 'ta', '--source', '/ta']);
    await ok(['create', 'trigger', APP, 'fb', 'tb', '--source', '/tb']);
    const one = (await ok(['list', 'triggers', APP, 'fa'])).stdout;
    assert.match(one, new RegExp(`^NAME\\s+ID\\s+TYPE\\s+SOURCE\\s+ENDPOINT\nta\\s+[0-9A-Z]{26}\\s+http\\s+/ta\\s+${srv.url}/t/${APP}/ta\n$`));
    const app = (await ok(['list', 'triggers', APP])).stdout;
    assert.match(app, /^FUNCTION\s+NAME\s+ID\s+TYPE\s+SOURCE\s+ENDPOINT\nfa\s+ta\s+.*\nfb\s+tb\s/);
    assert.equal(json<unknown[]>(await ok(['-o', 'json', 'list', 'triggers', APP, '-n', '1'])).length, 1);
    await ok(['delete', 'app', APP]);
  });
});

describe("fn's flags and names", () => {
  test('create|update fn -c/--config, update fn --image, and the aliases func, funcs, fs, trig, trigs', async () => {
    const APP = `${P}-flags`;
    await ok(['create', 'app', APP, '-c', 'APPKEY=1']);
    await ok(['create', 'func', APP, 'f1', 'img:0.0.1', '-c', 'A=1', '--config', 'B=2']);
    await ok(['update', 'func', APP, 'f1', '--image', 'img:0.0.2', '-c', 'C=3']);
    const fn = json<{ image: string; config: Record<string, string> }>(await ok(['inspect', 'func', APP, 'f1']));
    assert.equal(fn.image, 'img:0.0.2');
    assert.deepEqual(fn.config, { A: '1', B: '2', C: '3' });
    await fails(['update', 'fn', APP, 'f1', 'img:0.0.3', '--image', 'img:0.0.4'], work, /two images given/);
    for (const alias of ['funcs', 'fs']) assert.match((await ok(['list', alias, APP])).stdout, /^f1\s+img:0\.0\.2\s/m);
    await ok(['create', 'trig', APP, 'f1', 't1', '--source', '/t1']);
    assert.match((await ok(['list', 'trigs', APP, 'f1'])).stdout, /^t1\s/m);
    assert.deepEqual(json<{ config: Record<string, string> }>(await ok(['inspect', 'app', APP])).config, { APPKEY: '1' });
    await ok(['delete', 'func', APP, 'f1']);
    await ok(['delete', 'app', APP]);
  });
});

describe("deploy and the fn's own triggers", () => {
  test('func.yaml swapping sources between two of its triggers deploys (each keeps its id); a source an unlisted one keeps is refused first', async () => {
    const APP = `${P}-swap`;
    const NAME = `${P}-swap`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const dir = join(work, NAME);
    const head = (await readFile(join(dir, 'func.yaml'), 'utf8')).replace(/\ntriggers:[\s\S]*$/, '\n');
    const withTriggers = (list: string) => writeFile(join(dir, 'func.yaml'), `${head}triggers:\n${list}\n`);
    const triggers = async () => json<Array<{ id: string; name: string; source: string }>>(await ok(['-o', 'json', 'list', 'triggers', APP, NAME]))
      .map((t) => `${t.name} ${t.source} ${t.id}`).sort();
    await withTriggers('- {name: a, source: /x}\n- {name: b, source: /y}');
    await ok(['deploy', '--app', APP, '--create-app', '--no-bump'], dir);
    const before = await triggers();
    const id = (name: string) => before.find((l) => l.startsWith(`${name} `))!.split(' ')[2];
    await withTriggers('- {name: a, source: /y}\n- {name: b, source: /x}');
    const r = await ok(['deploy', '--app', APP, '--no-bump'], dir);
    assert.match(r.stderr, /Updated trigger a \(http \/y\)\nUpdated trigger b \(http \/x\)/);
    assert.deepEqual(await triggers(), [`a /y ${id('a')}`, `b /x ${id('b')}`]);
    // One the fn keeps because func.yaml no longer lists it holds /x: refused before the build.
    await withTriggers('- {name: a, source: /x}');
    const refused = await fails(['deploy', '--app', APP, '--no-bump'], dir, /trigger a \(http \/x\): fn "[^"]+"'s trigger b, which func\.yaml does not list \(deploy keeps such triggers\), has that source/);
    assert.doesNotMatch(refused.stderr, /Deploying/, 'nothing was built');
    assert.deepEqual(await triggers(), [`a /y ${id('a')}`, `b /x ${id('b')}`]);
    await ok(['delete', 'app', APP]);
  });
});

describe('deploy --all', () => {
  test("names a function without name: by its path under the app's root (api/users -> api-users)", async () => {
    const APP = `${P}-all`;
    await appWithOwnedTrigger(APP);
    // The clash with another fn's trigger stops it before any build, with the name it was given.
    const root = await fnDir('allroot', {
      'app.yaml': `name: ${APP}\n`,
      'api/users/func.yaml': 'version: 0.0.1\nruntime: node\nentrypoint: node func.js\ntriggers:\n  - name: t\n    type: http\n    source: /shared\n',
    });
    await fails(['deploy', '--all'], root, new RegExp(`deploy --all: api/users: cannot deploy api-users to app ${APP}:`));
    await ok(['delete', 'app', APP]);
  });
});

describe("deploy --all and the app's triggers on the server", () => {
  /** An app root with app.yaml and, per entry, a node function (kiln init's) with these func.yaml lines added. */
  async function appRoot(name: string, app: string, fns: Record<string, string>): Promise<string> {
    const root = await fnDir(name, { 'app.yaml': `name: ${app}\n` });
    for (const [dir, extra] of Object.entries(fns)) {
      await ok(['init', '--runtime', 'node', '--name', `${app}-${dir}`, dir], root);
      const yaml = (await readFile(join(root, dir, 'func.yaml'), 'utf8')).replace(/\ntriggers:[\s\S]*$/, '\n');
      await writeFile(join(root, dir, 'func.yaml'), `${yaml}${extra}`);
    }
    return root;
  }
  const trigger = (source: string) => `triggers:\n- {name: t, source: ${source}}\n`;

  test("a source another fn of the app has on the server stops the run before anything is built or changed", async () => {
    const APP = `${P}-allsrv`;
    await appWithOwnedTrigger(APP);
    const root = await appRoot('allsrv', APP, { a: trigger('/a'), b: trigger('/shared') });
    const r = await fails(['deploy', '--all'], root, new RegExp(`^Error: deploy --all: b: cannot deploy ${APP}-b to app ${APP}: trigger t \\(http /shared\\): fn "owner"'s trigger owned has that source\nNothing was changed\\.`));
    assert.doesNotMatch(r.stderr, /Deploying|== a/, 'nothing was built or deployed');
    assert.deepEqual(json<Array<{ name: string }>>(await ok(['-o', 'json', 'list', 'fns', APP])).map((f) => f.name), ['owner']);
    await ok(['delete', 'app', APP]);
  });

  test('a clash that appears mid-run (a build step takes the source): the hint says what was deployed, never "Nothing was changed"', async () => {
    const APP = `${P}-late`;
    await appWithOwnedTrigger(APP);
    // a's build step gives the owner fn the source b wants, after the check before the run.
    const take = (source: string, name: string) => `build:\n- '"${process.execPath}" "${MAIN}" create trigger ${APP} owner ${name} --source ${source}'\n`;
    const root = await appRoot('late', APP, { a: take('/late', 'late'), b: trigger('/late') });
    const r = await fails(['deploy', '--all'], root, /^Error: deploying b: cannot deploy .*-b to app .*: trigger t \(http \/late\): fn "owner"'s trigger late has that source\n/m);
    assert.match(r.stderr, /\nGive the trigger another source in func\.yaml, .*\nThe 1 before it were deployed\.\n$/);
    assert.doesNotMatch(r.stderr, /Nothing was changed/);
    // A single deploy whose own build step takes its source: found after the build and the fn's create.
    const one = join(await appRoot('late1', APP, { c: `${take('/late2', 'late2')}${trigger('/late2')}` }), 'c');
    const r1 = await fails(['deploy', '--app', APP], one, /trigger t \(http \/late2\): fn "owner"'s trigger late2 has that source\n/);
    assert.match(r1.stderr, new RegExp(`\\nFunction ${APP}-c was created with ${APP}-c:0\\.0\\.2; its triggers were not changed\\. Give the trigger`));
    assert.doesNotMatch(r1.stderr, /Nothing was changed/);
    await ok(['delete', 'app', APP]);
  });
});

describe("deploy's names under the app's directory", () => {
  test('two directories that would deploy one fn stop deploy --all before anything changes', async () => {
    const APP = `${P}-twice`;
    const fn = 'version: 0.0.1\nruntime: node\nentrypoint: node func.js\n';
    const root = await fnDir('twice', { 'app.yaml': `name: ${APP}\n`, 'api/users/func.yaml': fn, 'api-users/func.yaml': fn });
    await fails(['deploy', '--all', '--create-app'], root, /deploy --all: api-users and api\/users would both deploy fn api-users/);
    assert.equal((await call(srv.url, 'GET', `/v2/apps?name=${APP}`)).body.items.length, 0, 'the app was not created');
  });

  test('a bad trigger in any func.yaml, or two fns at one source, stop deploy --all before anything changes', async () => {
    const APP = `${P}-alltrig`;
    const fn = (source: string) => `version: 0.0.1\nruntime: node\nentrypoint: node func.js\ntriggers:\n  - name: t\n    type: http\n    source: ${source}\n`;
    const clash = await fnDir('alltrig', { 'app.yaml': `name: ${APP}\n`, 'a/func.yaml': fn('/same'), 'b/func.yaml': fn('/same') });
    await fails(['deploy', '--all', '--create-app'], clash, /deploy --all: a and b both have a trigger at \/same/);
    const bad = await fnDir('allbad', { 'app.yaml': `name: ${APP}\n`, 'a/func.yaml': fn('/a'), 'b/func.yaml': fn('no-slash') });
    await fails(['deploy', '--all', '--create-app'], bad, /bad func\.yaml/);
    assert.equal((await call(srv.url, 'GET', `/v2/apps?name=${APP}`)).body.items.length, 0, 'the app was not created, nothing was built');
  });

  test("--all DIR names by the path under app.yaml's directory, never as the root fn; a single deploy there is <app>-root", async () => {
    const APP = `${P}-sub`;
    const NAME = `${P}-sub-src`;
    await ok(['init', '--runtime', 'node', '--name', NAME]);
    const src = join(work, NAME);
    const code = await readFile(join(src, 'func.js'), 'utf8');
    const pkg = await readFile(join(src, 'package.json'), 'utf8');
    const fn = 'version: 0.0.1\nruntime: node\nentrypoint: node func.js\n';
    const root = await fnDir('sub', { 'app.yaml': `name: ${APP}\n`, 'func.yaml': fn, 'func.js': code, 'package.json': pkg, 'api/func.yaml': fn, 'api/func.js': code, 'api/package.json': pkg });
    await ok(['deploy', '--all', 'api', '--create-app', '--local'], root);
    const names = async () => json<Array<{ name: string }>>(await ok(['-o', 'json', 'list', 'fns', APP])).map((f) => f.name).sort();
    assert.deepEqual(await names(), ['api']);
    await ok(['deploy', '--local'], root);
    assert.deepEqual(await names(), ['api', `${APP}-root`]);
    // Run from elsewhere (-w): the directory's name, as fn's (its root name needs dir == wd).
    await ok(['deploy', '--local', '-w', root], work);
    assert.deepEqual(await names(), ['api', `${APP}-root`, 'sub']);
    await ok(['delete', 'app', APP]);
    for (const tag of ['api:0.0.2', `${APP}-root:0.0.2`, 'sub:0.0.3']) await docker().getImage(tag).remove().catch(() => {});
  });

  test('build: steps that were to bring a dependency, and did not: no app is created (the build runs first, as fn)', async () => {
    const APP = `${P}-nodep`;
    const dir = await fnDir('nodep', {
      'func.yaml': 'name: nodep\nversion: 0.0.1\nruntime: node\nentrypoint: node func.js\nbuild:\n  - echo step ran\n',
      'func.js': '',
      'package.json': JSON.stringify({ dependencies: { 'no-such-package-kiln': '^1.0.0' } }),
    });
    await fails(['deploy', '--app', APP, '--create-app', '--local'], dir, /no-such-package-kiln@\^1\.0\.0, which Kiln does not bundle/);
    assert.equal((await call(srv.url, 'GET', `/v2/apps?name=${APP}`)).body.items.length, 0, 'the app was not created');
  });
});

describe('invoke and binary answers', () => {
  test("the answer's bytes go to stdout as they came, as fn's io.Copy (a newline after them)", async () => {
    const APP = `${P}-bin`;
    await ok(['create', 'app', APP]);
    await ok(['create', 'fn', APP, 'bin', await fixtureImage('tester')]);
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x80, 0xc3]);
    const r = await ok(['invoke', APP, 'bin', '--body', JSON.stringify({ b64: bytes.toString('base64') })]);
    assert.deepEqual(r.stdoutBytes, Buffer.concat([bytes, Buffer.from('\n')]));
    await ok(['delete', 'app', APP]);
  });
});
