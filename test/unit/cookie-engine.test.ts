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
