// What of a function directory goes into its image: its `.dockerignore` is applied with
// Docker's rules (patterns, `**`, `!` exceptions) for every runtime, as `fn build`'s
// `docker build` applies it, and an app root's other functions and app file stay out of the
// root function's image. The contexts are read without Docker; one deploy --all runs on real
// Docker and the root function lists what its image holds.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadFunc, otherFunctions, planBuild } from '../../cli/build.js';
import { functionBuildContext, type ImageKind } from '../../images/function-image.js';
import { cliRunners } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';

const P = `w5b${process.pid}`; // names (and so image names) no other test process uses
let work = '';
let env: Record<string, string> = {};
const { ok } = cliRunners(() => env);

cliWorld(P, (w) => ({ work, env } = w));

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-build-context-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes `files` (path: content) under `dir`. */
async function tree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
}

/** The files (not directories) of the context, under `under`. */
async function contextFiles(dir: string, kind: ImageKind, leaveOut?: string[]): Promise<string[]> {
  const { context } = await functionBuildContext(dir, { kind, ...(leaveOut && { leaveOut }) });
  const under = kind === 'dockerfile' ? '' : 'function/';
  return [...context.entries].filter(([, e]) => e.kind !== 'dir').map(([p]) => p.slice(under.length)).sort();
}

describe('.dockerignore', () => {
  const IGNORE = '# secrets and junk\nsecret.env\n**/*.log\n!keep.log\nbig/\ncache\n!cache/wanted.txt\n/top.tmp\n';
  const FILES = {
    'func.yaml': 'name: x\nruntime: node\nentrypoint: node func.js\n',
    'Dockerfile.not': '',
    'func.js': '',
    '.dockerignore': IGNORE,
    'secret.env': 'PASSWORD=hunter2',
    'app.log': '',
    'deep/er/trace.log': '',
    'keep.log': '',
    'big/blob.bin': '',
    'cache/junk.txt': '',
    'cache/wanted.txt': '',
    'top.tmp': '',
    'sub/top.tmp': '',
  };
  const KEPT = ['.dockerignore', 'Dockerfile.not', 'cache/wanted.txt', 'func.js', 'func.yaml', 'keep.log', 'sub/top.tmp'];

  for (const kind of ['http-stream', 'lambda', 'dockerfile'] as const) {
    test(`is applied with Docker's rules (${kind})`, async () => {
      const dir = await mkdtemp(join(tmp, `di-${kind}-`));
      await tree(dir, { ...FILES, ...(kind === 'dockerfile' && { Dockerfile: 'FROM scratch\n' }) });
      assert.deepEqual(await contextFiles(dir, kind), KEPT);
    });
  }

  test("a node_modules/ it leaves out is as none: Kiln's packages are copied in, or the image would have none", async () => {
    const files = {
      'func.yaml': 'runtime: node\nentrypoint: node func.js\n', 'func.js': '',
      'package.json': JSON.stringify({ dependencies: { '@fnproject/fdk': '>=0.0.13' } }),
      'node_modules/@fnproject/fdk/package.json': '{"name":"@fnproject/fdk","version":"0.0.1"}',
    };
    const ignored = await mkdtemp(join(tmp, 'di-modules-'));
    await tree(ignored, { ...files, '.dockerignore': 'node_modules\n' });
    assert.deepEqual((await planBuild(ignored, await loadFunc(ignored))).vendor, ['@fnproject/fdk']);
    assert.deepEqual(await contextFiles(ignored, 'http-stream'), ['.dockerignore', 'func.js', 'func.yaml', 'package.json']);
    // Not left out: the directory's own go in, and nothing is copied from Kiln.
    const kept = await mkdtemp(join(tmp, 'di-modules-kept-'));
    await tree(kept, files);
    assert.deepEqual((await planBuild(kept, await loadFunc(kept))).vendor, []);
    assert.ok((await contextFiles(kept, 'http-stream')).includes('node_modules/@fnproject/fdk/package.json'));
  });

  test('none: everything but .git goes in', async () => {
    const dir = await mkdtemp(join(tmp, 'di-none-'));
    await tree(dir, { 'func.yaml': 'entrypoint: node func.js\n', 'secret.env': '', '.git/HEAD': '' });
    assert.deepEqual(await contextFiles(dir, 'http-stream'), ['func.yaml', 'secret.env']);
  });
});

describe("an app root's function", () => {
  test('leaves out the other functions and the app file', async () => {
    const dir = await mkdtemp(join(tmp, 'root-'));
    await tree(dir, {
      'app.yaml': 'name: a\nconfig:\n  DB_PASSWORD: x\n',
      'func.yaml': 'entrypoint: node func.js\n',
      'func.js': '',
      'lib/util.js': '',
      'api/func.yaml': 'name: api\n',
      'api/func.js': '',
      'api/users/func.yaml': 'name: users\n',
      'node_modules/pkg/func.yaml': '',
    });
    const leaveOut = await otherFunctions(dir);
    assert.deepEqual(leaveOut, ['api', 'api/users', 'app.yaml']);
    assert.deepEqual(await contextFiles(dir, 'http-stream', leaveOut), ['func.js', 'func.yaml', 'lib/util.js', 'node_modules/pkg/func.yaml']);
  });

  test('deploy --all on Docker: the root image has neither secret.env nor the sub-function', async () => {
    const root = join(work, 'app');
    await mkdir(root);
    await writeFile(join(root, 'app.yaml'), `name: ${P}-app\n`);
    await ok(['init', '--runtime', 'node', '--name', `${P}-root`, '.'], root);
    await ok(['init', '--runtime', 'node', '--name', `${P}-sub`, 'sub'], root);
    // The root function answers with the files of its image's /function.
    await writeFile(
      join(root, 'func.js'),
      "const fdk = require('@fnproject/fdk');\nconst fs = require('fs');\nfdk.handle(() => fs.readdirSync('/function').filter((f) => f !== 'node_modules').sort());\n",
    );
    await writeFile(join(root, 'secret.env'), 'PASSWORD=hunter2\n');
    await writeFile(join(root, '.dockerignore'), 'secret.env\n');
    const r = await ok(['deploy', '--all', '--create-app'], root);
    assert.match(r.stderr, /left out of the build context \(not this function's\): sub, app\.yaml/);
    const listed = JSON.parse((await ok(['invoke', `${P}-app`, `${P}-root`], root)).stdout) as string[];
    assert.deepEqual(listed, ['.dockerignore', 'func.js', 'func.yaml', 'package.json']);
  });
});
