// One app: its settings, fns and triggers.
import { TRIGGER_ENDPOINT_ANNOTATION, type Api, type Fn } from '../api.js';
import { h } from '../dom.js';
import { breadcrumbs, code, externalLink, fieldTable, link, mapTable, section, table, time, type View } from './common.js';

/** The most fns or triggers one app page lists (pages of 100 are fetched until then). */
const MAX_LISTED = 1000;

const tooMany = (more: boolean, what: string) =>
  more ? h('p', { class: 'note' }, `Only the first ${MAX_LISTED} ${what} are shown.`) : null;

export async function appView(api: Api, appId: string): Promise<View> {
  const [app, fns, triggers] = await Promise.all([
    api.getApp(appId),
    api.allFns(appId, MAX_LISTED),
    api.allTriggers(appId, MAX_LISTED),
  ]);
  const fnById = new Map<string, Fn>(fns.items.map((f) => [f.id, f]));

  const fnRows = fns.items.map((fn) => [
    link({ view: 'fn', fnId: fn.id }, fn.name),
    code(fn.image),
    fn.format ?? 'http-stream',
    `${fn.memory} MB`,
    `${fn.timeout} s`,
  ]);
  const triggerRows = triggers.items.map((t) => {
    const fn = fnById.get(t.fn_id);
    return [
      t.name,
      fn ? link({ view: 'fn', fnId: fn.id }, fn.name) : code(t.fn_id),
      code(t.source),
      t.type,
      externalLink(t.annotations?.[TRIGGER_ENDPOINT_ANNOTATION]),
    ];
  });

  const body = h(
    'div',
    { class: 'view view-app' },
    breadcrumbs(['Apps', { view: 'apps' }], [app.name, undefined]),
    h('h1', {}, 'App ', h('span', { class: 'name' }, app.name)),
    fieldTable([
      ['id', code(app.id)],
      ['shape', app.shape ?? '–'],
      ['syslog url', app.syslog_url ?? '–'],
      ['created', time(app.created_at)],
      ['updated', time(app.updated_at)],
    ]),
    section('Functions', table(['name', 'image', 'format', 'memory', 'timeout'], fnRows, 'No functions.'), tooMany(fns.more, 'functions')),
    section('Triggers', table(['name', 'fn', 'source', 'type', 'endpoint'], triggerRows, 'No triggers.'), tooMany(triggers.more, 'triggers')),
    section('Config', mapTable(app.config, 'No config.')),
    section('Annotations', mapTable(app.annotations, 'No annotations.')),
  );
  return { title: `App ${app.name}`, body };
}
