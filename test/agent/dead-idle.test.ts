// An idle container that died under the agent (unpaused by someone else, killed, removed): the
// next call drops it and starts one, and that one joins the pool the agent knows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';

const MiB = 1024 * 1024;

describe('an idle container that died', () => {
  let t: AgentSuite;
  const containersOf = async (fnId: string) =>
    (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels['io.kiln.fn_id'] === fnId);

  before(async () => {
    t = await agentSuite('dead-idle', { FN_FREEZE_IDLE_MSECS: '0', FN_MAX_TOTAL_MEMORY_BYTES: String(300 * MiB) });
  });

  after(async () => {
    await t?.close();
  });

  test('a frozen container unpaused by someone else is replaced once, and the replacement serves warm from the pool', async () => {
    const fn = await t.mkFn('unpaused', { memory: 64 });
    assert.equal((await t.invoke(fn.id)).status, 200);
    assert.ok(await eventually(async () => (await containersOf(fn.id))[0]?.State === 'paused'), 'paused when idle');
    // Not Kiln's doing (an operator; an engine restart does the same): Kiln's unpause fails, so it is dropped.
    const [frozen] = await containersOf(fn.id);
    await t.docker.getContainer(frozen!.Id).unpause();
    const answers: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await t.invoke(fn.id);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      answers.push(r.body.calls as number);
    }
    // One start for the first call; the rest are warm on that container (its call count grows).
    assert.deepEqual(answers, [1, 2, 3, 4], 'at most one start, then warm');
    assert.ok(await eventually(async () => (await containersOf(fn.id)).length === 1), 'the dead one removed, only the replacement left');
    const { containers } = t.srv.agent.stats();
    assert.equal(containers.idle + containers.frozen, 1, 'the replacement is idle in the pool');
    // In the pool the agent knows, so evictable: a fn that needs the memory takes its place.
    const big = await t.mkFn('unpaused-big', { memory: 280 });
    assert.equal((await t.invoke(big.id)).status, 200, 'the replacement was evicted for it');
    assert.ok(await eventually(async () => (await containersOf(fn.id)).length === 0), 'evicted');
  });
});
