// `kiln build` and `kiln deploy`: the image from the function directory, then the fn and its triggers.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { readAppFile } from '../appfile.js';
import { buildImage, imageName, loadFunc, noFuncYaml } from '../build.js';
import { allDeployName, checkAllTriggers, checkAppName, deployDir, planDeploy, prepareApp, type DeployResult } from '../deploy.js';
import type { FuncTrigger } from '../../images/func-yaml.js';
import { lookupApp } from '../resolve.js';
import { CliError } from '../errors.js';
import { functionDirs } from '../funcfile.js';
import type { Session } from '../session.js';
import { collect, emit } from './common.js';

interface BuildOpts {
  registry?: string;
  workingDir?: string;
  dir?: string;
  verbose?: boolean;
  buildArg?: string[];
  cache: boolean;
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
    .option('--registry <prefix>', "prefix of the image name (wins over FN_REGISTRY and the context's registry)")
    .option('--build-arg <KEY=VALUE>', "a Docker build arg for the Dockerfile's ARG KEY (runtime: docker); KEY alone takes this environment's value; repeatable", collect)
    .option('--no-cache', "build without Docker's layer cache");

/**
 * `--build-arg` values as `docker build` takes them: KEY=VALUE, or KEY alone for the value of
 * KEY in this environment (left out when it has none).
 */
export function parseBuildArgs(list: string[] | undefined, env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!key || /\s/.test(key)) {
      throw new CliError(`--build-arg "${item}" is not KEY=VALUE`, 'e.g. --build-arg GREETING=hello (repeat --build-arg for more; KEY alone takes its value from the environment).');
    }
    if (eq >= 0) out[key] = item.slice(eq + 1);
    else if (env[key] !== undefined) out[key] = env[key]!;
  }
  return out;
}

/** The build options `build` and `deploy` share, from the command line. */
function buildExtras(s: Session, o: BuildOpts): { buildArgs?: Record<string, string>; noCache?: boolean } {
  const buildArgs = parseBuildArgs(o.buildArg, s.io.env);
  return { ...(buildArgs && { buildArgs }), ...(!o.cache && { noCache: true }) };
}

/** The image name prefix: --registry (the command's, else the global one), else FN_REGISTRY or the context's. */
async function registryOf(s: Session, o: BuildOpts): Promise<string | undefined> {
  return o.registry ?? s.globals.registry ?? (await s.api()).registry;
}

/** -v: the command's, or the global one before it (as fn's). */
const verboseOf = (s: Session, o: BuildOpts): boolean => o.verbose === true || s.globals.verbose === true;

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
      const extras = buildExtras(s, o);
      const func = await loadFunc(dir);
      const tag = imageName(func, await registryOf(s, o));
      await buildImage(await s.docker(), s.io, dir, tag, { verbose: verboseOf(s, o), ...extras });
      emit(s, { image: tag }, () => `Function ${func.name} built successfully: ${tag}\n`);
    },
  );

  dirOptions(
    program
      .command('deploy')
      .alias('dp')
      .description('bump the version, build, and create or update the function and its triggers in an app'),
  )
    .option('--app <app>', "the app to deploy to (wins over app.yaml's name)")
    .option('--create-app', 'create the app if it does not exist')
    .option('--all', 'deploy every function under the directory (each folder with a func.yaml, at any depth); needs an app.yaml')
    .option('--no-bump', "keep func.yaml's version")
    .option('--local', "accepted for fn's sake: images are always built locally and never pushed")
    .action(async (arg: string | undefined, o: DeployOpts) => {
      const root = functionDir(s, arg, o);
      const extras = buildExtras(s, o);
      if (!existsSync(root)) throw noFuncYaml(root);
      // As fn: the app file is at -w's directory, else the current one ([dir] names a function in it).
      const appDir = resolve(s.io.cwd, o.workingDir ?? o.dir ?? '.');
      const appFile = await readAppFile(appDir);
      if (o.all && !appFile) {
        throw new CliError(
          `no app.yaml in ${appDir}`,
          'deploy --all deploys an app: put an app.yaml ("name: APP", with optional config and annotations) at its root, as with fn, and run it there or name that directory with -w.',
        );
      }
      const appName = o.app ?? appFile?.name;
      if (!appName) {
        throw new CliError(
          appFile ? `no app name: ${appFile.path} has no "name:" and --app is not given` : 'no app name: give --app APP',
          appFile ? 'Add "name: APP" to it, or deploy with --app APP.' : 'e.g. `kiln deploy --app myapp`, or put an app.yaml with "name: myapp" in the directory you deploy from.',
        );
      }
      checkAppName(appName);
      if (o.app && appFile?.name && o.app !== appFile.name) {
        s.io.err(`Deploying to app ${o.app}: --app wins over the name in ${appFile.path} (${appFile.name}); its config and annotations apply to ${o.app}\n`);
      }
      const dirs = o.all ? await functionDirs(root) : [root];
      if (dirs.length === 0) throw new CliError(`no func.yaml under ${root}`, 'Create a function with `kiln init --runtime node NAME`.');
      // As fn: a func.yaml without name: is named by its path under the app's directory (the
      // app.yaml's), that directory's own as `<app>-root`, with --all or not.
      // The root's name is the app file's app, as fn's setFuncInfo; a single deploy names it so only
      // when run in that directory (as fn's `dir == wd`), else by the directory's name.
      const rootApp = appFile?.name ?? appName;
      const nameFor = (dir: string): string | undefined =>
        o.all ? allDeployName(rootApp, relative(appDir, dir)) : appFile && resolve(dir) === resolve(s.io.cwd) ? `${rootApp}-root` : undefined;
      const registry = await registryOf(s, o);
      const client = await s.client();
      if (o.all) {
        // Two directories that would deploy one fn: the second would silently replace the first.
        // And every function's own checks (runtime, format, entrypoint, triggers, config,
        // annotations, version, image name), then its triggers against the others', before the
        // app is created or the first one deployed: a bad one, two functions at one source, or
        // one at a source another fn of the app has on the server, would stop the run half done.
        const existing = await lookupApp(client, appName);
        const onServer = new Set(existing ? (await client.listFns(existing.id)).map((f) => f.name) : []);
        const seen = new Map<string, string>();
        const sources = new Map<string, string>();
        const planned: Array<{ name: string; triggers: FuncTrigger[]; where: string }> = [];
        const rel = (dir: string) => relative(appDir, dir) || '.';
        for (const dir of dirs) {
          const func = await loadFunc(dir, nameFor(dir));
          const name = func.name!;
          const first = seen.get(name);
          if (first !== undefined) {
            throw new CliError(`deploy --all: ${rel(first)} and ${rel(dir)} would both deploy fn ${name}`, 'Give one of them another "name:" in its func.yaml. Nothing was changed.');
          }
          seen.set(name, dir);
          const { triggers } = await planDeploy(dir, func, { noBump: !o.bump, ...(registry && { registry }), create: !onServer.has(name) }).catch((err: unknown) => {
            if (err instanceof CliError) throw new CliError(`deploy --all: ${rel(dir)}: ${err.message}`, [err.hint, /nothing was/i.test(err.hint ?? '') ? '' : 'Nothing was changed.'].filter(Boolean).join('\n'), err.exitCode);
            throw err;
          });
          for (const t of triggers) {
            const other = sources.get(t.source);
            if (other !== undefined) {
              throw new CliError(`deploy --all: ${rel(other)} and ${rel(dir)} both have a trigger at ${t.source}`, "An app's trigger sources are its own: give one of them another source. Nothing was changed.");
            }
            sources.set(t.source, dir);
          }
          planned.push({ name, triggers, where: rel(dir) });
        }
        if (existing) await checkAllTriggers(client, existing, planned);
      }
      const docker = await s.docker();
      // --all makes the app ready first, as fn; a single deploy checks its func.yaml before.
      const app = o.all ? await prepareApp(client, s.io, appName, { create: o.createApp === true, ...(appFile && { appFile }) }) : appName;
      const results: DeployResult[] = [];
      for (const dir of dirs) {
        const where = relative(root, dir) || '.';
        const defaultName = nameFor(dir);
        if (o.all) s.io.err(`\n== ${where}\n`);
        const r = await deployDir(client, docker, s.io, dir, {
          app,
          createApp: o.createApp === true,
          ...(appFile && { appFile }),
          noBump: !o.bump,
          verbose: verboseOf(s, o),
          ...(registry && { registry }),
          ...extras,
          ...(defaultName !== undefined && { defaultName }),
          deployedBefore: results.length,
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
