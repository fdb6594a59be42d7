// A function directory's `.dockerignore`, applied as `docker build` applies it to its context
// (Fn's `fn build` runs docker build in the function directory). Docker's own matching
// (patterns relative to the context root, `**`, `!` exceptions, a parent's match covering what
// is under it) comes from @balena/dockerignore, a port of Docker's fileutils that the Docker
// clients for Node (dockerode, docker-modem) depend on already.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dockerignore from '@balena/dockerignore';

// CommonJS with an ESM-style `export default` in its types: under NodeNext the default import is
// module.exports, which is the function and also carries it as `.default`.
const ignore = (dockerignore as unknown as { default: typeof dockerignore.default }).default;

export interface DockerIgnore {
  /** Whether `rel` (a path under the context root, `/`-separated) is left out of the context. */
  ignores(rel: string): boolean;
  /**
   * Whether an ignored directory must still be walked: with `!` exceptions one of its files may
   * be let back in (as Docker walks it then); without, nothing under it can be.
   */
  readonly hasExceptions: boolean;
}

/** The patterns of a `.dockerignore` text: comments and blank lines dropped, as Docker reads them. */
export function dockerIgnorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export function dockerIgnore(patterns: string[]): DockerIgnore {
  const ig = ignore().add(patterns);
  return { ignores: (rel) => ig.ignores(rel), hasExceptions: patterns.some((p) => p.startsWith('!')) };
}

/** The `.dockerignore` of `dir` (none: nothing is ignored). */
export async function readDockerIgnore(dir: string): Promise<DockerIgnore> {
  let text: string;
  try {
    text = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dockerIgnore([]);
    throw err;
  }
  return dockerIgnore(dockerIgnorePatterns(text));
}
