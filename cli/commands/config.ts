// `kiln config app APP list|get|set|unset ...` and `kiln config fn APP FN ...`: an app's or
// fn's configuration (the environment its functions see; a fn's keys win over its app's).
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { keyValues } from '../output.js';
import { findApp, findAppFn } from '../resolve.js';
import type { Session } from '../session.js';
import { emit, type Verbs } from './common.js';

interface Target {
  what: string;
  /** The command's arguments that name it (`app A`, `fn A F`), for hints. */
  args: string;
  config: Record<string, string>;
  /** PUT-merges a config change; "" deletes a key (the API's rule). */
  put(change: Record<string, string>): Promise<void>;
}

const ACTIONS = ['list', 'get', 'set', 'unset'];

/**
 * The action and its arguments: `list | get KEY | set KEY VALUE | unset KEY`, or fn's
 * `config app APP KEY VALUE` (a KEY and a VALUE with no action word) meaning set.
 */
export function configAction(args: string[]): { action: string; key?: string; value?: string } {
  const [first, second, third] = args;
  if (first !== undefined && !ACTIONS.includes(first) && second !== undefined && third === undefined) {
    return { action: 'set', key: first, value: second };
  }
  return { action: first ?? 'list', ...(second !== undefined && { key: second }), ...(third !== undefined && { value: third }) };
}

async function run(s: Session, t: Target, action: string, key?: string, value?: string): Promise<void> {
  if (!ACTIONS.includes(action)) throw new CliError(`unknown config action "${action}"`, `Use one of: ${ACTIONS.join(', ')}.`);
  if (action === 'list') {
    return emit(s, t.config, () => (Object.keys(t.config).length ? keyValues(t.config) : `no configuration on ${t.what}\n`));
  }
  if (!key) {
    throw new CliError(`config ${action} needs a KEY`, `e.g. \`kiln config app myapp ${action} KEY${action === 'set' ? ' VALUE' : ''}\``);
  }
  const current = t.config[key];
  if (action === 'set') {
    if (value === undefined) throw new CliError('config set needs a VALUE', 'e.g. `kiln config app myapp set LOG_LEVEL debug`');
    if (value === '') throw new CliError('an empty value would delete the key', 'Use `unset` to remove a key.');
    await t.put({ [key]: value });
    return emit(s, { [key]: value }, () => `${t.what}: ${key} set\n`);
  }
  // As fn: unsetting a key that is not there succeeds (the outcome is the same); only get fails.
  if (action === 'unset' && current === undefined) return emit(s, { unset: key }, () => `${t.what}: ${key} was not set\n`);
  if (current === undefined) throw new CliError(`no config key "${key}" on ${t.what}`, `See \`kiln config ${t.args} list\`.`);
  if (action === 'get') return emit(s, { [key]: current }, () => `${current}\n`);
  await t.put({ [key]: '' });
  return emit(s, { unset: key }, () => `${t.what}: ${key} removed\n`);
}

async function appTarget(s: Session, appName: string): Promise<Target> {
  const client = await s.client();
  const app = await findApp(client, appName);
  return { what: `app ${appName}`, args: `app ${appName}`, config: app.config, put: async (config) => void (await client.updateApp(app.id, { config })) };
}

async function fnTarget(s: Session, appName: string, fnName: string): Promise<Target> {
  const client = await s.client();
  const { fn } = await findAppFn(client, appName, fnName);
  return {
    what: `fn ${appName}/${fnName}`,
    args: `fn ${appName} ${fnName}`,
    config: fn.config,
    put: async (config) => void (await client.updateFn(fn.id, { config })),
  };
}

const APP = ['apps', 'a'];
const FN = ['fns', 'function', 'functions', 'func', 'f'];

export function registerConfig(program: Command, verbs: Verbs, s: Session): void {
  const cfg = program.command('config').alias('cf').description("an app's or fn's configuration: list | get KEY | set KEY VALUE | unset KEY");
  cfg
    .command('app <app> [action] [key] [value]')
    .aliases(APP)
    .description(`action: ${ACTIONS.join(' | ')} (default list); \`APP KEY VALUE\` sets, as fn`)
    .action(async (appName: string, ...rest: unknown[]) => {
      const a = configAction(rest.filter((x): x is string => typeof x === 'string'));
      await run(s, await appTarget(s, appName), a.action, a.key, a.value);
    });
  cfg
    .command('fn <app> <fn> [action] [key] [value]')
    .aliases(FN)
    .description(`action: ${ACTIONS.join(' | ')} (default list); \`APP FN KEY VALUE\` sets, as fn`)
    .action(async (appName: string, fnName: string, ...rest: unknown[]) => {
      const a = configAction(rest.filter((x): x is string => typeof x === 'string'));
      await run(s, await fnTarget(s, appName, fnName), a.action, a.key, a.value);
    });

  // fn's spellings: `list config app APP`, `get config app APP KEY`, `delete|unset config app APP KEY`.
  const spell = (verb: Command, action: string, withKey: boolean): void => {
    const group = verb.command('config').aliases(['cf']).description(`${action} an app's or fn's config (as \`kiln config ... ${action}\`)`);
    const key = withKey ? ' <key>' : '';
    group
      .command(`app <app>${key}`)
      .aliases(APP)
      .action(async (appName: string, k?: unknown) => run(s, await appTarget(s, appName), action, typeof k === 'string' ? k : undefined));
    group
      .command(`fn <app> <fn>${key}`)
      .aliases(FN)
      .action(async (appName: string, fnName: string, k?: unknown) =>
        run(s, await fnTarget(s, appName, fnName), action, typeof k === 'string' ? k : undefined),
      );
  };
  spell(verbs.list, 'list', false);
  spell(verbs.get, 'get', true);
  spell(verbs.delete, 'unset', true);
  spell(verbs.unset, 'unset', true);
}
