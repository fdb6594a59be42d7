// `kiln config app APP list|get|set|unset ...` and `kiln config fn APP FN ...`: an app's or
// fn's configuration (the environment its functions see; a fn's keys win over its app's).
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { keyValues } from '../output.js';
import { findApp, findAppFn } from '../resolve.js';
import type { Session } from '../session.js';
import { emit } from './common.js';

interface Target {
  what: string;
  config: Record<string, string>;
  /** PUT-merges a config change; "" deletes a key (the API's rule). */
  put(change: Record<string, string>): Promise<void>;
}

const ACTIONS = ['list', 'get', 'set', 'unset'];

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
  if (current === undefined) throw new CliError(`no config key "${key}" on ${t.what}`, `See \`kiln config ... list\`.`);
  if (action === 'get') return emit(s, { [key]: current }, () => `${current}\n`);
  await t.put({ [key]: '' });
  return emit(s, { unset: key }, () => `${t.what}: ${key} removed\n`);
}

export function registerConfig(program: Command, s: Session): void {
  const cfg = program.command('config').alias('cf').description("an app's or fn's configuration: list | get KEY | set KEY VALUE | unset KEY");
  cfg
    .command('app <app> <action> [key] [value]')
    .aliases(['apps', 'a'])
    .description(`action: ${ACTIONS.join(' | ')}`)
    .action(async (appName: string, action: string, key?: string, value?: string) => {
      const client = await s.client();
      const app = await findApp(client, appName);
      await run(s, { what: `app ${appName}`, config: app.config, put: async (config) => void (await client.updateApp(app.id, { config })) }, action, key, value);
    });
  cfg
    .command('fn <app> <fn> <action> [key] [value]')
    .aliases(['fns', 'function', 'f'])
    .description(`action: ${ACTIONS.join(' | ')}`)
    .action(async (appName: string, fnName: string, action: string, key?: string, value?: string) => {
      const client = await s.client();
      const { fn } = await findAppFn(client, appName, fnName);
      await run(s, { what: `fn ${appName}/${fnName}`, config: fn.config, put: async (config) => void (await client.updateFn(fn.id, { config })) }, action, key, value);
    });
}
