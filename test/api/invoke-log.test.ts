// What the server log says about invokes (api/invoke-log.ts), read from a real server process's
// stdout: at the default level a warn line for an invoke the platform failed, with its call id;
// at debug one line per finished invoke, as pino-http's for REST requests.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeContainers, eventually } from '../helpers/containers.js';
import { sqliteDb } from '../helpers/db.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';

interface Line {
  level: number;
  msg: string;
  call_id?: string;
  fn_id?: string;
  kind?: string;
  error?: string;
  req?: { method?: string; url?: string; remoteAddress?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

const lines = (srv: ServerProcess): Line[] => srv.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

/** A server on its own SQLite file, socket directory and node id; `stop` cleans all up. */
async function server(env: Record<string, string>) {
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const nodeId = uniqueNodeId();
  const srv = await spawnServer({ FN_DB_URL: db.url, FN_IOFS_PATH: iofs, KILN_NODE_ID: nodeId, KILN_DOCKER_PULL: 'false', TMPDIR: tmpdir(), ...env });
  return {
    srv,
    nodeId,
    stop: async () => {
      await srv.stop();
      rmSync(iofs, { recursive: true, force: true });
      await db.cleanup();
    },
  };
}

async function fnOn(url: string, image: string): Promise<string> {
  const app = await call(url, 'POST', '/v2/apps', { name: 'logged' });
  const fn = await call(url, 'POST', '/v2/fns', { name: 'f', app_id: app.body.id, image });
  assert.equal(fn.status, 200, JSON.stringify(fn.body));
  return fn.body.id as string;
}

test('at the default level, an invoke the unreachable engine failed is a warn line with its call id and fn id', async () => {
  const s = await server({ FN_LOG_LEVEL: 'info', DOCKER_HOST: 'unix:///nonexistent/kiln-no-engine.sock' });
  try {
    const fnId = await fnOn(s.srv.url, 'kiln-test/no-such-engine:1');
    const r = await call(s.srv.url, 'POST', `/invoke/${fnId}`, '{}');
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.match(r.body.message, /^container engine error: /);
    const callId = r.headers.get('fn-call-id');
    assert.ok(callId);
    assert.ok(await eventually(async () => lines(s.srv).some((l) => l.call_id === callId)), s.srv.output());
    const warned = lines(s.srv).filter((l) => l.call_id === callId);
    assert.equal(warned.length, 1, s.srv.output());
    assert.equal(warned[0]!.level, 40, 'warn');
    assert.equal(warned[0]!.fn_id, fnId);
    assert.equal(warned[0]!.kind, 'engine');
    assert.match(warned[0]!.msg, /^call failed: /);
    assert.ok(warned[0]!.error !== undefined && r.body.message.endsWith(warned[0]!.error), 'the error as the caller got it');
    // The Lambda Invoke API's path too: its request id is the call id.
    const l = await call(s.srv.url, 'POST', `/2015-03-31/functions/${fnId}/invocations`, '{}');
    assert.equal(l.status, 502, JSON.stringify(l.body));
    const requestId = l.headers.get('x-amzn-requestid');
    assert.ok(await eventually(async () => lines(s.srv).some((x) => x.call_id === requestId && x.level === 40 && x.kind === 'engine' && x.fn_id === fnId)), s.srv.output());
    // At info, nothing per request otherwise: no debug lines, no line for a REST request.
    assert.ok(!lines(s.srv).some((l) => l.level < 30 || l.msg === 'request completed'), s.srv.output());
  } finally {
    await s.stop();
  }
});

test('at debug, every finished invoke is a line with its status, duration, call id and fn id', async () => {
  const tester = await fixtureImage('tester');
  const s = await server({ FN_LOG_LEVEL: 'debug' });
  try {
    const fnId = await fnOn(s.srv.url, tester);
    const r = await call(s.srv.url, 'POST', `/invoke/${fnId}`, '{}');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const callId = r.headers.get('fn-call-id');
    const done = (): Line | undefined => lines(s.srv).find((l) => l.call_id === callId && l.msg === 'request completed');
    assert.ok(await eventually(async () => done() !== undefined), s.srv.output());
    const line = done()!;
    assert.equal(line.level, 20, 'debug');
    // The caller's address too: trigger abuse can be traced from the log.
    assert.deepEqual(line.req, { method: 'POST', url: `/invoke/${fnId}`, remoteAddress: '127.0.0.1' });
    assert.deepEqual(line.res, { statusCode: 200 });
    assert.equal(line.fn_id, fnId);
    assert.ok(typeof line.responseTime === 'number' && line.responseTime >= 0);
    // A function's success is no warning.
    assert.ok(!lines(s.srv).some((l) => l.level >= 40 && l.call_id === callId), s.srv.output());
    // An invoke that makes no call has its line too, without a call id.
    const missing = await call(s.srv.url, 'POST', '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV', '{}');
    assert.equal(missing.status, 404);
    assert.ok(await eventually(async () => lines(s.srv).some((l) => l.req?.url === '/invoke/01ARZ3NDEKTSV4RRFFQ69G5FAV' && l.res?.statusCode === 404 && l.call_id === undefined)), s.srv.output());
  } finally {
    const nodeId = s.nodeId;
    await s.stop();
    assert.deepEqual(await nodeContainers(docker(), nodeId), [], 'the server removed its containers');
  }
});
