// `kiln init --runtime R [--name N] [DIR]`: writes a working function directory; with
// --init-image IMAGE, the directory an fn init image makes (cli/init-from-image.ts).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { initFromImage } from '../init-from-image.js';
import { interruptible } from '../interrupt.js';
import { checkNewFn, checkTargetDir, checkTargetFiles, refuseExistingFunction } from '../init-checks.js';
import type { Session } from '../session.js';
import { collect, emit, fnNumberOptions, fnNumbers, stringPairs } from './common.js';
import { refuseLink, writeProjectFile } from '../project-file.js';
import { formatAsRun, FUNC_FILE_NAMES } from '../../images/func-yaml.js';
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
  annotation?: string[];
}

/** fn init's other names for a node function's format (its help lists them): Kiln runs them as http-stream. */
const NODE_LEGACY_FORMATS = ['default', 'http'];

/** The node template's code: Fn writes both or neither. */
const NODE_CODE = ['func.js', 'package.json'];

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
    .option('--trigger <type>', 'the type of the one trigger, <name> at /<name>, as fn init (http, in any case; the default)')
    .option('--force', 'overwrite an existing func.yaml (as fn init)')
    .option('-f, --format <format>', "the runtime's own format only: http-stream (node; fn's default and http are taken as it) or lambda (lambda-*); with --init-image, over the image's")
    // fn init takes --annotation and then drops it (its bindFn copies only memory and the timeouts).
    .option('--annotation <KEY=VALUE>', 'accepted and ignored, as fn init ignores it (a note says so); repeatable', collect)
    .option('--init-image <image>', "an fn init image instead of a runtime: run once with FN_FUNCTION_NAME, the tar it writes to stdout becomes the directory's files and its func.init.yaml is merged into func.yaml (as fn init)")
    .action(async (dirArg: string | undefined, o: InitOpts) => {
      if (o.initImage !== undefined && o.runtime !== undefined) {
        // fn's words.
        throw new CliError("You can't supply --runtime with --init-image", `Give one: --runtime (${RUNTIMES.join(', ')}) writes Kiln's template; --init-image runs an fn init image.`);
      }
      // Ignored as fn ignores it, but said, so no one expects the annotations on the fn.
      if (o.annotation) s.io.err(`Note: --annotation is ignored, as fn init ignores it: nothing is written for it. Add an annotations: map to func.yaml (deploy sends it) or use \`kiln update fn APP FN --annotation K=V\`.\n`);
      // Over an init image's, a format Kiln runs, Fn's legacy names written as the http-stream they run as.
      const imageFormat = o.format === undefined ? undefined : formatAsRun(o.format);
      if (o.initImage !== undefined && imageFormat !== undefined && imageFormat !== 'http-stream' && imageFormat !== 'lambda') {
        throw new CliError(`--format ${o.format} is not a format Kiln runs`, `Give http-stream or lambda (fn's ${NODE_LEGACY_FORMATS.join(' and ')} are taken as http-stream), or leave it to the init image.`);
      }
      const sayFormat = (written: string): void => {
        if (written !== o.format) s.io.err(`Format ${o.format} written as ${written} (Kiln runs Fn's ${o.format} format as ${written})\n`);
      };
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
        if (imageFormat !== undefined) sayFormat(imageFormat);
        // A Ctrl-C while the image runs removes its container, then exits 130 (Interrupted).
        const made = await interruptible((signal) =>
          initFromImage(() => s.docker(), dir, image, name, { ...initFields(o), ...(imageFormat !== undefined && { format: imageFormat }) }, o.force === true, signal),
        );
        if (made.skipped.length > 0) s.io.err(`Skipped what the init image wrote that is neither a file nor a directory (as fn init): ${made.skipped.join(', ')}\n`);
        if (made.replaced.length > 0) s.io.err(`Not written: the image's own ${made.replaced.join(' and ')}; func.yaml is its func.init.yaml merged with init's flags\n`);
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
        sayFormat(own);
      }
      const { dir, name } = target();
      const files = await initFunction(dir, runtime, name, initFields(o), o.force === true);
      if (runtime === 'node' && !files.includes('func.js')) {
        s.io.err(`Kept the directory's own ${NODE_CODE.filter((f) => existsSync(join(dir, f))).join(' and ')}: the template's func.js and package.json are not written (as fn init); func.yaml's entrypoint runs func.js, and its package.json must list what it requires (@fnproject/fdk)\n`);
      }
      emit(s, { name, runtime, dir, files }, () => `Function ${name} (runtime ${runtime}) created in ${dir}: ${files.join(', ')}\n`);
    });
}
