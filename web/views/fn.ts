// One fn: its settings, config and annotations, an invoke form, and its calls (newest first).
import { ApiError, FN_ENDPOINT_ANNOTATION, type Api, type App, type Call, type Page } from '../api.js';
import { h } from '../dom.js';
import { durationMs, formatDuration } from '../format.js';
import type { Route } from '../router.js';
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

/** The calls section of a fn's page, paged by cursor. */
function callsSection(fnId: string, calls: Page<Call>, cursor: string | undefined): HTMLElement {
  return section(
    'Calls',
    table(['call', 'status', 'created', 'started', 'completed', 'duration'], callRows(fnId, calls.items), cursor ? 'No more calls.' : 'No calls yet.'),
    pager({ view: 'fn', fnId }, calls.next_cursor ? { view: 'fn', fnId, cursor: calls.next_cursor } : undefined, cursor === undefined),
  );
}

/** A fn that is gone: its calls outlive it, and stay within reach. */
async function deletedFnView(api: Api, fnId: string, cursor: string | undefined, calls: Page<Call>): Promise<View> {
  const appId = calls.items[0]?.app_id;
  const app: App | undefined = appId ? await api.getApp(appId).catch(() => undefined) : undefined;
  const body = h(
    'div',
    { class: 'view view-fn' },
    breadcrumbs(['Apps', { view: 'apps' }], ...(appId ? [[app?.name ?? appId, { view: 'app', appId }] as [string, Route]] : []), [fnId, undefined]),
    h('h1', {}, 'Function ', code(fnId)),
    h('p', {}, 'This function has been deleted; its calls are kept.'),
    callsSection(fnId, calls, cursor),
  );
  return { title: `Function ${fnId} (deleted)`, body };
}

export async function fnView(api: Api, fnId: string, cursor: string | undefined): Promise<View> {
  const gone = (err: unknown) => {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  };
  const [fn, calls] = await Promise.all([api.getFn(fnId).catch(gone), api.listCalls(fnId, cursor, CALLS_PER_PAGE)]);
  if (!fn) {
    // Calls are listed for any id: only kept calls tell a deleted fn from one that never was.
    if (calls.items.length === 0 && cursor === undefined) throw new ApiError(404, 'Fn not found');
    return deletedFnView(api, fnId, cursor, calls);
  }
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
    callsSection(fn.id, calls, cursor),
  );
  return { title: `Function ${fn.name}`, body };
}
