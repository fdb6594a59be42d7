import type { ServerResponse } from 'node:http';
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { loggedError } from '../../store/db-log.js';
import { DatabaseReadOnlyError, DatabaseUnavailableError } from '../../store/errors.js';
import { sendJson, toHttpError } from '../errors.js';

/** An unhealthy database's answer, as api/errors.ts maps it; not logged as a failed request (a probe asks often). */
function sendUnhealthy(res: ServerResponse, err: Error): void {
  const { status, body, headers } = toHttpError(err);
  sendJson(res, status, body, headers);
}

/**
 * `GET /` and `GET /version`, shaped as Fn's, answer whatever the database does; `GET /health`
 * (Kiln's) reads the database, for a load balancer or orchestrator to stop sending calls to a
 * node whose every request would fail; `GET /metrics` (Prometheus).
 */
export function metaRouter({ version, metrics, store, log }: ApiDeps): Router {
  const r = Router();
  r.get('/', (_req, res) => {
    res.json({ goto: '/v2/apps', hello: 'world!' });
  });
  r.get('/version', (_req, res) => {
    res.json({ version });
  });
  r.get('/health', (_req, res) => {
    store.ping().then(
      // Reads and invokes would work, but every write (calls' records among them) would fail:
      // an orchestrator should route elsewhere, as during a failover to a new primary.
      (state) => state === 'ok'
        ? sendJson(res, 200, { database: 'ok' })
        : sendUnhealthy(res, new DatabaseReadOnlyError()),
      // Public (a probe has no token), so the answer names no host or driver message; the log does.
      (err: unknown) => {
        log.debug(loggedError(err), 'health check: the database did not answer');
        sendUnhealthy(res, new DatabaseUnavailableError('health check: the database did not answer', { cause: err }));
      },
    );
  });
  if (metrics) {
    r.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.text());
    });
  }
  return r;
}
