// Endpoint annotations computed on the way out, as Fn's annotators do: FN_PUBLIC_LB_URL when set,
// else the scheme and Host of the request being answered.
import type { Request } from 'express';
import type { App, Fn, Trigger } from '../store/types.js';
import { FN_ENDPOINT_ANNOTATION, TRIGGER_ENDPOINT_ANNOTATION } from './models/common.js';
import { triggerPath } from './contract/trigger-path.js';
import { unmapped } from './trust-proxy.js';

export function baseUrl(req: Request, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.get('host') || localHost(req)}`;
}

/**
 * An HTTP/1.0 request may come with no Host (and any with an empty one): then the address and
 * port it reached, which a URL can be called at (Fn leaves the host empty, `http:///invoke/...`;
 * a bare `localhost` lost the port).
 */
function localHost(req: Request): string {
  const { localAddress, localPort } = req.socket;
  if (localAddress === undefined || localPort === undefined) return 'localhost';
  const address = unmapped(localAddress);
  return `${address.includes(':') ? `[${address}]` : address}:${localPort}`;
}

export function annotateFn(fn: Fn, base: string): Fn {
  return { ...fn, annotations: { ...fn.annotations, [FN_ENDPOINT_ANNOTATION]: `${base}/invoke/${fn.id}` } };
}

export function annotateTrigger(t: Trigger, app: Pick<App, 'name'>, base: string): Trigger {
  if (t.type !== 'http') return t;
  const url = `${base}${triggerPath(app.name, t.source)}`;
  return { ...t, annotations: { ...t.annotations, [TRIGGER_ENDPOINT_ANNOTATION]: url } };
}
