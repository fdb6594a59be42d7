// `kiln context list|create|use|show|update|delete`: where the CLI finds the server.
import type { Command } from 'commander';
import { checkApiUrl, DEFAULT_API_URL, type KilnContext } from '../context.js';
import { CliError } from '../errors.js';
import { table } from '../output.js';
import type { Session } from '../session.js';
import { emit } from './common.js';

interface ContextOpts {
  apiUrl?: string;
  token?: string;
  registry?: string;
}

function shown(c: KilnContext): Record<string, string> {
  return { name: c.name, 'api-url': c['api-url'], token: c.token ? '(set)' : '', registry: c.registry ?? '' };
}

function apply(ctx: KilnContext, o: ContextOpts): KilnContext {
  const out = { ...ctx };
  if (o.apiUrl !== undefined) out['api-url'] = checkApiUrl(o.apiUrl);
  if (o.token !== undefined) {
    if (o.token) out.token = o.token;
    else delete out.token;
  }
  if (o.registry !== undefined) {
    if (o.registry) out.registry = o.registry;
    else delete out.registry;
  }
  return out;
}

export function registerContext(program: Command, s: Session): void {
  const ctx = program.command('context').description('manage contexts: the API URL (and token) the CLI talks to');
  const store = s.contexts;

  ctx
    .command('list')
    .alias('ls')
    .description('list contexts; * marks the current one')
    .action(async () => {
      const current = await store.current();
      const all = await store.list();
      emit(s, all.map((c) => ({ ...shown(c), current: c.name === current })), () =>
        table(
          ['CURRENT', 'NAME', 'API URL', 'TOKEN', 'REGISTRY'],
          all.map((c) => {
            const v = shown(c);
            return [c.name === current ? '*' : '', c.name, v['api-url']!, v.token!, v.registry!];
          }),
        ),
      );
    });

  const withFields = (c: Command): Command =>
    c
      .option('--api-url <url>', `the server's URL (default ${DEFAULT_API_URL})`)
      .option('--token <token>', 'sent as "Authorization: Bearer <token>" ("" removes it)')
      .option('--registry <prefix>', 'prefix of built image names, e.g. "myrepo" ("" removes it)');

  withFields(ctx.command('create <name>').description('create a context (then `kiln context use NAME`)')).action(
    async (name: string, o: ContextOpts) => {
      const c = apply({ name, 'api-url': DEFAULT_API_URL }, o);
      await store.save(c, { create: true });
      s.io.out(`Successfully created context: ${name}\n`);
    },
  );

  withFields(ctx.command('update [name]').description('change a context (default: the current one)')).action(
    async (name: string | undefined, o: ContextOpts) => {
      const n = name ?? (await store.current());
      const existing = await store.get(n);
      if (!existing) throw new CliError(`context "${n}" not found`, 'See `kiln context list`.');
      await store.save(apply(existing, o), { create: false });
      s.io.out(`Current context updated: ${n}\n`);
    },
  );

  ctx
    .command('use <name>')
    .description('make a context the current one')
    .action(async (name: string) => {
      await store.use(name);
      s.io.out(`Now using context: ${name}\n`);
    });

  ctx
    .command('show')
    .description('show the current context and the API URL in effect (FN_API_URL wins)')
    .action(async () => {
      const name = await store.current();
      const api = await s.api();
      emit(s, { context: name, api_url: api.url, source: api.source, token: api.token ? '(set)' : '', registry: api.registry ?? '' }, () =>
        `Current context: ${name}\nAPI URL: ${api.url} (from ${api.source})\n${api.token ? 'Token: (set)\n' : ''}${api.registry ? `Registry: ${api.registry}\n` : ''}`,
      );
    });

  ctx
    .command('delete <name>')
    .alias('rm')
    .description('delete a context (not the current one)')
    .action(async (name: string) => {
      await store.remove(name);
      s.io.out(`Successfully deleted context: ${name}\n`);
    });
}
