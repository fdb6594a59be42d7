// GET /metrics: Prometheus text from prom-client (the standard Node client; its registry
// renders the exposition format and the process metrics). The agent's figures are read at
// scrape time from a snapshot, so the call path only bumps plain integers, and one bucket of
// the call-duration histogram (and of the request-duration one). Every label takes a few fixed
// values: never a path, an id or an error's text.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentStats, FinishedStatus } from '../agent/agent.js';
import { FAILURE_KINDS, type FailureKind } from '../agent/failure-kind.js';
import type { RequestRoute } from './request-route.js';

type ContainerFormat = 'http-stream' | 'lambda';

export interface Metrics {
  contentType: string;
  text(): Promise<string>;
  /** A call has finished with this recorded status, `seconds` after the agent took it; `failure` unless it succeeded. */
  observeCall(status: FinishedStatus, seconds: number, failure?: FailureKind): void;
  /** A container start has ended: started (`success`, taking `seconds`) or failed so. */
  observeStart(format: ContainerFormat, outcome: 'success' | FailureKind, seconds: number): void;
  /** The API server has answered a request (`code`: its status; 499 when none was sent), `seconds` after it came. */
  observeRequest(route: RequestRoute, method: string, code: number, seconds: number): void;
}

/**
 * Call durations' bucket bounds, in seconds: from a warm call's few ms to Fn's longest timeout
 * (300 s), with cold starts (0.2 to 1 s) in between.
 */
export const CALL_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Container starts' bucket bounds, in seconds: a warm engine starts an FDK container in 0.2 to
 * 1 s; an image pull or a slow runtime's init takes seconds (FN_HOT_START_TIMEOUT_MSECS: 5 s).
 */
export const CONTAINER_START_BUCKETS: readonly number[] = [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

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

  // Counted in plain integers on the call path, handed to prom-client at scrape time. Every kind
  // is there from the start, at 0, so a rate() over it needs no first failure.
  const failures = new Map<FailureKind, number>(FAILURE_KINDS.map((k) => [k, 0]));
  new Counter({
    name: 'kiln_call_failures_total',
    help: 'Calls that did not succeed, by why: the function\'s own failures (function, timeout, init) apart from the platform\'s (busy, capacity, image, config, engine, ...).',
    labelNames: ['kind'], registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of failures) this.inc({ kind }, n);
    },
  });

  const starts = new Map<string, { format: ContainerFormat; outcome: string; n: number }>();
  new Counter({
    name: 'kiln_container_starts_total', help: 'Container starts that ended, by format and outcome (success, or why it failed).',
    labelNames: ['format', 'outcome'], registers: [registry],
    collect() {
      this.reset();
      for (const { format, outcome, n } of starts.values()) this.inc({ format, outcome }, n);
    },
  });
  const startSeconds = new Histogram({
    name: 'kiln_container_start_seconds',
    help: 'Successful container starts, from asking the engine to the container being ready for calls (an image pull included).',
    labelNames: ['format'], buckets: [...CONTAINER_START_BUCKETS], registers: [registry],
  });

  // Requests by a key of their labels: one string and one Map lookup per request.
  const requests = new Map<string, { route: RequestRoute; method: string; code: string; n: number }>();
  new Counter({
    name: 'kiln_http_requests_total', help: 'Requests the API server answered, by route (a fixed set, never the path), method and status code.',
    labelNames: ['route', 'method', 'code'], registers: [registry],
    collect() {
      this.reset();
      for (const { route, method, code, n } of requests.values()) this.inc({ route, method, code }, n);
    },
  });
  const requestSeconds = new Histogram({
    name: 'kiln_http_request_duration_seconds', help: 'Requests from their arrival to the end of their answer, by route.',
    labelNames: ['route'], buckets: [...CALL_DURATION_BUCKETS], registers: [registry],
  });
  const byRoute = new Map<RequestRoute, { observe(v: number): void }>();

  const durations = new Histogram({
    name: 'kiln_call_duration_seconds',
    help: 'Calls from the moment the agent takes them (queue and container start included) to their end, by recorded status.',
    labelNames: ['status'], buckets: [...CALL_DURATION_BUCKETS], registers: [registry],
  });
  // One child per status, made once: an observation on the call path is then a bucket search.
  const byStatus = new Map<FinishedStatus, { observe(v: number): void }>();

  return {
    observeCall(status, seconds, failure) {
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = durations.labels(status)));
      child.observe(seconds);
      if (failure !== undefined) failures.set(failure, (failures.get(failure) ?? 0) + 1);
    },
    observeStart(format, outcome, seconds) {
      const key = `${format} ${outcome}`;
      const hit = starts.get(key);
      if (hit) hit.n++;
      else starts.set(key, { format, outcome, n: 1 });
      if (outcome === 'success') startSeconds.observe({ format }, seconds);
    },
    observeRequest(route, method, code, seconds) {
      const key = `${route} ${method} ${code}`;
      const hit = requests.get(key);
      if (hit) hit.n++;
      else requests.set(key, { route, method, code: String(code), n: 1 });
      let child = byRoute.get(route);
      if (!child) byRoute.set(route, (child = requestSeconds.labels(route)));
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
