// `kiln context list|create|use|show|update|delete`: where the CLI finds the server.
import type { Command } from 'commander';
import { checkApiUrl, DEFAULT_API_URL, DEFAULT_CONTEXT, type KilnContext } from '../context.js';
import { CliError } from '../errors.js';
import { json, table } from '../output.js';
import type { Session } from '../session.js';
import { emit, type Verbs } from './common.js';

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

const withFields = (c: Command, use: 'create' | 'update'): Command =>
  c
    // Only a create defaults it: an update leaves the context's URL as it is.
    .option('--api-url <url>', `the server's URL (${use === 'create' ? `default ${DEFAULT_API_URL}` : 'unchanged when not given'})`)
    .option('--token <token>', 'sent as "Authorization: Bearer <token>" ("" removes it)')
    .option('--registry <prefix>', 'prefix of built image names, e.g. "myrepo" ("" removes it)');

/** The fields `update context KEY VALUE` (fn's spelling) may set. */
const FIELDS: Record<string, keyof ContextOpts> = { 'api-url': 'apiUrl', token: 'token', registry: 'registry' };

/** fn's `update context KEY [VALUE]` as options; no VALUE removes the field (api-url: back to the default). */
export function fieldOpts(key: string, value: string | undefined): ContextOpts {
  const field = FIELDS[key];
  if (!field) throw new CliError(`unknown context field "${key}"`, `Use one of: ${Object.keys(FIELDS).join(', ')}.`);
  return { [field]: value ?? (field === 'apiUrl' ? DEFAULT_API_URL : '') };
}

export function registerContext(program: Command, verbs: Verbs, s: Session): void {
  const ctx = program.command('context').alias('ctx').description('manage contexts: the API URL (and token) the CLI talks to');
  const store = s.contexts;

  const list = async (): Promise<void> => {
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
  };
  const create = async (name: string, o: ContextOpts): Promise<void> => {
    const c = apply({ name, 'api-url': DEFAULT_API_URL }, o);
    await store.save(c, { create: true });
    emit(s, shown(c), () => `Successfully created context: ${name}\n`);
  };
  const update = async (name: string | undefined, o: ContextOpts): Promise<void> => {
    const n = name ?? (await s.contextName());
    const existing = await store.get(n);
    if (!existing) throw new CliError(`context "${n}" not found`, 'See `kiln context list`.');
    const c = apply(existing, o);
    await store.save(c, { create: false });
    emit(s, shown(c), () => `Context updated: ${n}\n`);
  };
  const use = async (name: string): Promise<void> => {
    await store.use(name);
    emit(s, { current: name }, () => `Now using context: ${name}\n`);
  };
  const show = async (): Promise<void> => {
    const name = await s.contextName();
    const api = await s.api();
    emit(s, { context: name, api_url: api.url, source: api.source, token: api.token ? '(set)' : '', registry: api.registry ?? '' }, () =>
      `Current context: ${name}\nAPI URL: ${api.url} (from ${api.source})\n${api.token ? 'Token: (set)\n' : ''}${api.registry ? `Registry: ${api.registry}\n` : ''}`,
    );
  };
  // As fn's: the context's own fields, always JSON; with no name, the current context's.
  const inspect = async (name: string | undefined): Promise<void> => {
    const n = name ?? (await s.contextName());
    const c = await store.get(n);
    if (!c) throw new CliError(`context "${n}" not found`, 'See `kiln context list`.');
    s.io.out(json(shown(c)));
  };
  const remove = async (name: string): Promise<void> => {
    await store.remove(name);
    emit(s, { deleted: name }, () => `Successfully deleted context: ${name}\n`);
  };

  ctx.command('list').alias('ls').description('list contexts; * marks the current one').action(list);
  withFields(ctx.command('create <name>').description('create a context (then `kiln context use NAME`)'), 'create').action(create);
  withFields(ctx.command('update [name]').description('change a context (default: the current one)'), 'update').action(update);
  ctx.command('use <name>').description('make a context the current one').action(use);
  ctx.command('show').description('show the current context and the API URL in effect (FN_API_URL wins)').action(show);
  ctx.command('delete <name>').alias('rm').description('delete a context (not the current one)').action(remove);

  // fn's spellings: `list contexts`, `create context`, `use context`, `inspect context`,
  // `update context KEY [VALUE]` (the current one) and `delete context`.
  const CTX = ['contexts', 'ctx'];
  verbs.list.command('contexts').aliases(['context', 'ctx']).description('list contexts (as `kiln context list`)').action(list);
  withFields(verbs.create.command('context <name>').aliases(CTX).description('create a context'), 'create').action(create);
  verbs.use.command('context <name>').aliases(CTX).description('make a context the current one').action(use);
  verbs.inspect.command('context [name]').aliases(CTX).description('a context as JSON (default: the one in effect)').action(inspect);
  verbs.update
    .command('context <key> [value]')
    .aliases(CTX)
    .description(`set a field of the current context: ${Object.keys(FIELDS).join(', ')} (no VALUE removes it)`)
    .action((key: string, value: string | undefined) => update(undefined, fieldOpts(key, value)));
  verbs.delete.command('context <name>').aliases(CTX).description('delete a context').action(remove);
  verbs.unset
    .command('context')
    .aliases(CTX)
    .description(`unset the current context (the "${DEFAULT_CONTEXT}" one is used)`)
    .action(async () => {
      await store.unset();
      emit(s, { current: DEFAULT_CONTEXT }, () => `Successfully unset current context: using "${DEFAULT_CONTEXT}"\n`);
    });
}
