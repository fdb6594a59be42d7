// The shell base image, for Lambda custom runtimes written in shell (a bash `bootstrap`,
// extensions in /opt/extensions using curl): the host's bash, curl and the usual command
// line tools at their host paths, each with its shared libraries (DESIGN.md §7).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type Docker from 'dockerode';
import { inspectImage } from './inspect.js';
import { addLibraries, addSystemFiles, ensureHostImage, ImageTree, sharedLibraries } from './host-image.js';

export const SHELL_BASE_REPO = 'kiln/shell';
export const SHELL_BASE_LATEST = `${SHELL_BASE_REPO}:latest`;
/** Bump when the recipe below changes, so existing images are rebuilt. */
const RECIPE_VERSION = '2';
/** Where tools are looked up on the host, and the image's PATH. */
const PATH_DIRS = ['/usr/local/bin', '/usr/bin', '/bin'];

/** Tools the image must have; `sh` keeps the host's link (dash on Debian). */
export const SHELL_TOOLS = [
  'bash', 'sh', 'curl', 'cat', 'echo', 'printf', 'sleep', 'grep', 'sed', 'tr', 'cut', 'head', 'tail',
  'mktemp', 'rm', 'mkdir', 'ls', 'basename', 'dirname', 'date', 'env', 'wc', 'tee', 'touch', 'kill',
  'cp', 'mv', 'chmod', 'ln', 'sort', 'uniq', 'id', 'uname', 'true', 'false', 'xargs', 'expr', 'seq',
  'readlink', 'stat',
] as const;
/** Tools taken when the host has them. */
export const OPTIONAL_SHELL_TOOLS = ['awk', 'ps', 'find', 'jq'] as const;

export interface ShellBaseImageOptions {
  /** Repository to tag (default `kiln/shell`); the tags are the content hash and `latest`. */
  repo?: string;
  /** Progress messages (what is being built and why). */
  log?: (message: string) => void;
  /** Where the cross-process build lock lives (default: the OS temp dir). */
  lockDir?: string;
}

/** The tool's path on the host (as `command -v` finds it on PATH_DIRS), or null. */
async function findTool(name: string): Promise<string | null> {
  for (const dir of PATH_DIRS) {
    const path = `${dir}/${name}`;
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // try the next directory
    }
  }
  return null;
}

/**
 * Makes sure `kiln/shell:<hash>` (and `kiln/shell:latest`) hold the host's bash, curl and
 * the usual tools; imports the image only when its content changed. Returns the hash tag.
 */
export async function ensureShellBaseImage(docker: Docker, opts: ShellBaseImageOptions = {}): Promise<string> {
  const tree = new ImageTree();
  const tools: string[] = [];
  const missing: string[] = [];
  for (const name of [...SHELL_TOOLS, ...OPTIONAL_SHELL_TOOLS]) {
    const path = await findTool(name);
    if (path) tools.push(path);
    else if ((SHELL_TOOLS as readonly string[]).includes(name)) missing.push(name);
  }
  if (missing.length) {
    throw new Error(`shell image: the host lacks ${missing.join(', ')}; install them (e.g. apt-get install -y curl)`);
  }
  // hostFile reproduces links such as sh -> dash and awk -> /etc/alternatives/awk -> mawk.
  for (const tool of tools) await tree.hostFile(tool);
  // Scripts say #!/bin/bash and #!/bin/sh: on a merged-/usr host this adds the /bin link.
  for (const shebang of ['/bin/bash', '/bin/sh']) await tree.hostFile(shebang);
  const libs = new Set((await Promise.all(tools.map((t) => sharedLibraries(t)))).flat());
  const extraLibDirs = await addLibraries(tree, [...libs].sort());
  addSystemFiles(tree);
  // Where Lambda puts a function's code and its layers.
  tree.dir('/var/task');
  tree.dir('/opt');

  const changes = [`ENV PATH=${PATH_DIRS.join(':')}`, 'WORKDIR /var/task'];
  if (extraLibDirs.length) changes.push(`ENV LD_LIBRARY_PATH=${extraLibDirs.join(':')}`);
  const repo = opts.repo ?? SHELL_BASE_REPO;
  const before = await inspectImage(docker, `${repo}:latest`);
  const tag = await ensureHostImage(docker, {
    repo,
    tree,
    changes,
    recipe: `kiln-shell-base ${RECIPE_VERSION}`,
    source: `the host's ${tools.length} tools`,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.lockDir ? { lockDir: opts.lockDir } : {}),
  });
  // Tags are content hashes, so a rebuild leaves the previous image under its own tag: untag
  // it (Docker keeps the image while function images built FROM it still need it).
  if (before && (await inspectImage(docker, tag))?.Id !== before.Id) {
    for (const old of before.RepoTags ?? []) {
      if (old.startsWith(`${repo}:`) && old !== tag && old !== `${repo}:latest`) {
        await docker.getImage(old).remove().catch(() => {});
      }
    }
  }
  return tag;
}
