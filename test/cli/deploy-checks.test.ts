// What `kiln deploy` checks and says before it bumps, builds or changes anything, end to end
// (a real server, real Docker, the CLI as a subprocess): a tag another app's fn runs (a
// warning), func.yaml's config and annotations the server would refuse, a trigger source no
// client can reach, deploy --all's checks of every function before it creates the app, and
// what `kiln init` writes (a name with a dot, a version no image can carry). Then small ones:
// `kiln calls get FN` for an app named "get", a broken config.yaml named.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliRunners } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { docker } from '../helpers/images.js';
import { call, type TestServer } from '../helpers/server.js';

const P = `dc${process.pid}`; // names (and so image names) no other test process uses
const client = docker();

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};

const { kiln, ok, fails } = cliRunners(() => env);

cliWorld(P, (w) => ({ srv, work, env } = w));

async function apiApp(name: string): Promise<{ id: string } | undefined> {
  const r = await call<{ items: Array<{ id: string; name: string }> }>(srv.url, 'GET', `/v2/apps?name=${encodeURIComponent(name)}`);
  return r.body.items.find((a) => a.name === name);
}

async function apiFns(appId: string): Promise<Array<{ name: string; image: string; annotations: Record<string, unknown> }>> {
  return (await call(srv.url, 'GET', `/v2/fns?app_id=${appId}`)).body.items;
}

const imageExists = (tag: string): Promise<boolean> => client.getImage(tag).inspect().then(() => true, () => false);

const versionOf = async (dir: string): Promise<string> => /^version: (.*)$/m.exec(await readFile(join(dir, 'func.yaml'), 'utf8'))![1]!;

/** A node function in work/<sub> named `name` (init's template), with `extra` appended to its func.yaml. */
async function fnDir(sub: string, name: string, extra = ''): Promise<string> {
  await ok(['init', '--runtime', 'node', '--name', name, sub], work);
  const dir = join(work, sub);
  if (extra) await writeFile(join(dir, 'func.yaml'), (await readFile(join(dir, 'func.yaml'), 'utf8')) + extra);
  return dir;
}

describe('deploy: one image tag in two apps', () => {
  test("a fn of the same name in another app with the very tag about to be built is named in a warning, with a registry prefix or without; a prefix of its own avoids it", async () => {
    const name = `${P}-hello`;
    const a = await fnDir('team-a', name);
    const b = await fnDir('team-b', name);
    const first = await ok(['deploy', '--app', `${P}-pa`, '--create-app'], a);
    assert.doesNotMatch(first.stderr, /warning: image/);
    // Team B's first deploy builds the same name:version over team A's.
    const r = await ok(['deploy', '--app', `${P}-pb`, '--create-app'], b);
    assert.match(r.stderr, new RegExp(`warning: image ${name}:0\\.0\\.2 is also the image of fn ${P}-pa/${name}: this build replaces that tag, so that fn runs this code from its next call\\n  To keep apps' images apart, give each app \\(or team\\) its own prefix: --registry PREFIX, FN_REGISTRY, or a context's registry`));
    assert.ok(r.stderr.indexOf('warning: image') < r.stderr.indexOf('Building image'), 'the warning comes before the build');
    // Not refused: the same function in two apps on purpose (--no-bump) is legitimate.
    assert.match(r.stdout, new RegExp(`Successfully created function: ${name} with ${name}:0\\.0\\.2`));
    // A redeploy to its own app is no warning for that app; with a prefix, no warning at all.
    const again = await ok(['deploy', '--app', `${P}-pb`, '--no-bump'], b);
    assert.match(again.stderr, new RegExp(`is also the image of fn ${P}-pa/${name}:`));
    assert.doesNotMatch(again.stderr, new RegExp(`fn ${P}-pb/`));
    const prefixed = await ok(['deploy', '--app', `${P}-pb`, '--registry', `${P}-teamb`], b);
    assert.doesNotMatch(prefixed.stderr, /warning: image/);
    assert.match(prefixed.stdout, new RegExp(`with ${P}-teamb/${name}:0\\.0\\.3`));
    // One prefix for all (FN_REGISTRY set once): team A's next deploy is that very tag, and is named.
    const shared = await ok(['deploy', '--app', `${P}-pa`], a, { FN_REGISTRY: `${P}-teamb` });
    assert.match(shared.stderr, new RegExp(`warning: image ${P}-teamb/${name}:0\\.0\\.3 is also the image of fn ${P}-pb/${name}: this build replaces that tag`));
    assert.match(shared.stderr, new RegExp(`To keep apps' images apart, give each app \\(or team\\) its own prefix \\(e\\.g\\. --registry ${P}-teamb/${P}-pa\\), or the fn another name in func\\.yaml\\.`));
  });
});

describe('deploy: what the server would refuse is refused before the bump and the build', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['a config key with "=" and a space', 'config:\n  "BAD KEY=": x\n', /bad func\.yaml: .*func\.yaml: config key "BAD KEY=" is refused by the server: config keys must be non-empty and hold no "="/],
    ['an empty annotation key', 'annotations:\n  "": 1\n', /bad func\.yaml: .*func\.yaml: annotation "": Invalid annotation key/],
    ['an empty annotation value on a new fn', 'annotations:\n  team: ""\n', /annotation "team": Invalid annotation value, .*on a new fn/],
  ];
  for (const [i, [what, extra, re]] of cases.entries()) {
    test(what, async () => {
      const name = `${P}-bad${i}`;
      // init writes no config (and an older one's config: {} is taken out): the key is func.yaml's only config.
      const dir = await fnDir(`bad${i}`, name);
      const text = (await readFile(join(dir, 'func.yaml'), 'utf8')).replace(/^config: \{\}\n/m, '');
      await writeFile(join(dir, 'func.yaml'), text + extra);
      for (let n = 0; n < 2; n++) {
        const r = await fails(['deploy', '--app', `${P}-refused`, '--create-app'], dir, re);
        assert.match(r.stderr, /Fix it in func\.yaml; nothing was bumped, built or changed\./);
        assert.doesNotMatch(r.stderr, /Building image|Creating app/);
      }
      assert.equal(await versionOf(dir), '0.0.1', 'no retry bumped it');
      assert.equal(await imageExists(`${name}:0.0.2`), false, 'nothing was built');
      assert.equal(await apiApp(`${P}-refused`), undefined, 'no app was created');
    });
  }

  test('an app name the server refuses, with --create-app or without, with its message; a fn name too long too', async () => {
    const name = `${P}-appname`;
    const dir = await fnDir('appname', name);
    const long = 'a'.repeat(256);
    const cases: Array<[string[], RegExp]> = [
      [['--app', 'My App', '--create-app'], /^Error: app name "My App": Invalid app name\n.*Nothing was built or changed\./],
      [['--app', 'My App'], /^Error: app name "My App": Invalid app name\n/],
      [['--app', long, '--create-app'], new RegExp(`^Error: app name "${long}": App name must be 255 characters or less\\n`)],
    ];
    for (const [args, re] of cases) {
      const r = await fails(['deploy', ...args], dir, re);
      assert.doesNotMatch(r.stderr, /Building image|Step |Creating app/);
    }
    // app.yaml's name is checked the same way.
    await writeFile(join(dir, 'app.yaml'), 'name: my.app\n');
    await fails(['deploy', '--create-app'], dir, /^Error: app name "my\.app": Invalid app name\n/);
    assert.equal(await versionOf(dir), '0.0.1', 'nothing was bumped');
    assert.equal(await imageExists(`${name}:0.0.2`), false, 'nothing was built');
    assert.deepEqual((await call<{ items: unknown[] }>(srv.url, 'GET', '/v2/apps')).body.items.filter((a) => /My App|^a{256}$|my\.app/.test((a as { name: string }).name)), []);
    // A fn name over 255 bytes is an image name the build takes, and the server's 400 after it.
    const longFn = `${P}-${'x'.repeat(255 - P.length)}`;
    await writeFile(join(dir, 'func.yaml'), (await readFile(join(dir, 'func.yaml'), 'utf8')).replace(`name: ${name}`, `name: ${longFn}`));
    const r = await fails(['deploy', '--app', `${P}-longfn`, '--create-app'], dir, new RegExp(`bad func\\.yaml: fn name "${longFn}": Fn name must be 255 characters or less\\n.*nothing was bumped, built or changed`));
    assert.doesNotMatch(r.stderr, /Building image|Creating app/);
    assert.equal(await apiApp(`${P}-longfn`), undefined, 'no app was created');
  });

  test('on an existing fn an annotation of "" removes it, as the server takes it', async () => {
    const name = `${P}-ann`;
    const dir = await fnDir('ann', name, 'annotations:\n  team: web\n');
    await ok(['deploy', '--app', `${P}-ann`, '--create-app'], dir);
    await writeFile(join(dir, 'func.yaml'), (await readFile(join(dir, 'func.yaml'), 'utf8')).replace('team: web', 'team: ""'));
    await ok(['deploy', '--app', `${P}-ann`, '--no-bump'], dir);
    const app = await apiApp(`${P}-ann`);
    assert.equal((await apiFns(app!.id))[0]!.annotations.team, undefined);
  });

  test('a trigger source with a "." or ".." segment, which no client reaches', async () => {
    const name = `${P}-dots`;
    const dir = await fnDir('dots', name);
    await writeFile(join(dir, 'func.yaml'), (await readFile(join(dir, 'func.yaml'), 'utf8')).replace(`source: /${name}`, 'source: /t/../etc'));
    await fails(['deploy', '--app', `${P}-dots`, '--create-app'], dir, /bad func\.yaml: .*trigger .*: source "\/t\/\.\.\/etc" has a "\." or "\.\." segment, which no client can call/);
    assert.equal(await versionOf(dir), '0.0.1');
    assert.equal(await apiApp(`${P}-dots`), undefined);
  });

  test('create and update trigger refuse such a source too, asking the server nothing', async () => {
    const app = `${P}-tdots`;
    await ok(['create', 'app', app], work);
    await ok(['create', 'fn', app, 'f', 'kiln-examples/hello:0.0.1'], work);
    await fails(['create', 'trigger', app, 'f', 't', '--source', '/a/./b'], work, /--source: source "\/a\/\.\/b" has a "\." or "\.\." segment, which no client can call/);
    await ok(['create', 'trigger', app, 'f', 't', '--source', '/a'], work);
    await fails(['update', 'trigger', app, 'f', 't', '--source', '/x/..'], work, /has a "\." or "\.\." segment/);
    const triggers = (await call<{ items: Array<{ source: string }> }>(srv.url, 'GET', `/v2/triggers?app_id=${(await apiApp(app))!.id}`)).body.items;
    assert.deepEqual(triggers.map((t) => t.source), ['/a']);
    // Refused before any request: even with no server to ask.
    const r = await kiln(['create', 'trigger', app, 'f', 't2', '--source', '/..'], work, { FN_API_URL: 'http://127.0.0.1:9' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has a "\." or "\.\." segment/);
  });
});

describe('deploy --all checks every function before it creates the app', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown runtime', 'runtime: nope\n', /deploy --all: b: bad func\.yaml: runtime "nope" is not supported/],
    ['a config key the server refuses', 'runtime: node\nentrypoint: node func.js\nconfig:\n  "A=B": x\n', /deploy --all: b: bad func\.yaml: .*config key "A=B"/],
    ['a version no image can carry (--no-bump)', 'runtime: node\nentrypoint: node func.js\nversion: 1.0.0+b1\n', /deploy --all: b: bad func\.yaml: version "1\.0\.0\+b1" cannot tag an image/],
  ];
  for (const [i, [what, yaml, re]] of cases.entries()) {
    test(what, async () => {
      const root = join(work, `all${i}`);
      const appName = `${P}-all${i}`;
      await mkdir(join(root, 'b'), { recursive: true });
      await ok(['init', '--runtime', 'node', '--name', `${P}-all${i}-a`, 'a'], root);
      await writeFile(join(root, 'b', 'func.yaml'), `name: ${P}-all${i}-b\n${yaml}`);
      await writeFile(join(root, 'app.yaml'), `name: ${appName}\n`);
      const r = await fails(['deploy', '--all', '--create-app', '--no-bump'], root, re);
      assert.match(r.stderr, /nothing was (bumped, built or )?changed\./i);
      assert.doesNotMatch(r.stderr, /Creating app|Building image/);
      assert.equal(await apiApp(appName), undefined, 'no empty app is left behind');
    });
  }

  test('a name derived from a path is lower-cased, as init names (api/Users -> api-users)', async () => {
    const root = join(work, 'derived');
    const appName = `${P}-derived`;
    // Under `${P}-api`, so the name starts with `${P}-`, as the world's clean-up wants.
    await mkdir(join(root, `${P}-api`), { recursive: true });
    await ok(['init', '--runtime', 'node', '--name', 'x', join(`${P}-api`, 'Users')], root);
    // No name: it is the path's, as Fn names it; no trigger (the template's is named x).
    const fy = join(root, `${P}-api`, 'Users', 'func.yaml');
    await writeFile(fy, (await readFile(fy, 'utf8')).replace(/^name: x\n/m, '').replace(/^triggers:[\s\S]*$/m, ''));
    await writeFile(join(root, 'app.yaml'), `name: ${appName}\n`);
    const r = await ok(['deploy', '--all', '--create-app'], root);
    assert.match(r.stdout, new RegExp(`Successfully created function: ${P}-api-users with ${P}-api-users:0\\.0\\.2`));
  });
});

describe('kiln init writes what deploy takes', () => {
  test('a name with a dot (--name, or a directory Proj.X) deploys: its trigger is named with "-"', async () => {
    const name = `${P}-my.func`;
    await ok(['init', '--runtime', 'node', '--name', name], work);
    const r = await ok(['deploy', '--app', `${P}-dotted`, '--create-app'], join(work, name));
    assert.match(r.stderr, new RegExp(`Created trigger ${P}-my-func \\(http /${P}-my\\.func\\)`));
    const res = await fetch(`${srv.url}/t/${P}-dotted/${name}`, { method: 'POST', body: 'Dot' });
    assert.equal(res.status, 200);
    // A directory's name: lower-cased, dot and all, then the same.
    const dir = join(work, `${P}-Proj.X`);
    await mkdir(dir);
    const i = await ok(['init', '--runtime', 'node'], dir);
    assert.match(i.stdout, new RegExp(`Function ${P}-proj\\.x `));
    await ok(['deploy', '--app', `${P}-dotted`], dir);
  });

  test('--version with build metadata is refused: it could tag no image', async () => {
    await fails(['init', '--runtime', 'node', '--name', `${P}-meta`, '--version', '1.0.0+b1'], work, /--version "1\.0\.0\+b1" cannot tag an image\n.*no "\+"/);
  });
});

describe('small ones', () => {
  test('`kiln calls get FN` lists the calls of an app named "get"; `calls get APP FN CALL_ID` is still one call', async () => {
    await ok(['create', 'app', 'get'], work);
    await ok(['create', 'fn', 'get', 'h', `${P}-none:1`], work);
    const r = await ok(['calls', 'get', 'h'], work);
    assert.equal(r.stdout, 'no calls of get/h yet\n');
    await fails(['calls', 'get', 'get', 'h', 'last'], work, /no calls of get\/h yet, so no "last" call/);
    await fails(['calls', 'get', 'get', 'h'], work, /missing CALL_ID/);
  });

  test('a broken config.yaml is named in the error', async () => {
    const dir = join(work, 'badconfig');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'config.yaml'), 'current-context: [x\n');
    const r = await kiln(['context', 'list'], work, { KILN_CONFIG_DIR: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Error: ${join(dir, 'config.yaml').replace(/[.]/g, '\\.')} is not valid YAML: `));
  });
});
