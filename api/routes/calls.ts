// Kiln keeps what Fn dropped: calls with their stats, and their logs.
import { Router } from 'express';
import type { ApiDeps } from '../deps.js';
import { listBody, parsePageQuery } from '../pagination.js';
import { callTimeFilter } from '../time-bounds.js';
import { methodNotAllowed } from './method-not-allowed.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function callsRouter({ store }: ApiDeps): Router {
  const r = Router();

  r.route('/v2/fns/:fn_id/calls')
    .get(async (req, res) => {
      const page = parsePageQuery(req.query, (k) => ULID.test(k));
      const { items, last } = await store.listCalls({ ...page, ...callTimeFilter(req.query), fnId: req.params.fn_id });
      res.json(listBody(items, last));
    })
    .all(methodNotAllowed);

  r.route('/v2/fns/:fn_id/calls/:call_id')
    .get(async (req, res) => {
      res.json(await store.getCall(req.params.fn_id, req.params.call_id));
    })
    .all(methodNotAllowed);

  r.route('/v2/fns/:fn_id/calls/:call_id/log')
    .get(async (req, res) => {
      const log = await store.getLog(req.params.fn_id, req.params.call_id);
      // JSON by default, as the rest of the API; plain text for a client that prefers it.
      if (req.accepts(['application/json', 'text/plain']) === 'text/plain') res.type('text/plain').send(log);
      else res.json({ call_id: req.params.call_id, log });
    })
    .all(methodNotAllowed);

  return r;
}
