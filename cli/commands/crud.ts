// `kiln create|list|inspect|update|delete app|fn|trigger`, by name, as Fn's CLI.
import type { Command } from 'commander';
import { unreachableSource } from '../../api/contract/names.js';
import type { App, Fn, KilnClient, ListPage, Trigger } from '../client.js';
import { CliError } from '../errors.js';
import { json, table } from '../output.js';
import { findApp, findAppFn, findTrigger } from '../resolve.js';
import type { Session } from '../session.js';
import { collect, emit, fnNumberOptions, fnNumbers, intOption, parsePairs, stringPairs, type Verbs } from './common.js';

const APP = ['apps', 'a'];
const FN = ['fns', 'function', 'functions', 'func', 'f'];
const TRIGGER = ['triggers', 'trig', 'tr', 't'];

interface FnOpts {
  memory?: string;
  timeout?: string;
  idleTimeout?: string;
  format?: string;
  config?: string[];
  annotation?: string[];
}

interface AppOpts {
  config?: string[];
  annotation?: string[];
  syslogUrl?: string;
}

interface EndpointOpts {
  endpoint?: boolean;
}

interface TriggerOpts {
  source?: string;
  type?: string;
  annotation?: string[];
}

function appBody(o: AppOpts): Partial<App> {
  const config = stringPairs(o.config);
  const annotations = parsePairs(o.annotation, '--annotation', true);
  return { ...(config && { config }), ...(annotations && { annotations }), ...(o.syslogUrl !== undefined && { syslog_url: o.syslogUrl }) };
}

function fnBody(o: FnOpts): Partial<Fn> {
  const config = stringPairs(o.config);
  const annotations = parsePairs(o.annotation, '--annotation', true);
  return {
    ...fnNumbers(o),
    ...(o.format && { format: o.format }),
    ...(config && { config }),
    ...(annotations && { annotations }),
  };
}

/** As fn's validateTriggerSource: a source without its leading `/` gets one (`t4` is `/t4`). */
export const triggerSource = (source: string): string => (source.startsWith('/') ? source : `/${source}`);

/** The trigger fields from the flags; a source no client could call is refused before the server is asked, as deploy does. */
function triggerBody(o: TriggerOpts): Partial<Trigger> {
  const source = o.source ? triggerSource(o.source) : undefined;
  const unreachable = source === undefined ? undefined : unreachableSource(source);
  if (unreachable) throw new CliError(`--source: ${unreachable}`, 'Write the path as clients send it, e.g. --source /y for /x/../y');
  const annotations = parsePairs(o.annotation, '--annotation', true);
  return { ...(source && { source }), ...(o.type && { type: o.type }), ...(annotations && { annotations }) };
}

const appOptions = (c: Command): Command =>
  c
    .option('-c, --config <KEY=VALUE>', 'configuration (environment) for every fn of the app; repeatable', collect)
    .option('--annotation <KEY=VALUE>', 'annotation (VALUE as JSON when it parses); repeatable', collect)
    .option('--syslog-url <url>', 'where the fns\' output also goes: tcp://, udp:// or tls://HOST[:PORT]');

const fnOptions = (c: Command, use: 'create' | 'update'): Command =>
  fnNumberOptions(c, use)
    // Only a create has a default: an update leaves the format as it is.
    .option('--format <format>', use === 'create' ? 'http-stream (default) or lambda' : 'http-stream or lambda (unchanged when not given)')
    .option('-c, --config <KEY=VALUE>', 'configuration (environment) of the fn; repeatable', collect)
    .option('--annotation <KEY=VALUE>', 'annotation (VALUE as JSON when it parses); repeatable', collect);

/** The annotations `inspect fn|trigger --endpoint` prints, and fn's words when one is missing. */
export const ENDPOINTS = {
  fn: { key: 'fnproject.io/fn/invokeEndpoint', missing: 'missing or invalid endpoint on function' },
  trigger: { key: 'fnproject.io/trigger/httpEndpoint', missing: 'missing or invalid http endpoint on trigger' },
} as const;

/** The fn's or trigger's endpoint annotation; undefined when missing or not a string. */
function annotatedEndpoint(obj: { annotations?: Record<string, unknown> }, kind: keyof typeof ENDPOINTS): string | undefined {
  const v = obj.annotations?.[ENDPOINTS[kind].key];
  return typeof v === 'string' ? v : undefined;
}

const endpoint = (t: Trigger): string => annotatedEndpoint(t, 'trigger') ?? '';

/**
 * fn's `inspect fn|trigger --endpoint`: the endpoint annotation alone, as text (never JSON), a
 * PROPERTY ignored; none (or not a string) is an error, as fn's.
 */
export function endpointLine(obj: { annotations?: Record<string, unknown> }, kind: keyof typeof ENDPOINTS): string {
  const v = annotatedEndpoint(obj, kind);
  if (v === undefined) {
    const { key, missing } = ENDPOINTS[kind];
    throw new CliError(missing, `It has no ${key} annotation: \`kiln inspect ${kind} ... annotations\` shows what it has.`);
  }
  return `${v}\n`;
}

/** Prints one property (dotted path) of an object, or all of it, as JSON (as `fn inspect`). */
function inspect(s: Session, obj: object, prop?: string): void {
  if (!prop) return s.io.out(json(obj));
  let v: unknown = obj;
  for (const part of prop.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in v)) throw new CliError(`no property "${prop}"`, `Properties: ${Object.keys(obj).join(', ')}.`);
    v = (v as Record<string, unknown>)[part];
  }
  s.io.out(json(v));
}

async function triggersOf(client: KilnClient, appName: string, fnName: string | undefined, page: ListPage): Promise<{ triggers: Trigger[]; fnNames: Map<string, string> }> {
  const app = await findApp(client, appName);
  const fns = await client.listFns(app.id);
  const fnNames = new Map(fns.map((f) => [f.id, f.name]));
  let fnId: string | undefined;
  if (fnName) fnId = (await findAppFn(client, appName, fnName)).fn.id;
  return { triggers: await client.listTriggers(app.id, fnId ? { fnId } : {}, page), fnNames };
}

interface ListOpts {
  n?: string;
  cursor?: string;
}

/** fn's list flags: `-n`/`--n` (how many; all when not given) and `--cursor` (where to start). */
const listOptions = (c: Command): Command =>
  c.option('-n, --n <count>', 'list at most this many (default: all)').option('--cursor <cursor>', "start at this cursor (a page's next_cursor)");

function listPage(o: ListOpts): ListPage {
  const n = intOption(o.n, '-n');
  return { ...(n !== undefined && { n }), ...(o.cursor && { cursor: o.cursor }) };
}

export function registerCrud(verbs: Verbs, s: Session): void {
  const { create, list, inspect: insp, update, delete: del } = verbs;

  // --- apps
  appOptions(create.command('app <name>').aliases(APP).description('create an app')).action(async (name: string, o: AppOpts) => {
    const app = await (await s.client()).createApp({ name, ...appBody(o) });
    emit(s, app, () => `Successfully created app: ${app.name}\n`);
  });
  listOptions(list.command('apps').aliases(['app', 'a']).description('list apps'))
    .action(async (o: ListOpts) => {
      const apps = await (await s.client()).listApps(undefined, listPage(o));
      emit(s, apps, () => table(['NAME', 'ID'], apps.map((a) => [a.name, a.id])));
    });
  insp
    .command('app <name> [property]')
    .aliases(APP)
    .action(async (name: string, prop?: string) => inspect(s, await findApp(await s.client(), name), prop));
  appOptions(update.command('app <name>').aliases(APP).description('change an app (config VALUE "" removes the key)')).action(
    async (name: string, o: AppOpts) => {
      const client = await s.client();
      const app = await client.updateApp((await findApp(client, name)).id, appBody(o));
      emit(s, app, () => `Successfully updated app: ${app.name}\n`);
    },
  );
  del
    .command('app <name>')
    .aliases(APP)
    // fn's flags: Kiln never prompts, and the server deletes an app's fns and triggers with it.
    .option('-f, --force', "accepted for fn's sake: Kiln never asks before deleting")
    .option('-r, --recursive', "accepted for fn's sake: the app's fns and triggers are always deleted with it")
    .action(async (name: string) => {
      const client = await s.client();
      await client.deleteApp((await findApp(client, name)).id);
      emit(s, { deleted: name }, () => `Successfully deleted app: ${name}\n`);
    });

  // --- fns
  fnOptions(create.command('fn <app> <name> <image>').aliases(FN).description('create a fn from an image'), 'create').action(
    async (appName: string, name: string, image: string, o: FnOpts) => {
      const client = await s.client();
      const app = await findApp(client, appName);
      const fn = await client.createFn({ name, app_id: app.id, image, ...fnBody(o) });
      emit(s, fn, () => `Successfully created function: ${fn.name} with ${fn.image}\n`);
    },
  );
  listOptions(list.command('fns <app>').aliases(['fn', 'function', 'functions', 'funcs', 'fs', 'f']).description("list an app's fns"))
    .action(async (appName: string, o: ListOpts) => {
      const client = await s.client();
      const fns = await client.listFns((await findApp(client, appName)).id, undefined, listPage(o));
      // fn's columns (NAME IMAGE ID), then Kiln's format.
      emit(s, fns, () => table(['NAME', 'IMAGE', 'ID', 'FORMAT'], fns.map((f) => [f.name, f.image, f.id, f.format])));
    });
  insp
    .command('fn <app> <fn> [property]')
    .aliases(FN)
    .option('--endpoint', "print only the fn's invoke endpoint (its fnproject.io/fn/invokeEndpoint annotation), as text")
    .action(async (appName: string, fnName: string, prop: string | undefined, o: EndpointOpts) => {
      const { fn } = await findAppFn(await s.client(), appName, fnName);
      if (o.endpoint) return s.io.out(endpointLine(fn, 'fn'));
      inspect(s, fn, prop);
    });
  fnOptions(update.command('fn <app> <fn> [image]').aliases(FN).description('change a fn (config VALUE "" removes the key)'), 'update')
    .option('--image <image>', 'the new image (as fn; or give it as the third argument)')
    .action(async (appName: string, fnName: string, arg: string | undefined, o: FnOpts & { image?: string }) => {
      if (arg && o.image && arg !== o.image) throw new CliError(`two images given: ${arg} and --image ${o.image}`, 'Give one.');
      const image = o.image ?? arg;
      const client = await s.client();
      const { fn } = await findAppFn(client, appName, fnName);
      const updated = await client.updateFn(fn.id, { ...fnBody(o), ...(image && { image }) });
      emit(s, updated, () => `Successfully updated function: ${updated.name}\n`);
    });
  del
    .command('fn <app> <fn>')
    .aliases(FN)
    // fn's flags, as for delete app: Kiln never prompts, and the server deletes a fn's triggers with it.
    .option('-f, --force', "accepted for fn's sake: Kiln never asks before deleting")
    .option('-r, --recursive', "accepted for fn's sake: the fn's triggers are always deleted with it")
    .action(async (appName: string, fnName: string) => {
      const client = await s.client();
      await client.deleteFn((await findAppFn(client, appName, fnName)).fn.id);
      emit(s, { deleted: fnName }, () => `Successfully deleted function: ${fnName}\n`);
    });

  // --- triggers
  create
    .command('trigger <app> <fn> <name>')
    .aliases(TRIGGER)
    .description('create an HTTP trigger: /t/APP<source> calls the fn')
    .requiredOption('-s, --source <path>', 'the path after /t/APP (a leading / is added when missing, as fn)')
    .option('-t, --type <type>', 'trigger type (http, the only one)', 'http')
    .option('--annotation <KEY=VALUE>', 'annotation; repeatable', collect)
    .action(async (appName: string, fnName: string, name: string, o: TriggerOpts) => {
      const body = triggerBody(o);
      const client = await s.client();
      const { app, fn } = await findAppFn(client, appName, fnName);
      const t = await client.createTrigger({ name, app_id: app.id, fn_id: fn.id, ...body });
      emit(s, t, () => `Successfully created trigger: ${t.name}\nTrigger Endpoint: ${endpoint(t) || t.source}\n`);
    });
  listOptions(list.command('triggers <app> [fn]').aliases(['trigger', 'trigs', 'tr', 't']).description("list an app's triggers (or one fn's)"))
    .action(async (appName: string, fnName: string | undefined, o: ListOpts) => {
      const { triggers, fnNames } = await triggersOf(await s.client(), appName, fnName, listPage(o));
      // As fn: the FUNCTION column only when the list is the whole app's.
      const row = (t: Trigger): string[] => [t.name, t.id, t.type, t.source, endpoint(t)];
      emit(s, triggers, () =>
        fnName
          ? table(['NAME', 'ID', 'TYPE', 'SOURCE', 'ENDPOINT'], triggers.map(row))
          : table(['FUNCTION', 'NAME', 'ID', 'TYPE', 'SOURCE', 'ENDPOINT'], triggers.map((t) => [fnNames.get(t.fn_id) ?? t.fn_id, ...row(t)])),
      );
    });
  insp
    .command('trigger <app> <fn> <trigger> [property]')
    .aliases(TRIGGER)
    .option('--endpoint', "print only the trigger's HTTP endpoint (its fnproject.io/trigger/httpEndpoint annotation), as text")
    .action(async (appName: string, fnName: string, name: string, prop: string | undefined, o: EndpointOpts) => {
      const client = await s.client();
      const { app, fn } = await findAppFn(client, appName, fnName);
      const t = await findTrigger(client, app, fn, name);
      if (o.endpoint) return s.io.out(endpointLine(t, 'trigger'));
      inspect(s, t, prop);
    });
  update
    .command('trigger <app> <fn> <trigger>')
    .aliases(TRIGGER)
    .option('-s, --source <path>', 'the new source path')
    .option('--annotation <KEY=VALUE>', 'annotation ("" removes it); repeatable', collect)
    .action(async (appName: string, fnName: string, name: string, o: TriggerOpts) => {
      const body = triggerBody(o);
      const client = await s.client();
      const { app, fn } = await findAppFn(client, appName, fnName);
      const t = await client.updateTrigger((await findTrigger(client, app, fn, name)).id, body);
      emit(s, t, () => `Successfully updated trigger: ${t.name}\n`);
    });
  del
    .command('trigger <app> <fn> <trigger>')
    .aliases(TRIGGER)
    .action(async (appName: string, fnName: string, name: string) => {
      const client = await s.client();
      const { app, fn } = await findAppFn(client, appName, fnName);
      await client.deleteTrigger((await findTrigger(client, app, fn, name)).id);
      emit(s, { deleted: name }, () => `Successfully deleted trigger: ${name}\n`);
    });
}
