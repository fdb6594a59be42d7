// Writing func.yaml back: the version bump of `kiln deploy`, keeping the user's comments and order.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isScalar, parseDocument } from 'yaml';
import { findFuncYaml } from '../images/func-yaml.js';
import { CliError } from './errors.js';
import { refuseLink, writeProjectFile } from './project-file.js';

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/;

/** Whether `bumpVersion` can bump it. */
export function isBumpable(version: string): boolean {
  return SEMVER.test(version.trim());
}

export type VersionPart = 'major' | 'minor' | 'patch';

/**
 * Fn's bump (common/bump.go): the patch number goes up by one (or, as `fn bump --minor` and
 * `--major`, that number, the ones after it back to 0); no version yet gives 0.0.1.
 */
export function bumpVersion(version: string | undefined, part: VersionPart = 'patch'): string {
  if (version === undefined || version === '') return '0.0.1';
  const m = SEMVER.exec(version.trim());
  if (!m) {
    throw new CliError(`cannot bump version "${version}": it is not MAJOR.MINOR.PATCH`, 'Fix "version:" in func.yaml, or deploy with --no-bump.');
  }
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (part === 'major') return `${major + 1}.0.0`;
  if (part === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

/**
 * Refuses a func.yaml (or func.yml, func.json) that is a link, which writeVersion would refuse
 * later: deploy asks first, before anything changes. Reading one through a link is fine (as fn).
 */
export async function checkVersionWritable(dir: string): Promise<void> {
  const found = await findFuncYaml(dir);
  if (found) await refuseLink(found.path);
}

/** Sets `version:` in the directory's func.yaml (or func.yml), leaving the rest of the text as it was; in a func.json, `"version"`. */
export async function writeVersion(dir: string, version: string): Promise<void> {
  const found = await findFuncYaml(dir);
  if (!found) throw new CliError(`no func.yaml in ${dir}`, 'Was it moved or deleted during the deploy?');
  if (found.path.endsWith('.json')) {
    // func.json stays JSON (its fields in their order, two-space indented).
    const obj = JSON.parse(found.text) as Record<string, unknown>;
    obj.version = version;
    await writeProjectFile(found.path, `${JSON.stringify(obj, null, 2)}\n`);
    return;
  }
  // Only the value's own text is replaced: re-printing the whole document would fold long lines
  // and re-space flow maps and comments the user wrote.
  const doc = parseDocument(found.text);
  const node = doc.get('version', true);
  if (isScalar(node) && node.range) {
    const [start, end] = node.range;
    const quote = node.type === 'QUOTE_DOUBLE' ? '"' : node.type === 'QUOTE_SINGLE' ? "'" : '';
    await writeProjectFile(found.path, `${found.text.slice(0, start)}${quote}${version}${quote}${found.text.slice(end)}`);
    return;
  }
  // No version yet (or not a plain value): set it, printed without folding.
  doc.set('version', version);
  await writeProjectFile(found.path, doc.toString({ lineWidth: 0 }));
}

const SKIP_DIRS = new Set(['node_modules']);

/** Directories under `root` (itself included) holding a func.yaml, sorted; for `deploy --all`. */
export async function functionDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (await findFuncYaml(dir)) out.push(dir);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) await walk(join(dir, e.name));
    }
  };
  await walk(root);
  return out.sort();
}
