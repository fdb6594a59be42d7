// Pieces every view uses: tables, links, times, statuses, errors, paging.
import { ApiError } from '../api.js';
import { h, type Child } from '../dom.js';
import { formatTimestamp, formatValue, safeHttpUrl, statusClass } from '../format.js';
import { routeHash, type Route } from '../router.js';

/** What a view renders: the page's title and its content. */
export interface View {
  title: string;
  body: Node;
}

/** A link to another view of the page. */
export const link = (route: Route, ...text: Child[]): HTMLAnchorElement => h('a', { href: routeHash(route) }, ...text);

/** A link when `url` is an http(s) URL, else the value as plain text. */
export function externalLink(url: unknown): Node {
  const href = safeHttpUrl(url);
  // A new tab, with no link back: an endpoint serves a function's content, which must not
  // replace this page (and its token) or reach it through window.opener.
  return href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, String(url)) : document.createTextNode(url === undefined ? '–' : formatValue(url));
}

export const time = (iso: string | undefined): Node =>
  iso ? h('time', { datetime: iso }, formatTimestamp(iso)) : document.createTextNode('–');

export const code = (text: string): HTMLElement => h('code', {}, text);

export const statusBadge = (status: string): HTMLElement => h('span', { class: `status ${statusClass(status)}` }, status);

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', {}, h('h2', {}, title), ...children);
}

/** A table with a header row; `empty` shows when there are no rows. */
export function table(headers: readonly string[], rows: readonly Child[][], empty = 'None.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c))))),
  );
}

/** Names and values, one per row. */
export function fieldTable(rows: readonly [string, Child][]): HTMLElement {
  return h('table', { class: 'fields' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))));
}

/** A map (config, annotations) as a key/value table. */
export function mapTable(map: Record<string, unknown> | undefined, empty: string): HTMLElement {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return table(['key', 'value'], entries.map(([k, v]) => [code(k), code(formatValue(v))]), empty);
}

/** Where the view sits: Apps › app › fn › call. Each crumb is a link but the last. */
export function breadcrumbs(...crumbs: [Child, Route | undefined][]): HTMLElement {
  const items = crumbs.map(([label, route], i) =>
    h('li', {}, route && i < crumbs.length - 1 ? link(route, label) : h('span', { 'aria-current': i === crumbs.length - 1 ? 'page' : undefined }, label)),
  );
  return h('nav', { class: 'crumbs', 'aria-label': 'breadcrumbs' }, h('ol', {}, items));
}

/** Links to the first page and the next one (lists page by cursor: there is no going back one). */
export function pager(first: Route, next: Route | undefined, onFirstPage: boolean): HTMLElement | null {
  if (!next && onFirstPage) return null;
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'pages' },
    onFirstPage ? null : link(first, '« first page'),
    next ? link(next, 'next page »') : null,
  );
}

/** An error as the user should read it: the API's own message. */
export function errorBox(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  const status = err instanceof ApiError && err.status > 0 ? `HTTP ${err.status}: ` : '';
  return h('p', { class: 'error', role: 'alert' }, status, h('span', { class: 'message' }, message));
}
