// The Node base runtime image, built without a registry: the host's node binary plus the
// shared libraries it loads, streamed as a tar into `docker import` (DESIGN.md §7).
import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { addLibraries, addSystemFiles, ensureHostImage, ImageTree, sharedLibraries } from './host-image.js';

export { sharedLibraries } from './host-image.js';

const execFileP = promisify(execFile);

export const NODE_BASE_REPO = 'kiln/node';
export const NODE_BASE_LATEST = `${NODE_BASE_REPO}:latest`;
/** Bump when the recipe below changes, so existing images are rebuilt. */
const RECIPE_VERSION = '1';

export interface NodeBaseImageOptions {
  /** The node binary to package (default: the running one, `process.execPath`). */
  nodePath?: string;
  /** Repository to tag (default `kiln/node`); the tags are `<version>` and `latest`. */
  repo?: string;
  /** Progress messages (what is being built and why). */
  log?: (message: string) => void;
  /** Where the cross-process build lock lives (default: the OS temp dir). */
  lockDir?: string;
}

async function nodeVersion(nodePath: string): Promise<string> {
  if (nodePath === process.execPath) return process.version;
  return (await execFileP(nodePath, ['--version'], { encoding: 'utf8' })).stdout.trim();
}

/**
 * Makes sure `kiln/node:<version>` (and `kiln/node:latest`) hold the host's node binary and
 * its libraries; imports the image only when its content hash changed. Returns the
 * versioned tag, e.g. `kiln/node:20.20.2`.
 */
export async function ensureNodeBaseImage(docker: Docker, opts: NodeBaseImageOptions = {}): Promise<string> {
  const nodePath = opts.nodePath ?? process.execPath;
  const version = (await nodeVersion(nodePath)).replace(/^v/, '');

  const tree = new ImageTree();
  const real = await realpath(nodePath);
  const st = await stat(real);
  tree.file('/usr/local/bin/node', real, st.mode, st.size);
  const extraLibDirs = await addLibraries(tree, await sharedLibraries(real));
  addSystemFiles(tree);
  tree.dir('/function');

  const changes = ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'WORKDIR /function'];
  if (extraLibDirs.length) changes.push(`ENV LD_LIBRARY_PATH=${extraLibDirs.join(':')}`);
  return ensureHostImage(docker, {
    repo: opts.repo ?? NODE_BASE_REPO,
    tag: version,
    tree,
    changes,
    // Unchanged since before the split into host-image.ts, so existing images stay valid.
    recipe: `kiln-node-base ${RECIPE_VERSION}`,
    labels: { 'io.kiln.node-version': version },
    source: nodePath,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.lockDir ? { lockDir: opts.lockDir } : {}),
  });
}
