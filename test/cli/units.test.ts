// The CLI's pure parts: version bumps, func.yaml fields and errors, image names, build plans,
// tables, KEY=VALUE options, and contexts in a temp config dir.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { appFileFields, parseAppFile, readAppFile } from '../../cli/appfile.js';
import { imageName, loadFunc, planBuild, SHELL_BASE_LATEST } from '../../cli/build.js';
import { parseBuildArgs } from '../../cli/commands/build.js';
import { parsePairs } from '../../cli/commands/common.js';
import { endpointLine } from '../../cli/commands/crud.js';
import { configDir, ContextStore, DEFAULT_API_URL } from '../../cli/context.js';
import type { KilnClient } from '../../cli/client.js';
import { CliError } from '../../cli/errors.js';
import { invokeTrigger } from '../../cli/invoke.js';
import { funcYamlFromInit, initYamlFields } from '../../cli/init-image.js';
import { checkInitTree, initEntryPath, readInitTar } from '../../cli/init-tar.js';
import { bumpVersion, functionDirs, writeVersion } from '../../cli/funcfile.js';
import { table } from '../../cli/output.js';
import { checkFnFields, funcTriggers, parseFuncYaml } from '../../images/func-yaml.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-cli-unit-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('bumpVersion', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, '0.0.1'],
    ['', '0.0.1'],
    ['0.0.1', '0.0.2'],
    ['1.2.9', '1.2.10'],
    ['v2.0.0', '2.0.1'],
    ['1.0.0-beta.1', '1.0.1'],
  ];
  for (const [from, to] of cases) test(`${from} -> ${to}`, () => assert.equal(bumpVersion(from), to));
  const parts: Array<[string | undefined, 'major' | 'minor', string]> = [
    ['1.2.3', 'minor', '1.3.0'],
    ['1.2.3', 'major', '2.0.0'],
    ['v0.9.9-rc.1', 'minor', '0.10.0'],
    [undefined, 'major', '0.0.1'],
  ];
  for (const [from, part, to] of parts) test(`${from} --${part} -> ${to}`, () => assert.equal(bumpVersion(from, part), to));
  test('a version that is not semver is refused with what to do', () => {
    assert.throws(() => bumpVersion('latest'), (e: unknown) => e instanceof CliError && /--no-bump/.test(e.hint ?? ''));
  });
});

describe('func.yaml', () => {
  test('reads Fn 20180708 fields plus format, config and triggers', () => {
    const f = parseFuncYaml(
      'schema_version: 20180708\nname: hi\nversion: 1.10\nruntime: node\nformat: http-stream\nentrypoint: node func.js\n' +
        'memory: 256\ntimeout: 10\nidle_timeout: 60\nconfig:\n  A: b\n  N: 3\nannotations:\n  x/y: {"k": 1}\ntriggers:\n- name: hi\n  type: http\n  source: /hi\n',
    );
    assert.equal(f.version, '1.10', 'the version as written');
    assert.equal(f.schema_version, '20180708');
    assert.deepEqual([f.memory, f.timeout, f.idle_timeout], [256, 10, 60]);
    assert.deepEqual(f.config, { A: 'b', N: '3' });
    assert.deepEqual(f.annotations, { 'x/y': { k: 1 } });
    assert.deepEqual(funcTriggers(f), [{ name: 'hi', type: 'http', source: '/hi' }]);
    assert.equal(f.fields.format, 'http-stream');
  });
  const bad: Array<[string, string, RegExp]> = [
    ['broken YAML', 'name: [x\n', /not valid YAML \(line 2, column 1\)/],
    ['a list at the top', '- a\n', /must be a map of fields/],
    ['memory as text', 'memory: lots\n', /memory must be a whole number/],
    ['config not a map', 'config: [1]\n', /config must be a map/],
  ];
  for (const [name, text, re] of bad) test(`refuses ${name}`, () => assert.throws(() => parseFuncYaml(text, 'f.yaml'), re));

  test('triggers are read as written and checked when used (deploy)', () => {
    const f = parseFuncYaml('triggers:\n- name: x\n- name: y\n  source: /y\n');
    assert.deepEqual(f.triggers, [{ name: 'x' }, { name: 'y', source: '/y' }]);
    assert.throws(() => funcTriggers(f), /triggers\[0\] needs a name and a source/);
    assert.deepEqual(funcTriggers(parseFuncYaml('triggers:\n- name: y\n  source: /y\n')), [{ name: 'y', type: 'http', source: '/y' }]);
  });

  // What the server would refuse (api/models/trigger.ts), refused before deploy changes anything.
  const badTriggers: Array<[string, string, RegExp]> = [
    ['type cron', '- {name: a, type: cron, source: /a}', /trigger a: type "cron" is not supported; Kiln has "type: http"/],
    ['type HTTP', '- {name: a, type: HTTP, source: /a}', /type "HTTP" is not supported \(the server takes it in lower case only\)/],
    ['a source without /', '- {name: a, source: a}', /trigger a: source "a" must start with "\/"/],
    ['a name with a space', '- {name: "a b", source: /a}', /trigger name "a b" is invalid/],
    ['two names alike', '- {name: a, source: /a}\n- {name: a, source: /b}', /two triggers have the name "a"/],
    ['two sources alike', '- {name: a, source: /a}\n- {name: b, type: http, source: /a}', /two triggers have the http source "\/a" \(triggers a and b\)/],
    // The server takes these, but fetch, curl and browsers resolve the segment before sending.
    ['a ".." segment', '- {name: a, source: /t/../etc}', /trigger a: source "\/t\/..\/etc" has a "\." or "\.\." segment, which no client can call/],
    ['a "." segment', '- {name: a, source: /x/./y}', /source "\/x\/.\/y" has a "\." or "\.\." segment/],
    ['a ".." segment after a "?"', '- {name: a, source: "/x?a=/../b"}', /has a "\." or "\.\." segment/],
    ['a trailing ".."', '- {name: a, source: /x/..}', /has a "\." or "\.\." segment/],
  ];
  for (const [name, list, re] of badTriggers) {
    test(`triggers: refuses ${name}`, () => assert.throws(() => funcTriggers(parseFuncYaml(`triggers:\n${list}\n`)), re));
  }
  test('triggers: dots within a segment are kept (/v1.2, /..x, /.well-known)', () => {
    const f = parseFuncYaml('triggers:\n- {name: a, source: /v1.2}\n- {name: b, source: /..x}\n- {name: c, source: /.well-known/x}\n');
    assert.deepEqual(funcTriggers(f).map((t) => t.source), ['/v1.2', '/..x', '/.well-known/x']);
  });

  // The server's rules (api/contract/keys.ts), checked before deploy bumps or builds.
  const badFields: Array<[string, string, boolean, RegExp]> = [
    ['a config key with "="', 'config:\n  "BAD KEY=": x\n', false, /f\.yaml: config key "BAD KEY=" is refused by the server: config keys must be non-empty and hold no "="/],
    ['an empty config key', 'config:\n  "": x\n', false, /config key "" is refused/],
    ['an empty annotation key', 'annotations:\n  "": 1\n', false, /f\.yaml: annotation "": Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace/],
    ['an annotation key with a space', 'annotations:\n  "a b": 1\n', false, /annotation "a b": Invalid annotation key/],
    ['an annotation key over 128 bytes', `annotations:\n  ${'k'.repeat(129)}: 1\n`, false, /Invalid annotation key length/],
    ['an annotation value over 512 bytes', `annotations:\n  k: ${'v'.repeat(600)}\n`, false, /annotation "k": Invalid annotation value length/],
    ['an empty annotation value on a new fn', 'annotations:\n  k: ""\n', true, /annotation "k": Invalid annotation value, .*\(on a new fn; on an existing one "" removes the key\)/],
    ['over 100 annotations', `annotations:\n${Array.from({ length: 101 }, (_, i) => `  k${i}: 1\n`).join('')}`, false, /annotations: Invalid annotation change, .*\(100\)/],
  ];
  for (const [name, text, create, re] of badFields) {
    test(`config and annotations: refuses ${name}`, () => assert.throws(() => checkFnFields(parseFuncYaml(text), create, 'f.yaml'), re));
  }
  test('config and annotations the server takes pass: "" deletes a config key (any key) and, on an existing fn, an annotation', () => {
    checkFnFields(parseFuncYaml('config:\n  "": ""\n  "A=B": ~\n  "WITH SPACE": x\nannotations:\n  k: ""\n  n: ~\n  ok: {"a": 1}\n'), false);
    // The endpoints the server computes are dropped, not checked (an echo of an inspected fn).
    checkFnFields(parseFuncYaml('annotations:\n  fnproject.io/fn/invokeEndpoint: ""\n'), true);
  });

  test('triggers: a name, type or source YAML reads as a number or boolean is its text as written, as Fn (Go strings)', () => {
    const f = parseFuncYaml('triggers:\n- {name: 123, source: /1}\n- name: true\n  type: http\n  source: /t\n- {name: 0x10, source: /1.10}\n');
    assert.deepEqual(funcTriggers(f), [
      { name: '123', type: 'http', source: '/1' },
      { name: 'true', type: 'http', source: '/t' },
      { name: '0x10', type: 'http', source: '/1.10' },
    ]);
    // func.json too; a list or a map is still no name.
    assert.deepEqual(funcTriggers(parseFuncYaml('{"triggers": [{"name": 7, "source": "/7"}]}', 'func.json')), [{ name: '7', type: 'http', source: '/7' }]);
    assert.throws(() => funcTriggers(parseFuncYaml('triggers:\n- {name: [a], source: /a}\n')), /triggers\[0\] needs a name and a source/);
    assert.throws(() => funcTriggers(parseFuncYaml('triggers:\n- {name: a, type: 1, source: /a}\n')), /type "1" is not supported/);
  });
  test('triggers: names in any script and sources that differ pass', () => {
    const ok = funcTriggers(parseFuncYaml('triggers:\n- {name: grüße_1, source: /a}\n- {name: b-2, type: http, source: /a/b}\n'));
    assert.deepEqual(ok.map((t) => t.name), ['grüße_1', 'b-2']);
  });

  test('writeVersion changes only the version line', async () => {
    const dir = join(tmp, 'wv');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'func.yaml'), '# my function\nname: a # the name\nversion: 0.0.1\nruntime: node\n');
    await writeVersion(dir, '0.0.2');
    assert.equal(await readFile(join(dir, 'func.yaml'), 'utf8'), '# my function\nname: a # the name\nversion: 0.0.2\nruntime: node\n');
  });

  test('deploy --all finds every directory with a func.yaml, skipping node_modules', async () => {
    const root = join(tmp, 'all');
    for (const d of ['a', 'b/c', 'node_modules/x', '.hidden']) {
      await mkdir(join(root, d), { recursive: true });
      await writeFile(join(root, d, 'func.yaml'), 'name: x\n');
    }
    assert.deepEqual(await functionDirs(root), [join(root, 'a'), join(root, 'b/c')]);
  });
});

describe('app.yaml', () => {
  test("reads Fn's fields: name, config (values as strings), annotations, syslog_url; ignores others", () => {
    const f = parseAppFile('name: shop\nconfig:\n  A: 1\n  B: true\n  C:\nannotations:\n  x.io/k: {a: 1}\nsyslog_url: tcp://logs:514\nother: 1\n', '/d/app.yaml');
    assert.deepEqual(f, {
      path: '/d/app.yaml',
      name: 'shop',
      config: { A: '1', B: 'true', C: '' },
      annotations: { 'x.io/k': { a: 1 } },
      syslog_url: 'tcp://logs:514',
    });
    assert.deepEqual(appFileFields(f), { config: f.config, annotations: f.annotations, syslog_url: 'tcp://logs:514' });
    assert.deepEqual(appFileFields(parseAppFile('name: n\n', 'app.yaml')), {});
    assert.deepEqual(parseAppFile('', 'app.yaml'), { path: 'app.yaml' });
    assert.deepEqual(parseAppFile('{"name": "j", "config": {"K": "v"}}', 'app.json'), { path: 'app.json', name: 'j', config: { K: 'v' } });
  });
  const bad: Array<[string, string, RegExp]> = [
    ['YAML', 'name: [x\n', /^bad app file app\.yaml: not valid YAML \(line 2, column 1\)/],
    ['JSON', '{"name": ', /^bad app file app\.json: not valid JSON/],
    ['a list', '- a\n', /it must be a map of fields/],
    ['a non-string name', 'name: 3\n', /name must be a string/],
    ['config as a list', 'config: [a]\n', /config must be a map of KEY: value/],
    ['a nested config value', 'config:\n  A: {b: 1}\n', /config\.A must be a plain value/],
    ['annotations as a string', 'annotations: x\n', /annotations must be a map/],
  ];
  for (const [what, text, re] of bad) {
    test(`refuses ${what}, naming the file`, () => {
      const path = re.source.includes('json') ? 'app.json' : 'app.yaml';
      assert.throws(() => parseAppFile(text, path), (e: unknown) => e instanceof CliError && re.test(e.message) && /name: myapp/.test(e.hint ?? ''));
    });
  }
  test('app.yaml, then app.yml, then app.json; none is undefined', async () => {
    const d = join(tmp, 'appfile');
    await mkdir(d);
    assert.equal(await readAppFile(d), undefined);
    await writeFile(join(d, 'app.json'), '{"name": "j"}');
    assert.equal((await readAppFile(d))?.name, 'j');
    await writeFile(join(d, 'app.yml'), 'name: yml\n');
    assert.equal((await readAppFile(d))?.name, 'yml');
    await writeFile(join(d, 'app.yaml'), 'name: yaml\n');
    assert.deepEqual(await readAppFile(d), { path: join(d, 'app.yaml'), name: 'yaml' });
  });
});

describe('--build-arg', () => {
  test('KEY=VALUE (the value may hold = or be empty); KEY alone from the environment, left out when unset', () => {
    assert.equal(parseBuildArgs(undefined, {}), undefined);
    assert.deepEqual(parseBuildArgs(['A=1', 'B=x=y', 'C=', 'D', 'E'], { D: 'from env' }), { A: '1', B: 'x=y', C: '', D: 'from env' });
    assert.deepEqual(parseBuildArgs(['A=1', 'A=2'], {}), { A: '2' });
  });
  for (const v of ['', '=x', 'A B=1']) {
    test(`refuses ${JSON.stringify(v)}`, () => {
      assert.throws(() => parseBuildArgs([v], {}), (e: unknown) => e instanceof CliError && /is not KEY=VALUE/.test(e.message));
    });
  }
});

describe('images and build plans', () => {
  const f = (y: string) => parseFuncYaml(y);
  test('image names are [registry/]name:version', () => {
    assert.equal(imageName(f('name: hi\nversion: 0.0.3\n')), 'hi:0.0.3');
    assert.equal(imageName(f('name: hi\nversion: 0.0.3\n'), 'repo/'), 'repo/hi:0.0.3');
    assert.throws(() => imageName(f('name: Hi There\n')), /cannot name an image/);
    assert.throws(() => imageName(f('version: 1.0.0\n')), /no name/);
    // semver's build metadata is no Docker tag: refused before any build, naming the version.
    assert.throws(() => imageName(f('name: hi\nversion: 1.0.0+b1\n')), /version "1\.0\.0\+b1" cannot tag an image/);
    assert.equal(imageName(f('name: hi\nversion: 1.0.0-rc.1\n')), 'hi:1.0.0-rc.1');
  });
  test("a derived name (no name:) is lower-cased, as init's; one written in func.yaml is kept", async () => {
    const dir = join(tmp, 'Proj.X');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'func.yaml'), 'runtime: node\n');
    assert.equal((await loadFunc(dir)).name, 'proj.x');
    assert.equal((await loadFunc(dir, 'api-Users')).name, 'api-users');
    await writeFile(join(dir, 'func.yaml'), 'name: Mixed\nruntime: node\n');
    assert.equal((await loadFunc(dir, 'x')).name, 'Mixed');
  });
  test('each runtime has its kind and base image', async () => {
    const dir = join(tmp, 'plan'); // no package.json: nothing to vendor
    assert.deepEqual(await planBuild(dir, f('runtime: node\nentrypoint: node func.js\n')), { kind: 'http-stream', baseImage: 'kiln/node:latest', vendor: [] });
    assert.deepEqual(await planBuild(dir, f('runtime: lambda-node\nformat: lambda\n')), { kind: 'lambda', baseImage: 'kiln/node:latest', vendor: [] });
    assert.deepEqual(await planBuild(dir, f('runtime: lambda-shell\nformat: lambda\n')), { kind: 'lambda', baseImage: SHELL_BASE_LATEST, vendor: [] });
    assert.deepEqual(await planBuild(dir, f('runtime: docker\n')), { kind: 'dockerfile', vendor: [] });
  });
  test("Fn's legacy formats in an old func.yaml build as http-stream, as the server takes them", async () => {
    const dir = join(tmp, 'plan');
    for (const format of ['default', 'http', 'json', 'cloudevent']) {
      assert.deepEqual(await planBuild(dir, f(`runtime: node\nentrypoint: node func.js\nformat: ${format}\n`)), { kind: 'http-stream', baseImage: 'kiln/node:latest', vendor: [] }, format);
    }
  });
  test("with no name in func.yaml the directory's name is used, as fn", async () => {
    const cases: Array<[string, string, string]> = [
      ['noname-fn', 'runtime: node\n', 'noname-fn'],
      ['named-dir', 'name: given\nruntime: node\n', 'given'],
    ];
    for (const [d, yaml, name] of cases) {
      await mkdir(join(tmp, d), { recursive: true });
      await writeFile(join(tmp, d, 'func.yaml'), yaml);
      assert.equal((await loadFunc(join(tmp, d))).name, name);
    }
  });
  const badPlans: Array<[string, RegExp]> = [
    ['name: x\n', /no runtime/],
    ['runtime: go\n', /runtime "go" is not supported/],
    ['runtime: lambda-node\n', /needs format "lambda"/],
    ['runtime: node\nformat: lambda\n', /needs format "http-stream"/],
    ['runtime: node\nformat: grpc\n', /format "grpc"/],
  ];
  for (const [y, re] of badPlans) test(`refuses ${JSON.stringify(y)}`, async () => assert.rejects(planBuild(tmp, f(y)), re));
});

describe('output and options', () => {
  test('tables align columns and do not pad the last one', () => {
    assert.equal(table(['NAME', 'ID'], [['a', '1'], ['long-name', '22']]), 'NAME        ID\na           1\nlong-name   22\n');
  });
  test('KEY=VALUE pairs; annotations take JSON values', () => {
    assert.deepEqual(parsePairs(['A=b=c', 'E='], '--config'), { A: 'b=c', E: '' });
    assert.deepEqual(parsePairs(['n=1', 's=x'], '--annotation', true), { n: 1, s: 'x' });
    assert.equal(parsePairs(undefined, '--config'), undefined);
    assert.throws(() => parsePairs(['nokey'], '--config'), /not KEY=VALUE/);
  });
  test("inspect --endpoint: the annotation as a line; none (or not a string) is fn's error", () => {
    assert.equal(endpointLine({ annotations: { 'fnproject.io/fn/invokeEndpoint': 'http://h/invoke/1' } }, 'fn'), 'http://h/invoke/1\n');
    assert.equal(endpointLine({ annotations: { 'fnproject.io/trigger/httpEndpoint': 'http://h/t/a/x' } }, 'trigger'), 'http://h/t/a/x\n');
    assert.throws(() => endpointLine({ annotations: {} }, 'fn'), (e: unknown) => e instanceof CliError && e.message === 'missing or invalid endpoint on function');
    assert.throws(() => endpointLine({}, 'trigger'), /^CliError: missing or invalid http endpoint on trigger$|missing or invalid http endpoint on trigger/);
    assert.throws(() => endpointLine({ annotations: { 'fnproject.io/fn/invokeEndpoint': 3 } }, 'fn'), /missing or invalid endpoint on function/);
  });
});

describe('contexts', () => {
  test('config dir: KILN_CONFIG_DIR, then XDG_CONFIG_HOME/kiln, then ~/.kiln', () => {
    assert.equal(configDir({ KILN_CONFIG_DIR: '/a', XDG_CONFIG_HOME: '/b', HOME: '/h' }), '/a');
    assert.equal(configDir({ XDG_CONFIG_HOME: '/b', HOME: '/h' }), '/b/kiln');
    assert.equal(configDir({ HOME: '/h' }), '/h/.kiln');
  });
  test('create, use, resolve; FN_API_URL and FN_TOKEN win', async () => {
    const store = new ContextStore(join(tmp, 'ctx'));
    assert.equal(await store.current(), 'default');
    assert.deepEqual(await store.resolve({}), { url: DEFAULT_API_URL, source: 'context "default"' });
    await store.save({ name: 'prod', 'api-url': 'https://kiln.example:9000', token: 't0k' }, { create: true });
    await assert.rejects(store.save({ name: 'prod', 'api-url': 'http://x' }, { create: true }), /already exists/);
    await assert.rejects(store.use('nope'), /context "nope" not found/);
    await store.use('prod');
    assert.deepEqual(await store.resolve({}), { url: 'https://kiln.example:9000', token: 't0k', tokenSource: 'context "prod"', source: 'context "prod"' });
    assert.deepEqual(await store.resolve({ FN_API_URL: 'http://127.0.0.1:1234/', FN_TOKEN: 'env' }), {
      url: 'http://127.0.0.1:1234',
      token: 'env',
      tokenSource: 'FN_TOKEN',
      source: 'FN_API_URL',
    });
    await assert.rejects(store.resolve({ FN_API_URL: 'not a url' }), /invalid API URL/);
    // As fn (fn_go's CanonicalFnAPIUrl): no "://" is http://, a host:port and a bare host alike.
    assert.equal((await store.resolve({ FN_API_URL: 'localhost:18610' })).url, 'http://localhost:18610');
    assert.equal((await store.resolve({ FN_API_URL: 'kiln.lan' })).url, 'http://kiln.lan');
    assert.equal((await store.resolve({ FN_API_URL: 'https://kiln.lan:9' })).url, 'https://kiln.lan:9');
    await assert.rejects(store.resolve({ FN_API_URL: 'ftp://kiln.lan' }), /use http:\/\/ or https:\/\//);
    assert.deepEqual((await store.list()).map((c) => c.name), ['default', 'prod']);
    await assert.rejects(store.remove('prod'), /in use/);
    await store.use('default');
    await store.remove('prod');
    assert.deepEqual((await store.list()).map((c) => c.name), ['default']);
    await assert.rejects(store.get('../etc'), /invalid context name/);
  });
});

describe('invoke --trigger: the path sent for a source', () => {
  const sent = async (source: string): Promise<string> => {
    let path = '';
    const client = {
      raw: async (_method: string, p: string) => {
        path = p;
        return { status: 200, headers: new Headers(), body: Buffer.alloc(0) };
      },
    } as unknown as KilnClient;
    await invokeTrigger(client, 'app', source, { method: 'GET', headers: {} });
    return path;
  };
  const cases: [string, string][] = [
    ['/hello', '/t/app/hello'],
    ['hello', '/t/app/hello'],
    // A source as listed reaches its trigger: `#` and `%` encoded, as the endpoint annotation has them.
    ['/h#frag', '/t/app/h%23frag'],
    ['/pct%41', '/t/app/pct%2541'],
    ['/v1/items:batch', '/t/app/v1/items:batch'],
    // What follows the first `?` is the query string, as typed.
    ['/hello?name=x&y=%20', '/t/app/hello?name=x&y=%20'],
    ['/hello?a=b#c', '/t/app/hello?a=b%23c'],
  ];
  for (const [source, path] of cases) test(`${source} → ${path}`, async () => assert.equal(await sent(source), path));
});

describe('init images: paths, func.init.yaml, the merge', () => {
  test('an entry lands inside the directory or is refused', () => {
    const cases: Array<[string, string | null]> = [
      ['func.init.yaml', 'func.init.yaml'], ['./func.js', 'func.js'], ['./src/', 'src'], ['src//a/./b', 'src/a/b'],
      ['.', ''], ['./', ''], ['a/../b', 'b'], ['a/..', ''],
      ['/etc/passwd', null], ['../x', null], ['./../x', null], ['a/../../x', null], ['..', null],
    ];
    for (const [name, want] of cases) assert.equal(initEntryPath(name), want, name);
  });

  test("func.init.yaml: fn's fields taken as written, anything else refused in fn's words", () => {
    assert.deepEqual(initYamlFields('runtime: go\nbuild_image: b\nname: x\nmemory: 9\nbuild: [make]\ncmd: null\n', 'img'), { runtime: 'go', build_image: 'b', build: ['make'] });
    const bad = [[undefined, 'no func.init.yaml in its tar'], ['- a\n', 'not a map of fields'], ['a: [\n', ''], ['runtime: 42\n', 'runtime must be a string'],
      ['cmd: [a, b]\n', 'cmd must be a string'], ['build: make\n', 'build must be a list of strings'], ['build: [1]\n', 'build must be a list of strings'], ['expects: oops\n', 'expects must be a map']] as const;
    for (const [text, why] of bad) {
      assert.throws(() => initYamlFields(text, 'img'), (err: CliError) => err.message.startsWith(`init-image did not produce a valid func.init.yaml (img: ${why}`));
    }
  });

  test("the merge: the image's fields, init's flags over entrypoint, cmd and format, init's own name, version, limits and trigger", () => {
    const fromImage = { runtime: 'docker', entrypoint: 'a', cmd: 'b', format: 'http-stream', expects: { config: [] } };
    assert.equal(funcYamlFromInit('f', fromImage), 'schema_version: 20180708\nname: f\nversion: 0.0.1\nruntime: docker\nentrypoint: a\ncmd: b\nformat: http-stream\nexpects:\n  config: []\ntriggers:\n  - name: f\n    type: http\n    source: /f\n');
    const over = funcYamlFromInit('my.f', fromImage, { cmd: 'c', format: 'lambda', version: '2.0.0', memory: 64, config: { K: 'v' }, triggerType: 'http' });
    assert.match(over, /^version: 2\.0\.0\nruntime: docker\nentrypoint: a\ncmd: c\nformat: lambda\n/m);
    assert.match(over, /^memory: 64\nconfig:\n {2}K: v\ntriggers:\n {2}- name: my-f\n {4}type: http\n {4}source: \/my\.f\n$/m);
  });

  test('a tar is read into memory, links skipped; one climbing out is refused', async () => {
    const { default: tar } = await import('tar-stream');
    const { Readable } = await import('node:stream');
    const pack = async (entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string; mode?: number }>): Promise<Buffer> => {
      const p = tar.pack();
      for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname && { linkname: e.linkname }), ...(e.mode !== undefined && { mode: e.mode }) }, e.body ?? '');
      p.finalize();
      const chunks: Buffer[] = [];
      for await (const c of p) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const got = await readInitTar(Readable.from([await pack([
      { name: './', type: 'directory' }, { name: './src/', type: 'directory' }, { name: './src/a.txt', body: 'A', mode: 0o600 },
      { name: './run', body: '#!/bin/sh', mode: 0o755 }, { name: './ln', type: 'symlink', linkname: '/etc' },
    ])]), 'img');
    assert.deepEqual(got.dirs, ['src']);
    assert.deepEqual([...got.files].map(([k, f]) => [k, f.content.toString(), f.mode]), [['src/a.txt', 'A', 0o600], ['run', '#!/bin/sh', 0o755]]);
    assert.deepEqual(got.skipped, ['ln (symlink)']);
    await assert.rejects(readInitTar(Readable.from([await pack([{ name: 'ok' }, { name: '../../.bashrc', body: 'x' }])]), 'img'), /wrote "\.\.\/\.\.\/\.bashrc", outside the function's directory/);
    await assert.rejects(readInitTar(Readable.from([Buffer.alloc(1024, 'x')]), 'img'), /^CliError: Error un-tarring the output of the init-image img: /);
    // Read to the end-of-archive marker, as Go's archive/tar (fn's): what follows is not read.
    const one = await pack([{ name: 'func.init.yaml', body: 'runtime: docker\n' }]);
    for (const after of [Buffer.from('done: made it\n'), Buffer.alloc(4 * 1024 * 1024)]) {
      const tree = await readInitTar(Readable.from([one, after]), 'img');
      assert.deepEqual([...tree.files.keys()], ['func.init.yaml']);
    }
    // Cut inside the second entry's header (node-tar drops a partial block at the end): refused, as Go's reader does.
    const two = await pack([{ name: 'func.init.yaml', body: 'runtime: docker\n' }, { name: 'func.js', body: 'x' }]);
    await assert.rejects(readInitTar(Readable.from([two.subarray(0, 1500)]), 'img'), /Error un-tarring the output of the init-image img: the tar ends 476 bytes into a 512-byte block \(cut short\); nothing was written/);
    // One that never ends after its tar is read all the same.
    const endless = new Readable({ read() { this.push(Buffer.alloc(65536)); } });
    endless.push(one);
    assert.deepEqual([...(await readInitTar(endless, 'img')).files.keys()], ['func.init.yaml']);
    endless.destroy();
  });

  test('a tree that names a path as a file and as a directory, or makes a directory of func.yaml, is refused', () => {
    const tree = (files: string[], dirs: string[] = []) => ({ files: new Map(files.map((f) => [f, { content: Buffer.alloc(0), mode: 0o644 }])), dirs, skipped: [] });
    const reserved = ['func.init.yaml', 'func.yaml'];
    const cases: Array<[ReturnType<typeof tree>, RegExp | null]> = [
      [tree(['a', 'src/b', 'src/c/d'], ['src', 'e']), null],
      [tree(['x'], ['x']), /wrote "x" both as a file and as a directory/],
      [tree(['a', 'a/b']), /wrote "a" both as a file and as a directory/],
      [tree(['src/a', 'src/a/b']), /wrote "src\/a" both as a file and as a directory/],
      [tree(['func.yaml/x']), /wrote a directory "func\.yaml", where init writes the function's func file/],
      [tree([], ['func.init.yaml/d']), /wrote a directory "func\.init\.yaml"/],
    ];
    for (const [t, want] of cases) {
      if (want === null) checkInitTree(t, 'img', reserved);
      else assert.throws(() => checkInitTree(t, 'img', reserved), want);
    }
  });
});
