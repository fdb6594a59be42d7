// The page's hash routes, parsed and built in one place so links and parsing agree:
//   #/                          apps (#/?cursor=C for a later page)
//   #/apps/APP_ID               an app: its fns and triggers
//   #/fns/FN_ID                 a fn: settings, invoke form, calls (?cursor=C)
//   #/fns/FN_ID/calls/CALL_ID   a call: fields, log, stats
// Hash routes need nothing from the server: /ui/ serves one page whatever the route.

export type Route =
  | { view: 'apps'; cursor?: string }
  | { view: 'app'; appId: string }
  | { view: 'fn'; fnId: string; cursor?: string }
  | { view: 'call'; fnId: string; callId: string }
  | { view: 'notFound'; path: string };

/** The route a location hash (with or without its `#`) names. */
export function parseRoute(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const cursor = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)).get('cursor') || undefined;
  const notFound: Route = { view: 'notFound', path };

  // One trailing slash is forgiven; empty segments inside are not (`#/fns//calls`).
  const trimmed = path.replace(/^\/+/, '').replace(/\/$/, '');
  let parts: string[];
  try {
    parts = trimmed === '' ? [] : trimmed.split('/').map(decodeURIComponent);
  } catch {
    return notFound; // malformed percent-encoding
  }
  if (parts.some((p) => p === '')) return notFound;

  const [a, b, c, d, ...rest] = parts;
  if (rest.length > 0) return notFound;
  if (a === undefined) return { view: 'apps', ...(cursor && { cursor }) };
  if (a === 'apps' && b === undefined) return { view: 'apps', ...(cursor && { cursor }) };
  if (a === 'apps' && b !== undefined && c === undefined) return { view: 'app', appId: b };
  if (a === 'fns' && b !== undefined && c === undefined) return { view: 'fn', fnId: b, ...(cursor && { cursor }) };
  if (a === 'fns' && b !== undefined && c === 'calls' && d !== undefined) return { view: 'call', fnId: b, callId: d };
  return notFound;
}

const seg = encodeURIComponent;
const withCursor = (path: string, cursor: string | undefined): string =>
  cursor ? `${path}?${new URLSearchParams({ cursor }).toString()}` : path;

/** The hash (with its `#`) of a route; parseRoute(routeHash(r)) gives r back. */
export function routeHash(route: Route): string {
  switch (route.view) {
    case 'apps':
      return withCursor('#/', route.cursor);
    case 'app':
      return `#/apps/${seg(route.appId)}`;
    case 'fn':
      return withCursor(`#/fns/${seg(route.fnId)}`, route.cursor);
    case 'call':
      return `#/fns/${seg(route.fnId)}/calls/${seg(route.callId)}`;
    case 'notFound':
      return `#${route.path}`;
  }
}
