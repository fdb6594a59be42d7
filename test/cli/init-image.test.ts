// `kiln init --init-image IMAGE`, fn's init images, with a real one (test/fixtures/init-image)
// in real Docker: the directory it makes deploys and answers; init's flags go over the image's
// func.init.yaml as fn merges them; an image that fails, writes no tar, no func.init.yaml or a
// path outside the directory leaves nothing written; no container is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runInitImage } from '../../cli/init-image.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { docker } from '../helpers/images.js';
import { initImage } from '../helpers/init-images.js';
import type { TestServer } from '../helpers/server.js';

const P = `ii${process.pid}`;
const client = docker();

let srv: TestServer;
let work = '';
let env: Record<string, string> = {};
let image = '';

cliWorld(P, (w) => ({ srv, work, env } = w));
before(async () => {
  image = await initImage(client);
});

const kiln = (args: string[], cwd = work): Promise<CliRun> => runCli(args, { cwd, env });

async function ok(args: string[], cwd = work): Promise<CliRun> {
  const r = await kiln(args, cwd);
  assert.equal(r.code, 0, `kiln ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Fails with `re` on stderr, and leaves `dir` as it was (missing, or holding `had`). */
async function refused(args: string[], re: RegExp, dir: string, had: string[] = []): Promise<CliRun> {
  const r = await kiln(args);
  assert.equal(r.code, 1, `kiln ${args.join(' ')} should fail\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, re);
  assert.deepEqual((await readdir(dir).catch(() => [])).sort(), had, 'nothing written');
  return r;
}

async function initContainers(): Promise<unknown[]> {
  return client.listContainers({ all: true, filters: JSON.stringify({ label: ['io.kiln.cli=init-image'] }) });
}

describe('kiln init --init-image', () => {
  test('makes the files the image writes and a func.yaml merged as fn init merges it; it deploys and answers', async () => {
    const name = `${P}-hello`;
    const dir = join(work, name);
    const r = await ok(['init', '--init-image', image, '--name', name]);
    assert.equal(r.stdout, `Function ${name} created in ${dir} from init image ${image}: bin/check.sh, func.js, func.yaml, package.json, src/NOTES.md\n`);
    assert.deepEqual((await readdir(dir)).sort(), ['bin', 'func.js', 'func.yaml', 'package.json', 'src'], 'func.init.yaml is merged, not written');
    // FN_FUNCTION_NAME reached the image: it templated the code with the name.
    assert.match(await readFile(join(dir, 'func.js'), 'utf8'), new RegExp(`Hello from ${name}`));
    assert.equal((await stat(join(dir, 'bin', 'check.sh'))).mode & 0o777, 0o755, 'an executable stays one');
    assert.equal((await stat(join(dir, 'func.js'))).mode & 0o777, 0o644);
    assert.deepEqual(parse(await readFile(join(dir, 'func.yaml'), 'utf8')), {
      schema_version: 20180708,
      // init's name and version; the image's own name and memory are not taken (fn takes only its list).
      name,
      version: '0.0.1',
      runtime: 'node',
      run_image: 'fnproject/node:made-by-init',
      entrypoint: 'node func.js',
      format: 'http-stream',
      content_type: 'application/json',
      build: ['test -x bin/check.sh && bin/check.sh'],
      triggers: [{ name, type: 'http', source: `/${name}` }],
    });
    assert.deepEqual(await initContainers(), [], 'the init container is removed');

    // The build step it gave func.yaml runs bin/check.sh, which must have stayed executable.
    await ok(['deploy', '--app', `${P}-app`, '--create-app'], dir);
    assert.equal((await ok(['invoke', `${P}-app`, name, '--body', '{"name":"Ann"}'])).stdout, `{"message":"Hello from ${name}","name":"Ann"}\n`);
    assert.equal((await fetch(`${srv.url}/t/${P}-app/${name}`, { method: 'POST', body: '{}' }).then((res) => res.json()) as { message: string }).message, `Hello from ${name}`);
  });

  test("init's flags go over the image's fields (--entrypoint, --cmd, --format) and add their own", async () => {
    const name = `${P}-flags`;
    const r = await ok(['init', '--init-image', image, '--name', name, '--entrypoint', 'node other.js', '--cmd', 'x', '-f', 'http',
      '--memory', '256', '--timeout', '60', '-c', 'A=1', '--version', '1.2.3', '--trigger', 'HTTP']);
    assert.match(r.stderr, /^Format http written as http-stream \(Kiln runs Fn's http format as http-stream\)$/m);
    const doc = parse(await readFile(join(work, name, 'func.yaml'), 'utf8')) as Record<string, unknown>;
    assert.equal(doc.version, '1.2.3');
    assert.equal(doc.entrypoint, 'node other.js');
    assert.equal(doc.cmd, 'x');
    assert.equal(doc.format, 'http-stream');
    assert.equal(doc.memory, 256);
    assert.equal(doc.timeout, 60);
    assert.deepEqual(doc.config, { A: '1' });
    assert.deepEqual(doc.triggers, [{ name, type: 'http', source: `/${name}` }]);
    assert.equal(doc.runtime, 'node', 'the rest still from the image');
  });

  test('an image that fails, writes no tar, a path outside the directory or no func.init.yaml leaves nothing written', async () => {
    const at = (n: string): string => join(work, `${P}-${n}`);
    const r = await refused(['init', '--init-image', image, '--name', `${P}-fails`], /^Error: init image .+ exited with code 3; nothing was written\. It said:\nno template for ii\d+-fails\n/, at('fails'));
    assert.match(r.stderr, /docker run --rm -e FN_FUNCTION_NAME=NAME IMAGE/);
    await refused(['init', '--init-image', image, '--name', `${P}-text`], /^Error: Error un-tarring the output of the init-image .+: TAR_BAD_ARCHIVE: Unrecognized archive format; nothing was written\nAn init image writes a tar/, at('text'));
    await refused(['init', '--init-image', image, '--name', `${P}-dirfile`], /^Error: init image .+ wrote "x" both as a file and as a directory; nothing was written/, at('dirfile'));
    await refused(['init', '--init-image', image, '--name', `${P}-badyaml`], /^Error: init-image did not produce a valid func\.init\.yaml \(.+: entrypoint must be a string\); nothing was written/, at('badyaml'));
    await refused(['init', '--init-image', image, '--name', `${P}-abs`], /^Error: init image .+ wrote "\/init\/template\/func\.js", outside the function's directory; nothing was written/, at('abs'));
    await refused(['init', '--init-image', image, '--name', `${P}-noyaml`], /^Error: init-image did not produce a valid func\.init\.yaml \(.+: no func\.init\.yaml in its tar\); nothing was written/, at('noyaml'));
    await refused(['init', '--init-image', 'kiln-test/no-such-init-image:1', '--name', `${P}-missing`], /^Error: init image kiln-test\/no-such-init-image:1 is not in the Docker engine and could not be pulled: .+\nBuild it/, at('missing'));
    // fn's words.
    await refused(['init', '--init-image', image, '--runtime', 'node', '--name', `${P}-both`], /^Error: You can't supply --runtime with --init-image\n/, at('both'));
    await refused(['init', '--init-image', image, '--name', `${P}-fmt`, '--format', 'xml'], /^Error: --format xml is not a format Kiln runs\n/, at('fmt'));
    assert.deepEqual(await initContainers(), [], 'every init container is removed');
  });

  test("what fn accepts: a line printed after the tar, an image still running after it (stopped 5 s on), the image's own func.yml (not written)", async () => {
    for (const n of ['trail', 'tarsleep', 'funcyml']) {
      const name = `${P}-${n}`;
      const t0 = Date.now();
      const r = await ok(['init', '--init-image', image, '--name', name]);
      assert.match(await readFile(join(work, name, 'func.js'), 'utf8'), new RegExp(`Hello from ${name}`), n);
      if (n === 'tarsleep') assert.ok(Date.now() - t0 < 15_000, `stopped after ${Date.now() - t0} ms`);
      if (n === 'funcyml') {
        assert.match(r.stderr, /^Not written: the image's own func\.yml; func\.yaml is its func\.init\.yaml merged with init's flags$/m);
        assert.ok(!(await readdir(join(work, name))).includes('func.yml'));
      }
    }
    assert.deepEqual(await initContainers(), [], 'every init container is removed');
  });

  test('Ctrl-C while the image runs: the container is removed, exit 130, nothing written', async () => {
    const name = `${P}-sleeper`;
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../cli/main.js', import.meta.url)), 'init', '--init-image', image, '--name', name], {
      cwd: work, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    for (let i = 0; i < 100 && (await initContainers()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await initContainers()).length, 1, 'the image runs');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 130);
    assert.doesNotMatch(stderr, /exited with code/, 'the kill of its container is not blamed on the image');
    assert.deepEqual(await initContainers(), [], 'the container is removed');
    assert.deepEqual(await readdir(join(work, name)).catch(() => []), []);
  });

  test('runInitImage aborted while the image runs: its container is removed, the abort\'s reason rejects, no signal listener of its own', async () => {
    const listeners = (): number => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    const had = listeners();
    const controller = new AbortController();
    const running = runInitImage(client, image, `${P}-sleeper`, { signal: controller.signal });
    running.catch(() => undefined);
    for (let i = 0; i < 100 && (await initContainers()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await initContainers()).length, 1, 'the image runs');
    // Library code: the caller decides what a Ctrl-C does (kiln init: interruptible, exit 130).
    assert.equal(listeners(), had, 'no SIGINT/SIGTERM listener added');
    const reason = new Error('the caller stopped it');
    controller.abort(reason);
    await assert.rejects(running, (err) => err === reason);
    assert.deepEqual(await initContainers(), [], 'the container is removed');
  });

  test('links and other entries are skipped with a note; existing files are kept unless --force', async () => {
    const name = `${P}-link`;
    const r = await ok(['init', '--init-image', image, '--name', name]);
    assert.match(r.stderr, /Skipped what the init image wrote that is neither a file nor a directory \(as fn init\): passwd \(symlink\)\n/);
    assert.ok(!(await readdir(join(work, name))).includes('passwd'));
    assert.doesNotMatch(r.stderr, /Note: kiln build/);

    // Made for one of fn's runtimes Kiln does not build: written, and init says so.
    const rust = await ok(['init', '--init-image', image, '--name', `${P}-rust`]);
    assert.match(rust.stderr, /^Note: kiln build cannot build it as it is: bad func\.yaml: runtime "rust" is not supported \(in .+\) \(Use node, lambda-node, lambda-shell, or docker with a Dockerfile in the directory\.\)\n$/m);
    assert.match(await readFile(join(work, `${P}-rust`, 'func.yaml'), 'utf8'), /^runtime: rust$/m);

    const dir = join(work, `${P}-mine`);
    await mkdir(dir);
    await writeFile(join(dir, 'func.js'), 'my own code\n');
    await refused(['init', '--init-image', image, '--name', `${P}-mine`], new RegExp(`^Error: the init image would overwrite ${dir}/func\\.js; nothing was written\\nInit into an empty directory, or overwrite them with --force\\.`), dir, ['func.js']);
    // A file with another name elsewhere would change there too: refused, even with --force.
    await link(join(dir, 'func.js'), join(work, `${P}-elsewhere.js`));
    await refused(['init', '--init-image', image, '--name', `${P}-mine`, '--force'], new RegExp(`^Error: ${dir}/func\\.js has 1 other hard link; kiln does not write through links`), dir, ['func.js']);
    assert.equal(await readFile(join(work, `${P}-elsewhere.js`), 'utf8'), 'my own code\n');
    await rm(join(work, `${P}-elsewhere.js`));
    await ok(['init', '--init-image', image, '--name', `${P}-mine`, '--force']);
    assert.match(await readFile(join(dir, 'func.js'), 'utf8'), /Hello from/);
    // A second init finds the func.yaml, as fn init does.
    await refused(['init', '--init-image', image, '--name', `${P}-mine`], /already has a func\.yaml/, dir, ['bin', 'func.js', 'func.yaml', 'package.json', 'src']);
  });
});
