// Builds the express application from its dependencies; api/main.ts owns the process.
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { redactHeaders, redactUrl } from './log-redact.js';
import { jsonBody } from './body.js';
import type { ApiDeps } from './deps.js';
import { ApiError, errorHandler, NUL_IN_URL, pathNotFound } from './errors.js';
import { appsRouter } from './routes/apps.js';
import { callsRouter } from './routes/calls.js';
import { fnsRouter } from './routes/fns.js';
import { metaRouter } from './routes/meta.js';
import { triggersRouter } from './routes/triggers.js';
import { uiHandler } from './routes/ui.js';

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  // The invoke paths, served before express, ask the same compiled function (boot.ts).
  app.set('trust proxy', deps.trustProxy);

  app.use(
    pinoHttp({
      logger: deps.log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && given.length <= 128 ? given : deps.newId();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Every request at debug: a failure is logged once at error, by sendError, without the
      // request's headers (pino-http would add them all, custom secrets included).
      customLogLevel: () => 'debug',
      // Headers named like secrets (X-Auth-Token) and query values so named (?access_token=) masked too.
      serializers: {
        req: (r: { url?: string; query?: Record<string, unknown>; headers?: Record<string, unknown> }) => ({
          ...r,
          ...(r.url !== undefined && { url: redactUrl(r.url) }),
          // The parsed query (pino-http's `query`), as its names say too.
          ...(r.query !== undefined && { query: redactHeaders(r.query) }),
          ...(r.headers !== undefined && { headers: redactHeaders(r.headers) }),
        }),
      },
    }),
  );

  // No name, id or source holds a NUL (see jsonBodyProblem); PostgreSQL cannot even be asked for one.
  app.use((req, _res, next) => {
    next(req.url.includes('%00') ? new ApiError(NUL_IN_URL) : undefined);
  });
  // Only writes carry a body; Fn's GET and DELETE handlers never read one (Node drops it unread).
  const readJson = jsonBody({ maxBytes: deps.maxRequestSize, idleMs: deps.bodyIdleTimeoutMs });
  app.use('/v2', (req, res, next) => (req.method === 'POST' || req.method === 'PUT' ? readJson(req, res, next) : next()));
  app.use(metaRouter(deps));
  app.use(appsRouter(deps));
  app.use(fnsRouter(deps));
  app.use(triggersRouter(deps));
  app.use(callsRouter(deps));
  // After the API's routes, so no API request passes through it.
  if (deps.ui) app.use('/ui', uiHandler(deps.ui));
  app.use(pathNotFound);
  app.use(errorHandler(deps.log));
  return app;
}
