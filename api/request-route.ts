// The few words a request's metrics labels name it by. Paths are never labels: a trigger's is
// the tenant's to choose, an id is new on every fn, and each label value is a series Prometheus
// keeps for good.
import { originForm } from './auth.js';
import { isLambdaApiPath } from './lambda-request.js';

export type RequestRoute = 'invoke' | 'trigger' | 'lambda' | 'rest' | 'ui' | 'metrics' | 'health' | 'other';

export const REQUEST_ROUTES: readonly RequestRoute[] = ['invoke', 'trigger', 'lambda', 'rest', 'ui', 'metrics', 'health', 'other'];

/** What a request target (as sent: origin or absolute form) is for. */
export function routeOf(target: string | undefined): RequestRoute {
  if (target === undefined) return 'other';
  const url = target.charCodeAt(0) === 47 /* / */ ? target : originForm(target);
  if (url.startsWith('/invoke/')) return 'invoke';
  if (url.startsWith('/t/')) return 'trigger';
  if (url.startsWith('/v2/') || url === '/v2' || url.startsWith('/v2?')) return 'rest';
  if (isLambdaApiPath(url)) return 'lambda';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === '/metrics') return 'metrics';
  // Every path a probe asks whether the process (or its database) is up.
  if (path === '/health' || path === '/version' || path === '/') return 'health';
  if (path === '/ui' || path.startsWith('/ui/')) return 'ui';
  return 'other';
}

/** Methods as labels: those Kiln serves by name, anything else (a trigger takes any) as `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const methodLabel = (method: string | undefined): string => (method !== undefined && METHODS.has(method) ? method : 'other');
