// The agent's periodic sweep on a Docker engine that takes a request and never answers it: the
// sweep's requests are bounded, so a sweep that hung is given up and the next one runs. (Before,
// the first unanswered list held the sweep for ever, and no sweep ran again.)
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Agent } from '../../agent/agent.js';
import { DockerDriver } from '../../drivers/docker/driver.js';
import { fakeEngine, json } from '../helpers/fake-engine.js';
import { MemoryCallStore } from '../helpers/stand-in-engine.js';
import { uniqueNodeId } from '../helpers/server.js';

const MiB = 1024 * 1024;

test('a periodic sweep the engine never answers is given up after the deadline, and the next sweep runs', { timeout: 20_000 }, async () => {
  let lists = 0;
  const engine = await fakeEngine((req, res, path) => {
    if (req.method !== 'GET' || path !== '/containers/json') return false;
    // The first list is taken and never answered; the engine answers the ones after.
    if (++lists === 1) return;
    json(res, 200, []);
  });
  const iofs = await mkdtemp(join(tmpdir(), 'kiln-sweep-'));
  const nodeId = uniqueNodeId();
  const driver = new DockerDriver({ docker: engine.docker, nodeId, pull: false, engineCallMs: 300 });
  const agent = new Agent(
    {
      iofsPath: iofs, nodeId, freezeIdleMs: 50, startTimeoutMs: 5000, maxResponseBytes: 6 * MiB, maxStreamedResponseBytes: 20 * MiB,
      maxLogBytes: MiB, maxQueueMs: 2000, capacity: { memoryBytes: 256 * MiB, cpuMilli: 4000 }, networks: [], allowedNetworks: [],
      shutdownGraceMs: 0, orphanSweepMs: 100,
    },
    { driver, store: new MemoryCallStore(), log: pino({ level: 'silent' }), newId: () => 'unused', labelsFor: (a, f) => driver.labelsFor(a, f) },
  );
  try {
    const until = Date.now() + 5000;
    while (lists < 3 && Date.now() < until) await sleep(20);
    assert.ok(lists >= 3, `the sweep went on after the unanswered list (${lists} list(s) asked in 5 s)`);
  } finally {
    await agent.shutdown();
    await engine.close();
    await rm(iofs, { recursive: true, force: true });
  }
});
