// Where `kiln` did what `fn` does not, to a user's harm, end to end: a real server, real
// Docker, the CLI as a subprocess. A deploy keeps what an operator set with `update fn`; a
// deploy whose image tag another app's fn has warns with a registry prefix too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliRunners } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';

const P = `w5p${process.pid}`; // names (and so image names) no other test process uses
let work = '';
let env: Record<string, string> = {};
let srvUrl = '';
const { ok, kiln } = cliRunners(() => env);

cliWorld(P, (w) => ({ work, env, srv: { url: srvUrl } } = w));

/** The fn as `kiln inspect fn` gives it. */
async function inspectFn(app: string, fn: string): Promise<{ memory: number; timeout: number; idle_timeout: number; config: Record<string, string>; image: string }> {
  return JSON.parse((await ok(['inspect', 'fn', app, fn], work)).stdout);
}

describe('deploy after update fn', () => {
  test("keeps the operator's memory and timeout: init writes them only when asked", async () => {
    const APP = `${P}-keep`;
    const FN = `${P}-keep`;
    await ok(['init', '--runtime', 'node', '--name', FN], work);
    const dir = join(work, FN);
    const text = await readFile(join(dir, 'func.yaml'), 'utf8');
    assert.doesNotMatch(text, /^(memory|timeout|idle_timeout|config):/m);
    await ok(['deploy', '--app', APP, '--create-app'], dir);
    // A new fn gets the server's defaults.
    const created = await inspectFn(APP, FN);
    assert.deepEqual([created.memory, created.timeout, created.idle_timeout], [128, 30, 30]);
    await ok(['update', 'fn', APP, FN, '--memory', '256', '--timeout', '60', '-c', 'OPS=1'], work);
    await ok(['deploy', '--app', APP], dir);
    const after = await inspectFn(APP, FN);
    assert.deepEqual([after.memory, after.timeout, after.idle_timeout, after.config], [256, 60, 30, { OPS: '1' }]);
    assert.match(after.image, /:0\.0\.3$/);
  });

  test('init --memory and friends are written, and deploy sends them', async () => {
    const APP = `${P}-asked`;
    const FN = `${P}-asked`;
    await ok(['init', '--runtime', 'node', '--name', FN, '-m', '192', '--timeout', '45', '--idle-timeout', '10', '-c', 'A=b'], work);
    const text = await readFile(join(work, FN, 'func.yaml'), 'utf8');
    assert.match(text, /^memory: 192$/m);
    assert.match(text, /^config:\n {2}A: b$/m);
    await ok(['deploy', '--app', APP, '--create-app'], join(work, FN));
    const fn = await inspectFn(APP, FN);
    assert.deepEqual([fn.memory, fn.timeout, fn.idle_timeout, fn.config], [192, 45, 10, { A: 'b' }]);
  });
});

describe('invoke into a closed pipe', () => {
  test('`kiln invoke ... | head -c 10` of a big answer stops quietly with 141, as fn (killed by SIGPIPE)', async () => {
    // An invoke endpoint answering 8 MB: more than any pipe holds before head is gone.
    const big = Buffer.alloc(8 << 20, 'x');
    const server = createServer((_req, res) => res.end(big));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/invoke/x`;
    try {
      const main = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
      const child = spawn(process.execPath, [main, 'invoke', '--endpoint', url], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // head -c 10: read the first bytes, then close the pipe.
      const [first] = (await once(child.stdout, 'data')) as [Buffer];
      assert.equal(first.subarray(0, 10).toString(), 'xxxxxxxxxx');
      child.stdout.destroy();
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 141, stderr);
      assert.equal(stderr, '', 'no stack trace');
    } finally {
      server.close();
    }
  });
});

describe('the lambda-shell template', () => {
  test('answers 1 MB (its bootstrap gives curl the answer on stdin, not as one argument)', async () => {
    const APP = `${P}-sh`;
    const FN = `${P}-sh`;
    await ok(['init', '--runtime', 'lambda-shell', '--name', FN], work);
    const dir = join(work, FN);
    // 1 MiB of x: far over the ~128 KiB one argument may hold.
    await writeFile(join(dir, 'function.sh'), "handler () {\n  head -c 1048576 /dev/zero | tr '\\0' x\n}\n");
    await ok(['deploy', '--app', APP, '--create-app'], dir);
    const r = await ok(['invoke', APP, FN], work);
    assert.equal(r.stdoutBytes.length, (1 << 20) + 1, r.stderr);
    assert.match(r.stdout, /^x{1048576}\n$/);
  });
});

describe('config unset', () => {
  test('of a key that is not there succeeds, as fn', async () => {
    const APP = `${P}-cfg`;
    await ok(['create', 'app', APP], work);
    const r = await ok(['config', 'app', APP, 'unset', 'NOPE'], work);
    assert.equal(r.stdout, `app ${APP}: NOPE was not set\n`);
    await ok(['unset', 'config', 'app', APP, 'NOPE'], work);
  });
});

describe('an API URL without a scheme', () => {
  test('FN_API_URL=HOST:PORT is http://HOST:PORT, as fn; context create --api-url wants the scheme, as fn', async () => {
    const APP = `${P}-noscheme`;
    const hostPort = srvUrl.replace(/^http:\/\//, '');
    await ok(['create', 'app', APP], work, { FN_API_URL: hostPort });
    const r = await ok(['list', 'apps'], work, { FN_API_URL: hostPort });
    assert.match(r.stdout, new RegExp(`^${APP} `, 'm'));
    const refused = await kiln(['context', 'create', `${P}-ctx`, '--api-url', hostPort], work);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`invalid API URL "${hostPort}": it has no scheme .*\nGive a full URL such as http://${hostPort}\.`));
  });
});

describe('help shows a default only where it is applied', () => {
  /** The help text of one option, its wrapped lines joined. */
  const optionHelp = (help: string, flag: string): string => {
    const at = help.indexOf(flag);
    assert.ok(at >= 0, `${flag} in ${help}`);
    const lines = help.slice(at).split('\n');
    const rest = lines.slice(1).findIndex((l) => !/^ {20,}\S/.test(l));
    return lines.slice(0, rest < 0 ? undefined : rest + 1).join(' ').replace(/\s+/g, ' ');
  };
  test('update fn and context update imply none; create fn gives the server\'s; init says when it writes them', async () => {
    const update = (await ok(['update', 'fn', '--help'], work)).stdout;
    for (const flag of ['--memory', '--timeout <s>', '--idle-timeout', '--format']) {
      const h = optionHelp(update, flag);
      assert.doesNotMatch(h, /default/, h);
      assert.match(h, /unchanged when not given/, h);
    }
    const ctx = optionHelp((await ok(['context', 'update', '--help'], work)).stdout, '--api-url');
    assert.doesNotMatch(ctx, /default/, ctx);
    const create = (await ok(['create', 'fn', '--help'], work)).stdout;
    assert.match(optionHelp(create, '--memory'), /default 128/);
    assert.match(optionHelp(create, '--timeout <s>'), /default 30/);
    const init = (await ok(['init', '--help'], work)).stdout;
    for (const flag of ['--memory', '--timeout <s>', '--idle-timeout']) {
      const h = optionHelp(init, flag);
      assert.doesNotMatch(h, /default/, h);
      assert.match(h, /written to func\.yaml only when given/, h);
    }
  });
});

describe('init where it cannot write', () => {
  test('a directory where a file goes, DIR a file, or a file on the way: a clear error, exit 1, nothing written', async () => {
    const root = join(work, `${P}-nowrite`);
    await mkdir(join(root, 'yamldir', 'func.yaml'), { recursive: true });
    await mkdir(join(root, 'pkgdir', 'package.json'), { recursive: true });
    await writeFile(join(root, 'afile'), 'x');
    const cases: Array<[string[], RegExp]> = [
      [['yamldir'], /^Error: kiln init: \S+\/yamldir\/func\.yaml is a directory, where init writes \(or looks for\) a file\n/],
      [['--force', 'yamldir'], /^Error: kiln init: \S+\/yamldir\/func\.yaml is a directory/],
      [['pkgdir'], /^Error: kiln init: \S+\/pkgdir\/package\.json is a directory/],
      [['--name', 'x', 'afile'], /^Error: kiln init: \S+\/afile is a file, not a directory\n/],
      [['--name', 'x', 'afile/sub'], /^Error: kiln init: cannot make \S+\/afile\/sub: \S+\/afile is a file, not a directory\n/],
      [['-w', 'afile', 'x'], /^Error: kiln init: cannot make \S+\/afile\/x: \S+\/afile is a file, not a directory\n/],
    ];
    for (const [args, re] of cases) {
      const r = await kiln(['init', '--runtime', 'node', ...args], root);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /nothing was written\.\n$/);
      assert.doesNotMatch(r.stderr, /EEXIST|ENOTDIR|EISDIR/);
    }
    assert.deepEqual((await readdir(root)).sort(), ['afile', 'pkgdir', 'yamldir']);
    assert.deepEqual(await readdir(join(root, 'yamldir')), ['func.yaml']);
    assert.deepEqual(await readdir(join(root, 'pkgdir')), ['package.json'], 'no func.yaml or func.js written beside it');
    assert.equal(await readFile(join(root, 'afile'), 'utf8'), 'x');
  });
});

describe('init --init-image', () => {
  test('with --runtime is refused in fn\'s words; with neither, init says it needs one (commander said its required option was missing)', async () => {
    const root = join(work, `${P}-initimage`);
    await mkdir(root);
    const both = await kiln(['init', '--runtime', 'node', '--init-image', 'some/image', 'x'], root);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^Error: You can't supply --runtime with --init-image\nGive one: --runtime \(node, lambda-node, lambda-shell\)/);
    const none = await kiln(['init'], root);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: kiln init needs --runtime\nGive one of: node, lambda-node, lambda-shell \(e\.g\. kiln init --runtime node hello\), or an fn init image with --init-image\./);
    assert.deepEqual(await readdir(root), [], 'nothing written');
  });
});
