import { Router } from 'express';
import { annotateFn, baseUrl } from '../annotate.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { checkFnName } from '../models/common.js';
import { mergeFn, newFn, parseFnPatch } from '../models/fn.js';
import { listBody, parsePageQuery } from '../pagination.js';
import { optionalQuery } from '../query.js';
import { methodNotAllowed } from './method-not-allowed.js';

export function fnsRouter({ store, newId, now, publicUrl, allowedNetworks }: ApiDeps): Router {
  const r = Router();
  const isFnKey = (k: string) => checkFnName(k) === 'ok';

  r.route('/v2/fns')
    .get(async (req, res) => {
      const appId = optionalQuery(req.query, 'app_id');
      if (appId === undefined) throw badRequest('Missing AppID on Fn');
      const page = parsePageQuery(req.query, isFnKey);
      const name = optionalQuery(req.query, 'name');
      const { items, last } = await store.listFns({ ...page, appId, ...(name !== undefined && { name }) });
      const base = baseUrl(req, publicUrl);
      res.json(listBody(items.map((f) => annotateFn(f, base)), last));
    })
    .post(async (req, res) => {
      const fn = newFn(req.body, newId(), now(), allowedNetworks);
      await store.getApp(fn.app_id);
      await store.insertFn(fn);
      res.json(annotateFn(fn, baseUrl(req, publicUrl)));
    })
    .all(methodNotAllowed);

  r.route('/v2/fns/:fn_id')
    .get(async (req, res) => {
      res.json(annotateFn(await store.getFn(req.params.fn_id), baseUrl(req, publicUrl)));
    })
    .put(async (req, res) => {
      const patch = parseFnPatch(req.body, req.params.fn_id);
      const at = now();
      const fn = await store.updateFn(req.params.fn_id, (current) => mergeFn(current, patch, at, allowedNetworks));
      res.json(annotateFn(fn, baseUrl(req, publicUrl)));
    })
    .delete(async (req, res) => {
      await store.deleteFn(req.params.fn_id);
      res.status(204).end();
    })
    .all(methodNotAllowed);

  return r;
}
