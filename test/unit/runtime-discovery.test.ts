import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bootstrapCommand, extensionFiles } from '../../runtime/discovery.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-discovery-'));
  await mkdir(join(dir, 'ext/subdir'), { recursive: true });
  for (const f of ['b-ext', 'a-ext']) {
    await writeFile(join(dir, 'ext', f), '#!/bin/sh\n');
    await chmod(join(dir, 'ext', f), 0o755);
  }
  await mkdir(join(dir, 'task'));
  await writeFile(join(dir, 'task/bootstrap'), '#!/bin/sh\n');
  await mkdir(join(dir, 'opt-bootstrap-is-a-dir'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('extensions: files only, in name order; a missing directory has none', () => {
  assert.deepEqual(extensionFiles(join(dir, 'ext')), ['a-ext', 'b-ext']);
  assert.deepEqual(extensionFiles(join(dir, 'missing')), []);
});

const cases: { name: string; paths: string[]; image: string[]; workDir?: string; want: ReturnType<typeof bootstrapCommand> | 'task' }[] = [
  { name: 'the first bootstrap file, run in the task root', paths: ['missing', 'task/bootstrap'], image: ['x'], want: 'task' },
  { name: 'a directory named bootstrap is skipped for the image command', paths: ['opt-bootstrap-is-a-dir'], image: ['/entry', 'a.handler'], workDir: '/', want: { command: '/entry', args: ['a.handler'], cwd: '/' } },
  { name: "the image's command in its working directory", paths: [], image: ['node', 'x.js'], workDir: 'task', want: 'task' },
  { name: 'nothing to run', paths: ['missing'], image: [], want: undefined },
];

for (const c of cases) {
  test(`bootstrap: ${c.name}`, () => {
    const got = bootstrapCommand({
      bootstrapPaths: c.paths.map((p) => join(dir, p)), taskRoot: join(dir, 'task'), imageCommand: c.image,
      imageWorkDir: c.workDir === undefined ? '' : c.workDir.startsWith('/') ? c.workDir : join(dir, c.workDir),
    });
    if (c.want === 'task') {
      assert.equal(got?.cwd, join(dir, 'task'));
      return;
    }
    assert.deepEqual(got, c.want);
  });
}
