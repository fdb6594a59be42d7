// A container without a network: the engine writes no /etc/hosts, so Kiln binds its own, and
// `localhost` resolves in every function, http-stream as Lambda.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { nodeContainers } from '../helpers/containers.js';

describe('an http-stream function without a network', () => {
  let t: AgentSuite;
  before(async () => {
    t = await agentSuite('hosts-file');
  });
  after(async () => {
    await t?.close();
  });

  test('resolves localhost (to 127.0.0.1) from the hosts file bound read-only at /etc/hosts', async () => {
    const fn = await t.mkFn('resolver');
    const r = await t.invoke(fn.id, { lookup: 'localhost' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.lookup, '127.0.0.1');
    const [c] = (await nodeContainers(t.docker, t.srv.nodeId)).filter((x) => x.Labels[FN_LABEL] === fn.id);
    assert.ok(c);
    const info = await t.docker.getContainer(c.Id).inspect();
    assert.equal((info.Config as { NetworkDisabled?: boolean }).NetworkDisabled, true, 'still the cheapest start: no network sandbox');
    assert.ok(info.HostConfig.Binds?.some((b) => /:\/etc\/hosts:ro$/.test(b)), JSON.stringify(info.HostConfig.Binds));
    // A name it has no entry for still fails, as with no network it must.
    const other = await t.invoke(fn.id, { lookup: 'example.com' });
    assert.equal(typeof other.body.lookup, 'string');
    assert.notEqual(other.body.lookup, '127.0.0.1');
    assert.match(other.body.lookup, /^E[A-Z_]+$/);
  });
});
