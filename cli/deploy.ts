// `kiln deploy`'s work, as Fn's: bump the version, build the image, then create or update the
// fn and its triggers from func.yaml. Exported for scripts/up.ts, which deploys its demo with it.
import type Docker from 'dockerode';
import { APP_NAME_ERRORS, checkFnName, checkWordName, FN_NAME_ERRORS } from '../api/contract/names.js';
import { checkFnFields, FUNC_YAML_KEYS, funcTriggers, FuncYamlError, type FuncTrigger, type FuncYaml } from '../images/func-yaml.js';
import { appFileFields, type AppFile } from './appfile.js';
import { buildImage, imageName, loadFunc, planBuild } from './build.js';
import type { App, Fn, KilnClient, Trigger } from './client.js';
import { CliError } from './errors.js';
import { bumpVersion, checkVersionWritable, writeVersion } from './funcfile.js';
import type { Io } from './io.js';
import { lookupApp, lookupFn } from './resolve.js';

export interface DeployOptions {
  /** The app's name, or the app itself (as `prepareApp` gives it). */
  app: string | App;
  createApp?: boolean;
  /** With `app` a name: the app file whose config and annotations the app gets (see prepareApp). */
  appFile?: AppFile;
  /** Keep func.yaml's version (Fn's --no-bump). */
  noBump?: boolean;
  registry?: string;
  verbose?: boolean;
  /** Docker build args (`--build-arg KEY=VALUE`). */
  buildArgs?: Record<string, string>;
  /** Build without the layer cache (`--no-cache`). */
  noCache?: boolean;
  /** The fn's name when func.yaml has none (default: the directory's name); see `allDeployName`. */
  defaultName?: string;
  /** How many fns this run deployed before this one (deploy --all's): then not "Nothing was changed". */
  deployedBefore?: number;
}

/**
 * As `fn deploy --all`: a function without `name:` is named by its path under the app's root,
 * separators turned into `-` (api/users -> api-users); the one at the root is `<app>-root`.
 */
export function allDeployName(appName: string, relPath: string): string {
  const parts = relPath.split(/[\\/]+/).filter((p) => p !== '' && p !== '.' && p !== '..');
  return parts.length ? parts.join('-') : `${appName}-root`;
}

export interface DeployResult {
  app: App;
  fn: Fn;
  triggers: Trigger[];
  image: string;
  version: string;
  created: boolean;
}

/**
 * An app name the server refuses, refused with its message before anything is built or changed
 * (the server rules only on the create, after the build): with --create-app or without, as such
 * an app can neither be created nor be there.
 */
export function checkAppName(name: string): void {
  const check = checkWordName(name);
  if (check === 'ok') return;
  throw new CliError(`app name "${name}": ${APP_NAME_ERRORS[check]}`, 'An app name is letters, digits, "_" and "-", at most 255 bytes (the server\'s rule). Nothing was built or changed.');
}

/**
 * The app to deploy to, as `fn deploy` makes it ready: found by name; when missing, created
 * with --create-app (with the app file's config, annotations and syslog_url), else an error;
 * when found and there is an app file, updated with those fields (a merge: keys the file no
 * longer lists stay on the app, as with fn).
 */
export async function prepareApp(client: KilnClient, io: Io, name: string, opts: { create?: boolean; appFile?: AppFile }): Promise<App> {
  const fields = opts.appFile ? appFileFields(opts.appFile) : {};
  const from = opts.appFile ? ` from ${opts.appFile.path}` : '';
  const keys = (): string => {
    const parts = [
      fields.config && `config ${Object.keys(fields.config).join(', ')}`,
      fields.annotations && `annotations ${Object.keys(fields.annotations).join(', ')}`,
      fields.syslog_url && 'syslog_url',
    ].filter(Boolean);
    return parts.length ? ` (${parts.join('; ')})` : '';
  };
  const app = await lookupApp(client, name);
  if (!app) {
    if (opts.create !== true) {
      throw new CliError(`app "${name}" not found at ${client.url}`, `Create it with \`kiln create app ${name}\`, or deploy with --create-app.`);
    }
    io.err(`Creating app ${name}${Object.keys(fields).length ? `${from}${keys()}` : ''}\n`);
    return client.createApp({ name, ...fields });
  }
  if (!Object.keys(fields).length) return app;
  io.err(`Updating app ${name}${from}${keys()}\n`);
  return client.updateApp(app.id, fields);
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

/** One change `deploy` makes to a trigger; `keep` needs none. */
export type TriggerStep =
  | { op: 'create'; want: FuncTrigger }
  | { op: 'update'; want: FuncTrigger; existing: Trigger }
  | { op: 'keep'; existing: Trigger };

export interface TriggerPlan {
  steps: TriggerStep[];
  /** The fn's triggers func.yaml does not list: left as they are (as `fn deploy` does). */
  unlisted: Trigger[];
  /**
   * func.yaml triggers whose type and source another fn's trigger has, or one of this fn's that
   * func.yaml does not list (it is kept): deploy refuses them.
   */
  clashes: Array<{ want: FuncTrigger; other: Trigger }>;
  /**
   * This fn's triggers that change and whose current source another step wants (a swap or a
   * chain among its own): moved to a temporary source first, else that step's write is a 409.
   */
  moves: Trigger[];
}

/**
 * As `fn deploy`: each trigger of func.yaml is looked up among this fn's own triggers only, by
 * name; it is created when the fn has none of that name and updated when its source or type
 * differ; the fn's other triggers are kept. A trigger renamed in func.yaml (same type and
 * source, new name) renames the fn's old one, where a create would conflict with it. Another
 * fn's trigger is never changed: one with the same type and source is a clash (the server
 * would refuse the create); one with the same name is no clash, as names are unique per fn.
 * Among the fn's own triggers, sources may move (`moves`); one func.yaml does not list keeps
 * its source (a clash for a step that wants it).
 */
export function planTriggers(wanted: FuncTrigger[], appTriggers: Trigger[], fnId: string | undefined): TriggerPlan {
  const own = appTriggers.filter((t) => fnId !== undefined && t.fn_id === fnId);
  const others = appTriggers.filter((t) => !own.includes(t));
  const names = new Set(wanted.map((w) => w.name));
  const spare = own.filter((t) => !names.has(t.name));
  const clashes: TriggerPlan['clashes'] = [];
  const steps: TriggerStep[] = wanted.map((want) => {
    const other = others.find((t) => t.type === want.type && t.source === want.source);
    if (other) clashes.push({ want, other });
    const existing = own.find((t) => t.name === want.name);
    if (existing) {
      const same = existing.source === want.source && existing.type === want.type;
      return same ? { op: 'keep', existing } : { op: 'update', want, existing };
    }
    const i = spare.findIndex((t) => t.type === want.type && t.source === want.source);
    if (i < 0) return { op: 'create', want };
    const [renamed] = spare.splice(i, 1);
    return { op: 'update', want, existing: renamed! };
  });
  // Among the fn's own triggers: a source a step wants may be held by another of them, one
  // that moves elsewhere (moved out of the way first) or one func.yaml does not list (a clash).
  const moves: Trigger[] = [];
  for (const step of steps) {
    if (step.op === 'keep') continue;
    const self = step.op === 'update' ? step.existing : undefined;
    const holder = own.find((t) => t !== self && t.type === step.want.type && t.source === step.want.source);
    if (!holder) continue;
    if (spare.includes(holder)) clashes.push({ want: step.want, other: holder });
    else if (steps.some((x) => x.op === 'update' && x.existing === holder) && !moves.includes(holder)) moves.push(holder);
  }
  return { steps, unlisted: spare, clashes, moves };
}

/** Where `applyTriggers` parks a trigger it moves out of the way: unique, as trigger ids are. */
export const parkingSource = (t: Trigger): string => `/kiln-deploy-moving-${t.id}`;

/**
 * The CliError for a plan's clashes, naming the fn that holds each source. `changed` says what
 * this deploy has changed so far ("Nothing was changed.", or what was), or nothing when the
 * caller says it.
 */
function clashError(app: App, fnId: string | undefined, fnName: string, plan: TriggerPlan, fnNames: Map<string, string>, changed: string): CliError {
  // A fn deploy --all is still to create has no id yet (see checkAllTriggers).
  const nameOf = (id: string): string => fnNames.get(id) ?? (id.startsWith(NEW_FN) ? id.slice(NEW_FN.length) : id);
  const lines = plan.clashes.map(({ want, other }) => {
    const unlisted = other.fn_id === fnId ? ', which func.yaml does not list (deploy keeps such triggers),' : '';
    return `trigger ${want.name} (${want.type} ${want.source}): fn "${nameOf(other.fn_id)}"'s trigger ${other.name}${unlisted} has that source`;
  });
  const first = plan.clashes[0]!;
  return new CliError(
    `cannot deploy ${fnName} to app ${app.name}: ${lines.join('; ')}`,
    `${changed ? `${changed} ` : ''}Give the trigger another source in func.yaml, or move the other one first (\`kiln delete trigger ${app.name} ${nameOf(first.other.fn_id)} ${first.other.name}\`).`,
  );
}

/** The app's triggers planned for the fn; a clash with another fn's trigger is a CliError naming that fn. */
async function planOrRefuse(client: KilnClient, app: App, fnId: string | undefined, fnName: string, wanted: FuncTrigger[], changed: string): Promise<TriggerPlan> {
  const plan = planTriggers(wanted, await client.listTriggers(app.id), fnId);
  if (plan.clashes.length === 0) return plan;
  const fnNames = new Map((await client.listFns(app.id)).map((f) => [f.id, f.name]));
  throw clashError(app, fnId, fnName, plan, fnNames, changed);
}

/** The fn id `planAll` gives a fn that does not exist yet. */
const NEW_FN = 'new:';

/**
 * deploy --all's plans, in its order: each function's triggers planned against the app's as
 * they will be once the ones before it are deployed (its own listed ones in place, those it
 * does not list kept), so a source one of them frees for a later one is no clash.
 */
export function planAll(appTriggers: Trigger[], fnIds: ReadonlyMap<string, string>, fns: Array<{ name: string; triggers: FuncTrigger[] }>): TriggerPlan[] {
  let current = appTriggers;
  return fns.map(({ name, triggers }) => {
    const fnId = fnIds.get(name);
    const plan = planTriggers(triggers, current, fnId);
    const id = fnId ?? `${NEW_FN}${name}`;
    const placed = triggers.map((t): Trigger => ({ id: `${id}/${t.name}`, name: t.name, app_id: '', fn_id: id, type: t.type, source: t.source, annotations: {}, created_at: '', updated_at: '' }));
    current = [...current.filter((t) => fnId === undefined || t.fn_id !== fnId), ...plan.unlisted, ...placed];
    return plan;
  });
}

/**
 * deploy --all's check of every function's triggers against the app's on the server, before
 * the first deploy (a clash found at the third would leave the first two deployed).
 */
export async function checkAllTriggers(client: KilnClient, app: App, fns: Array<{ name: string; triggers: FuncTrigger[]; where: string }>): Promise<void> {
  const appFns = await client.listFns(app.id);
  const plans = planAll(await client.listTriggers(app.id), new Map(appFns.map((f) => [f.name, f.id])), fns);
  const i = plans.findIndex((p) => p.clashes.length > 0);
  if (i < 0) return;
  const fn = fns[i]!;
  const err = clashError(app, appFns.find((f) => f.name === fn.name)?.id, fn.name, plans[i]!, new Map(appFns.map((f) => [f.id, f.name])), 'Nothing was changed.');
  throw new CliError(`deploy --all: ${fn.where}: ${err.message}`, err.hint);
}

async function applyTriggers(client: KilnClient, io: Io, app: App, fn: Fn, wanted: FuncTrigger[], done: string): Promise<Trigger[]> {
  // Checked again now: another client may have taken a source since the check before the build.
  const plan = await planOrRefuse(client, app, fn.id, fn.name, wanted, `${done}; its triggers were not changed.`);
  // Two passes for a swap among the fn's own triggers (a:/x, b:/y -> a:/y, b:/x): each that
  // holds a source another step wants is parked at a unique source first. Updated in place,
  // each keeps its id and annotations, which a delete and re-create would lose.
  for (const t of plan.moves) {
    await client.updateTrigger(t.id, { source: parkingSource(t) });
    io.err(`Moved trigger ${t.name} from ${t.source} out of the way (another trigger of func.yaml takes that source)\n`);
  }
  const out: Trigger[] = [];
  for (const step of plan.steps) {
    if (step.op === 'keep') {
      out.push(step.existing);
      continue;
    }
    const { name, type, source } = step.want;
    if (step.op === 'create') {
      out.push(await client.createTrigger({ name, app_id: app.id, fn_id: fn.id, type, source }));
      io.err(`Created trigger ${name} (${type} ${source})\n`);
    } else {
      out.push(await client.updateTrigger(step.existing.id, { name, source }));
      const was = step.existing.name !== name ? ` (was ${step.existing.name})` : '';
      io.err(`Updated trigger ${name}${was} (${type} ${source})\n`);
    }
  }
  for (const t of plan.unlisted) {
    io.err(`Kept trigger ${t.name} (${t.type} ${t.source}), which func.yaml does not list; remove it with \`kiln delete trigger ${app.name} ${fn.name} ${t.name}\`\n`);
  }
  return out;
}

/** The triggers of `dir`'s func.yaml, as the server would take them; a bad one is a CliError. */
export function triggersOf(func: FuncYaml, dir: string): FuncTrigger[] {
  try {
    return funcTriggers(func, `${dir}/func.yaml`);
  } catch (err) {
    if (err instanceof FuncYamlError) throw new CliError(`bad func.yaml: ${err.message}`);
    throw err;
  }
}

/** A func.yaml's config and annotations the server would refuse: a CliError (see checkFnFields). */
export function checkFields(func: FuncYaml, dir: string, create: boolean): void {
  try {
    checkFnFields(func, create, `${dir}/func.yaml`);
  } catch (err) {
    if (err instanceof FuncYamlError) throw new CliError(`bad func.yaml: ${err.message}`, 'Fix it in func.yaml; nothing was bumped, built or changed.');
    throw err;
  }
}

/** What deploy will do for a function directory, once every check that needs no server passed. */
export interface DeployPlan {
  triggers: FuncTrigger[];
  version: string;
  image: string;
}

/**
 * Every check of the function in `dir` that can fail and needs no server: runtime, format,
 * entrypoint, dependencies (unless build: steps are to bring them), triggers, config and
 * annotations (`create`: as for a new fn), the version to bump and write, the image name. Run
 * by deployDir before anything changes, and by deploy --all for every function before the app
 * is created or the first one deployed.
 */
export async function planDeploy(dir: string, func: FuncYaml, opts: { noBump?: boolean; registry?: string; create: boolean }): Promise<DeployPlan> {
  // The server's rule and message for the fn's name (an image name may be longer than a fn's).
  const name = checkFnName(func.name);
  if (name !== 'ok') throw new CliError(`bad func.yaml: fn name "${func.name ?? ''}": ${FN_NAME_ERRORS[name]}`, 'Fix "name:" in func.yaml (with none, the directory\'s name is used); nothing was bumped, built or changed.');
  await planBuild(dir, func, { deps: !func.build?.length });
  const triggers = triggersOf(func, dir);
  checkFields(func, dir, opts.create);
  const version = opts.noBump ? (func.version ?? '0.0.1') : bumpVersion(func.version);
  if (version !== func.version) await checkVersionWritable(dir);
  return { triggers, version, image: imageName({ ...func, version }, opts.registry) };
}

/**
 * The fns of other apps whose image is `image`, as `app/fn`: building it moves that tag under
 * them (their warm containers are retired). Looked up by the fn's name in each app (an image
 * with no registry prefix is `name:version`, so a fn of another name has another image).
 */
export async function sharedImageUsers(client: KilnClient, image: string, fnName: string, appName: string): Promise<string[]> {
  const out: string[] = [];
  for (const app of await client.listApps()) {
    if (app.name === appName) continue;
    for (const fn of await client.listFns(app.id, fnName)) if (fn.image === image) out.push(`${app.name}/${fn.name}`);
  }
  return out;
}

/** Deploys the function in `dir` to an app; the directory's func.yaml gets the new version. */
export async function deployDir(client: KilnClient, docker: Docker, io: Io, dir: string, opts: DeployOptions): Promise<DeployResult> {
  const func = await loadFunc(dir, opts.defaultName);
  // A bad runtime, format, trigger, config, annotation, version or name fails before anything
  // changes (dependencies too, unless build: steps are to bring them).
  const { triggers, version, image } = await planDeploy(dir, func, { ...(opts.noBump && { noBump: true }), ...(opts.registry && { registry: opts.registry }), create: false });
  // As Fn, unknown keys are ignored; one line says which, as a user may count on them.
  const unused = (func.keys ?? []).filter((k) => !FUNC_YAML_KEYS.includes(k));
  if (unused.length) {
    const images = unused.filter((k) => k === 'build_image' || k === 'run_image');
    io.err(`warning: func.yaml fields Kiln does not use: ${unused.join(', ')}${images.length ? ` (the build uses Kiln's local base image instead of ${images.join(' and ')})` : ''}\n`);
  }
  // A trigger another fn owns is refused before anything changes (the version, the image, the fn).
  const found = typeof opts.app === 'string' ? await lookupApp(client, opts.app) : opts.app;
  const current = found ? await lookupFn(client, found, func.name!) : undefined;
  // A new fn: an annotation of "" is refused (on an existing one it removes the key).
  if (!current) checkFields(func, dir, true);
  if (found) await planOrRefuse(client, found, current?.id, func.name!, triggers, opts.deployedBefore ? '' : 'Nothing was changed.');
  const appName = typeof opts.app === 'string' ? opts.app : opts.app.name;
  // As Fn, the image is [prefix/]name:version, the same for a fn of that name in any app that
  // uses the same prefix (none, or one FN_REGISTRY for all): a legitimate shared image (one
  // function in two apps) or a clash, so a warning, with a prefix or without.
  const users = await sharedImageUsers(client, image, func.name!, appName);
  if (users.length) {
    const how = opts.registry
      ? `give each app (or team) its own prefix (e.g. --registry ${opts.registry.replace(/\/+$/, '')}/${appName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}), or the fn another name in func.yaml`
      : 'give each app (or team) its own prefix: --registry PREFIX, FN_REGISTRY, or a context\'s registry (`kiln update context registry PREFIX`)';
    io.err(
      `warning: image ${image} is also the image of ${users.map((u) => `fn ${u}`).join(', ')}: this build replaces that tag, so ${users.length > 1 ? 'those fns run' : 'that fn runs'} this code from ${users.length > 1 ? 'their' : 'its'} next call\n` +
        `  To keep apps' images apart, ${how}.\n`,
    );
  }
  const readyApp = () => typeof opts.app === 'string' ? prepareApp(client, io, opts.app, { create: opts.createApp === true, ...(opts.appFile && { appFile: opts.appFile }) }) : Promise.resolve(opts.app);
  // A missing app without --create-app is refused now; one to create or update waits for the
  // build (its steps may still fail, as on dependencies they were to bring), as fn builds first.
  if (!found && opts.createApp !== true) await readyApp();
  io.err(`Deploying ${func.name} to app ${appName} (version ${version})\n`);
  await buildImage(docker, io, dir, image, {
    verbose: opts.verbose === true,
    ...(opts.buildArgs && { buildArgs: opts.buildArgs }),
    ...(opts.noCache && { noCache: true }),
  });
  const app = await readyApp();
  if (version !== func.version) await writeVersion(dir, version);

  const name = func.name!;
  const existing = await lookupFn(client, app, name);
  const fields = fnFields(func, image);
  const fn = existing ? await client.updateFn(existing.id, fields) : await client.createFn({ name, app_id: app.id, ...fields });
  io.err(`${existing ? 'Updated' : 'Created'} function ${name} with ${image}\n`);
  const done = `Function ${name} was ${existing ? 'updated' : 'created'} with ${image}`;
  return { app, fn, triggers: await applyTriggers(client, io, app, fn, triggers, done), image, version, created: !existing };
}
