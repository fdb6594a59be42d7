// `kiln deploy`'s work, as Fn's: bump the version, build the image, then create or update the
// fn and its triggers from func.yaml. Exported for scripts/up.ts, which deploys its demo with it.
import type Docker from 'dockerode';
import { funcTriggers, FuncYamlError, type FuncTrigger, type FuncYaml } from '../images/func-yaml.js';
import { buildImage, imageName, loadFunc, planBuild } from './build.js';
import type { App, Fn, KilnClient, Trigger } from './client.js';
import { CliError } from './errors.js';
import { bumpVersion, writeVersion } from './funcfile.js';
import type { Io } from './io.js';

export interface DeployOptions {
  app: string;
  createApp?: boolean;
  /** Keep func.yaml's version (Fn's --no-bump). */
  noBump?: boolean;
  registry?: string;
  verbose?: boolean;
}

export interface DeployResult {
  app: App;
  fn: Fn;
  triggers: Trigger[];
  image: string;
  version: string;
  created: boolean;
}

async function appFor(client: KilnClient, io: Io, name: string, create: boolean): Promise<App> {
  const app = (await client.listApps(name)).find((a) => a.name === name);
  if (app) return app;
  if (!create) {
    throw new CliError(`app "${name}" not found at ${client.url}`, `Create it with \`kiln create app ${name}\`, or deploy with --create-app.`);
  }
  io.err(`Creating app ${name}\n`);
  return client.createApp({ name });
}

function fnFields(func: FuncYaml, image: string): Partial<Fn> {
  return {
    image,
    format: func.format ?? 'http-stream',
    ...(func.memory !== undefined && { memory: func.memory }),
    ...(func.timeout !== undefined && { timeout: func.timeout }),
    ...(func.idle_timeout !== undefined && { idle_timeout: func.idle_timeout }),
    ...(func.config && { config: func.config }),
    ...(func.annotations && { annotations: func.annotations }),
  };
}

async function upsertTriggers(client: KilnClient, io: Io, app: App, fn: Fn, wanted: FuncTrigger[]): Promise<Trigger[]> {
  const out: Trigger[] = [];
  for (const t of wanted) {
    const existing = (await client.listTriggers(app.id, { name: t.name })).find((x) => x.name === t.name);
    if (!existing) {
      out.push(await client.createTrigger({ name: t.name, app_id: app.id, fn_id: fn.id, type: t.type, source: t.source }));
      io.err(`Created trigger ${t.name} (${t.type} ${t.source})\n`);
    } else if (existing.fn_id !== fn.id || existing.source !== t.source || existing.type !== t.type) {
      out.push(await client.updateTrigger(existing.id, { fn_id: fn.id, source: t.source }));
      io.err(`Updated trigger ${t.name} (${t.type} ${t.source})\n`);
    } else {
      out.push(existing);
    }
  }
  return out;
}

/** Deploys the function in `dir` to an app; the directory's func.yaml gets the new version. */
export async function deployDir(client: KilnClient, docker: Docker, io: Io, dir: string, opts: DeployOptions): Promise<DeployResult> {
  const func = await loadFunc(dir);
  // A bad runtime, format, trigger, version or name fails before anything changes.
  await planBuild(dir, func);
  let triggers: FuncTrigger[];
  try {
    triggers = funcTriggers(func, `${dir}/func.yaml`);
  } catch (err) {
    if (err instanceof FuncYamlError) throw new CliError(`bad func.yaml: ${err.message}`);
    throw err;
  }
  const version = opts.noBump ? (func.version ?? '0.0.1') : bumpVersion(func.version);
  const image = imageName({ ...func, version }, opts.registry);
  const app = await appFor(client, io, opts.app, opts.createApp === true);
  io.err(`Deploying ${func.name} to app ${app.name} (version ${version})\n`);
  await buildImage(docker, io, dir, image, { verbose: opts.verbose === true });
  if (version !== func.version) await writeVersion(dir, version);

  const name = func.name!;
  const existing = (await client.listFns(app.id, name)).find((f) => f.name === name);
  const fields = fnFields(func, image);
  const fn = existing ? await client.updateFn(existing.id, fields) : await client.createFn({ name, app_id: app.id, ...fields });
  io.err(`${existing ? 'Updated' : 'Created'} function ${name} with ${image}\n`);
  return { app, fn, triggers: await upsertTriggers(client, io, app, fn, triggers), image, version, created: !existing };
}
