// A Lambda sandbox's limits on real Docker: Lambda's quotas (1,024 processes and threads, 1,024
// open files) rather than Fn's 50 and 350.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { nodeContainers } from '../helpers/containers.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';

const containerIds = async (s: AgentSuite, fnId: string): Promise<string[]> =>
  (await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId).map((c) => c.Id);

describe('a Lambda sandbox has Lambda\'s limits, not Fn\'s (FN_MAX_PIDS 50, FN_MAX_OPEN_FILES 350 by default)', () => {
  let s: AgentSuite;
  let image: string;
  before(async () => {
    image = await lambdaFixtureImage('shell-hog');
    s = await agentSuite('lambda-limits');
  });
  after(() => s.close());

  test('a runtime runs 200 processes at once and opens 1,000 files; an http-stream container keeps FN_MAX_PIDS', async () => {
    const fn = await s.mkFn('limits', { image, format: 'lambda', memory: 256, timeout: 20 });
    const r = await s.invoke(fn.id, { action: 'limits', procs: 200, files: 1000 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { procs: 200, files: 1000 });
    const [id] = await containerIds(s, fn.id);
    const host = (await s.docker.getContainer(id!).inspect()).HostConfig;
    assert.equal(host.PidsLimit, 1024);
    assert.deepEqual(host.Ulimits?.find((u) => u.Name === 'nofile'), { Name: 'nofile', Soft: 1024, Hard: 1024 });

    const plain = await s.mkFn('plain');
    assert.equal((await s.invoke(plain.id, {})).status, 200);
    const [pid] = await containerIds(s, plain.id);
    assert.equal((await s.docker.getContainer(pid!).inspect()).HostConfig.PidsLimit, 50);
  });
});
