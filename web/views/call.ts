// One call: its fields, its error, its log, and charts of its stats.
import type { Api, App, Fn } from '../api.js';
import { buildCharts, timeSpan } from '../charts.js';
import { h } from '../dom.js';
import { durationMs, formatDuration, formatTimestamp } from '../format.js';
import { chartView } from './chart.js';
import { breadcrumbs, code, fieldTable, link, section, statusBadge, time, type View } from './common.js';

export async function callView(api: Api, fnId: string, callId: string): Promise<View> {
  const [call, log] = await Promise.all([api.getCall(fnId, callId), api.getLog(fnId, callId)]);
  // The fn and app only name the breadcrumbs; a call outlives a deleted fn.
  const [fn, app]: [Fn | undefined, App | undefined] = await Promise.all([
    api.getFn(fnId).catch(() => undefined),
    api.getApp(call.app_id).catch(() => undefined),
  ]);

  const stats = call.stats ?? [];
  const span = timeSpan(stats);
  const charts = span ? buildCharts(stats) : [];

  const body = h(
    'div',
    { class: 'view view-call' },
    breadcrumbs(
      ['Apps', { view: 'apps' }],
      [app?.name ?? call.app_id, { view: 'app', appId: call.app_id }],
      [fn?.name ?? fnId, { view: 'fn', fnId }],
      [call.id, undefined],
    ),
    h('h1', {}, 'Call ', code(call.id)),
    fieldTable([
      ['status', statusBadge(call.status)],
      ['app', link({ view: 'app', appId: call.app_id }, app?.name ?? call.app_id)],
      ['fn', link({ view: 'fn', fnId }, fn?.name ?? fnId)],
      ['trigger', call.trigger_id ? code(call.trigger_id) : '–'],
      ['created', time(call.created_at)],
      ['started', time(call.started_at)],
      ['completed', time(call.completed_at)],
      ['waited', formatDuration(durationMs(call.created_at, call.started_at))],
      ['ran', formatDuration(durationMs(call.started_at, call.completed_at))],
    ]),
    call.error ? section('Error', h('pre', { class: 'call-error' }, call.error)) : null,
    section('Log', log === '' ? h('p', { class: 'empty' }, 'The call wrote nothing.') : h('pre', { class: 'log' }, log)),
    section(
      'Stats',
      stats.length === 0
        ? h('p', { class: 'empty' }, 'No stats recorded (the call ended before the first sample).')
        : [
            h('p', { class: 'note' }, `${stats.length} sample${stats.length === 1 ? '' : 's'}, ${formatTimestamp(stats[0]!.timestamp)} to ${formatTimestamp(stats[stats.length - 1]!.timestamp)}.`),
            span ? charts.map((c) => chartView(c, span)) : null,
            charts.some((c) => c.id === 'cpu') ? null : h('p', { class: 'note' }, 'No CPU chart: a rate needs two samples at different times.'),
          ],
    ),
  );
  return { title: `Call ${call.id}`, body };
}
