import { Router } from 'express';
import type { ApiDeps } from '../deps.js';

/** `GET /` and `GET /version`, shaped as Fn's, and `GET /metrics` (Prometheus). */
export function metaRouter({ version, metrics }: ApiDeps): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.json({ goto: '/v2/apps', hello: 'world!' });
  });
  r.get('/version', (_req, res) => {
    res.json({ version });
  });
  if (metrics) {
    r.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.text());
    });
  }
  return r;
}
