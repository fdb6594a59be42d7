import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

/** `GET /` and `GET /version`, shaped as Fn's. */
export function metaRouter({ version }: ApiDeps): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.json({ goto: '/v2/apps', hello: 'world!' });
  });
  r.get('/version', (_req, res) => {
    res.json({ version });
  });
  return r;
}
