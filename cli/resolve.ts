// Names to objects: the CLI takes app, function and trigger names, the API wants ids.
import type { App, Fn, KilnClient, Trigger } from './client.js';
import { CliError } from './errors.js';

/** The app of that name, or undefined. */
export async function lookupApp(client: KilnClient, name: string): Promise<App | undefined> {
  return (await client.listApps(name)).find((a) => a.name === name);
}

/** The app's fn of that name, or undefined. */
export async function lookupFn(client: KilnClient, app: App, name: string): Promise<Fn | undefined> {
  return (await client.listFns(app.id, name)).find((f) => f.name === name);
}

export async function findApp(client: KilnClient, name: string): Promise<App> {
  const app = await lookupApp(client, name);
  if (!app) {
    throw new CliError(`app "${name}" not found at ${client.url}`, `See \`kiln list apps\`, or create it with \`kiln create app ${name}\`.`);
  }
  return app;
}

export async function findFn(client: KilnClient, app: App, name: string): Promise<Fn> {
  const fn = await lookupFn(client, app, name);
  if (!fn) {
    throw new CliError(
      `function "${name}" not found in app "${app.name}"`,
      `See \`kiln list fns ${app.name}\`, or deploy it with \`kiln deploy --app ${app.name}\` in its directory.`,
    );
  }
  return fn;
}

export async function findAppFn(client: KilnClient, appName: string, fnName: string): Promise<{ app: App; fn: Fn }> {
  const app = await findApp(client, appName);
  return { app, fn: await findFn(client, app, fnName) };
}

export async function findTrigger(client: KilnClient, app: App, fn: Fn, name: string): Promise<Trigger> {
  const t = (await client.listTriggers(app.id, { fnId: fn.id, name })).find((x) => x.name === name);
  if (!t) {
    throw new CliError(
      `trigger "${name}" not found on function "${fn.name}" in app "${app.name}"`,
      `See \`kiln list triggers ${app.name} ${fn.name}\`.`,
    );
  }
  return t;
}
