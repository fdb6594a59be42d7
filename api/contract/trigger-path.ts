// The path a caller sends to reach an HTTP trigger: /t/<app>/<source>, the source's segments
// percent-encoded where a URL would otherwise read them differently (`#` ends the path, `?`
// starts a query, `%` an escape, a space ends the request line), and nowhere else: RFC 3986
// keeps `:@$&+,;=` in a path segment, and so does Fn's plain text annotation. Shared by the
// endpoint annotation and the CLI (a pure module: the CLI imports nothing else of the server).

/** The sub-delimiters and `:`/`@` that encodeURIComponent escapes but a path segment may hold. */
const KEPT_IN_SEGMENT = /%(3A|40|24|26|2B|2C|3B|3D)/g;

const segment = (s: string): string => encodeURIComponent(s).replace(KEPT_IN_SEGMENT, (m) => decodeURIComponent(m));

/** `/t/<app>/<source>`; the source's one leading `/` is the path's, as in Fn's annotation. */
export function triggerPath(app: string, source: string): string {
  const rest = source.startsWith('/') ? source.slice(1) : source;
  return `/t/${segment(app)}/${rest.split('/').map(segment).join('/')}`;
}
