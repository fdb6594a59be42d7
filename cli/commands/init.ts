// `kiln init --runtime R [--name N] [DIR]`: writes a working function directory.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import type { Command } from 'commander';
import type Docker from 'dockerode';
import { checkFnName, MAX_NAME_BYTES } from '../../api/models/names.js';
import { IMAGE_NAME, IMAGE_TAG, loadFunc, planBuild } from '../build.js';
import { funcYamlFromInit, INIT_YAML, initYamlFields, runInitImage, type InitOverrides } from '../init-image.js';
import { CliError } from '../errors.js';
import type { Session } from '../session.js';
import { collect, emit, fnNumberOptions, fnNumbers, stringPairs } from './common.js';
import { isBumpable } from '../funcfile.js';
import { refuseLink, writeProjectFile } from '../project-file.js';
import { FUNC_FILE_NAMES } from '../../images/func-yaml.js';
import { isRuntime, RUNTIMES, templateFiles, type FuncFields } from '../templates/index.js';

interface InitOpts {
  runtime?: string;
  name?: string;
  workingDir?: string;
  version?: string;
  memory?: string;
  timeout?: string;
  idleTimeout?: string;
  config?: string[];
  entrypoint?: string;
  cmd?: string;
  trigger?: string;
  force?: boolean;
  format?: string;
  initImage?: string;
}

/** fn init's other names for a node function's format (its help lists them): Kiln runs them as http-stream. */
const NODE_LEGACY_FORMATS = ['default', 'http'];

/** What --format may say over an init image's: the formats Kiln runs, and fn's legacy names of http-stream. */
const INIT_IMAGE_FORMATS = ['http-stream', 'lambda', ...NODE_LEGACY_FORMATS, 'json', 'cloudevent'];

/** The node template's code: Fn writes both or neither. */
const NODE_CODE = ['func.js', 'package.json'];

/**
 * Refuses a directory init cannot make or write into, before anything is written: the path, or
 * the nearest part of it that exists, being a file (mkdir's raw EEXIST or ENOTDIR otherwise).
 */
function checkTargetDir(dir: string): void {
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
function checkTargetFiles(dir: string, rels: readonly string[]): void {
  for (const rel of rels) {
    const st = lstatSync(join(dir, rel), { throwIfNoEntry: false });
    if (st && !st.isFile() && !st.isSymbolicLink()) {
      throw new CliError(`kiln init: ${join(dir, rel)} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, where init writes (or looks for) a file`, 'Move it out of the way (or init another directory); nothing was written.');
    }
  }
}

/** Writes the template into `dir`; refuses to overwrite an existing function. */
export async function initFunction(dir: string, runtime: string, name: string, fields: FuncFields = {}, force = false): Promise<string[]> {
  // func.yaml takes runtime docker (your own Dockerfile), but there is no template to write for it.
  if (runtime === 'docker') {
    throw new CliError(
      'kiln init has no template for runtime docker (your own Dockerfile)',
      `For your own image, write a func.yaml with \`runtime: docker\` and a Dockerfile in the directory (the README's func.yaml section): build and deploy take the directory's Dockerfile and files as they are. kiln init writes ${RUNTIMES.join(', ')}.`,
    );
  }
  if (!isRuntime(runtime)) throw new CliError(`unknown runtime "${runtime}"`, `Use one of: ${RUNTIMES.join(', ')}.`);
  checkNewFn(name, fields);
  if (runtime !== 'node' && (fields.entrypoint !== undefined || fields.cmd !== undefined)) {
    throw new CliError(`--entrypoint and --cmd are for runtime node`, 'A Lambda runtime starts /var/task/bootstrap (the Lambda layer\'s daemon runs it).');
  }
  checkTargetDir(dir);
  checkTargetFiles(dir, [...new Set([...FUNC_FILE_NAMES, ...Object.keys(templateFiles(runtime, name, fields))])]);
  refuseExistingFunction(dir, force);
  await mkdir(dir, { recursive: true });
  // As fn init's boilerplate: code already there is kept; only func.yaml is (re)written. For
  // node, as Fn's (langs/node.go), neither func.js nor package.json when either is there: a
  // func.js requiring @fnproject/fdk beside a package.json without it deploys, then every call fails.
  const nodeCode = runtime === 'node' && NODE_CODE.some((f) => existsSync(join(dir, f)));
  const files = Object.entries(templateFiles(runtime, name, fields)).filter(
    ([rel]) => rel === 'func.yaml' || (!existsSync(join(dir, rel)) && !(nodeCode && NODE_CODE.includes(rel))),
  );
  // A link among them (a dangling one is not "there") is refused before anything is written.
  for (const [rel] of files) await refuseLink(join(dir, rel));
  for (const [rel, f] of files) await writeProjectFile(join(dir, rel), f.content, f.mode);
  return files.map(([rel]) => rel).sort();
}

export interface InitFromImage {
  /** What was written, func.yaml included (func.init.yaml is merged into it, never written). */
  files: string[];
  skipped: string[];
  /** Why `kiln build` would refuse the result, if it would (an init image made for fn's own runtimes). */
  buildProblem?: string;
}

/**
 * `kiln init --init-image IMAGE` (fn init's): runs the image, checks everything it wrote, then
 * writes its files and a func.yaml merged from its func.init.yaml and init's flags. Nothing is
 * written when the image fails, writes no valid func.init.yaml, or writes outside `dir`; the
 * user's files are overwritten only with --force (fn overwrites them always), never through links.
 */
export async function initFromImage(docker: () => Promise<Docker>, dir: string, image: string, name: string, fields: InitOverrides, force: boolean): Promise<InitFromImage> {
  checkNewFn(name, fields);
  checkTargetDir(dir);
  refuseExistingFunction(dir, force);
  const made = await runInitImage(await docker(), image, name);
  const yaml = funcYamlFromInit(name, initYamlFields(made.files.get(INIT_YAML)?.content.toString('utf8'), image), fields);
  // func.yaml is the merge; a func file of the image's own would be a second one (fn overwrites it too).
  const files = [...made.files].filter(([rel]) => rel !== INIT_YAML && !FUNC_FILE_NAMES.includes(rel));
  const rels = files.map(([rel]) => rel);
  checkTargetFiles(dir, [...FUNC_FILE_NAMES, ...rels]);
  for (const rel of made.dirs) checkParents(dir, rel, true);
  for (const rel of rels) checkParents(dir, rel, false);
  for (const rel of rels) await refuseLink(join(dir, rel));
  const theirs = rels.filter((rel) => existsSync(join(dir, rel)));
  if (!force && theirs.length > 0) {
    throw new CliError(
      `the init image would overwrite ${theirs.slice(0, 5).map((r) => join(dir, r)).join(', ')}${theirs.length > 5 ? ` and ${theirs.length - 5} more` : ''}; nothing was written`,
      'Init into an empty directory, or overwrite them with --force.',
    );
  }
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
  return { files: ['func.yaml', ...rels].sort(), skipped: made.skipped, ...(buildProblem !== undefined && { buildProblem }) };
}

/** Refuses a file or directory the image wrote under a part of `dir` that is a link or a file. */
function checkParents(dir: string, rel: string, isDir: boolean): void {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const at = join(dir, posix.join(...parts.slice(0, i)));
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isSymbolicLink()) {
      throw new CliError(`${at} is a symbolic link; kiln does not write through links`, 'Replace it with a directory (or remove it), then run the command again; nothing was written.');
    }
    if ((i < parts.length || isDir) && !st.isDirectory()) {
      throw new CliError(`the init image writes ${join(dir, rel)}, but ${at} is a file, not a directory`, 'Move it out of the way (or init another directory); nothing was written.');
    }
  }
}

/** A func.yaml there already is kept unless --force, as fn init. */
function refuseExistingFunction(dir: string, force: boolean): void {
  if (!force && FUNC_FILE_NAMES.some((f) => existsSync(join(dir, f)))) {
    throw new CliError(`${dir} already has a func.yaml`, 'Pick an empty directory, edit that function, or overwrite it with --force (as fn init).');
  }
}

/** The name and the flags' values a new function's func.yaml gets, checked as deploy will. */
function checkNewFn(name: string, fields: FuncFields): void {
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

/** func.yaml fields from `fn init`'s options. */
function initFields(o: InitOpts): FuncFields {
  const config = stringPairs(o.config);
  return {
    ...(o.version !== undefined && { version: o.version }),
    ...fnNumbers(o),
    ...(config && { config }),
    ...(o.entrypoint !== undefined && { entrypoint: o.entrypoint }),
    ...(o.cmd !== undefined && { cmd: o.cmd }),
    // Lower-cased as fn init does (HTTP is http), then checked.
    ...(o.trigger !== undefined && { triggerType: o.trigger.toLowerCase() }),
  };
}

export function registerInit(program: Command, s: Session): void {
  fnNumberOptions(
    program
      .command('init [dir]')
      .alias('in')
      .description('create a function: func.yaml and code for a runtime, in DIR (or ./NAME, or here)')
      // Checked in the action: with --init-image, commander's "required option" would hide the real answer.
      .option('--runtime <runtime>', `one of ${RUNTIMES.join(', ')} (required, unless --init-image)`)
      .option('--name <name>', "the function's name (default: the directory's name)")
      .option('-w, --working-dir <dir>', 'where DIR (or ./NAME) is made (default: the current directory)')
      .option('--version <version>', 'the first version (default 0.0.1; deploy bumps it)'),
    'init',
  )
    .option('-c, --config <KEY=VALUE>', 'configuration (environment) of the fn; repeatable', collect)
    .option('--entrypoint <cmd>', 'the image\'s ENTRYPOINT in func.yaml (default: node func.js)')
    .option('--cmd <cmd>', 'the image\'s CMD in func.yaml (with no --entrypoint, in its place)')
    .option('--trigger <type>', 'one trigger as fn init makes it: <name>-trigger at /<name>-trigger (type http, in any case; default: <name> at /<name>)')
    .option('--force', 'overwrite an existing func.yaml (as fn init)')
    .option('-f, --format <format>', "the runtime's own format only: http-stream (node; fn's default and http are taken as it) or lambda (lambda-*); with --init-image, over the image's")
    .option('--init-image <image>', "an fn init image instead of a runtime: run once with FN_FUNCTION_NAME, the tar it writes to stdout becomes the directory's files and its func.init.yaml is merged into func.yaml (as fn init)")
    .action(async (dirArg: string | undefined, o: InitOpts) => {
      if (o.initImage !== undefined && o.runtime !== undefined) {
        // fn's words.
        throw new CliError("You can't supply --runtime with --init-image", `Give one: --runtime (${RUNTIMES.join(', ')}) writes Kiln's template; --init-image runs an fn init image.`);
      }
      if (o.initImage !== undefined && o.format !== undefined && !INIT_IMAGE_FORMATS.includes(o.format)) {
        throw new CliError(`--format ${o.format} is not a format Kiln runs`, `Give http-stream or lambda (fn's ${NODE_LEGACY_FORMATS.join(' and ')} are taken as http-stream), or leave it to the init image.`);
      }
      const target = (): { dir: string; name: string } => {
        // As `fn init`: a name without a directory makes ./NAME; neither uses the current directory.
        const base = resolve(s.io.cwd, o.workingDir ?? '.');
        const dir = resolve(base, dirArg ?? o.name ?? '.');
        // As fn init (commands/init.go): the name is lower-cased, the directory kept as given.
        const given = o.name ?? basename(dir);
        const name = given.toLowerCase();
        if (name !== given) s.io.err(`Function name "${given}" lower-cased to "${name}" (as fn init: function and image names are lower case)\n`);
        return { dir, name };
      };
      if (o.initImage !== undefined) {
        const image = o.initImage;
        const { dir, name } = target();
        const made = await initFromImage(() => s.docker(), dir, image, name, { ...initFields(o), ...(o.format !== undefined && { format: o.format }) }, o.force === true);
        if (made.skipped.length > 0) s.io.err(`Skipped what the init image wrote that is neither a file nor a directory (as fn init): ${made.skipped.join(', ')}\n`);
        if (made.buildProblem) s.io.err(`Note: kiln build cannot build it as it is: ${made.buildProblem}\n`);
        emit(s, { name, init_image: image, dir, files: made.files }, () => `Function ${name} created in ${dir} from init image ${image}: ${made.files.join(', ')}\n`);
        return;
      }
      const runtime = o.runtime;
      // Unlike fn init, no guessing from the files: a runtime (or an init image) is required.
      if (runtime === undefined) {
        throw new CliError('kiln init needs --runtime', `Give one of: ${RUNTIMES.join(', ')} (e.g. kiln init --runtime node hello), or an fn init image with --init-image.`);
      }
      if (o.format !== undefined) {
        const own = runtime === 'node' ? 'http-stream' : 'lambda';
        // fn init's help lists `default` and `http`: for node they are Fn's legacy names of
        // what runs as http-stream (as func.yaml's format takes them), so written as that.
        const names = runtime === 'node' ? [own, ...NODE_LEGACY_FORMATS] : [own];
        if (isRuntime(runtime) && !names.includes(o.format)) {
          throw new CliError(`--format ${o.format} is not one Kiln has for runtime ${runtime}`, `Runtime ${runtime} is ${own} (the default${runtime === 'node' ? `; fn's ${NODE_LEGACY_FORMATS.join(' and ')} are taken as it` : ''}); leave --format out.`);
        }
        if (o.format !== own) s.io.err(`Format ${o.format} written as ${own} (Kiln runs Fn's ${o.format} format as ${own})\n`);
      }
      const { dir, name } = target();
      const files = await initFunction(dir, runtime, name, initFields(o), o.force === true);
      if (runtime === 'node' && !files.includes('func.js')) {
        s.io.err(`Kept the directory's own ${NODE_CODE.filter((f) => existsSync(join(dir, f))).join(' and ')}: the template's func.js and package.json are not written (as fn init); func.yaml's entrypoint runs func.js, and its package.json must list what it requires (@fnproject/fdk)\n`);
      }
      emit(s, { name, runtime, dir, files }, () => `Function ${name} (runtime ${runtime}) created in ${dir}: ${files.join(', ')}\n`);
    });
}
