// `kiln init --init-image IMAGE` (fn init's): runs the image, checks everything it wrote against
// itself and the target directory, then writes its files and a func.yaml merged from its
// func.init.yaml and init's flags.
import { existsSync, lstatSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type Docker from 'dockerode';
import { FUNC_FILE_NAMES } from '../images/func-yaml.js';
import { loadFunc, planBuild } from './build.js';
import { CliError } from './errors.js';
import { funcYamlFromInit, INIT_YAML, initYamlFields, runInitImage, type InitOverrides } from './init-image.js';
import { checkInitTree } from './init-tar.js';
import { checkNewFn, checkTargetDir, checkTargetFiles, refuseExistingFunction } from './init-checks.js';
import { refuseLink, writeProjectFile } from './project-file.js';

export interface InitFromImage {
  /** What was written, func.yaml included (func.init.yaml is merged into it, never written). */
  files: string[];
  skipped: string[];
  /** The image's own func files (func.yml, ...): not written, func.yaml is the merge. */
  replaced: string[];
  /** Why `kiln build` would refuse the result, if it would (an init image made for fn's own runtimes). */
  buildProblem?: string;
}

/**
 * Runs the image, checks everything it wrote, then writes. Nothing is written when the image
 * fails, writes no valid func.init.yaml, writes outside `dir`, names a path both as a file and as
 * a directory, or would write over the user's files (only with --force, as fn overwrites them
 * always) or through a link (symbolic, or a hard link's other names). `signal` aborted while the
 * image runs: its container is removed and nothing is written (runInitImage).
 */
export async function initFromImage(docker: () => Promise<Docker>, dir: string, image: string, name: string, fields: InitOverrides, force: boolean, signal?: AbortSignal): Promise<InitFromImage> {
  checkNewFn(name, fields);
  checkTargetDir(dir);
  refuseExistingFunction(dir, force);
  const made = await runInitImage(await docker(), image, name, { signal });
  checkInitTree(made, image, [INIT_YAML, ...FUNC_FILE_NAMES]);
  const yaml = funcYamlFromInit(name, initYamlFields(made.files.get(INIT_YAML)?.content.toString('utf8'), image), fields);
  // func.yaml is the merge; a func file of the image's own would be a second one (fn overwrites it too).
  const replaced = [...made.files.keys()].filter((rel) => FUNC_FILE_NAMES.includes(rel));
  const files = [...made.files].filter(([rel]) => rel !== INIT_YAML && !FUNC_FILE_NAMES.includes(rel));
  const rels = files.map(([rel]) => rel);
  checkTargetFiles(dir, [...FUNC_FILE_NAMES, ...rels]);
  for (const rel of made.dirs) checkDirs(dir, rel, true);
  for (const rel of rels) checkDirs(dir, rel, false);
  for (const rel of rels) await refuseLink(join(dir, rel));
  const theirs = rels.filter((rel) => existsSync(join(dir, rel)));
  if (!force && theirs.length > 0) {
    throw new CliError(
      `the init image would overwrite ${theirs.slice(0, 5).map((r) => join(dir, r)).join(', ')}${theirs.length > 5 ? ` and ${theirs.length - 5} more` : ''}; nothing was written`,
      'Init into an empty directory, or overwrite them with --force.',
    );
  }
  // Rewritten in place, a file with other names would change under those too.
  for (const rel of [...theirs, ...FUNC_FILE_NAMES]) {
    const st = lstatSync(join(dir, rel), { throwIfNoEntry: false });
    if (st && st.nlink > 1) {
      throw new CliError(`${join(dir, rel)} has ${st.nlink - 1} other hard link${st.nlink > 2 ? 's' : ''}; kiln does not write through links`, 'Replace it with a file of its own (or remove it), then run the command again; nothing was written.');
    }
  }
  // A Ctrl-C during the checks writes nothing; past here the files are written whole.
  signal?.throwIfAborted();
  await mkdir(dir, { recursive: true });
  for (const rel of made.dirs) await mkdir(join(dir, rel), { recursive: true });
  for (const [rel, f] of files) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    // An executable stays one; nothing is left writable by others, whatever the tar said.
    await writeProjectFile(join(dir, rel), f.content, f.mode & 0o111 ? 0o755 : 0o644);
  }
  await writeProjectFile(join(dir, 'func.yaml'), yaml);
  let buildProblem: string | undefined;
  try {
    await planBuild(dir, await loadFunc(dir), { deps: false });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    buildProblem = `${err.message}${err.hint ? ` (${err.hint})` : ''}`;
  }
  return { files: ['func.yaml', ...rels].sort(), skipped: made.skipped, replaced, ...(buildProblem !== undefined && { buildProblem }) };
}

/**
 * Refuses a directory the image wrote, or a file's parent, that is a link or a file in `dir` (a
 * file's own path is checkTargetFiles' and refuseLink's).
 */
function checkDirs(dir: string, rel: string, isDir: boolean): void {
  const parts = rel.split('/');
  for (let i = 1; i <= (isDir ? parts.length : parts.length - 1); i++) {
    const at = join(dir, posix.join(...parts.slice(0, i)));
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isSymbolicLink()) {
      throw new CliError(`${at} is a symbolic link; kiln does not write through links`, 'Replace it with a directory (or remove it), then run the command again; nothing was written.');
    }
    if (!st.isDirectory()) {
      throw new CliError(`the init image writes ${join(dir, rel)}, but ${at} is a file, not a directory`, 'Move it out of the way (or init another directory); nothing was written.');
    }
  }
}
