// `kiln init` and `kiln deploy` in a hostile project directory: a project file that is a link
// (to a victim's file, or dangling into the victim's directory) is refused, naming it, and
// nothing is written through it; files are written by a new file renamed into place.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CliError } from '../../cli/errors.js';
import { writeVersion } from '../../cli/funcfile.js';
import { runCli } from '../helpers/cli.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-cli-links-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh root with victim/important.txt and an empty hostile/. */
async function world(): Promise<{ root: string; hostile: string; victim: string }> {
  const root = await mkdtemp(join(tmp, 'w-'));
  const hostile = join(root, 'hostile');
  const victim = join(root, 'victim');
  await mkdir(hostile);
  await mkdir(victim);
  await writeFile(join(victim, 'important.txt'), 'keep: me\n');
  return { root, hostile, victim };
}

/** The CLI with its own config dir and a server address nothing listens on (no call must reach one). */
const kiln = (args: string[], cwd: string) =>
  runCli(args, { cwd, env: { KILN_CONFIG_DIR: join(tmp, 'config'), FN_API_URL: 'http://127.0.0.1:18799' } });

const noTempFiles = async (dir: string) => assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);

describe('kiln init in a directory holding links', () => {
  const cases: { name: string; links: Record<string, string>; force: boolean; refused: string }[] = [
    {
      name: 'func.yaml to a victim\'s file and a dangling bootstrap, with --force',
      links: { 'func.yaml': '../victim/important.txt', bootstrap: '../victim/newfile.sh' },
      force: true,
      refused: 'func.yaml',
    },
    { name: 'a dangling bootstrap alone', links: { bootstrap: '../victim/newfile.sh' }, force: false, refused: 'bootstrap' },
    { name: 'a dangling func.yaml', links: { 'func.yaml': '../victim/newfile.sh' }, force: false, refused: 'func.yaml' },
  ];
  for (const c of cases) {
    test(`${c.name}: refused, naming ${c.refused}; nothing is written anywhere`, async () => {
      const { root, hostile, victim } = await world();
      for (const [name, target] of Object.entries(c.links)) await symlink(target, join(hostile, name));
      const r = await kiln(['init', '--runtime', 'lambda-shell', ...(c.force ? ['--force'] : []), '--name', 'x', 'hostile'], root);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`Error: ${join(hostile, c.refused).replace(/[.]/g, '\\.')} is a symbolic link; kiln does not write through links\n`));
      assert.equal(await readFile(join(victim, 'important.txt'), 'utf8'), 'keep: me\n');
      assert.deepEqual((await readdir(victim)).sort(), ['important.txt']);
      assert.deepEqual((await readdir(hostile)).sort(), Object.keys(c.links).sort(), 'the refusal writes none of the other files');
    });
  }

  test('a plain directory still gets its files, with their modes, and no temporary file is left', async () => {
    const { root, hostile } = await world();
    await writeFile(join(hostile, 'function.sh'), 'mine\n');
    const r = await kiln(['init', '--runtime', 'lambda-shell', '--name', 'x', 'hostile'], root);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(hostile)).sort(), ['bootstrap', 'func.yaml', 'function.sh']);
    assert.equal(await readFile(join(hostile, 'function.sh'), 'utf8'), 'mine\n', 'code already there is kept');
    assert.equal((await stat(join(hostile, 'bootstrap'))).mode & 0o777, 0o755);
    assert.equal((await stat(join(hostile, 'func.yaml'))).mode & 0o777, 0o644);
    // --force rewrites func.yaml in place of the old one.
    await writeFile(join(hostile, 'func.yaml'), 'old\n');
    assert.equal((await kiln(['init', '--runtime', 'lambda-shell', '--force', '--name', 'x', 'hostile'], root)).code, 0);
    assert.match(await readFile(join(hostile, 'func.yaml'), 'utf8'), /^schema_version: 20180708/m);
    await noTempFiles(hostile);
  });
});

describe('kiln deploy with func.yaml a link', () => {
  test('refused before anything changes, naming the file; the link\'s target is unchanged', async () => {
    const { root } = await world();
    const fn = join(root, 'fn');
    assert.equal((await kiln(['init', '--runtime', 'node', '--name', 'ev-fn', 'fn'], root)).code, 0);
    const victim2 = join(root, 'victim2');
    await mkdir(victim2);
    // A func.yaml with no version: deploy would add `version: 0.0.1`.
    const text = (await readFile(join(fn, 'func.yaml'), 'utf8')).replace(/^version: .*\n/m, '');
    await writeFile(join(victim2, 'settings.yaml'), text);
    await rm(join(fn, 'func.yaml'));
    await symlink('../victim2/settings.yaml', join(fn, 'func.yaml'));
    const r = await kiln(['deploy', '--app', 'ev', '--local'], fn);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`Error: ${join(fn, 'func.yaml').replace(/[.]/g, '\\.')} is a symbolic link; kiln does not write through links\n`));
    assert.equal(await readFile(join(victim2, 'settings.yaml'), 'utf8'), text);
  });
});

describe('writeVersion', () => {
  test('refuses a func.yaml that is a link, leaving its target as it was', async () => {
    const { hostile, victim } = await world();
    await symlink('../victim/important.txt', join(hostile, 'func.yaml'));
    await assert.rejects(writeVersion(hostile, '0.0.2'), (e: unknown) => e instanceof CliError && /func\.yaml is a symbolic link/.test(e.message));
    assert.equal(await readFile(join(victim, 'important.txt'), 'utf8'), 'keep: me\n');
  });

  test('rewrites a plain func.yaml whole, keeping its mode and comments, leaving no temporary file', async () => {
    const { hostile } = await world();
    const path = join(hostile, 'func.yaml');
    await writeFile(path, '# mine\nname: x\nversion: 0.0.1\n');
    await chmod(path, 0o640);
    await writeVersion(hostile, '0.0.2');
    assert.equal(await readFile(path, 'utf8'), '# mine\nname: x\nversion: 0.0.2\n');
    assert.equal((await stat(path)).mode & 0o777, 0o640);
    await noTempFiles(hostile);
    assert.ok(!existsSync(join(hostile, 'func.yml')));
  });

  test('rewrites func.yaml in place, as fn does: the same file (inode), its owner kept (a `sudo kiln deploy` leaves it the user\'s)', async () => {
    const { hostile } = await world();
    const path = join(hostile, 'func.yaml');
    await writeFile(path, 'name: x\nversion: 0.0.1\n');
    const owned = process.getuid?.() === 0;
    if (owned) await chown(path, 65534, 65534);
    const before = await stat(path);
    await writeVersion(hostile, '0.0.2');
    const after = await stat(path);
    assert.equal(await readFile(path, 'utf8'), 'name: x\nversion: 0.0.2\n');
    assert.equal(after.ino, before.ino);
    if (owned) assert.deepEqual([after.uid, after.gid], [65534, 65534]);
  });
});
