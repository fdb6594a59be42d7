// The apps list, a page at a time (as the API pages: by cursor, in name order).
import type { Api } from '../api.js';
import { h } from '../dom.js';
import { code, link, pager, section, table, time, type View } from './common.js';

export const APPS_PER_PAGE = 30;

export async function appsView(api: Api, cursor: string | undefined): Promise<View> {
  const page = await api.listApps(cursor, APPS_PER_PAGE);
  const rows = page.items.map((app) => [
    link({ view: 'app', appId: app.id }, app.name),
    code(app.id),
    time(app.created_at),
  ]);
  const body = h(
    'div',
    { class: 'view view-apps' },
    h('h1', {}, 'Apps'),
    section(
      'All apps',
      table(['name', 'id', 'created'], rows, cursor ? 'No more apps.' : 'No apps yet.'),
      pager({ view: 'apps' }, page.next_cursor ? { view: 'apps', cursor: page.next_cursor } : undefined, cursor === undefined),
    ),
  );
  return { title: 'Apps', body };
}
