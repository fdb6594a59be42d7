// DockerCookie against an engine that hangs or breaks its connections (test/helpers/fake-engine.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerCookie } from '../../drivers/docker/cookie.js';
import { DriverError } from '../../drivers/errors.js';
import type { ContainerTask } from '../../drivers/contract.js';
import { fakeEngine, json, type Route } from '../helpers/fake-engine.js';

const task = (): ContainerTask => ({
  id: 'kiln-fake', image: 'fake:1', env: {}, labels: {}, memoryMb: 64, cpusMilli: 0, tmpfsMb: 0, udsPath: '/nonexistent',
  logger: { stdout: { write: () => {} }, stderr: { write: () => {} } }, writeStat: () => {},
});

/** A created cookie on a fake engine that answers `route` after the create; closed after `body`. */
async function withCookie(route: Route, body: (cookie: DockerCookie, seen: string[]) => Promise<void>, opts: { pauseMs?: number } = {}): Promise<void> {
  const engine = await fakeEngine((req, res, path) => {
    if (req.method === 'POST' && path === '/containers/create') return void json(res, 201, { Id: 'fake1', Warnings: [] });
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    return route(req, res, path);
  });
  try {
    const cookie = new DockerCookie(engine.docker, task(), { HostConfig: { Tmpfs: { '/tmp': 'size=1m' } } }, undefined, 1000, opts.pauseMs ?? 200);
    await cookie.create('sha256:fake');
    await body(cookie, engine.seen);
  } finally {
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

test('a wait the engine breaks off after its head (dockerd killed) is asked again: the container is seen to have exited', async () => {
  let waits = 0;
  await withCookie(running((req, res, path) => {
    if (path !== '/containers/fake1/wait') return false;
    if (++waits === 1) {
      // Docker sends the head at once; the engine dies before the body.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    // Killed with it (no live-restore): asked again, it has stopped.
    assert.match(req.url ?? '', /condition=not-running/);
    json(res, 200, { StatusCode: 137 });
  }), async (cookie) => {
    assert.deepEqual(await endOf(cookie, 3000), { status: 'killed', exitCode: 137, error: new Error('container was killed') });
    assert.equal(waits, 2);
  });
});

test('a wait broken off, then the container gone when asked again: it exited', async () => {
  let waits = 0;
  await withCookie(running((req, res, path) => {
    if (path !== '/containers/fake1/wait') return false;
    if (++waits === 1) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    json(res, 404, { message: 'No such container: fake1' });
  }), async (cookie) => {
    const end = await endOf(cookie, 3000);
    assert.equal((end as { status?: string }).status, 'error', String(end));
  });
});
