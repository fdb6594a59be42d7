import type { RequestHandler } from 'express';
import { sendRouteError } from '../errors.js';
import { MethodNotAllowedError } from '../route-errors.js';

/**
 * Fn answers a known path with the wrong method with 405; Allow names the methods the path
 * takes (RFC 9110 §15.5.6), from the route's own handlers (GET serves HEAD too).
 */
export const methodNotAllowed: RequestHandler = (req, res) => {
  const route = req.route as { methods?: Record<string, boolean> } | undefined;
  const methods = Object.keys(route?.methods ?? {}).filter((m) => m !== '_all').map((m) => m.toUpperCase());
  if (methods.includes('GET')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
  sendRouteError(res, new MethodNotAllowedError(req.method, req.path, methods));
};
