// GET /metrics: Prometheus text with the agent's calls and containers, from a real server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';

let s: AgentSuite;
before(async () => {
  // 768 MiB and a 3 s wait: room to show a server too busy, and a fn too big for it.
  s = await agentSuite('metrics', { FN_FREEZE_IDLE_MSECS: '-1', FN_MAX_TOTAL_MEMORY_BYTES: String(768 * 1024 * 1024), KILN_MAX_QUEUE_MSECS: '3000' });
});
after(() => s.close());

async function scrape(): Promise<{ type: string; values: Map<string, number> }> {
  const res = await fetch(`${s.srv.url}/metrics`);
  assert.equal(res.status, 200);
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    values.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { type: res.headers.get('content-type') ?? '', values };
}

/** The first non-zero value of `metric` in scrapes 50 ms apart, or 0 after 2 s. */
async function seenWithin2s(metric: string): Promise<number> {
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const v = (await scrape()).values.get(metric) ?? 0;
    if (v !== 0) return v;
  }
  return 0;
}

test('GET /metrics counts calls by status and containers by state', async () => {
  const before = await scrape();
  assert.match(before.type, /^text\/plain; version=0\.0\.4/);
  assert.ok(before.values.has('kiln_process_resident_memory_bytes'), 'process metrics are there');
  const ok0 = before.values.get('kiln_calls_total{status="success"}') ?? 0;
  const err0 = before.values.get('kiln_calls_total{status="error"}') ?? 0;

  const fn = await s.mkFn('m1');
  assert.equal((await s.invoke(fn.id, {})).status, 200);
  assert.equal((await s.invoke(fn.id, {})).status, 200);
  const mid = await scrape();
  assert.equal(mid.values.get('kiln_calls_total{status="success"}'), ok0 + 2);
  assert.equal(mid.values.get('kiln_calls_running'), 0);
  assert.equal(mid.values.get('kiln_calls_queued'), 0);
  assert.equal(mid.values.get('kiln_containers{state="idle"}'), 1);
  assert.equal(mid.values.get('kiln_memory_reserved_bytes'), 128 * 1024 * 1024);
  assert.ok((mid.values.get('kiln_memory_capacity_bytes') ?? 0) >= 128 * 1024 * 1024);

  assert.equal((await s.invoke(fn.id, { crash: true })).status, 502);
  const after = await scrape();
  assert.equal(after.values.get('kiln_calls_total{status="error"}'), err0 + 1);
});

test('kiln_call_duration_seconds: each call in its status\'s histogram, at the time it took', async () => {
  const count = (m: Map<string, number>, status: string, le?: string): number =>
    m.get(le === undefined ? `kiln_call_duration_seconds_count{status="${status}"}` : `kiln_call_duration_seconds_bucket{le="${le}",status="${status}"}`) ?? 0;
  const fn = await s.mkFn('m4');
  assert.equal((await s.invoke(fn.id, {})).status, 200); // the container's start
  const before = (await scrape()).values;
  const sum0 = before.get('kiln_call_duration_seconds_sum{status="success"}') ?? 0;
  // 600 ms: in the 1 s bucket with 400 ms to spare for a loaded machine's overhead.
  assert.equal((await s.invoke(fn.id, { sleepMs: 600 })).status, 200);
  const mid = (await scrape()).values;
  assert.equal(count(mid, 'success'), count(before, 'success') + 1);
  // 0.6 s is in the 1 s bucket, not in the 0.5 s one.
  assert.equal(count(mid, 'success', '0.5'), count(before, 'success', '0.5'));
  assert.equal(count(mid, 'success', '1'), count(before, 'success', '1') + 1);
  const took = (mid.get('kiln_call_duration_seconds_sum{status="success"}') ?? 0) - sum0;
  assert.ok(took >= 0.6 && took < 1, `${took} s`);
  assert.equal(count(mid, 'success', '+Inf'), count(mid, 'success'));
  assert.equal((await s.invoke(fn.id, { crash: true })).status, 502);
  assert.equal(count((await scrape()).values, 'error'), count(mid, 'error') + 1);
});

test('a running call shows as running', async () => {
  const fn = await s.mkFn('m2');
  const call = s.invoke(fn.id, { sleepMs: 800 });
  assert.equal(await seenWithin2s('kiln_calls_running'), 1);
  assert.equal((await call).status, 200);
});

test('a container still starting shows as starting; its start is counted and timed once ready', async () => {
  const starts = (m: Map<string, number>, outcome: string) => m.get(`kiln_container_starts_total{format="http-stream",outcome="${outcome}"}`) ?? 0;
  const timed = (m: Map<string, number>, what: string) => m.get(`kiln_container_start_seconds_${what}{format="http-stream"}`) ?? 0;
  const v0 = (await scrape()).values;
  const fn = await s.mkFn('m3', { config: { MODE: 'slowstart', STARTUP_MS: '1500' } });
  const call = s.invoke(fn.id, {});
  assert.equal(await seenWithin2s('kiln_containers{state="starting"}'), 1);
  assert.equal((await call).status, 200);
  const v1 = (await scrape()).values;
  assert.equal(v1.get('kiln_containers{state="starting"}'), 0);
  assert.equal(starts(v1, 'success'), starts(v0, 'success') + 1);
  assert.equal(timed(v1, 'count'), timed(v0, 'count') + 1);
  const took = timed(v1, 'sum') - timed(v0, 'sum');
  assert.ok(took >= 1.5 && took < 10, `${took} s`);
  const bucket = (m: Map<string, number>, le: string) => m.get(`kiln_container_start_seconds_bucket{le="${le}",format="http-stream"}`) ?? 0;
  assert.equal(bucket(v1, '1'), bucket(v0, '1'), 'not in the 1 s bucket');
  assert.equal(bucket(v1, '10'), bucket(v0, '10') + 1);
  // A warm call starts nothing.
  assert.equal((await s.invoke(fn.id, {})).status, 200);
  assert.equal(starts((await scrape()).values, 'success'), starts(v1, 'success'));
});

test('kiln_call_failures_total tells the platform\'s failures from the function\'s; kiln_calls_total keeps the recorded status', async () => {
  const v0 = (await scrape()).values;
  const kind = (m: Map<string, number>, k: string) => m.get(`kiln_call_failures_total{kind="${k}"}`) ?? NaN;
  const status = (m: Map<string, number>, st: string) => m.get(`kiln_calls_total{status="${st}"}`) ?? 0;

  // The function's own: a crash mid-call, a timeout.
  const fn = await s.mkFn('f1', { timeout: 1 });
  assert.equal((await s.invoke(fn.id, { crash: true })).status, 502);
  assert.equal((await s.invoke(fn.id, { sleepMs: 1500 })).status, 504);
  // The platform's: more memory than the server has, an image it cannot have, no room in time.
  const huge = await s.mkFn('f2', { memory: 1024 });
  const r400 = await s.invoke(huge.id, {});
  assert.equal(r400.status, 400);
  assert.match(r400.body.message, /more than this server can give/);
  const noImage = await s.mkFn('f3', { image: 'kiln-test/no-such-image:0.0.1' });
  assert.equal((await s.invoke(noImage.id, {})).status, 502);
  const big = await s.mkFn('f4', { memory: 500 });
  const holding = s.invoke(big.id, { sleepMs: 4000 });
  await new Promise((r) => setTimeout(r, 500));
  const busy = await s.invoke(big.id, {});
  assert.equal(busy.status, 503);
  assert.equal(busy.body.message, 'Timed out - server too busy');
  assert.equal((await holding).status, 200);

  const v1 = (await scrape()).values;
  const diff = (k: string) => kind(v1, k) - kind(v0, k);
  assert.deepEqual(
    { function: diff('function'), timeout: diff('timeout'), capacity: diff('capacity'), image: diff('image'), busy: diff('busy'), engine: diff('engine'), init: diff('init') },
    { function: 1, timeout: 1, capacity: 1, image: 1, busy: 1, engine: 0, init: 0 },
  );
  // As the calls are recorded: four errors (crash, memory, image, busy), one timeout.
  assert.equal(status(v1, 'error') - status(v0, 'error'), 4);
  assert.equal(status(v1, 'timeout') - status(v0, 'timeout'), 1);
  // Every call that did not succeed has exactly one kind.
  const failed = ['error', 'timeout', 'cancelled'].reduce((n, st) => n + status(v1, st), 0);
  const kinds = [...v1].filter(([k]) => k.startsWith('kiln_call_failures_total{')).reduce((n, [, v]) => n + v, 0);
  assert.equal(kinds, failed);
  // The image's failed start is counted as a start, by why it failed.
  const startsOf = (m: Map<string, number>) => m.get('kiln_container_starts_total{format="http-stream",outcome="image"}') ?? 0;
  assert.equal(startsOf(v1) - startsOf(v0), 1);
});
