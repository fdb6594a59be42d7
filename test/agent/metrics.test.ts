// GET /metrics: Prometheus text with the agent's calls and containers, from a real server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';

let s: AgentSuite;
before(async () => {
  s = await agentSuite('metrics', { FN_FREEZE_IDLE_MSECS: '-1' });
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
  assert.equal((await s.invoke(fn.id, { sleepMs: 700 })).status, 200);
  const mid = (await scrape()).values;
  assert.equal(count(mid, 'success'), count(before, 'success') + 1);
  // 0.7 s is in the 1 s bucket, not in the 0.5 s one.
  assert.equal(count(mid, 'success', '0.5'), count(before, 'success', '0.5'));
  assert.equal(count(mid, 'success', '1'), count(before, 'success', '1') + 1);
  const took = (mid.get('kiln_call_duration_seconds_sum{status="success"}') ?? 0) - sum0;
  assert.ok(took >= 0.7 && took < 1, `${took} s`);
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

test('a container still starting shows as starting', async () => {
  const fn = await s.mkFn('m3', { config: { MODE: 'slowstart', STARTUP_MS: '1500' } });
  const call = s.invoke(fn.id, {});
  assert.equal(await seenWithin2s('kiln_containers{state="starting"}'), 1);
  assert.equal((await call).status, 200);
  assert.equal((await scrape()).values.get('kiln_containers{state="starting"}'), 0);
});
