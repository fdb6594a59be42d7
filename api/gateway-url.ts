// The URL a trigger's caller used, as Fn-Http-Request-Url carries it to the function.
import type { IncomingMessage } from 'node:http';

/**
 * As Fn's reqURL(): scheme `http` unless the connection is TLS, host from the Host header,
 * then the request target as sent (path and query). FDKs hand this to functions as the full
 * request URL, so a path alone would make them build wrong absolute links.
 */
export function gatewayUrl(tls: boolean, host: string | undefined, target: string): string {
  // An absolute-form target already names its scheme and host; Fn keeps them too.
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)) return target;
  return `${tls ? 'https' : 'http'}://${host ?? ''}${target}`;
}

/** A request whose absolute-form target (`POST http://host/t/...`) was made its path; the target as sent. */
export interface RewrittenRequest extends IncomingMessage {
  absoluteTarget?: string;
}

export function requestGatewayUrl(req: RewrittenRequest): string {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  return gatewayUrl(tls, req.headers.host, req.absoluteTarget ?? req.url ?? '/');
}
