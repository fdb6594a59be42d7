// Where a SQLite database lives: it holds every app's and fn's config (secrets, often) and every
// call's log, so what Kiln makes for it is its own account's alone, as FN_IOFS_PATH and the node's
// pid file are: a new directory 0700, a new database file 0600 (SQLite makes its -wal and -shm
// files with the database file's mode). A database someone else made is left as it is, with a
// warning when other accounts may read it.
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Makes the file's directory and the file itself when missing; answers a warning for a file others may read. */
export function prepareSqliteFile(filename: string): string | undefined {
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(filename, 'wx', 0o600));
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(filename).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `the SQLite database ${filename} may be read by other accounts on this host (mode ${mode.toString(8).padStart(4, '0')}), with every config value and call log in it: \`chmod 600\` it (and its -wal and -shm files)`;
}
