// Writing a file of the user's function directory (func.yaml, a template's code), never through
// a link: a project from elsewhere may hold links that point at any file of the user's.
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** Refuses `path` if it is a symbolic link (a dangling one too); a missing file is fine. */
export async function refuseLink(path: string): Promise<void> {
  let isLink: boolean;
  try {
    isLink = (await lstat(path)).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (isLink) {
    throw new CliError(`${path} is a symbolic link; kiln does not write through links`, 'Replace it with a regular file (or remove it), then run the command again.');
  }
}

/**
 * Writes `path` whole: a new file beside it (O_EXCL, so never an existing file or link) renamed
 * over it, which replaces a link put there meanwhile rather than following it. The file gets
 * `mode`, or the mode of the file it replaces, else 0644.
 */
export async function writeProjectFile(path: string, content: string, mode?: number): Promise<void> {
  await refuseLink(path);
  const fileMode = mode ?? (await lstat(path).then((s) => s.mode & 0o7777, () => 0o644));
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(content);
      // Set after the umask had its say (bootstrap keeps its exec bit).
      await handle.chmod(fileMode);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
