// The network a fn's containers join, as the engine sees it (docker inspect): none unless the fn
// or its app asks with kiln.io/network; an allowed one when asked, for http-stream and lambda
// fns alike; a change of the annotation takes new containers; FN_DOCKER_NETWORKS spreads the
// rest over its networks; without one, localhost still resolves (Kiln's /etc/hosts). No outbound reach is tested (no internet here).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { docker as dockerClient } from '../helpers/images.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call, startServer } from '../helpers/server.js';

const NET = 'kiln.io/network';

/** The fn's containers on the suite's node, as the engine describes them. */
async function containersOf(t: AgentSuite, fnId: string): Promise<Docker.ContainerInspectInfo[]> {
  const mine = (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fnId);
  return Promise.all(mine.map((c) => t.docker.getContainer(c.Id).inspect()));
}

/** The one container the fn has, after a call that must succeed. */
async function onlyContainer(t: AgentSuite, fnId: string): Promise<Docker.ContainerInspectInfo> {
  const r = await t.invoke(fnId);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const all = await containersOf(t, fnId);
  assert.equal(all.length, 1, 'one container');
  return all[0]!;
}

/**
 * Removes the fn's containers one at a time, before the suite's close would remove them all at
 * once: this engine's libnetwork (Docker 20.10) deadlocked here when several networked
 * containers exited together, and every Docker call after that hung.
 */
async function removeOneByOne(t: AgentSuite, fnId: string): Promise<void> {
  for (const c of await containersOf(t, fnId)) await t.docker.getContainer(c.Id).remove({ force: true });
}

function assertNoNetwork(c: Docker.ContainerInspectInfo): void {
  assert.equal(c.HostConfig.NetworkMode, 'none');
  // The engine lists no network (or `none`), and no address anywhere.
  for (const [name, n] of Object.entries(c.NetworkSettings.Networks)) assert.equal(n.IPAddress, '', `no address on ${name}`);
}

function assertOn(c: Docker.ContainerInspectInfo, network: string): void {
  assert.equal(c.HostConfig.NetworkMode, network);
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), [network]);
  assert.match(c.NetworkSettings.Networks[network]?.IPAddress ?? '', /^\d+\.\d+\.\d+\.\d+$/, `an address on ${network}`);
}

describe('kiln.io/network with the default allow list (bridge)', () => {
  let t: AgentSuite;

  before(async () => {
    t = await agentSuite('network');
  });
  after(async () => {
    await t?.close();
  });

  test('a fn that asks for nothing has no network', async () => {
    const fn = await t.mkFn('plain');
    assertNoNetwork(await onlyContainer(t, fn.id));
  });

  // The engine writes no /etc/hosts for a container without a network: Kiln binds its own.
  test('a fn with no network resolves localhost (to 127.0.0.1) from the hosts file bound read-only at /etc/hosts', async () => {
    const fn = await t.mkFn('resolver');
    const r = await t.invoke(fn.id, { lookup: 'localhost' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.lookup, '127.0.0.1');
    const [info] = await containersOf(t, fn.id);
    assert.ok(info);
    assert.equal((info.Config as { NetworkDisabled?: boolean }).NetworkDisabled, true, 'still the cheapest start: no network sandbox');
    assert.ok(info.HostConfig.Binds?.some((b) => /:\/etc\/hosts:ro$/.test(b)), JSON.stringify(info.HostConfig.Binds));
    // A name it has no entry for still fails, as with no network it must.
    const other = await t.invoke(fn.id, { lookup: 'example.com' });
    assert.equal(typeof other.body.lookup, 'string');
    assert.notEqual(other.body.lookup, '127.0.0.1');
    assert.match(other.body.lookup, /^E[A-Z_]+$/);
  });

  test('a fn that asks for bridge is on bridge, with an address', async () => {
    const fn = await t.mkFn('bridged', { annotations: { [NET]: 'bridge' } });
    assertOn(await onlyContainer(t, fn.id), 'bridge');
    await removeOneByOne(t, fn.id);
  });

  test('a lambda fn that asks for bridge is on bridge too', async () => {
    const fn = await t.mkFn('lambda-bridged', { image: await lambdaFixtureImage('shell-entrypoint'), format: 'lambda', annotations: { [NET]: 'bridge' } });
    assertOn(await onlyContainer(t, fn.id), 'bridge');
    await removeOneByOne(t, fn.id);
  });

  // As any change of what shapes a container made through the API: the old one retires with the write.
  test('changing the annotation takes a new container; the old one is removed', async () => {
    const fn = await t.mkFn('switched', { annotations: { [NET]: 'bridge' } });
    const first = await onlyContainer(t, fn.id);
    assertOn(first, 'bridge');

    const removed = await call(t.srv.url, 'PUT', `/v2/fns/${fn.id}`, { annotations: { [NET]: '' } });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    const r = await t.invoke(fn.id);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.calls, 1, 'a new container');
    let now: Docker.ContainerInspectInfo[] = [];
    assert.ok(await eventually(async () => (now = await containersOf(t, fn.id)).length === 1 && now[0]!.Id !== first.Id, 10_000), 'the bridged container is removed');
    assertNoNetwork(now[0]!);

    // Back to bridge: a new bridged container, and the one with no network goes.
    const back = await call(t.srv.url, 'PUT', `/v2/fns/${fn.id}`, { annotations: { [NET]: 'bridge' } });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    const again = await t.invoke(fn.id);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.calls, 1, 'a new container');
    let last: Docker.ContainerInspectInfo[] = [];
    assert.ok(await eventually(async () => (last = await containersOf(t, fn.id)).length === 1 && last[0]!.Id !== now[0]!.Id, 10_000), 'the one with no network is removed');
    assertOn(last[0]!, 'bridge');
    await removeOneByOne(t, fn.id);
  });

  test("the app's annotation applies to its fns that ask for nothing", async () => {
    const app = await call(t.srv.url, 'POST', '/v2/apps', { name: 'network-app', annotations: { [NET]: 'bridge' } });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    const fn = await call(t.srv.url, 'POST', '/v2/fns', { name: 'inherits', app_id: app.body.id, image: t.tester });
    assert.equal(fn.status, 200, JSON.stringify(fn.body));
    assertOn(await onlyContainer(t, fn.body.id), 'bridge');
    await removeOneByOne(t, fn.body.id);
  });

  test('a network the server no longer allows: 502 naming it, no container started', async () => {
    const fn = await t.mkFn('narrowed', { annotations: { [NET]: 'bridge' } });
    // Another server on the same database whose operator allows nothing.
    const strict = await startServer(t.db.url, { KILN_ALLOWED_NETWORKS: '' });
    try {
      const r = await call(strict.url, 'POST', `/invoke/${fn.id}`, '{}');
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.equal(r.body.message, `fn "narrowed" cannot run here: Invalid annotation "${NET}": network "bridge" is not allowed on this server; no network may be asked for on this server (KILN_ALLOWED_NETWORKS is empty)`);
      assert.deepEqual(await nodeContainers(t.docker, strict.nodeId), []);
    } finally {
      await strict.stop();
    }
  });

  test('an allowed network the engine does not have: 502 naming it and the way out, no Retry-After, no container left', async () => {
    const missing = `kiln-test-missing-${process.pid}`;
    const fn = await t.mkFn('missing-net', { annotations: { [NET]: 'bridge' } });
    const srv = await startServer(t.db.url, { KILN_ALLOWED_NETWORKS: `bridge ${missing}` });
    try {
      assert.equal((await call(srv.url, 'PUT', `/v2/fns/${fn.id}`, { annotations: { [NET]: missing } })).status, 200);
      const r = await call(srv.url, 'POST', `/invoke/${fn.id}`, '{}');
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.match(r.body.message, new RegExp(`^container failed to start: network "${missing}" is not on the container engine .*docker network create ${missing}`));
      assert.equal(r.headers.get('retry-after'), null, 'trying again cannot help');
      assert.deepEqual(await nodeContainers(t.docker, srv.nodeId), []);
    } finally {
      await srv.stop();
    }
  });
});

describe('FN_DOCKER_NETWORKS: the least used network for a fn that asks for none', () => {
  let t: AgentSuite | undefined;
  const docker = dockerClient();
  const names = [`kiln-test-a-${process.pid}`, `kiln-test-b-${process.pid}`];

  before(async () => {
    for (const name of names) await docker.createNetwork({ Name: name, Labels: { 'io.kiln.test': String(process.pid) } });
    t = await agentSuite('spread', { FN_DOCKER_NETWORKS: names.join(' ') });
  });
  after(async () => {
    await t?.close();
    // After the suite's containers are gone: a network with endpoints cannot be removed. Each
    // is tried, whatever became of the other.
    const removals = await Promise.allSettled(names.map((name) => docker.getNetwork(name).remove()));
    const failed = removals.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new Error(`could not remove the test networks: ${failed.map((r) => String(r.reason)).join('; ')}`);
  });

  test('two containers at once go to different networks; a fn that asks for bridge is on bridge', async () => {
    const fn = await t!.mkFn('spread');
    // Two calls at once need two containers.
    const replies = await Promise.all([t!.invoke(fn.id, { sleepMs: 800 }), t!.invoke(fn.id, { sleepMs: 800 })]);
    for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
    const all = await containersOf(t!, fn.id);
    assert.equal(all.length, 2);
    for (const c of all) assertOn(c, c.HostConfig.NetworkMode!);
    assert.deepEqual(all.map((c) => c.HostConfig.NetworkMode).sort(), [...names].sort());

    await removeOneByOne(t!, fn.id);
    const asks = await t!.mkFn('asks', { annotations: { [NET]: 'bridge' } });
    assertOn(await onlyContainer(t!, asks.id), 'bridge');
    await removeOneByOne(t!, asks.id);
  });
});
