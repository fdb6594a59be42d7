// `kiln build` and `kiln deploy`: the image from the function directory, then the fn and its triggers.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { buildImage, imageName, loadFunc, noFuncYaml } from '../build.js';
import { deployDir, type DeployResult } from '../deploy.js';
import { CliError } from '../errors.js';
import { functionDirs } from '../funcfile.js';
import type { Session } from '../session.js';
import { emit } from './common.js';

interface BuildOpts {
  registry?: string;
  workingDir?: string;
  dir?: string;
  verbose?: boolean;
}

interface DeployOpts extends BuildOpts {
  app?: string;
  createApp?: boolean;
  all?: boolean;
  bump: boolean;
  local?: boolean;
}

/** As `fn`: `-w/--working-dir`, else the argument (relative to the current directory), else here. */
function functionDir(s: Session, arg: string | undefined, o: BuildOpts): string {
  return resolve(s.io.cwd, o.workingDir ?? o.dir ?? arg ?? '.');
}

/** The options `build` and `deploy` share. */
const dirOptions = (c: Command): Command =>
  c
    .argument('[dir]', 'the function directory, relative to the current one (default: the current one)')
    .option('-w, --working-dir <dir>', 'the function directory (wins over [dir])')
    .addOption(new Option('-d, --dir <dir>').hideHelp())
    .option('-v, --verbose', 'show all of the build output')
    .option('--registry <prefix>', "prefix of the image name (wins over FN_REGISTRY and the context's registry)");

/** The image name prefix: --registry, else FN_REGISTRY or the context's. */
async function registryOf(s: Session, o: BuildOpts): Promise<string | undefined> {
  return o.registry ?? (await s.api()).registry;
}

function summary(r: DeployResult): string {
  const lines = [`Successfully ${r.created ? 'created' : 'updated'} function: ${r.fn.name} with ${r.image}`];
  for (const t of r.triggers) {
    const url = t.annotations['fnproject.io/trigger/httpEndpoint'];
    lines.push(`Trigger Endpoint: ${typeof url === 'string' ? url : t.source}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerBuild(program: Command, s: Session): void {
  dirOptions(program.command('build').alias('bu').description("build the function's image locally from its directory (no registry)")).action(
    async (arg: string | undefined, o: BuildOpts) => {
      const dir = functionDir(s, arg, o);
      const func = await loadFunc(dir);
      const tag = imageName(func, await registryOf(s, o));
      await buildImage(await s.docker(), s.io, dir, tag, { verbose: o.verbose === true });
      emit(s, { image: tag }, () => `Function ${func.name} built successfully: ${tag}\n`);
    },
  );

  dirOptions(
    program
      .command('deploy')
      .alias('dp')
      .description('bump the version, build, and create or update the function and its triggers in an app'),
  )
    .requiredOption('--app <app>', 'the app to deploy to')
    .option('--create-app', 'create the app if it does not exist')
    .option('--all', 'deploy every function under the directory (each folder with a func.yaml, at any depth)')
    .option('--no-bump', "keep func.yaml's version")
    .option('--local', "accepted for fn's sake: images are always built locally and never pushed")
    .action(async (arg: string | undefined, o: DeployOpts) => {
      const root = functionDir(s, arg, o);
      if (!existsSync(root)) throw noFuncYaml(root);
      const dirs = o.all ? await functionDirs(root) : [root];
      if (dirs.length === 0) throw new CliError(`no func.yaml under ${root}`, 'Create a function with `kiln init --runtime node NAME`.');
      const registry = await registryOf(s, o);
      const client = await s.client();
      const docker = await s.docker();
      const results: DeployResult[] = [];
      for (const dir of dirs) {
        const where = relative(root, dir) || '.';
        if (o.all) s.io.err(`\n== ${where}\n`);
        const r = await deployDir(client, docker, s.io, dir, {
          app: o.app!,
          createApp: o.createApp === true,
          noBump: !o.bump,
          verbose: o.verbose === true,
          ...(registry && { registry }),
        }).catch((err: unknown) => {
          // As `fn deploy --all`: the error names the function that failed; later ones are not tried.
          if (o.all && err instanceof CliError) {
            throw new CliError(`deploying ${where}: ${err.message}`, [err.hint, results.length ? `The ${results.length} before it were deployed.` : ''].filter(Boolean).join('\n'), err.exitCode);
          }
          throw err;
        });
        results.push(r);
        if (s.output() !== 'json') s.io.out(summary(r));
      }
      if (s.output() === 'json') {
        emit(s, results.map((r) => ({ app: r.app, fn: r.fn, triggers: r.triggers, image: r.image, version: r.version })), () => '');
      }
    });
}
