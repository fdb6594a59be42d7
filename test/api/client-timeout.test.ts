// DOCKER_CLIENT_TIMEOUT with an engine on tcp://: docker-modem applied it as an idle timeout to
// every request, the long-lived attach and wait too, so a hot container's output stream was cut
// that long after its last output, the container retired as one whose output was lost, and every
// call after that idle was cold. Kiln does not pass it on (its own requests are bounded).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { sqliteDb } from '../helpers/db.js';
import { docker, fixtureImage } from '../helpers/images.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { call, uniqueNodeId } from '../helpers/server.js';
import { tcpEngine } from '../helpers/tcp-engine.js';

test('with DOCKER_CLIENT_TIMEOUT and a tcp:// engine, a hot container idle past it still serves, its calls logged; the setting is said to do nothing', { timeout: 90_000 }, async () => {
  const tester = await fixtureImage('tester');
  const engine = await tcpEngine();
  const db = await sqliteDb();
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-iofs-'));
  const nodeId = uniqueNodeId();
  let srv: ServerProcess | undefined;
  try {
    srv = await spawnServer({
      FN_DB_URL: db.url, FN_IOFS_PATH: iofs, KILN_NODE_ID: nodeId, KILN_DOCKER_PULL: 'false', TMPDIR: tmpdir(),
      DOCKER_HOST: engine.host, DOCKER_CLIENT_TIMEOUT: '1000',
    });
    const url = srv.url;
    const app = (await call(url, 'POST', '/v2/apps', { name: 'idle' })).body;
    const fn = (await call(url, 'POST', '/v2/fns', { name: 'f', app_id: app.id, image: tester, idle_timeout: 60 })).body;
    const first = await call(url, 'POST', `/invoke/${fn.id}`, JSON.stringify({ log: 'first call' }));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // Quiet for three times the client timeout (and past the output-lost check after it).
    await sleep(3500);
    const second = await call(url, 'POST', `/invoke/${fn.id}`, JSON.stringify({ log: 'second call' }));
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.pid, first.body.pid);
    assert.equal(second.body.calls, 2, 'the same hot container took the second call');
    const callId = second.headers.get('fn-call-id');
    let log = '';
    assert.ok(
      await eventually(async () => {
        const r = await call(url, 'GET', `/v2/fns/${fn.id}/calls/${callId}/log`);
        log = r.status === 200 ? String(r.body.log) : '';
        return log.includes('second call');
      }, 10_000),
      `the second call's log has its output: ${JSON.stringify(log)}`,
    );
    assert.match(srv.output(), /DOCKER_CLIENT_TIMEOUT has no effect/);
  } finally {
    await srv?.stop();
    assert.deepEqual(await nodeContainers(docker(), nodeId), [], 'the server removed its containers');
    await engine.close();
    rmSync(iofs, { recursive: true, force: true });
    await db.cleanup();
  }
});
