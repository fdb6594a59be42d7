// A fn or app updated or deleted through the API: its hot containers made for what it was retire
// then (idle ones at once, busy ones after their call), not at the fn's idle_timeout. Before, an
// old container (a rotated-out secret in its env) stayed on the host, paused, for up to an hour.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call } from '../helpers/server.js';

interface Echo {
  env: Record<string, string>;
  calls: number;
}

/** Long enough that only a retirement on the write, not the idle timeout, removes anything. */
const AN_HOUR = 3600;
/** Generous for a loaded machine: a retirement is a removal (a Lambda one's SHUTDOWN first). */
const SOON_MS = 10_000;

describe('containers of a fn or app changed or deleted through the API', () => {
  let t: AgentSuite;
  const containerIds = async (fnId: string) =>
    (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId).map((c) => c.Id);
  const goneSoon = async (fnId: string, id: string) => eventually(async () => !(await containerIds(fnId)).includes(id), SOON_MS, 100);
  const put = async (path: string, body: unknown) => {
    const r = await call(t.srv.url, 'PUT', path, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const del = async (path: string) => assert.equal((await call(t.srv.url, 'DELETE', path)).status, 204);
  const echo = async (fnId: string, body: unknown = {}): Promise<Echo> => {
    const r = await t.invoke(fnId, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as Echo;
  };

  before(async () => {
    // The default freeze: the repro's old containers sat paused.
    t = await agentSuite('retire-on-write');
  });
  after(async () => {
    await t?.close();
  });

  test('a fn updated: its idle container goes at once, a busy one after its call (which finishes 200); deleted: its container goes', async () => {
    const fn = await t.mkFn('rotate', { idle_timeout: AN_HOUR, config: { SECRET: 'old', ECHO_ENV: 'SECRET' } });
    assert.equal((await echo(fn.id)).env.SECRET, 'old');
    const [old] = await containerIds(fn.id);
    assert.ok(old);

    // A change that leaves its containers as they would be made now keeps them.
    await put(`/v2/fns/${fn.id}`, { annotations: { 'example.com/note': 'x' } });
    assert.equal((await echo(fn.id)).calls, 2, 'the same container after an annotation change');

    await put(`/v2/fns/${fn.id}`, { config: { SECRET: 'rotated' } });
    assert.ok(await goneSoon(fn.id, old), 'the container with the old secret is removed on the update');
    const fresh = await echo(fn.id);
    assert.equal(fresh.env.SECRET, 'rotated');
    assert.equal(fresh.calls, 1, 'a new container');
    const [busy] = await containerIds(fn.id);
    assert.ok(busy);

    // A call running across an update finishes normally, on what it started with; its container goes after it.
    const running = t.invoke(fn.id, { sleepMs: 3000 });
    await sleep(700);
    await put(`/v2/fns/${fn.id}`, { config: { SECRET: 'third' } });
    const r = await running;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((r.body as Echo).env.SECRET, 'rotated');
    assert.ok(await goneSoon(fn.id, busy), 'the busy container is removed once its call is done');

    assert.equal((await echo(fn.id)).env.SECRET, 'third');
    const [last] = await containerIds(fn.id);
    assert.ok(last);
    await del(`/v2/fns/${fn.id}`);
    assert.ok(await goneSoon(fn.id, last), 'the deleted fn’s container is removed');
    // Nothing is counted or reserved for it any more (the suite has no other container now).
    let metrics = '';
    assert.ok(await eventually(async () => {
      metrics = String((await call(t.srv.url, 'GET', '/metrics')).body);
      return /^kiln_memory_reserved_bytes 0$/m.test(metrics);
    }, SOON_MS, 100), metrics);
    assert.doesNotMatch(metrics, /^kiln_containers\{state="(idle|frozen|busy)"\} [1-9]/m);
  });

  test('an app updated: its fns’ containers made for what it was go; deleted: its fns’ containers go', async () => {
    const created = await call(t.srv.url, 'POST', '/v2/apps', { name: 'retire-app', config: { SECRET: 'old' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const appId = created.body.id as string;
    const mk = await call(t.srv.url, 'POST', '/v2/fns', { name: 'in-app', app_id: appId, image: t.tester, idle_timeout: AN_HOUR, config: { ECHO_ENV: 'SECRET' } });
    assert.equal(mk.status, 200, JSON.stringify(mk.body));
    const fnId = mk.body.id as string;

    assert.equal((await echo(fnId)).env.SECRET, 'old');
    const [old] = await containerIds(fnId);
    assert.ok(old);
    await put(`/v2/apps/${appId}`, { annotations: { 'example.com/note': 'x' } });
    assert.equal((await echo(fnId)).calls, 2, 'the same container after an annotation change');

    await put(`/v2/apps/${appId}`, { config: { SECRET: 'rotated' } });
    assert.ok(await goneSoon(fnId, old), 'the container with the app’s old config is removed on the update');
    assert.equal((await echo(fnId)).env.SECRET, 'rotated');
    const [fresh] = await containerIds(fnId);
    assert.ok(fresh);

    await del(`/v2/apps/${appId}`);
    assert.ok(await goneSoon(fnId, fresh), 'the deleted app’s fn’s container is removed');
  });

  test("a Lambda fn updated: its container's extension gets SHUTDOWN (spindown), in the last call's log", async () => {
    const fn = await t.mkFn('lambda-rotate', {
      image: await lambdaFixtureImage('blog-demo'), format: 'lambda', idle_timeout: AN_HOUR, config: { EXTENSION_WORK_SECONDS: '0' },
    });
    const r = await t.invoke(fn.id, { bye: true });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [old] = await containerIds(fn.id);
    assert.ok(old);

    await put(`/v2/fns/${fn.id}`, { config: { SECRET: 'rotated' } });
    assert.ok(await goneSoon(fn.id, old), 'the container retired on the update');
    const callId = r.headers.get('fn-call-id')!;
    let log = '';
    assert.ok(await eventually(async () => {
      await t.srv.agent.flushRecords();
      log = String((await call(t.srv.url, 'GET', `/v2/fns/${fn.id}/calls/${callId}/log`)).body.log ?? '');
      return /Exiting/.test(log);
    }, SOON_MS, 100), `the SHUTDOWN handling reached the call's log: ${log}`);
    assert.match(log, /\[extension1\.sh\] Received SHUTDOWN: \{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":\d+\}/);
  });
});
