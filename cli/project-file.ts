// Writing a file of the user's function directory (func.yaml, a template's code), never through
// a link: a project from elsewhere may hold links that point at any file of the user's.
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { CliError } from './errors.js';

const linkRefused = (path: string): CliError =>
  new CliError(`${path} is a symbolic link; kiln does not write through links`, 'Replace it with a regular file (or remove it), then run the command again.');

/** Refuses `path` if it is a symbolic link (a dangling one too) or no regular file; a missing file is fine. */
export async function refuseLink(path: string): Promise<void> {
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (stat.isSymbolicLink()) throw linkRefused(path);
  if (!stat.isFile()) throw new CliError(`${path} is not a regular file`, 'Replace it with a regular file (or remove it), then run the command again.');
}

/**
 * Writes `path` whole. A new file is created (O_EXCL: never over a link, dangling or not); an
 * existing regular file is rewritten in place, as fn writes func.yaml, so it keeps its owner
 * (`sudo kiln deploy`) and a read-only directory is no obstacle; O_NOFOLLOW refuses a link put
 * there meanwhile. `mode`, when given, is set after the umask had its say (bootstrap keeps its
 * exec bit); otherwise a new file is 0644 less the umask and an existing one keeps its mode.
 */
export async function writeProjectFile(path: string, content: string | Uint8Array, mode?: number): Promise<void> {
  await refuseLink(path);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_TRUNC } = constants;
  let handle: FileHandle;
  try {
    handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode ?? 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      handle = await open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(path);
      throw again;
    }
  }
  try {
    await handle.writeFile(content);
    if (mode !== undefined) await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}
