// Endpoint annotations computed on the way out, as Fn's annotators do: FN_PUBLIC_LB_URL when set,
// else the scheme and Host of the request being answered.
import type { Request } from 'express';
import type { App, Fn, Trigger } from '../store/types.js';
import { FN_ENDPOINT_ANNOTATION, TRIGGER_ENDPOINT_ANNOTATION } from './models/common.js';
import { triggerPath } from './trigger-path.js';

export function baseUrl(req: Request, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function annotateFn(fn: Fn, base: string): Fn {
  return { ...fn, annotations: { ...fn.annotations, [FN_ENDPOINT_ANNOTATION]: `${base}/invoke/${fn.id}` } };
}

export function annotateTrigger(t: Trigger, app: Pick<App, 'name'>, base: string): Trigger {
  if (t.type !== 'http') return t;
  const url = `${base}${triggerPath(app.name, t.source)}`;
  return { ...t, annotations: { ...t.annotations, [TRIGGER_ENDPOINT_ANNOTATION]: url } };
}
