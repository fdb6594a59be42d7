// The pure parts of the CLI's Fn compatibility, table-driven: func.yaml's build steps (run with
// /bin/sh in a temp dir), what func.yaml and app.yaml read as Fn does, and how results print.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseAppFile } from '../../cli/appfile.js';
import { checkVendored, planBuild, runBuildSteps } from '../../cli/build.js';
import { allDeployName } from '../../cli/deploy.js';
import { CliError } from '../../cli/errors.js';
import type { Io } from '../../cli/io.js';
import { findFuncYaml, parseFuncYaml, readFuncYaml } from '../../images/func-yaml.js';
import { writeVersion } from '../../cli/funcfile.js';
import { functionBuildContext } from '../../images/function-image.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-cli-compat-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** An Io that keeps what was written. */
function memIo(): Io & { stdout: string; stderr: string } {
  const io = {
    env: {},
    cwd: tmp,
    stdout: '',
    stderr: '',
    errIsTty: false,
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    readStdin: async () => null,
  };
  return io;
}

describe("func.yaml's build steps", () => {
  test('read as a list of commands; anything else is refused', () => {
    assert.deepEqual(parseFuncYaml('build:\n  - make\n  - echo "a b"\n').build, ['make', 'echo "a b"']);
    assert.equal(parseFuncYaml('name: x\n').build, undefined);
    assert.throws(() => parseFuncYaml('build: make\n', 'f.yaml'), /f\.yaml: build must be a list of shell commands/);
    assert.throws(() => parseFuncYaml('build: [{a: 1}]\n', 'f.yaml'), /build must be a list/);
    // As Fn's []string: scalars are their text; an empty entry runs nothing.
    assert.deepEqual(parseFuncYaml('build: [make, 1, true]\n').build, ['make', '1', 'true']);
    assert.deepEqual(parseFuncYaml('build: [~]\n').build, []);
    assert.deepEqual(parseFuncYaml('build: [1.10, 0x1f]\n').build, ['1.10', '0x1f']);
  });
  test('a list or a map where a string goes is an error naming the field, not a field left out', () => {
    assert.throws(() => parseFuncYaml('entrypoint: [node, func.js]\n', 'f.yaml'), /f\.yaml: entrypoint must be a string, not a list/);
    assert.throws(() => parseFuncYaml('runtime: {name: node}\n', 'f.yaml'), /f\.yaml: runtime must be a string, not a map/);
    assert.equal(parseFuncYaml('version: 1\n').version, '1');
  });
  const cases: Array<{ name: string; steps: string[]; stderr: RegExp; error?: RegExp; file?: [string, string] }> = [
    {
      name: 'each runs with /bin/sh -c in the directory, in order; stdout and stderr are shown',
      steps: ['echo one > made.txt', 'echo two >> made.txt; echo to-out; echo to-err >&2'],
      stderr: /Running build step 1\/2: echo one > made\.txt\nRunning build step 2\/2: .*\nto-out\n(.|\n)*to-err\n/,
      file: ['made.txt', 'one\ntwo\n'],
    },
    {
      name: 'a failing step stops the build with its exit code; later steps do not run',
      steps: ['echo before; exit 3', 'touch never.txt'],
      stderr: /before\n/,
      error: /build step 1\/2 failed: `echo before; exit 3` exited with code 3/,
    },
    {
      name: 'a step killed by a signal says so',
      steps: ['kill -TERM $$'],
      stderr: /Running build step 1\/1/,
      error: /build step 1\/1 failed: `kill -TERM \$\$` was killed by SIGTERM/,
    },
  ];
  test('a step that leaves a process in the background is done when its shell exits, as fn\'s', async () => {
    const dir = await mkdtemp(join(tmp, 'steps-'));
    const io = memIo();
    const t0 = Date.now();
    await runBuildSteps(io, dir, ['sleep 5 &', 'echo next']);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    assert.match(io.stderr, /next\n/);
  });
  test('a process a step leaves in the background keeps running and writing (fn sends it to /dev/null)', async () => {
    const dir = await mkdtemp(join(tmp, 'steps-'));
    await runBuildSteps(memIo(), dir, ['(sleep 0.3; echo late; touch marker) &', 'echo two']);
    // Polled, not slept for: on a loaded machine the 0.3 s and the touch may take over a second.
    for (const end = Date.now() + 10_000; !existsSync(join(dir, 'marker')) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(join(dir, 'marker')), 'it wrote after its step was done, and lived on');
  });
  test('output is decoded as a stream: a character split between chunks stays whole', async () => {
    const dir = await mkdtemp(join(tmp, 'steps-'));
    const io = memIo();
    await runBuildSteps(io, dir, ['yes é | head -c 300000']);
    assert.ok(!io.stderr.includes('\uFFFD'), 'no replacement character');
  });
  for (const c of cases) {
    test(c.name, async () => {
      const dir = await mkdtemp(join(tmp, 'steps-'));
      const io = memIo();
      const run = runBuildSteps(io, dir, c.steps);
      if (c.error) await assert.rejects(run, (e: unknown) => e instanceof CliError && c.error!.test(e.message));
      else await run;
      assert.match(io.stderr, c.stderr);
      assert.equal(io.stdout, '', 'nothing on stdout (kept for results)');
      if (c.file) assert.equal(await readFile(join(dir, c.file[0]), 'utf8'), c.file[1]);
      await assert.rejects(readFile(join(dir, 'never.txt')));
    });
  }
});

describe('a Dockerfile in the directory', () => {
  const cases: Array<[string, string]> = [
    ['runtime: node\n', 'node'],
    ['runtime: go\n', 'a runtime Kiln has no template for'],
    ['name: x\n', 'no runtime'],
    ['runtime: lambda-node\nformat: lambda\n', 'lambda-node'],
  ];
  for (const [yaml, what] of cases) {
    test(`is the build, as fn: ${what}`, async () => {
      const dir = await mkdtemp(join(tmp, 'df-'));
      await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
      assert.deepEqual(await planBuild(dir, parseFuncYaml(yaml)), { kind: 'dockerfile', vendor: [] });
    });
  }
  test('a directory named Dockerfile is not one', async () => {
    const dir = await mkdtemp(join(tmp, 'df-'));
    await mkdir(join(dir, 'Dockerfile'));
    await writeFile(join(dir, 'func.js'), '');
    assert.equal((await planBuild(dir, parseFuncYaml('runtime: node\nentrypoint: node func.js\n'))).kind, 'http-stream');
  });
  test('dependencies that are not an object of name: range are an error saying so', async () => {
    const dir = await mkdtemp(join(tmp, 'df-'));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ dependencies: ['yaml'] }));
    await assert.rejects(planBuild(dir, parseFuncYaml('runtime: node\nentrypoint: node func.js\n')), /"dependencies" must be an object/);
  });
  test('before build: steps, dependencies are not checked: the steps may bring them (npm install)', async () => {
    const dir = await mkdtemp(join(tmp, 'df-'));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ dependencies: { 'no-such-package-kiln': '^1.0.0' } }));
    const func = parseFuncYaml('runtime: node\nentrypoint: node func.js\n');
    await assert.rejects(planBuild(dir, func), /which Kiln does not bundle/);
    assert.equal((await planBuild(dir, func, { deps: false })).kind, 'http-stream');
  });
  test('a bad format is still refused', async () => {
    const dir = await mkdtemp(join(tmp, 'df-'));
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
    await assert.rejects(planBuild(dir, parseFuncYaml('runtime: node\nformat: grpc\n')), /format "grpc"/);
  });
});

describe("Fn's node<version> runtimes", () => {
  const cases: Array<[string, boolean]> = [['node20', true], ['node18', true], ['node11', true], ['node', true], ['nodejs', false], ['node-20', false], ['node20.1', false]];
  for (const [runtime, accepted] of cases) {
    test(`${runtime}: ${accepted ? 'built as node' : 'refused'}`, async () => {
      const plan = planBuild(join(tmp, 'none'), parseFuncYaml(`runtime: ${runtime}\nentrypoint: node func.js\n`));
      if (accepted) assert.deepEqual(await plan, { kind: 'http-stream', baseImage: 'kiln/node:latest', vendor: [] });
      else await assert.rejects(plan, new RegExp(`runtime "${runtime}" is not supported`));
    });
  }
});

describe('entrypoint and cmd, as fn: one of the two', () => {
  const cases: Array<[string, string | null]> = [
    ['entrypoint: node func.js\n', 'ENTRYPOINT ["node","func.js"]\n'],
    ['cmd: node func.js\n', 'CMD ["node","func.js"]\n'],
    ['entrypoint: node\ncmd: func.js\n', 'ENTRYPOINT ["node"]\nCMD ["func.js"]\n'],
    ['name: x\n', null],
    ['entrypoint: " "\n', null],
  ];
  for (const [yaml, tail] of cases) {
    test(JSON.stringify(yaml), async () => {
      const dir = await mkdtemp(join(tmp, 'ep-'));
      await writeFile(join(dir, 'func.yaml'), `runtime: node\n${yaml}`);
      const plan = planBuild(dir, parseFuncYaml(`runtime: node\n${yaml}`));
      if (tail === null) {
        await assert.rejects(plan, /bad func\.yaml: no entrypoint and no cmd/);
        await assert.rejects(functionBuildContext(dir), /has no entrypoint and no cmd/);
        return;
      }
      await plan;
      const { dockerfile } = await functionBuildContext(dir);
      assert.ok(dockerfile.endsWith(`WORKDIR /function\n${tail}`), dockerfile);
    });
  }
});

describe('func.json', () => {
  test('func.yaml, then func.yml, then func.json, as fn looks for them', async () => {
    const dir = await mkdtemp(join(tmp, 'ff-'));
    assert.equal(await findFuncYaml(dir), null);
    await writeFile(join(dir, 'func.json'), '{"name": "j"}');
    assert.equal((await findFuncYaml(dir))?.path, join(dir, 'func.json'));
    await writeFile(join(dir, 'func.yml'), 'name: y\n');
    assert.equal((await findFuncYaml(dir))?.path, join(dir, 'func.yml'));
    await writeFile(join(dir, 'func.yaml'), 'name: a\n');
    assert.equal((await readFuncYaml(dir)).name, 'a');
  });
  test('a repeated key is JSON still: the last one counts, as Go reads it', () => {
    assert.equal(parseFuncYaml('{"name": "a", "name": "b", "runtime": "node"}', 'func.json').name, 'b');
    assert.throws(() => parseFuncYaml('name: a\nname: b\n', 'func.yaml'), /not valid YAML/);
  });
  test('read with the same fields; not JSON is an error naming the file', () => {
    const f = parseFuncYaml('{"name":"j","version":"0.0.1","runtime":"node20","cmd":"node func.js","memory":256,"config":{"A":"1.10"},"build":["true"],"triggers":[{"name":"t","type":"http","source":"/t"}]}', 'd/func.json');
    assert.deepEqual(
      { name: f.name, version: f.version, runtime: f.runtime, cmd: f.cmd, memory: f.memory, config: f.config, build: f.build, triggers: f.triggers },
      { name: 'j', version: '0.0.1', runtime: 'node20', cmd: 'node func.js', memory: 256, config: { A: '1.10' }, build: ['true'], triggers: [{ name: 't', type: 'http', source: '/t' }] },
    );
    assert.throws(() => parseFuncYaml('name: j\n', 'd/func.json'), /d\/func\.json is not valid JSON/);
  });
  test('the version is written back in place: the rest of func.yaml keeps its text, byte for byte', async () => {
    const dir = await mkdtemp(join(tmp, 'ffy-'));
    const rest = (v: string) =>
      `schema_version: 20180708\nname: b1   # the name\nversion: ${v}  # bumped by deploy\nruntime: node\n` +
      `entrypoint: node func.js --with-a-rather-long-option-list --and-another-one --and-a-third-to-pass-eighty-columns\n` +
      `config: {A: "1", B: 0x10}\ntriggers:\n- name: t\n  type: http\n  source: /t\n`;
    for (const [from, to] of [['0.0.1', '0.0.2'], ["'0.0.2'", "'0.0.3'"], ['"0.0.3"', '"0.0.4"']] as const) {
      await writeFile(join(dir, 'func.yaml'), rest(from));
      await writeVersion(dir, to.replace(/['"]/g, ''));
      assert.equal(await readFile(join(dir, 'func.yaml'), 'utf8'), rest(to));
    }
    await writeFile(join(dir, 'func.yaml'), 'name: b2\nruntime: node\n');
    await writeVersion(dir, '0.0.1');
    assert.equal(await readFile(join(dir, 'func.yaml'), 'utf8'), 'name: b2\nruntime: node\nversion: 0.0.1\n');
  });
  test('deploy writes the bumped version back as JSON', async () => {
    const dir = await mkdtemp(join(tmp, 'ffv-'));
    await writeFile(join(dir, 'func.json'), '{"name": "j", "version": "0.0.1", "runtime": "node"}');
    await writeVersion(dir, '0.0.2');
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'func.json'), 'utf8')), { name: 'j', version: '0.0.2', runtime: 'node' });
  });
});

describe("package.json ranges against the versions Kiln bundles", () => {
  const modules = fileURLToPath(new URL('../../../node_modules', import.meta.url));
  const yamlVersion = (JSON.parse(readFileSync(join(modules, 'yaml', 'package.json'), 'utf8')) as { version: string }).version;
  const cases: Array<[string, string, RegExp | null]> = [
    ['yaml', `^${yamlVersion.split('.')[0]}.0.0`, null],
    ['yaml', '*', null],
    ['yaml', 'latest', null],
    ['@fnproject/fdk', '>=0.0.13', null],
    ['yaml', '^1.10.0', new RegExp(`package\\.json wants yaml@\\^1\\.10\\.0, but Kiln bundles yaml ${yamlVersion.replace(/\./g, '\\.')}`)],
    ['yaml', 'github:eemeli/yaml', /wants yaml from "github:eemeli\/yaml", which is not a version range; Kiln bundles yaml /],
    ['no-such-package-kiln', '^1.0.0', /depends on no-such-package-kiln@\^1\.0\.0, which Kiln does not bundle/],
    // A name is a path under node_modules: one that climbs out of it would copy what is there.
    ['..', '*', /depends on "\.\.", which is not an npm package name/],
    ['../..', '*', /not an npm package name/],
    ['yaml/../..', '*', /not an npm package name/],
    ['@scope/../x', '*', /not an npm package name/],
  ];
  for (const [name, range, error] of cases) {
    test(`${name}@${range}: ${error ? 'refused' : 'vendored'}`, () => {
      if (!error) return checkVendored('fn-dir', name, range, modules);
      assert.throws(
        () => checkVendored('fn-dir', name, range, modules),
        (e: unknown) => e instanceof CliError && error.test(e.message) &&
          (/not an npm package name/.test(e.message) || /no registry.*npm install.* in fn-dir/s.test(e.hint ?? '')),
      );
    });
  }
});

describe('config values as written, as Fn reads them (map[string]string)', () => {
  const cases: Array<[string, string, string]> = [
    ['a version', '1.10', '1.10'],
    ['hex', '0x10', '0x10'],
    ['octal-looking', '0o17', '0o17'],
    ['a float with an exponent', '1e3', '1e3'],
    ['a leading zero', '007', '007'],
    ['a boolean', 'true', 'true'],
    ['YAML 1.1 yes', 'yes', 'yes'],
    ['a quoted number', '"1.10"', '1.10'],
    ['single-quoted', "'a: b'", 'a: b'],
    ['null', '~', ''],
    ['empty', '', ''],
    ['text', 'debug', 'debug'],
  ];
  for (const [what, yaml, want] of cases) {
    test(`${what}: ${yaml || '(nothing)'} -> ${JSON.stringify(want)}`, () => {
      assert.deepEqual(parseFuncYaml(`config:\n  K: ${yaml}\n`).config, { K: want }, 'func.yaml');
      assert.deepEqual(parseAppFile(`name: a\nconfig:\n  K: ${yaml}\n`, 'app.yaml').config, { K: want }, 'app.yaml');
    });
  }
  test('an alias takes the text it points to', () => {
    assert.deepEqual(parseFuncYaml('x: &v 1.10\nconfig:\n  K: *v\n').config, { K: '1.10' });
  });
});

describe("deploy --all's names for a func.yaml without one, as fn's deployAll", () => {
  const cases: Array<[string, string]> = [
    ['api/users', 'api-users'],
    ['users', 'users'],
    ['a/b/c', 'a-b-c'],
    ['', 'shop-root'],
    ['.', 'shop-root'],
    ['../other/fn', 'other-fn'],
  ];
  for (const [rel, want] of cases) test(`${rel || '(the root)'} -> ${want}`, () => assert.equal(allDeployName('shop', rel), want));
});
