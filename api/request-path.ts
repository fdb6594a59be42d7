// A request target's path: what comes before its query.

/** `url` up to its `?`; all of it when it has none. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
