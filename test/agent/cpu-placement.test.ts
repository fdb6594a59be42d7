// Pinning Lambda-format containers to one CPU each (KILN_LAMBDA_CPUS), on real Docker: what
// each container's HostConfig.CpusetCpus says, and that a CPU list Docker refuses never
// breaks an invoke.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { cpusAllowed } from '../../agent/cpu-placement.js';
import { CPU_LABEL, FN_LABEL, NODE_LABEL } from '../../drivers/docker/driver.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { fixtureImage } from '../helpers/images.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';

/** The CpusetCpus of each of the fn's containers, sorted ('' is unpinned). */
async function cpusets(s: AgentSuite, fnId: string): Promise<string[]> {
  const mine = (await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId);
  const sets = await Promise.all(mine.map(async (c) => (await s.docker.getContainer(c.Id).inspect()).HostConfig.CpusetCpus ?? ''));
  return sets.sort();
}

/** Until every container of the suite has retired (its fns have idle_timeout 1), so placement starts afresh. */
async function allRetired(s: AgentSuite): Promise<void> {
  assert.ok(await eventually(async () => (await nodeContainers(s.docker, s.srv.nodeId)).length === 0, 15_000), 'the containers retired');
}

const hello = { format: 'lambda', config: { _HANDLER: 'index.handler' }, idle_timeout: 1 };

/** The CPUs this process may use; the tests that pin to 0 and 1 need both. */
const allowed = cpusAllowed(readFileSync('/proc/self/status', 'utf8')) ?? [];
const twoCpus = allowed.includes(0) && allowed.includes(1) ? false : `needs CPUs 0 and 1, this process has ${allowed.join(',') || 'none known'}`;

describe('KILN_LAMBDA_CPUS unset (auto): the CPUs this process may use', () => {
  let s: AgentSuite;
  before(async () => {
    // Exact CPUs are asserted: other test files' nodes pin Lambda containers meanwhile.
    s = await agentSuite('cpus-auto', { KILN_LAMBDA_CPUS_SHARED: 'false' });
  });
  after(() => s?.close());

  test("a Lambda fn's container is pinned to one CPU, the first of this process's; an http-stream fn's is not", async () => {
    const lambda = await s.mkFn('lambda', { ...hello, image: await lambdaFixtureImage('node-hello') });
    const r = await s.invoke(lambda.id, { name: 'auto' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { message: 'Hello auto' });
    // With one CPU there is nothing to spread over: no pinning.
    assert.deepEqual(await cpusets(s, lambda.id), [allowed.length >= 2 ? String(allowed[0]) : '']);

    const plain = await s.mkFn('plain');
    const p = await s.invoke(plain.id, {});
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.deepEqual(await cpusets(s, plain.id), ['']);
  });
});

describe('KILN_LAMBDA_CPUS=0-1', { skip: twoCpus }, () => {
  let s: AgentSuite;
  let image: string;
  before(async () => {
    image = await lambdaFixtureImage('node-hello');
    s = await agentSuite('cpus-list', { KILN_LAMBDA_CPUS: '0-1', KILN_LAMBDA_CPUS_SHARED: 'false' });
  });
  after(() => s?.close());

  test('two concurrent calls that need two containers land on different CPUs', async () => {
    const fn = await s.mkFn('sleepy', { ...hello, image: await lambdaFixtureImage('node-runtime') });
    const [a, b] = await Promise.all([1, 2].map(() => s.invoke(fn.id, { action: 'sleep', ms: 1500 })));
    assert.equal(a?.status, 200, JSON.stringify(a?.body));
    assert.equal(b?.status, 200, JSON.stringify(b?.body));
    assert.deepEqual(await cpusets(s, fn.id), ['0', '1']);
    await allRetired(s);
  });

  test('a retired container gives its CPU back: the next container takes it again', async () => {
    const first = await s.mkFn('first', { ...hello, image });
    assert.equal((await s.invoke(first.id, {})).status, 200);
    assert.deepEqual(await cpusets(s, first.id), ['0']);
    await allRetired(s);
    // Had CPU 0 stayed counted, CPU 1 would be the least used.
    const next = await s.mkFn('next', { ...hello, image });
    assert.equal((await s.invoke(next.id, {})).status, 200);
    assert.deepEqual(await cpusets(s, next.id), ['0']);
    await allRetired(s);
  });

  test('a container that fails to start gives its CPU back', async () => {
    // Docker refuses memory under 6 MB at create: the start fails after the CPU was taken.
    const tiny = await s.mkFn('tiny', { ...hello, image, memory: 4 });
    const r = await s.invoke(tiny.id, {});
    assert.notEqual(r.status, 200, JSON.stringify(r.body));
    assert.match(String(r.body?.message), /Minimum memory limit/);
    const next = await s.mkFn('after-tiny', { ...hello, image });
    assert.equal((await s.invoke(next.id, {})).status, 200);
    assert.deepEqual(await cpusets(s, next.id), ['0']);
    await allRetired(s);
  });

  const sizes: { memory: number; cpuset: string }[] = [
    { memory: 1769, cpuset: '0' }, // Lambda's one-vCPU limit: still pinned
    { memory: 1770, cpuset: '' },
    { memory: 2048, cpuset: '' },
  ];
  for (const c of sizes) {
    test(`a Lambda fn with memory ${c.memory} MB gets ${c.cpuset ? `CPU ${c.cpuset}` : 'no cpuset'}`, async () => {
      const fn = await s.mkFn(`mem${c.memory}`, { ...hello, image, memory: c.memory });
      const r = await s.invoke(fn.id, { name: String(c.memory) });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(await cpusets(s, fn.id), [c.cpuset]);
      await allRetired(s);
    });
  }
});

describe('KILN_LAMBDA_CPUS=off', () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('cpus-off', { KILN_LAMBDA_CPUS: 'off' });
  });
  after(() => s?.close());

  test("a Lambda fn's container is not pinned", async () => {
    const fn = await s.mkFn('lambda', { ...hello, image: await lambdaFixtureImage('node-hello') });
    const r = await s.invoke(fn.id, { name: 'off' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await cpusets(s, fn.id), ['']);
  });
});

describe("KILN_LAMBDA_CPUS_SHARED (the default): other nodes' pinned containers on the engine count", { skip: twoCpus }, () => {
  let s: AgentSuite;
  const others: string[] = [];
  before(async () => {
    s = await agentSuite('cpus-shared', { KILN_LAMBDA_CPUS: '0-1' });
    // Another node's containers, pinned to CPU 0: many more than the other test files run at once.
    const tester = await fixtureImage('tester');
    for (let i = 0; i < 20; i++) {
      const c = await s.docker.createContainer({ Image: tester, Labels: { [NODE_LABEL]: `${s.srv.nodeId}-other`, [CPU_LABEL]: '0' }, HostConfig: { NetworkMode: 'none' } });
      others.push(c.id);
    }
  });
  after(async () => {
    for (const id of others) await s.docker.getContainer(id).remove({ force: true });
    await s?.close();
  });

  test("a node's first Lambda container goes to the CPU the other node left free", async () => {
    const fn = await s.mkFn('shared', { ...hello, image: await lambdaFixtureImage('node-hello') });
    const r = await s.invoke(fn.id, { name: 'shared' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await cpusets(s, fn.id), ['1']);
    const mine = (await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fn.id);
    assert.deepEqual(mine.map((c) => c.Labels[CPU_LABEL]), ['1'], 'labelled with its CPU, for other nodes to count');
  });
});

describe('KILN_LAMBDA_CPUS naming CPUs this machine does not have (62-63)', () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('cpus-bogus', { KILN_LAMBDA_CPUS: '62-63' });
  });
  after(() => s?.close());

  test('Docker refuses the cpuset: the invoke still answers 200 from an unpinned container, and so do later ones', async () => {
    const image = await lambdaFixtureImage('node-hello');
    const fn = await s.mkFn('lambda', { ...hello, image });
    const r = await s.invoke(fn.id, { name: 'bogus' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { message: 'Hello bogus' });
    assert.deepEqual(await cpusets(s, fn.id), ['']);
    const other = await s.mkFn('other', { ...hello, image });
    const o = await s.invoke(other.id, { name: 'again' });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    assert.deepEqual(await cpusets(s, other.id), ['']);
    assert.equal((await s.calls(fn.id))[0]?.status, 'success');
  });
});
