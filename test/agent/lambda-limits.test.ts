// A Lambda sandbox's limits and out-of-memory on real Docker: Lambda's quotas (1,024 processes
// and threads, 1,024 open files) rather than Fn's 50 and 350, and an out-of-memory that kills
// the function's processes, never Kiln's daemon, which then still writes the call's REPORT.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { nodeContainers } from '../helpers/containers.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call } from '../helpers/server.js';

async function callLog(s: AgentSuite, fnId: string, callId: string): Promise<string> {
  await s.srv.agent.flushRecords();
  const r = await call(s.srv.url, 'GET', `/v2/fns/${fnId}/calls/${callId}/log`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return String(r.body.log ?? '');
}

const containerIds = async (s: AgentSuite, fnId: string): Promise<string[]> =>
  (await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId).map((c) => c.Id);

/** The call's log has its START, END and REPORT: the daemon lived to write them. */
async function assertReported(s: AgentSuite, fnId: string, callId: string): Promise<string> {
  const log = await callLog(s, fnId, callId);
  for (const line of ['START', 'END', 'REPORT']) assert.match(log, new RegExp(`${line} RequestId: ${callId}`), `${line} in the log: ${log}`);
  return log;
}

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

describe('an out-of-memory in a Lambda sandbox kills the function, not Kiln\'s daemon', () => {
  let s: AgentSuite;
  let image: string;
  before(async () => {
    image = await lambdaFixtureImage('shell-hog');
    s = await agentSuite('lambda-oom');
  });
  after(() => s.close());

  test("children each smaller than the daemon: they are killed, the runtime answers, the call's REPORT is written", async () => {
    const fn = await s.mkFn('kids', { image, format: 'lambda', memory: 128, timeout: 30 });
    // Warm first: the daemon's init is not what runs out.
    assert.equal((await s.invoke(fn.id, { n: 0 })).status, 200);
    const [before] = await containerIds(s, fn.id);
    // 10 x 20 MB against 128 MB: each child holds less than the daemon (about 45 MB, most of it
    // node's mapped binary), which the kernel picked when all had oom_score_adj 0.
    const r = await s.invoke(fn.id, { action: 'kids', kids: 10, mb: 20, wait: 3 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.killed >= 1, `some child was OOM-killed: ${JSON.stringify(r.body)}`);
    await assertReported(s, fn.id, r.headers.get('fn-call-id')!);
    const next = await s.invoke(fn.id, { n: 1 });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual(await containerIds(s, fn.id), [before], 'the same sandbox: its daemon lived');
  });

  test('the runtime itself past the limit: Runtime.ExitError with REPORT, the next call re-initialises in the same sandbox', async () => {
    const fn = await s.mkFn('hog', { image, format: 'lambda', memory: 64, timeout: 30 });
    assert.equal((await s.invoke(fn.id, { n: 0 })).status, 200);
    const [before] = await containerIds(s, fn.id);
    const r = await s.invoke(fn.id, { action: 'hog', mb: 200 });
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.errorType, 'Runtime.ExitError', JSON.stringify(r.body));
    assert.match(r.body.errorMessage, /Runtime exited with error: signal: killed/);
    const log = await assertReported(s, fn.id, r.headers.get('fn-call-id')!);
    assert.match(log, /Max Memory Used: \d+ MB/);
    const next = await s.invoke(fn.id, { n: 2 });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.deepEqual(next.body, { echo: { n: 2 } });
    assert.deepEqual(await containerIds(s, fn.id), [before], 'the same sandbox: its daemon lived');
  });
});
