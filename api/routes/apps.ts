import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { mergeApp, newApp, parseAppPatch } from '../models/app.js';
import { checkWordName } from '../models/common.js';
import { listBody, parsePageQuery } from '../pagination.js';
import { optionalQuery } from '../query.js';
import { methodNotAllowed } from './method-not-allowed.js';

export function appsRouter({ store, newId, now, allowedNetworks, syslogSockets }: ApiDeps): Router {
  const r = Router();
  const isAppKey = (k: string) => checkWordName(k) === 'ok';

  r.route('/v2/apps')
    .get(async (req, res) => {
      const page = parsePageQuery(req.query, isAppKey);
      const name = optionalQuery(req.query, 'name');
      const { items, last } = await store.listApps({ ...page, ...(name !== undefined && { name }) });
      res.json(listBody(items, last));
    })
    .post(async (req, res) => {
      const app = newApp(req.body, newId(), now(), allowedNetworks, syslogSockets);
      await store.insertApp(app);
      res.json(app);
    })
    .all(methodNotAllowed);

  r.route('/v2/apps/:app_id')
    .get(async (req, res) => {
      res.json(await store.getApp(req.params.app_id));
    })
    .put(async (req, res) => {
      const patch = parseAppPatch(req.body, req.params.app_id);
      const at = now();
      const app = await store.updateApp(req.params.app_id, (current) => mergeApp(current, patch, at, allowedNetworks, syslogSockets));
      res.json(app);
    })
    .delete(async (req, res) => {
      await store.deleteApp(req.params.app_id);
      res.status(204).end();
    })
    .all(methodNotAllowed);

  return r;
}
