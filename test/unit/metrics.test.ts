// The metrics' figures from an agent snapshot: every container state is shown, so they add up
// to what holds memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../api/metrics.js';
import type { AgentStats } from '../../agent/agent.js';

const stats: AgentStats = {
  queued: 2, running: 1,
  calls: { success: 5, error: 1, timeout: 0, cancelled: 0 },
  containers: { starting: 1, busy: 1, idle: 2, frozen: 3, closed: 1 },
  memory: { reservedBytes: 8 * 128 * 1024 * 1024, capacityBytes: 1 << 30 },
};

test('kiln_containers shows every state, a container being removed as removing', async () => {
  const text = await createMetrics(() => stats).text();
  const rows = [...text.matchAll(/^kiln_containers\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(Object.fromEntries(rows), { starting: 1, busy: 1, idle: 2, frozen: 3, removing: 1 });
  assert.match(text, /^kiln_calls_queued 2$/m);
  assert.match(text, /^kiln_calls_total\{status="success"\} 5$/m);
});

test('kiln_process_cpu_seconds_total counts from the process\'s start, not from the metrics\' creation', async () => {
  const spent = process.cpuUsage();
  const text = await createMetrics(() => stats).text();
  const total = Number(/^kiln_process_cpu_seconds_total (\S+)$/m.exec(text)?.[1]);
  assert.ok(total >= (spent.user + spent.system) / 1e6, `${total} s, the process had spent ${(spent.user + spent.system) / 1e6} s before`);
  const user = Number(/^kiln_process_cpu_user_seconds_total (\S+)$/m.exec(text)?.[1]);
  assert.ok(user >= spent.user / 1e6 && user <= total);
});

test('kiln_call_duration_seconds: a histogram by status, in seconds', async () => {
  const metrics = createMetrics(() => stats);
  metrics.observeCall('success', 0.003);
  metrics.observeCall('success', 0.2);
  metrics.observeCall('timeout', 30);
  const text = await metrics.text();
  assert.match(text, /^# TYPE kiln_call_duration_seconds histogram$/m);
  assert.match(text, /^kiln_call_duration_seconds_bucket\{le="0\.005",status="success"\} 1$/m);
  assert.match(text, /^kiln_call_duration_seconds_bucket\{le="0\.25",status="success"\} 2$/m);
  assert.match(text, /^kiln_call_duration_seconds_bucket\{le="10",status="timeout"\} 0$/m);
  assert.match(text, /^kiln_call_duration_seconds_bucket\{le="30",status="timeout"\} 1$/m);
  assert.match(text, /^kiln_call_duration_seconds_count\{status="success"\} 2$/m);
  assert.match(text, /^kiln_call_duration_seconds_sum\{status="success"\} 0\.203$/m);
});

test('kiln_call_failures_total: every kind at 0 from the start, then counted', async () => {
  const metrics = createMetrics(() => stats);
  assert.match(await metrics.text(), /^kiln_call_failures_total\{kind="busy"\} 0$/m);
  metrics.observeCall('error', 0.1, 'busy');
  metrics.observeCall('error', 0.1, 'function');
  metrics.observeCall('error', 0.1, 'function');
  metrics.observeCall('success', 0.1);
  const text = await metrics.text();
  assert.match(text, /^# TYPE kiln_call_failures_total counter$/m);
  assert.match(text, /^kiln_call_failures_total\{kind="busy"\} 1$/m);
  assert.match(text, /^kiln_call_failures_total\{kind="function"\} 2$/m);
  assert.match(text, /^kiln_call_failures_total\{kind="capacity"\} 0$/m);
});

test('kiln_container_starts_total and kiln_container_start_seconds: every start counted, successful ones timed', async () => {
  const metrics = createMetrics(() => stats);
  metrics.observeStart('http-stream', 'success', 0.4);
  metrics.observeStart('lambda', 'success', 1.2);
  metrics.observeStart('http-stream', 'image', 0.01);
  const text = await metrics.text();
  assert.match(text, /^kiln_container_starts_total\{format="http-stream",outcome="success"\} 1$/m);
  assert.match(text, /^kiln_container_starts_total\{format="http-stream",outcome="image"\} 1$/m);
  assert.match(text, /^kiln_container_start_seconds_bucket\{le="0\.5",format="http-stream"\} 1$/m);
  assert.match(text, /^kiln_container_start_seconds_bucket\{le="1",format="lambda"\} 0$/m);
  assert.match(text, /^kiln_container_start_seconds_bucket\{le="1\.5",format="lambda"\} 1$/m);
  assert.match(text, /^kiln_container_start_seconds_count\{format="http-stream"\} 1$/m, 'a failed start is not timed');
});

test('kiln_http_requests_total and kiln_http_request_duration_seconds', async () => {
  const metrics = createMetrics(() => stats);
  metrics.observeRequest('invoke', 'POST', 503, 0.002);
  metrics.observeRequest('invoke', 'POST', 503, 0.003);
  metrics.observeRequest('invoke', 'POST', 200, 0.02);
  const text = await metrics.text();
  assert.match(text, /^kiln_http_requests_total\{route="invoke",method="POST",code="503"\} 2$/m);
  assert.match(text, /^kiln_http_requests_total\{route="invoke",method="POST",code="200"\} 1$/m);
  assert.match(text, /^kiln_http_request_duration_seconds_bucket\{le="0\.005",route="invoke"\} 2$/m);
  assert.match(text, /^kiln_http_request_duration_seconds_count\{route="invoke"\} 3$/m);
});
