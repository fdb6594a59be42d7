// Running functions: POST /invoke/:fn_id and ANY /t/:app_name/<source> (HTTP triggers).
import { Router, type Request, type Response } from 'express';
import type { ApiDeps } from '../deps.js';
import { readBody } from '../read-body.js';
import type { App, Fn } from '../../store/types.js';
import type { ResponseTarget } from '../../agent/hot-container.js';

/** Where a detached call's answer goes: nowhere. */
const discard: ResponseTarget = {
  headersSent: false,
  writeHead: () => undefined,
  write: () => true,
  end: () => undefined,
  destroy: () => undefined,
  once: () => undefined,
};

export function invokeRouter(deps: ApiDeps): Router {
  const { store, agent, newId, maxRequestSize, log } = deps;
  const r = Router();

  const run = async (
    req: Request, res: Response, app: App, fn: Fn, extra: { triggerId?: string; gateway?: { method: string; url: string } },
  ) => {
    const body = await readBody(req, maxRequestSize);
    const callId = newId();
    res.setHeader('Fn-Call-Id', callId);
    const spec = { app, fn, callId, headers: req.headers, body, ...extra };
    if (req.get('fn-invoke-type') === 'detached') {
      res.status(202).json({ call_id: callId });
      agent.invoke({ ...spec, signal: new AbortController().signal }, discard).catch((err: unknown) => {
        log.warn({ err, call_id: callId }, 'detached call failed');
      });
      return;
    }
    // The caller going away before the answer is complete cancels the call.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    await agent.invoke({ ...spec, signal: gone.signal }, res);
  };

  r.post('/invoke/:fn_id', async (req, res) => {
    const fn = await store.getFn(req.params.fn_id);
    const app = await store.getApp(fn.app_id);
    await run(req, res, app, fn, {});
  });

  r.all('/t/:app_name{/*source}', async (req, res) => {
    const app = await store.getAppByName(req.params.app_name);
    const parts = (req.params as { source?: string[] }).source ?? [];
    const source = `/${parts.join('/')}`;
    const trigger = await store.getTriggerBySource(app.id, 'http', source);
    const fn = await store.getFn(trigger.fn_id);
    await run(req, res, app, fn, { triggerId: trigger.id, gateway: { method: req.method, url: req.originalUrl } });
  });

  return r;
}
