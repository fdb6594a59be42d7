// `kiln context list|create|use|show|update|delete`: where the CLI finds the server.
import type { Command } from 'commander';
import { checkApiUrl, CONTEXT_KEYS, DEFAULT_API_URL, DEFAULT_CONTEXT, DEFAULT_PROVIDER, type KilnContext } from '../context.js';
import { CliError } from '../errors.js';
import { json, table } from '../output.js';
import type { Session } from '../session.js';
import { emit, type Verbs } from './common.js';

interface ContextOpts {
  apiUrl?: string;
  token?: string;
  registry?: string;
  provider?: string;
}

/** A context as shown: the token hidden, no provider shown as fn's default, other keys as written. */
function shown(c: KilnContext): Record<string, unknown> {
  return { ...c.other, name: c.name, provider: c.provider ?? DEFAULT_PROVIDER, 'api-url': c['api-url'], token: c.token ? '(set)' : '', registry: c.registry ?? '' };
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
  if (o.provider !== undefined) {
    if (o.provider) out.provider = o.provider;
    else delete out.provider;
  }
  return out;
}

/** Said when a provider other than fn's default is recorded: Kiln has no other way to talk to a server. */
const providerNote = (provider: string | undefined): string =>
  provider && provider !== DEFAULT_PROVIDER ? `Note: provider "${provider}" is recorded in the context only: kiln talks to every server as fn's "${DEFAULT_PROVIDER}" provider does (the API URL, and the token when set)\n` : '';

const withFields = (c: Command, use: 'create' | 'update'): Command =>
  c
    // Only a create defaults it: an update leaves the context's URL as it is.
    .option('--api-url <url>', `the server's URL (${use === 'create' ? `default ${DEFAULT_API_URL}` : 'unchanged when not given'})`)
    .option('--token <token>', 'sent as "Authorization: Bearer <token>" ("" removes it)')
    .option('--registry <prefix>', 'prefix of built image names, e.g. "myrepo" ("" removes it)')
    .option('--provider <provider>', `fn's context provider, recorded as fn writes it (${use === 'create' ? `default ${DEFAULT_PROVIDER}` : 'unchanged when not given'})`);

/** The keys Kiln reads, as the options that set them. */
const FIELDS: Record<(typeof CONTEXT_KEYS)[number], keyof ContextOpts> = { provider: 'provider', 'api-url': 'apiUrl', token: 'token', registry: 'registry' };
const isField = (key: string): key is keyof typeof FIELDS => Object.hasOwn(FIELDS, key);

/** Whether the context has the key (Kiln always has an api-url: the default when the file has none). */
function hasKey(ctx: KilnContext, key: string): boolean {
  if (!isField(key)) return ctx.other !== undefined && Object.hasOwn(ctx.other, key);
  return key === 'api-url' || ctx[key] !== undefined;
}

/**
 * fn's `update context KEY VALUE` (ContextMap.Set: any key) and `--delete` (UnSet: a key the
 * file lacks is an error, in fn's words). Kiln's own: no VALUE removes KEY too. The keys Kiln
 * reads are checked as their options are (an API URL needs its scheme); any other is written
 * as fn writes it and kept, unused, with a note saying so.
 */
export function changeKey(ctx: KilnContext, key: string, value: string | undefined, remove: boolean): { ctx: KilnContext; note: string } {
  if (!key) throw new CliError('no context key given', `e.g. \`kiln update context registry myrepo\`; the keys kiln uses: ${CONTEXT_KEYS.join(', ')}.`);
  if (remove && !hasKey(ctx, key)) throw new CliError(`context file does not contain key: ${key}`, `\`kiln inspect context ${ctx.name}\` shows its keys.`);
  const removing = remove || value === undefined;
  if (isField(key)) {
    const field = FIELDS[key];
    // Removing api-url puts it back to the default, which is what a file without one means.
    const opts: ContextOpts = { [field]: removing ? (field === 'apiUrl' ? DEFAULT_API_URL : '') : value };
    return { ctx: apply(ctx, opts), note: removing ? '' : providerNote(opts.provider) };
  }
  const other = { ...ctx.other };
  if (removing) delete other[key];
  else other[key] = value;
  const { other: _old, ...rest } = ctx;
  const note = removing ? '' : `Note: kiln does not use context key "${key}" (it uses ${CONTEXT_KEYS.join(', ')}); it is written to the context file as fn writes it\n`;
  return { ctx: Object.keys(other).length > 0 ? { ...rest, other } : rest, note };
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
          return [c.name === current ? '*' : '', c.name, String(v['api-url']), String(v.token), String(v.registry)];
        }),
      ),
    );
  };
  const create = async (name: string, o: ContextOpts): Promise<void> => {
    // As fn's create context: the provider is written, fn's default when not given.
    const c = apply({ name, 'api-url': DEFAULT_API_URL, provider: DEFAULT_PROVIDER }, o);
    await store.save(c, { create: true });
    s.io.err(providerNote(o.provider));
    emit(s, shown(c), () => `Successfully created context: ${name}\n`);
  };
  const existing = async (name: string | undefined): Promise<KilnContext> => {
    const n = name ?? (await s.contextName());
    const c = await store.get(n);
    if (!c) throw new CliError(`context "${n}" not found`, 'See `kiln context list`.');
    return c;
  };
  const saved = async (c: KilnContext): Promise<void> => {
    await store.save(c, { create: false });
    emit(s, shown(c), () => `Context updated: ${c.name}\n`);
  };
  const update = async (name: string | undefined, o: ContextOpts): Promise<void> => {
    const c = apply(await existing(name), o);
    s.io.err(providerNote(o.provider));
    await saved(c);
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
    .description(`set a key of the current context, as fn: kiln uses ${CONTEXT_KEYS.join(', ')}, any other is kept unused (no VALUE, or --delete, removes it)`)
    .option('--delete', "remove KEY from the context (as fn's; an error when it has none)")
    .action(async (key: string, value: string | undefined, o: { delete?: boolean }) => {
      const { ctx: c, note } = changeKey(await existing(undefined), key, value, o.delete === true);
      s.io.err(note);
      await saved(c);
    });
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
