// GET /metrics: Prometheus text from prom-client (the standard Node client; its registry
// renders the exposition format and the process metrics). The agent's figures are read at
// scrape time from a snapshot, so the call path only bumps plain integers, and one bucket of
// the call-duration histogram.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentStats, FinishedStatus } from '../agent/agent.js';

export interface Metrics {
  contentType: string;
  text(): Promise<string>;
  /** A call has finished with this recorded status, `seconds` after the agent took it. */
  observeCall(status: FinishedStatus, seconds: number): void;
}

/**
 * Call durations' bucket bounds, in seconds: from a warm call's few ms to Fn's longest timeout
 * (300 s), with cold starts (0.2 to 1 s) in between.
 */
export const CALL_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createMetrics(stats: () => AgentStats): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kiln_' });
  // prom-client counts CPU from its own creation, after start-up (the engine's sweep, the Lambda
  // bundle); Prometheus' process_cpu_seconds_total is the process's since it began.
  const { user, system } = process.cpuUsage();
  for (const [name, micros] of [['user', user], ['system', system], ['', user + system]] as const) {
    const metric = registry.getSingleMetric(`kiln_process_cpu_${name && `${name}_`}seconds_total`);
    if (metric instanceof Counter) metric.inc(micros / 1e6);
  }
  // One snapshot per scrape, shared by every collector below.
  let snap: AgentStats | undefined;
  const current = (): AgentStats => (snap ??= stats());

  new Gauge({
    name: 'kiln_calls_queued', help: 'Calls waiting for a container (Fn: queued).', registers: [registry],
    collect() {
      this.set(current().queued);
    },
  });
  new Gauge({
    name: 'kiln_calls_running', help: 'Calls running on a container (Fn: running).', registers: [registry],
    collect() {
      this.set(current().running);
    },
  });
  new Counter({
    name: 'kiln_calls_total', help: 'Finished calls by recorded status (Fn: completed, failed, timedout).', labelNames: ['status'], registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(current().calls)) this.inc({ status }, n);
    },
  });
  new Gauge({
    name: 'kiln_containers', help: 'Containers by state.', labelNames: ['state'], registers: [registry],
    collect() {
      // A closed one is still being removed, its memory still reserved: shown, so the states add up.
      for (const [state, n] of Object.entries(current().containers)) this.set({ state: state === 'closed' ? 'removing' : state }, n);
    },
  });
  new Gauge({
    name: 'kiln_memory_reserved_bytes', help: 'Memory reserved for containers.', registers: [registry],
    collect() {
      this.set(current().memory.reservedBytes);
    },
  });
  new Gauge({
    name: 'kiln_memory_capacity_bytes', help: 'Memory this server gives containers in all.', registers: [registry],
    collect() {
      this.set(current().memory.capacityBytes);
    },
  });

  const durations = new Histogram({
    name: 'kiln_call_duration_seconds',
    help: 'Calls from the moment the agent takes them (queue and container start included) to their end, by recorded status.',
    labelNames: ['status'], buckets: [...CALL_DURATION_BUCKETS], registers: [registry],
  });
  // One child per status, made once: an observation on the call path is then a bucket search.
  const byStatus = new Map<FinishedStatus, { observe(v: number): void }>();

  return {
    observeCall(status, seconds) {
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = durations.labels(status)));
      child.observe(seconds);
    },
    contentType: registry.contentType,
    text: async () => {
      snap = undefined;
      try {
        return await registry.metrics();
      } finally {
        snap = undefined;
      }
    },
  };
}
