// What `kiln init` checks before it writes anything, for a template and for an init image: the
// target directory, the files it writes, an existing function, the name and the flags' values.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkFnName, MAX_NAME_BYTES } from '../api/contract/names.js';
import { FUNC_FILE_NAMES } from '../images/func-yaml.js';
import { IMAGE_NAME, IMAGE_TAG } from './build.js';
import { CliError } from './errors.js';
import { isBumpable } from './funcfile.js';
import type { FuncFields } from './templates/index.js';

/**
 * Refuses a directory init cannot make or write into, before anything is written: the path, or
 * the nearest part of it that exists, being a file (mkdir's raw EEXIST or ENOTDIR otherwise).
 */
export function checkTargetDir(dir: string): void {
  for (let p = dir; ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p, { throwIfNoEntry: false });
    } catch (err) {
      // Under a file (ENOTDIR): that file is found further up.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
    if (st === undefined) {
      if (dirname(p) === p) return;
      continue;
    }
    if (st.isDirectory()) return;
    const what = p === dir ? `${dir} is a file, not a directory` : `cannot make ${dir}: ${p} is a file, not a directory`;
    throw new CliError(`kiln init: ${what}`, 'Give a directory (or a path to make one at) as DIR or -w; nothing was written.');
  }
}

/**
 * Refuses a file init would write (or looks for) that is there as something else, such as a
 * directory named func.yaml, before anything is written. Links are refuseLink's: a link to a
 * file is kept or refused as the file rules say.
 */
export function checkTargetFiles(dir: string, rels: readonly string[]): void {
  for (const rel of rels) {
    const st = lstatSync(join(dir, rel), { throwIfNoEntry: false });
    if (st && !st.isFile() && !st.isSymbolicLink()) {
      throw new CliError(`kiln init: ${join(dir, rel)} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, where init writes (or looks for) a file`, 'Move it out of the way (or init another directory); nothing was written.');
    }
  }
}

/** A func.yaml there already is kept unless --force, as fn init. */
export function refuseExistingFunction(dir: string, force: boolean): void {
  if (!force && FUNC_FILE_NAMES.some((f) => existsSync(join(dir, f)))) {
    throw new CliError(`${dir} already has a func.yaml`, 'Pick an empty directory, edit that function, or overwrite it with --force (as fn init).');
  }
}

/** The name and the flags' values a new function's func.yaml gets, checked as deploy will. */
export function checkNewFn(name: string, fields: FuncFields): void {
  // Deploy's rule for an image name (cli/build.ts), within the server's for a fn name.
  if (!IMAGE_NAME.test(name) || checkFnName(name) !== 'ok') {
    throw new CliError(`invalid function name "${name}"`, `Use lower-case letters, digits, ".", "_" or "-", at most ${MAX_NAME_BYTES} (it names the image too); pass --name.`);
  }
  if (fields.version !== undefined && !isBumpable(fields.version)) {
    throw new CliError(`--version "${fields.version}" is not MAJOR.MINOR.PATCH`, 'Give e.g. --version 1.0.0 (deploy bumps its last number).');
  }
  // It tags the image as it is (deploy --no-bump, build): semver's "+build" is no Docker tag.
  if (fields.version !== undefined && !IMAGE_TAG.test(fields.version.trim())) {
    throw new CliError(`--version "${fields.version}" cannot tag an image`, 'An image tag has no "+" (semver\'s build metadata): give e.g. --version 1.0.0 or 1.0.0-b1.');
  }
  if (fields.triggerType !== undefined && fields.triggerType !== 'http') {
    throw new CliError(`unknown trigger type "${fields.triggerType}"`, 'Kiln has http triggers: --trigger http.');
  }
}
