// DockerCookie against an engine that hangs or breaks its connections (test/helpers/fake-engine.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerCookie } from '../../drivers/docker/cookie.js';
import { DriverError } from '../../drivers/errors.js';
import { toHttpError } from '../../api/errors.js';
import type { ContainerTask } from '../../drivers/contract.js';
import { fakeEngine, json, type Route } from '../helpers/fake-engine.js';

const task = (): ContainerTask => ({
  id: 'kiln-fake', image: 'fake:1', env: {}, labels: {}, memoryMb: 64, cpusMilli: 0, tmpfsMb: 0, udsPath: '/nonexistent',
  logger: { stdout: { write: () => {} }, stderr: { write: () => {} } }, writeStat: () => {},
});

/** A created cookie on a fake engine that answers `route` after the create; closed after `body`. */
async function withCookie(route: Route, body: (cookie: DockerCookie, seen: string[]) => Promise<void>, opts: { pauseMs?: number; callMs?: number } = {}): Promise<void> {
  const engine = await fakeEngine((req, res, path) => {
    if (req.method === 'POST' && path === '/containers/create') return void json(res, 201, { Id: 'fake1', Warnings: [] });
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    return route(req, res, path);
  });
  const cookie = new DockerCookie(engine.docker, task(), { HostConfig: { Tmpfs: { '/tmp': 'size=1m' } } }, undefined, opts.callMs ?? 1000, opts.pauseMs ?? 200);
  try {
    await cookie.create('sha256:fake');
    await body(cookie, engine.seen);
  } finally {
    // Removed: a wait still open is not asked again once the engine is gone.
    await cookie.close().catch(() => {});
    await engine.close();
  }
}

const hang: Route = () => {}; // takes the request, never answers

test('a pause or an unpause the engine never answers fails within the pause bound, naming it', async () => {
  for (const [what, op] of [['unpausing', 'unfreeze'], ['pausing', 'freeze']] as const) {
    await withCookie(hang, async (cookie) => {
      const began = Date.now();
      await assert.rejects(cookie[op](), (err: unknown) => err instanceof DriverError && new RegExp(`${what} container.*did not answer within 200 ms`).test(err.message));
      const took = Date.now() - began;
      assert.ok(took >= 190 && took < 1000, `${op}: bounded by 200 ms (${took} ms)`);
    });
  }
});

/** Answers an attach (a stream that stays open), a start and an inspect; the rest to `route`. */
const running = (route: Route): Route => (req, res, path) => {
  if (path === '/containers/fake1/attach') {
    res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
    res.flushHeaders();
    return;
  }
  if (path === '/containers/fake1/start') return void res.writeHead(204).end();
  if (path === '/containers/fake1/json') return void json(res, 200, { Id: 'fake1', State: { OOMKilled: false } });
  return route(req, res, path);
};

/** The run's end, or 'still waiting' after `ms`. */
async function endOf(cookie: DockerCookie, ms: number): Promise<unknown> {
  const run = await cookie.run();
  return Promise.race([run.wait(), new Promise((r) => setTimeout(r, ms, 'still waiting').unref())]);
}

/** The first wait is broken off after its head (Docker sends it at once; the engine dies before the body), later ones go to `again`. */
const waitBrokenOff = (again: Route): { route: Route; waits: () => number } => {
  let waits = 0;
  const route: Route = (req, res, path) => {
    if (path !== '/containers/fake1/wait') return false;
    if (++waits > 1) return again(req, res, path);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    setTimeout(() => req.socket.destroy(), 50);
  };
  return { route: running(route), waits: () => waits };
};

test('a wait the engine breaks off after its head (dockerd killed) is asked again: the container is seen to have exited', async () => {
  const { route, waits } = waitBrokenOff((req, res) => {
    // Killed with it (no live-restore): asked again, it has stopped.
    assert.match(req.url ?? '', /condition=not-running/);
    json(res, 200, { StatusCode: 137 });
  });
  await withCookie(route, async (cookie) => {
    assert.deepEqual(await endOf(cookie, 3000), { status: 'killed', exitCode: 137, error: new Error('container was killed') });
    assert.equal(waits(), 2);
  });
});

test('a wait broken off, then the container gone when asked again: it exited', async () => {
  const { route } = waitBrokenOff((_req, res) => json(res, 404, { message: 'No such container: fake1' }));
  await withCookie(route, async (cookie) => {
    const end = await endOf(cookie, 3000);
    assert.equal((end as { status?: string }).status, 'error', String(end));
  });
});

/** Answers an attach that ends after 100 ms, a start, an inspect, and a wait as `wait` says. */
const attachEnds = (wait: 'hangs' | 'exits'): Route => (_req, res, path) => {
  if (path === '/containers/fake1/attach') {
    res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
    res.flushHeaders();
    setTimeout(() => res.end(), 100);
    return;
  }
  if (path === '/containers/fake1/start') return void res.writeHead(204).end();
  if (path === '/containers/fake1/json') return void json(res, 200, { Id: 'fake1', State: { OOMKilled: false } });
  if (path !== '/containers/fake1/wait') return false;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  // Exited: the attach ends first, the wait's answer just after.
  if (wait === 'exits') setTimeout(() => res.end(JSON.stringify({ StatusCode: 0 })), 200);
};

for (const { wait, lost } of [
  { wait: 'hangs', lost: 1 }, // a dockerd restart with live-restore: the container runs on, its output does not come
  { wait: 'exits', lost: 0 }, // the container ended: nothing is lost
] as const) {
  test(`an output stream that ends while the wait ${wait}: the task is told its output is lost ${lost} time(s)`, async () => {
    await withCookie(attachEnds(wait), async (cookie) => {
      let told = 0;
      cookie.task.outputLost = () => void told++;
      await cookie.run();
      await new Promise((r) => setTimeout(r, 1600));
      assert.equal(told, lost);
    });
  });
}

// An engine error on the wait was taken for the container's exit, code -1: a start failed as
// 'Container failed to initialize: exited with code -1' (the function blamed), and a running
// call was cut (502 'container exited with code -1') and its container removed.
const refuse = (res: Parameters<Route>[1]) => json(res, 500, { message: 'engine trouble' });

test('a first wait the engine refuses with a 500 each time: the start fails as the engine’s (503, Retry-After), never started', async () => {
  let waits = 0;
  const route = running((_req, res, path) => {
    if (path !== '/containers/fake1/wait') return false;
    waits++;
    refuse(res);
  });
  await withCookie(route, async (cookie, seen) => {
    const err = await cookie.run().then(() => assert.fail('it started'), (e: unknown) => e);
    assert.ok(err instanceof DriverError, String(err));
    assert.match(err.message, /^asking for the exit of container for fake:1: \(HTTP code 500\) server error - engine trouble/);
    const http = toHttpError(err);
    assert.equal(http.status, 503);
    assert.match((http.body as { message: string }).message, /^container engine error: asking for the exit of container/);
    assert.equal(http.headers?.['Retry-After'], '15');
    assert.equal(waits, 4, 'asked again, a bounded number of times');
    assert.ok(!seen.includes('POST /containers/fake1/start'), 'not started');
  }, { callMs: 10_000 });
});

test('a first wait refused once with a 500, then taken: the container starts and its exit is read', async () => {
  let waits = 0;
  const route = running((_req, res, path) => {
    if (path !== '/containers/fake1/wait') return false;
    if (++waits === 1) return refuse(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    setTimeout(() => res.end(JSON.stringify({ StatusCode: 0 })), 200);
  });
  await withCookie(route, async (cookie, seen) => {
    assert.deepEqual(await endOf(cookie, 3000), { status: 'success', exitCode: 0 });
    assert.equal(waits, 2);
    assert.ok(seen.includes('POST /containers/fake1/start'));
  });
});

test('a wait broken off after the start, then refused with 500s when asked again: no exit is made up; it is asked until the engine says', async () => {
  let refusing = true;
  const { route, waits } = waitBrokenOff((_req, res) => (refusing ? refuse(res) : json(res, 200, { StatusCode: 137 })));
  await withCookie(route, async (cookie) => {
    const run = await cookie.run();
    const end = run.wait();
    const early = await Promise.race([end, new Promise((r) => setTimeout(r, 1200, 'still waiting').unref())]);
    assert.equal(early, 'still waiting', `the engine's refusals are not the container's exit: ${JSON.stringify(early)}`);
    assert.ok(waits() >= 3, `asked again (${waits()} waits)`);
    refusing = false;
    const last = await Promise.race([end, new Promise((r) => setTimeout(r, 6000, 'still waiting').unref())]);
    assert.deepEqual(last, { status: 'killed', exitCode: 137, error: new Error('container was killed') });
  });
});

// A start that failed after its attach left the attach's connection to the engine open for good
// (the engine keeps it open after the container's removal): one descriptor each, for ever.
for (const fails of ['wait', 'start'] as const) {
  test(`a start whose ${fails} the engine refuses closes its attach connection`, async () => {
    let attach: import('node:net').Socket | undefined;
    let attachClosed = false;
    const route: Route = (req, res, path) => {
      if (path === '/containers/fake1/attach') {
        attach = req.socket;
        attach.once('close', () => (attachClosed = true));
        res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
        res.flushHeaders();
        return;
      }
      if (path === '/containers/fake1/wait') {
        if (fails === 'wait') return refuse(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
      }
      if (path === '/containers/fake1/start') return refuse(res);
      return false;
    };
    await withCookie(route, async (cookie) => {
      await assert.rejects(cookie.run(), DriverError);
      assert.ok(attach, 'attached');
      for (let i = 0; i < 100 && !attachClosed; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(attachClosed, 'the attach connection is closed once the start failed');
    }, { callMs: 10_000 });
  });
}
