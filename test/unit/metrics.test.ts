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
