// `kiln deploy` with an app.yaml (Fn's app file) and `kiln build`/`deploy` with --build-arg
// and --no-cache, end to end: a real server, real Docker, the CLI as a subprocess. The app's
// config and annotations are read back through the API; build args reach a Dockerfile's ARG
// and the function answers with the value; --no-cache is seen in the images the engine makes.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { cliRunners } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { docker, fixtureDir } from '../helpers/images.js';
import { call, type TestServer } from '../helpers/server.js';

const P = `y${process.pid}`; // names (and so image names) no other test process uses
const client = docker();

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};

const { ok, fails } = cliRunners(() => env);

interface ApiApp {
  id: string;
  name: string;
  config?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

/** The app of that name through the API, or undefined. */
async function apiApp(name: string): Promise<ApiApp | undefined> {
  const r = await call<{ items: ApiApp[] }>(srv.url, 'GET', `/v2/apps?name=${encodeURIComponent(name)}`);
  assert.equal(r.status, 200);
  return r.body.items.find((a) => a.name === name);
}

async function apiFn(appId: string, name: string): Promise<{ image: string } | undefined> {
  const r = await call<{ items: Array<{ name: string; image: string }> }>(srv.url, 'GET', `/v2/fns?app_id=${appId}&name=${name}`);
  return r.body.items.find((f) => f.name === name);
}

cliWorld(P, (w) => ({ srv, work, env } = w));

describe('app.yaml', () => {
  const APP = `${P}-yapp`;
  const root = (): string => join(work, 'app');

  test('deploy --all takes the app name from app.yaml and sets its config and annotations (created with --create-app)', async () => {
    await mkdir(root());
    await ok(['init', '--runtime', 'node', '--name', `${P}-a`, 'a'], root());
    await writeFile(
      join(root(), 'app.yaml'),
      `# the app\nname: ${APP}\nconfig:\n  GREETING: hola\n  RETRIES: 3\nannotations:\n  example.com/team: web\n  example.com/limits: {"max": 2}\n`,
    );
    // As fn: a missing app is created only with --create-app.
    await fails(['deploy', '--all'], root(), new RegExp(`app "${APP}" not found .*\\n.*--create-app`));
    assert.equal(await apiApp(APP), undefined);

    const r = await ok(['deploy', '--all', '--create-app'], root());
    assert.match(r.stderr, new RegExp(`Creating app ${APP} from .*app\\.yaml \\(config GREETING, RETRIES; annotations example\\.com/team, example\\.com/limits\\)`));
    assert.match(r.stdout, new RegExp(`Successfully created function: ${P}-a with ${P}-a:0.0.2`));
    const app = await apiApp(APP);
    assert.ok(app, 'the app exists');
    assert.deepEqual(app.config, { GREETING: 'hola', RETRIES: '3' });
    assert.deepEqual(app.annotations, { 'example.com/team': 'web', 'example.com/limits': { max: 2 } });
    assert.ok(await apiFn(app.id, `${P}-a`), 'the fn is in the app app.yaml names');

    // An existing app gets app.yaml's fields on each deploy, merged (as fn): a changed value
    // and a new key; a key app.yaml no longer lists stays.
    await writeFile(join(root(), 'app.yaml'), `name: ${APP}\nconfig:\n  GREETING: hello\n  EXTRA: "yes"\n`);
    const r2 = await ok(['deploy', '--all', '--no-bump'], root());
    assert.match(r2.stderr, new RegExp(`Updating app ${APP} from .*app\\.yaml \\(config GREETING, EXTRA\\)`));
    assert.deepEqual((await apiApp(APP))!.config, { GREETING: 'hello', RETRIES: '3', EXTRA: 'yes' });
  });

  test('--app wins over app.yaml\'s name, and app.yaml\'s config goes to that app; [dir] names a function under it', async () => {
    const other = `${P}-other`;
    const r = await ok(['deploy', '--app', other, '--create-app', '--no-bump', 'a'], root());
    assert.match(r.stderr, new RegExp(`--app wins over the name in .*app\\.yaml \\(${APP}\\)`));
    const app = await apiApp(other);
    assert.ok(app);
    assert.deepEqual(app.config, { GREETING: 'hello', EXTRA: 'yes' });
    assert.ok(await apiFn(app.id, `${P}-a`));
    await ok(['delete', 'app', other], root());
  });

  test('a malformed app.yaml is named in a clear error, exit 1, and nothing changes', async () => {
    const funcYaml = await readFile(join(root(), 'a', 'func.yaml'), 'utf8');
    const was = await apiApp(APP);
    const cases: Array<[string, RegExp]> = [
      ['name: [oops\n', /bad app file .*\/app\/app\.yaml: not valid YAML \(line 2, column 1\)/],
      [`name: ${APP}\nconfig: [A, B]\n`, /bad app file .*app\.yaml: config must be a map of KEY: value/],
      ['name: {x: 1}\n', /bad app file .*app\.yaml: name must be a string/],
      ['- just\n- a list\n', /bad app file .*app\.yaml: it must be a map of fields/],
    ];
    for (const [text, re] of cases) {
      await writeFile(join(root(), 'app.yaml'), text);
      const r = await fails(['deploy', '--all', '--create-app'], root(), re);
      assert.match(r.stderr, /\nFix it: e\.g\./);
      // A single deploy in the app's directory reads it too, as fn.
      await fails(['deploy', '--app', APP, 'a'], root(), re);
    }
    assert.equal(await readFile(join(root(), 'a', 'func.yaml'), 'utf8'), funcYaml, 'no version bump');
    assert.deepEqual(await apiApp(APP), was, 'the app is as it was');
    assert.equal((await apiFn(was!.id, `${P}-a`))!.image, `${P}-a:0.0.2`);
  });

  test('deploy --all without an app file, or with no name anywhere, says what to do', async () => {
    await rm(join(root(), 'app.yaml'));
    await fails(['deploy', '--all', '--app', APP], root(), /no app\.yaml in .*\/app\n.*put an app\.yaml/);
    await fails(['deploy', 'a'], root(), /no app name: give --app APP\n/);
    await writeFile(join(root(), 'app.yml'), 'config:\n  A: b\n');
    await fails(['deploy', '--all'], root(), /no app name: .*app\.yml has no "name:" and --app is not given/);
    await rm(join(root(), 'app.yml'));
    // app.json is read too (the third of fn's names).
    await writeFile(join(root(), 'app.json'), JSON.stringify({ name: APP, config: { FROM_JSON: '1' } }));
    await ok(['deploy', '--all', '--no-bump'], root());
    assert.equal((await apiApp(APP))!.config?.FROM_JSON, '1');
    await ok(['delete', 'app', APP], root());
  });
});

describe('--build-arg and --no-cache', () => {
  const NAME = `${P}-args`;
  const APP = `${P}-args-app`;
  const dir = (): string => join(work, 'args');

  before(async () => {
    await mkdir(dir());
    // The tester fixture (Fn's http-stream contract, no FDK) echoes the vars ECHO_ENV names.
    await copyFile(join(fixtureDir('tester'), 'func.js'), join(dir(), 'func.js'));
    await writeFile(join(dir(), 'func.yaml'), `schema_version: 20180708\nname: ${NAME}\nversion: 0.0.1\nruntime: docker\n`);
    await writeFile(
      join(dir(), 'Dockerfile'),
      [
        'FROM kiln/node:latest',
        'ARG GREETING=unset',
        'ENV GREETING=$GREETING ECHO_ENV=GREETING',
        // A layer whose content differs each time the step really runs.
        'RUN ["node", "-e", "require(\'fs\').writeFileSync(\'/tmp/stamp\', String(process.hrtime.bigint()))"]',
        'COPY func.js /function/',
        'WORKDIR /function',
        'ENTRYPOINT ["node", "func.js"]',
        '',
      ].join('\n'),
    );
  });

  const image = async (tag: string): Promise<{ id: string; layers: string[] }> => {
    const info = await client.getImage(tag).inspect();
    return { id: info.Id, layers: info.RootFS.Layers ?? [] };
  };

  test("a Dockerfile's ARG gets --build-arg's value (build and deploy); the function answers with it", async () => {
    const b = await ok(['build', '--build-arg', 'GREETING=hi', '--build-arg', 'UNUSED=1'], dir());
    assert.match(b.stderr, /Building image .* \(dockerfile; build args GREETING, UNUSED\)/);
    assert.match(b.stderr, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
    const env0 = ((await client.getImage(`${NAME}:0.0.1`).inspect()).Config.Env ?? []) as string[];
    assert.ok(env0.includes('GREETING=hi'), env0.join(' '));

    // KEY alone takes its value from the environment, as docker build.
    await ok(['deploy', '--app', APP, '--create-app', '--build-arg', 'GREETING'], dir(), { GREETING: 'from the environment' });
    let answer = JSON.parse((await ok(['invoke', APP, NAME], dir())).stdout) as { env: Record<string, string> };
    assert.equal(answer.env.GREETING, 'from the environment');

    await ok(['deploy', '--app', APP, '--build-arg', 'GREETING=hi there'], dir());
    answer = JSON.parse((await ok(['invoke', APP, NAME], dir())).stdout) as { env: Record<string, string> };
    assert.equal(answer.env.GREETING, 'hi there');
    await ok(['delete', 'app', APP], dir());
  });

  test('--no-cache rebuilds every step (new layers); without it the second build is all cache', async () => {
    const version = /^version: (\S+)$/m.exec(await readFile(join(dir(), 'func.yaml'), 'utf8'))![1];
    const tag = `${NAME}:${version}`;
    await ok(['build'], dir());
    const first = await image(tag);
    const cached = await ok(['build', '-v'], dir());
    assert.match(cached.stderr, /Using cache/);
    assert.deepEqual(await image(tag), first, 'a cached build makes the same image');

    const fresh = await ok(['build', '--no-cache', '-v'], dir());
    assert.match(fresh.stderr, /\(dockerfile; no cache\)/);
    assert.doesNotMatch(fresh.stderr, /Using cache/);
    const a = await image(tag);
    await ok(['build', '--no-cache'], dir());
    const b = await image(tag);
    assert.notEqual(a.id, first.id);
    assert.notEqual(b.id, a.id);
    // The RUN step ran again each time: its layer (the first above the base's; layers are
    // content digests) changed, while the base's layers stayed.
    const base = (await client.getImage('kiln/node:latest').inspect()).RootFS.Layers ?? [];
    assert.deepEqual(a.layers.slice(0, base.length), base);
    assert.equal(a.layers.length, first.layers.length);
    assert.notEqual(a.layers[base.length], first.layers[base.length]);
    assert.notEqual(b.layers[base.length], a.layers[base.length]);

    // deploy passes it on too.
    const d = await ok(['deploy', '--app', APP, '--create-app', '--no-bump', '--no-cache', '-v'], dir());
    assert.doesNotMatch(d.stderr, /Using cache/);
    await ok(['delete', 'app', APP], dir());
  });

  test('bad --build-arg values exit 1 before anything is built', async () => {
    await fails(['build', '--build-arg', '=x'], dir(), /--build-arg "=x" is not KEY=VALUE\n.*e\.g\. --build-arg GREETING=hello/);
    await fails(['deploy', '--app', APP, '--build-arg', ''], dir(), /--build-arg "" is not KEY=VALUE/);
    assert.match(await readFile(join(dir(), 'func.yaml'), 'utf8'), /^version: 0\.0\.3$/m);
  });

  test('node runtime: build args are passed but its generated Dockerfile uses none, and build says so', async () => {
    const n = join(work, 'noderun');
    await ok(['init', '--runtime', 'node', '--name', `${P}-node`, n], work);
    const r = await ok(['build', '--build-arg', 'GREETING=hi'], n);
    assert.match(r.stderr, /note: the node runtime's generated Dockerfile declares no ARG, so the build args are not used/);
  });
});
