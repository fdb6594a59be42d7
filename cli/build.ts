// `kiln build`'s work: how a function directory becomes a local image (kind, base image,
// vendored packages), with a progress display and errors that say which step failed.
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import semver from 'semver';
import { ensureNodeBaseImage, NODE_BASE_LATEST } from '../images/base-image.js';
import { findFuncYaml, FuncYamlError, funcYamlFormat, readFuncYaml, type FuncYaml } from '../images/func-yaml.js';
import { readDockerIgnore } from '../images/dockerignore.js';
import { buildFunctionImage, dependencyClosure, ImageBuildError, type ImageKind } from '../images/function-image.js';
import { ensureShellBaseImage, SHELL_BASE_LATEST } from '../images/shell-image.js';
import { APP_FILE_NAMES } from './appfile.js';
import { CliError } from './errors.js';
import { functionDirs } from './funcfile.js';
import type { Io } from './io.js';

export { SHELL_BASE_LATEST };

export interface BuildPlan {
  kind: ImageKind;
  /** Unset for `runtime: docker` (the Dockerfile says). */
  baseImage?: string;
  /** npm packages copied from Kiln's own node_modules (when the directory has none). */
  vendor: string[];
}

/** The error for a directory with no func.yaml (or no directory at all). */
export function noFuncYaml(dir: string): CliError {
  return new CliError(
    existsSync(dir) ? `no func.yaml in ${dir}` : `no directory ${dir}`,
    'Run this in a function directory, or name one (`kiln build DIR`, `-w DIR`); `kiln init --runtime node NAME` creates one.',
  );
}

/**
 * Reads func.yaml (with no `name:`, `defaultName`, else the directory's name, as fn, lower-cased
 * as init lower-cases names: an image name has no capitals); a missing or broken one is a
 * CliError naming the file.
 */
export async function loadFunc(dir: string, defaultName?: string): Promise<FuncYaml> {
  if (!(await findFuncYaml(dir))) throw noFuncYaml(dir);
  try {
    const func = await readFuncYaml(dir);
    return func.name ? func : { ...func, name: (defaultName ?? basename(dir)).toLowerCase() };
  } catch (err) {
    if (err instanceof FuncYamlError) {
      throw new CliError(`bad func.yaml: ${err.message}`, 'Fix it, or write a fresh one with `kiln init --runtime node`.');
    }
    throw err;
  }
}

/**
 * The package.json `dependencies` to copy from Kiln's own node_modules (none when the directory
 * brings its own node_modules/ into the image). Builds use no registry, so each must be a version
 * Kiln has: a range that Kiln's version does not satisfy is an error, never a silent other major version.
 */
async function packageDeps(dir: string, modules = defaultModules()): Promise<string[]> {
  // The directory brings its own, unless its .dockerignore leaves them out (usual where a
  // Dockerfile runs `npm install`): then the image would have none, and Kiln's are copied.
  if (existsSync(join(dir, 'node_modules')) && !(await readDockerIgnore(dir)).ignores('node_modules')) return [];
  let text: string;
  try {
    text = await readFile(join(dir, 'package.json'), 'utf8');
  } catch {
    return [];
  }
  let deps: Record<string, string>;
  try {
    deps = (JSON.parse(text) as { dependencies?: Record<string, string> }).dependencies ?? {};
  } catch (err) {
    throw new CliError(`bad package.json in ${dir}: ${(err as Error).message}`, 'Fix its JSON (`npm pkg get` shows where it breaks).');
  }
  if (typeof deps !== 'object' || deps === null || Array.isArray(deps)) {
    throw new CliError(`bad package.json in ${dir}: "dependencies" must be an object of name: range`, 'e.g. "dependencies": { "@fnproject/fdk": ">=0.0.13" }');
  }
  const names = Object.keys(deps).sort();
  for (const name of names) checkVendored(dir, name, String(deps[name]), modules);
  return names;
}

/** An npm package name: URL-safe (old ones have capitals: JSONStream), optionally scoped (`@scope/name`); no `.` or `_` first. */
const NPM_NAME = /^(?:@[A-Za-z0-9~-][A-Za-z0-9._~-]*\/)?[A-Za-z0-9~-][A-Za-z0-9._~-]*$/;

/** Throws when Kiln's copy of `name` (in `modules`) is missing or not in the function's `range`. */
export function checkVendored(dir: string, name: string, range: string, modules: string): void {
  // A name is looked up as a path under node_modules: `..` or a slash too many would reach out of it.
  if (!NPM_NAME.test(name)) {
    throw new CliError(`cannot build ${dir}: package.json depends on "${name}", which is not an npm package name`, 'Fix the name in its "dependencies".');
  }
  const hint = `Builds use no registry: a function directory without a node_modules/ gets its package.json dependencies copied from Kiln's own node_modules (${modules}). Run \`npm install\` in ${dir} so it brings its own node_modules/, or ask for a range Kiln's version satisfies.`;
  let version: string;
  try {
    version = (JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    throw new CliError(`cannot build ${dir}: package.json depends on ${name}@${range}, which Kiln does not bundle`, hint);
  }
  const wanted = range.trim();
  if (wanted === '' || wanted === 'latest') return; // any version will do
  if (semver.validRange(wanted) === null) {
    throw new CliError(`cannot build ${dir}: package.json wants ${name} from "${range}", which is not a version range; Kiln bundles ${name} ${version}`, hint);
  }
  if (!semver.satisfies(version, wanted, { includePrerelease: wanted === '*' })) {
    throw new CliError(`cannot build ${dir}: package.json wants ${name}@${range}, but Kiln bundles ${name} ${version}`, hint);
  }
}

/**
 * `deps: false` leaves package.json's dependencies unchecked: before func.yaml's `build:` steps
 * run, which may bring their own node_modules (`npm install`), as fn runs them before anything else.
 */
export async function planBuild(dir: string, func: FuncYaml, opts: { deps?: boolean } = {}): Promise<BuildPlan> {
  const deps = (): Promise<string[]> => (opts.deps === false ? Promise.resolve([]) : packageDeps(dir));
  const runtime = func.runtime;
  const format = funcYamlFormat(func);
  if (format !== 'http-stream' && format !== 'lambda') {
    throw new CliError(`bad func.yaml: format "${format}" in ${dir}`, 'Use "http-stream" or "lambda".');
  }
  // As fn: a Dockerfile in the directory is the build, whatever the runtime says (or none).
  if (runtime === 'docker' || statSync(join(dir, 'Dockerfile'), { throwIfNoEntry: false })?.isFile()) return { kind: 'dockerfile', vendor: [] };
  if (!runtime) throw new CliError(`bad func.yaml: no runtime in ${dir}`, 'Add e.g. "runtime: node".');
  const expected = runtime.startsWith('lambda-') ? 'lambda' : 'http-stream';
  if (format !== expected) {
    throw new CliError(`bad func.yaml: runtime "${runtime}" needs format "${expected}", not "${format}" (in ${dir})`, `Set "format: ${expected}" in func.yaml.`);
  }
  // Fn's node<version> (node20, node18): Kiln's node, on the host's Node (kiln/node), whatever the suffix.
  switch (/^node\d+$/.test(runtime) ? 'node' : runtime) {
    case 'node':
      // As fn: one of the two is needed; checked here, before deploy creates or changes anything.
      if (!func.entrypoint?.trim() && !func.cmd?.trim()) {
        throw new CliError(`bad func.yaml: no entrypoint and no cmd in ${dir}`, 'Add e.g. "entrypoint: node func.js" (or "cmd: node func.js").');
      }
      return { kind: 'http-stream', baseImage: NODE_BASE_LATEST, vendor: await deps() };
    case 'lambda-node':
      return { kind: 'lambda', baseImage: NODE_BASE_LATEST, vendor: await deps() };
    case 'lambda-shell':
      return { kind: 'lambda', baseImage: SHELL_BASE_LATEST, vendor: [] };
    default:
      throw new CliError(
        `bad func.yaml: runtime "${runtime}" is not supported (in ${dir})`,
        'Use node, lambda-node, lambda-shell, or docker with a Dockerfile in the directory.',
      );
  }
}

/** A fn name that can name an image (one path component of a Docker reference); init's rule too. */
export const IMAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** A Docker tag: what a version must be to tag an image (`+` is not in it, as semver's build metadata is). */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The image name Fn gives a function: [registry/]name:version. */
export function imageName(func: FuncYaml, registry?: string): string {
  if (!func.name) throw new CliError('bad func.yaml: no name', 'Add e.g. "name: hello".');
  if (!IMAGE_NAME.test(func.name)) {
    throw new CliError(
      `bad func.yaml: name "${func.name}" cannot name an image`,
      'Use lower-case letters, digits, ".", "_" or "-" in "name:" (with none, the directory\'s name is used).',
    );
  }
  const version = func.version ?? '0.0.1';
  if (!IMAGE_TAG.test(version)) {
    throw new CliError(
      `bad func.yaml: version "${version}" cannot tag an image`,
      'An image tag has letters, digits, "_", "." and "-" only (no "+"), at most 128: e.g. "version: 1.0.0".',
    );
  }
  return `${registry ? `${registry.replace(/\/+$/, '')}/` : ''}${func.name}:${version}`;
}

/** Build output shown as it goes: each `Step N/M` line (every line with `verbose`). */
function progress(io: Io, verbose: boolean): { log: (line: string) => void; done: () => void } {
  let redrawn = false;
  return {
    log: (line) => {
      if (verbose) return io.err(`  ${line}\n`);
      // The engine's warnings (e.g. build args no ARG consumed) are shown on their own line.
      if (/^\[Warning\]/.test(line)) {
        if (redrawn) io.err('\r\x1b[K');
        redrawn = false;
        return io.err(`  ${line}\n`);
      }
      if (!/^Step \d+\/\d+ : /.test(line)) return;
      const shown = line.length > 100 ? `${line.slice(0, 99)}…` : line;
      // On a terminal the steps replace each other on one line; elsewhere each gets its own.
      if (io.errIsTty) {
        io.err(`\r\x1b[K  ${shown}`);
        redrawn = true;
      } else {
        io.err(`  ${shown}\n`);
      }
    },
    done: () => {
      if (redrawn) io.err('\r\x1b[K');
    },
  };
}

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).map((l) => `  ${l}`).join('\n');
}

/**
 * func.yaml's `build:` steps, as fn's localBuild: each with `/bin/sh -c` in the function's
 * directory, in order; their output goes to stderr; the first that fails stops the build.
 */
export async function runBuildSteps(io: Io, dir: string, steps: string[]): Promise<void> {
  for (const [i, cmd] of steps.entries()) {
    io.err(`Running build step ${i + 1}/${steps.length}: ${cmd}\n`);
    const child = spawn('/bin/sh', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    // Decoded as streams: a character split between two chunks stays whole.
    child.stdout.setEncoding('utf8').on('data', (d: string) => io.err(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => io.err(d));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      // Done when the shell exits, as fn's: a process it left in the background may hold the
      // pipes open for as long as it runs. What is still in them gets a moment to arrive; after
      // that they are still read (closing them would kill such a process at its next write,
      // where fn's go to /dev/null) but no longer keep kiln running.
      child.on('exit', (c, s) => {
        const done = () => resolve([c, s]);
        const late = setTimeout(() => {
          // A child's pipes are sockets (node:child_process), which can be unref'd.
          (child.stdout as Socket).unref();
          (child.stderr as Socket).unref();
          done();
        }, 100);
        child.on('close', () => {
          clearTimeout(late);
          done();
        });
      });
    });
    if (code !== 0) {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      throw new CliError(`build step ${i + 1}/${steps.length} failed: \`${cmd}\` ${how} (in ${dir})`, 'Fix the command in func.yaml\'s "build:" list (its output is above); nothing was built.');
    }
  }
}

/** Builds the directory's image as `tag`; the base image is made first when it is Kiln's Node one. */
export interface BuildImageOptions {
  verbose?: boolean;
  /** Docker build args; for the generated Dockerfiles (node, lambda) nothing uses them. */
  buildArgs?: Record<string, string>;
  /** Build without the engine's layer cache. */
  noCache?: boolean;
}

/**
 * What of an app's root is not its root function's: the other functions' directories (each
 * with a func.yaml, as deploy --all finds them) and the app file. Fn's build sends the root's
 * whole directory, so each function's code and secrets went into the root's image as well,
 * which changed with any of them; each function is its own image here.
 */
export async function otherFunctions(dir: string): Promise<string[]> {
  const nested = (await functionDirs(dir)).filter((d) => d !== dir).map((d) => relative(dir, d).split(sep).join('/'));
  const appFiles = APP_FILE_NAMES.filter((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.isFile());
  return [...nested, ...appFiles];
}

export async function buildImage(docker: Docker, io: Io, dir: string, tag: string, opts: BuildImageOptions = {}): Promise<string> {
  const func = await loadFunc(dir);
  // A bad func.yaml fails before any build step runs; dependencies are the steps' to bring.
  let plan = await planBuild(dir, func, { deps: !func.build?.length });
  if (func.build?.length) {
    await runBuildSteps(io, dir, func.build);
    plan = await planBuild(dir, func); // as fn: what the steps made (node_modules, a Dockerfile) counts
  }
  if (plan.vendor.length) {
    try {
      await dependencyClosure(defaultModules(), plan.vendor);
    } catch (err) {
      throw new CliError(
        `cannot build ${dir}: ${(err as Error).message}`,
        `Run \`npm install\` in ${dir} (builds use no registry: packages come from the directory's node_modules or Kiln's own).`,
      );
    }
  }
  // The base images are built from the host's binaries, here as anywhere (no registry).
  if (plan.baseImage === NODE_BASE_LATEST) await ensureNodeBaseImage(docker, { log: (m) => io.err(`  ${m}\n`) });
  if (plan.baseImage === SHELL_BASE_LATEST) await ensureShellBaseImage(docker, { log: (m) => io.err(`  ${m}\n`) });
  const args = Object.keys(opts.buildArgs ?? {});
  const extras = [args.length && `build args ${args.join(', ')}`, opts.noCache && 'no cache'].filter(Boolean).join('; ');
  io.err(`Building image ${tag} (${plan.kind}${plan.baseImage ? ` FROM ${plan.baseImage}` : ''}${extras ? `; ${extras}` : ''})\n`);
  if (args.length && plan.kind !== 'dockerfile') {
    io.err(`  note: the ${func.runtime} runtime's generated Dockerfile declares no ARG, so the build args are not used (they are for runtime: docker)\n`);
  }
  const leaveOut = await otherFunctions(dir);
  if (leaveOut.length) io.err(`  left out of the build context (not this function's): ${leaveOut.join(', ')}\n`);
  const p = progress(io, opts.verbose === true);
  const started = Date.now();
  try {
    await buildFunctionImage(docker, dir, tag, {
      kind: plan.kind,
      ...(plan.baseImage && { baseImage: plan.baseImage }),
      ...(plan.vendor.length && { vendor: plan.vendor, nodeModulesFrom: defaultModules() }),
      log: p.log,
      ...(args.length && { buildArgs: opts.buildArgs }),
      ...(opts.noCache && { noCache: true }),
      ...(leaveOut.length && { leaveOut }),
    });
  } catch (err) {
    p.done();
    if (err instanceof ImageBuildError) {
      const reason = err.message.split('\n')[0]!.replace(/^building image \S+ from \S+ failed: /, '');
      const at = err.step ? ` at ${err.step.replace(/^Step (\d+\/\d+) : /, 'step $1 (')})` : '';
      throw new CliError(
        `image build failed${at}: ${reason}`,
        err.output.trim() ? `Build output (last lines):\n${lastLines(err.output, 15)}` : undefined,
      );
    }
    throw new CliError((err as Error).message);
  }
  p.done();
  io.err(`Built ${tag} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return tag;
}

/** Kiln's own node_modules: where vendored packages (the Fn FDK) come from. */
function defaultModules(): string {
  return fileURLToPath(new URL('../../node_modules', import.meta.url));
}
