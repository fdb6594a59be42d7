import { Router } from 'express';
import { annotateTrigger, baseUrl } from '../annotate.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../errors.js';
import { checkWordName } from '../models/common.js';
import { mergeTrigger, newTrigger, parseTriggerPatch } from '../models/trigger.js';
import { listBody, parsePageQuery } from '../pagination.js';
import { optionalQuery } from '../query.js';
import type { Store, Trigger } from '../../store/types.js';
import { methodNotAllowed } from './method-not-allowed.js';

const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Trigger names are unique per (app, fn), as in Fn, so an app-wide page key is name NUL id;
 * with a fn_id filter it is the name alone.
 */
function isTriggerKey(k: string): boolean {
  const [name, id, ...rest] = k.split('\u0000');
  return checkWordName(name) === 'ok' && rest.length === 0 && (id === undefined || ID.test(id));
}

/** The fn a trigger points at must exist and belong to the trigger's app. */
async function checkFnOfApp(store: Store, t: Trigger): Promise<void> {
  const fn = await store.getFn(t.fn_id);
  if (fn.app_id !== t.app_id) throw badRequest('Invalid Fn ID - not owned by specified app');
}

export function triggersRouter({ store, newId, now, publicUrl }: ApiDeps): Router {
  const r = Router();

  r.route('/v2/triggers')
    .get(async (req, res) => {
      const appId = optionalQuery(req.query, 'app_id');
      if (appId === undefined) throw badRequest('Missing App ID on Trigger');
      const page = parsePageQuery(req.query, isTriggerKey);
      const fnId = optionalQuery(req.query, 'fn_id');
      const name = optionalQuery(req.query, 'name');
      const { items, last } = await store.listTriggers({
        ...page, appId, ...(fnId !== undefined && { fnId }), ...(name !== undefined && { name }),
      });
      const app = items.length > 0 ? await store.getApp(appId) : undefined;
      const base = baseUrl(req, publicUrl);
      res.json(listBody(app ? items.map((t) => annotateTrigger(t, app, base)) : items, last));
    })
    .post(async (req, res) => {
      const t = newTrigger(req.body, newId(), now());
      const app = await store.getApp(t.app_id);
      await checkFnOfApp(store, t);
      await store.insertTrigger(t);
      res.json(annotateTrigger(t, app, baseUrl(req, publicUrl)));
    })
    .all(methodNotAllowed);

  r.route('/v2/triggers/:trigger_id')
    .get(async (req, res) => {
      const t = await store.getTrigger(req.params.trigger_id);
      res.json(annotateTrigger(t, await store.getApp(t.app_id), baseUrl(req, publicUrl)));
    })
    .put(async (req, res) => {
      const patch = parseTriggerPatch(req.body, req.params.trigger_id);
      const at = now();
      // The fn is checked before the locked update (the store cannot be asked from inside it). What
      // the update writes has this fn_id when the patch names one, else the stored one, which
      // whoever set it checked; the trigger's app never changes.
      await checkFnOfApp(store, mergeTrigger(await store.getTrigger(req.params.trigger_id), patch, at));
      const t = await store.updateTrigger(req.params.trigger_id, (current) => mergeTrigger(current, patch, at));
      res.json(annotateTrigger(t, await store.getApp(t.app_id), baseUrl(req, publicUrl)));
    })
    .delete(async (req, res) => {
      await store.deleteTrigger(req.params.trigger_id);
      res.status(204).end();
    })
    .all(methodNotAllowed);

  return r;
}
