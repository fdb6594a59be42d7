// `kiln build` and `kiln deploy`: the image from the function directory, then the fn and its triggers.
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildImage, imageName, loadFunc } from '../build.js';
import { deployDir, type DeployResult } from '../deploy.js';
import { CliError } from '../errors.js';
import { functionDirs } from '../funcfile.js';
import type { Session } from '../session.js';
import { emit } from './common.js';

interface BuildOpts {
  dir?: string;
  verbose?: boolean;
}

interface DeployOpts extends BuildOpts {
  app?: string;
  createApp?: boolean;
  all?: boolean;
  bump: boolean;
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
  program
    .command('build')
    .description("build the function's image locally from its directory (no registry)")
    .option('-d, --dir <dir>', 'the function directory (default: the current one)')
    .option('-v, --verbose', 'show all of the build output')
    .action(async (o: BuildOpts) => {
      const dir = resolve(s.io.cwd, o.dir ?? '.');
      const func = await loadFunc(dir);
      const tag = imageName(func, (await s.api()).registry);
      await buildImage(await s.docker(), s.io, dir, tag, { verbose: o.verbose === true });
      emit(s, { image: tag }, () => `Function ${func.name} built successfully: ${tag}\n`);
    });

  program
    .command('deploy')
    .description('bump the version, build, and create or update the function and its triggers in an app')
    .requiredOption('--app <app>', 'the app to deploy to')
    .option('--create-app', 'create the app if it does not exist')
    .option('--all', 'deploy every function under the directory (each folder with a func.yaml)')
    .option('--no-bump', "keep func.yaml's version")
    .option('-d, --dir <dir>', 'the function directory (default: the current one)')
    .option('-v, --verbose', 'show all of the build output')
    .action(async (o: DeployOpts) => {
      const root = resolve(s.io.cwd, o.dir ?? '.');
      const dirs = o.all ? await functionDirs(root) : [root];
      if (dirs.length === 0) throw new CliError(`no func.yaml under ${root}`, 'Create a function with `kiln init --runtime node NAME`.');
      const api = await s.api();
      const client = await s.client();
      const docker = await s.docker();
      const results: DeployResult[] = [];
      for (const dir of dirs) {
        if (o.all) s.io.err(`\n== ${relative(root, dir) || '.'}\n`);
        const r = await deployDir(client, docker, s.io, dir, {
          app: o.app!,
          createApp: o.createApp === true,
          noBump: !o.bump,
          verbose: o.verbose === true,
          ...(api.registry && { registry: api.registry }),
        });
        results.push(r);
        if (s.output() !== 'json') s.io.out(summary(r));
      }
      if (s.output() === 'json') {
        emit(s, results.map((r) => ({ app: r.app, fn: r.fn, triggers: r.triggers, image: r.image, version: r.version })), () => '');
      }
    });
}
