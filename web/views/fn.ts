// One fn: its settings, config and annotations, an invoke form, and its calls (newest first).
import { FN_ENDPOINT_ANNOTATION, type Api, type App, type Call } from '../api.js';
import { h } from '../dom.js';
import { durationMs, formatDuration } from '../format.js';
import { breadcrumbs, code, externalLink, fieldTable, link, mapTable, pager, section, statusBadge, table, time, type View } from './common.js';
import { invokeForm } from './invoke.js';

export const CALLS_PER_PAGE = 30;

/** How long a call ran: started to completed; still going, how long so far is unknown. */
export function callDuration(call: Call): string {
  const ms = durationMs(call.started_at, call.completed_at);
  if (ms !== undefined) return formatDuration(ms);
  return call.status === 'running' || call.status === 'queued' ? call.status : '–';
}

export function callRows(fnId: string, calls: readonly Call[]) {
  return calls.map((c) => [
    link({ view: 'call', fnId, callId: c.id }, code(c.id)),
    statusBadge(c.status),
    time(c.created_at),
    time(c.started_at),
    time(c.completed_at),
    callDuration(c),
  ]);
}

export async function fnView(api: Api, fnId: string, cursor: string | undefined): Promise<View> {
  const [fn, calls] = await Promise.all([api.getFn(fnId), api.listCalls(fnId, cursor, CALLS_PER_PAGE)]);
  // Only for its name in the breadcrumbs: a failure here need not fail the page.
  const app: App | undefined = await api.getApp(fn.app_id).catch(() => undefined);

  const body = h(
    'div',
    { class: 'view view-fn' },
    breadcrumbs(
      ['Apps', { view: 'apps' }],
      [app?.name ?? fn.app_id, { view: 'app', appId: fn.app_id }],
      [fn.name, undefined],
    ),
    h('h1', {}, 'Function ', h('span', { class: 'name' }, fn.name)),
    fieldTable([
      ['id', code(fn.id)],
      ['app', link({ view: 'app', appId: fn.app_id }, app?.name ?? fn.app_id)],
      ['image', code(fn.image)],
      ['format', fn.format ?? 'http-stream'],
      ['memory', `${fn.memory} MB`],
      ['timeout', `${fn.timeout} s`],
      ['idle timeout', `${fn.idle_timeout} s`],
      ['invoke endpoint', externalLink(fn.annotations?.[FN_ENDPOINT_ANNOTATION])],
      ['created', time(fn.created_at)],
      ['updated', time(fn.updated_at)],
    ]),
    section('Config', mapTable(fn.config, 'No config.')),
    section('Annotations', mapTable(fn.annotations, 'No annotations.')),
    section('Invoke', invokeForm(api, fn.id)),
    section(
      'Calls',
      table(['call', 'status', 'created', 'started', 'completed', 'duration'], callRows(fn.id, calls.items), cursor ? 'No more calls.' : 'No calls yet.'),
      pager({ view: 'fn', fnId: fn.id }, calls.next_cursor ? { view: 'fn', fnId: fn.id, cursor: calls.next_cursor } : undefined, cursor === undefined),
    ),
  );
  return { title: `Function ${fn.name}`, body };
}
