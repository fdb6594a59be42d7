// DockerDriver.watchImages against a stand-in engine whose event streams the test controls:
// lines split across chunks, a stream that breaks (an engine restart) and is opened again from
// the break, a load resolved through the image, and nothing more once stopped.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type Docker from 'dockerode';
import { DockerDriver } from '../../drivers/docker/driver.js';

const ID = 'sha256:4c86fd479ae7ab696bacfcbfc77dd15c7aa9bfa9207eab169cad15393e29d0bc';
const line = (action: string, actorId: string, name: string) =>
  `${JSON.stringify({ status: action, id: actorId, Type: 'image', Action: action, Actor: { ID: actorId, Attributes: { name } } })}\n`;

function fakeEngine() {
  const streams: PassThrough[] = [];
  const asked: Array<{ since?: number }> = [];
  let opened = 0;
  const docker = {
    getEvents: async (opts: { since?: number }) => {
      opened++;
      asked.push(opts);
      const s = new PassThrough();
      streams.push(s);
      return s;
    },
    getImage: (name: string) => ({
      inspect: async () => (name === ID ? { Id: ID, RepoTags: ['fn:2', 'fn:latest'] } : { Id: `sha256:of-${name}`, RepoTags: [name] }),
    }),
  };
  return { docker: docker as unknown as Docker, streams, asked, opened: () => opened };
}

const until = async (ok: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('watchImages: reads split lines, resolves what a line leaves out, reopens a broken stream, stops', async () => {
  const engine = fakeEngine();
  const driver = new DockerDriver({ docker: engine.docker, nodeId: 'unit' });
  const seen: string[] = [];
  const stop = driver.watchImages((image, id) => seen.push(`${image} ${id}`));
  await until(() => engine.streams.length === 1);

  const tag = line('tag', ID, 'fn:1');
  engine.streams[0]!.write(tag.slice(0, 40));
  engine.streams[0]!.write(tag.slice(40));
  engine.streams[0]!.write(line('pull', 'busybox:1.36', 'busybox'));
  await until(() => seen.length === 2);
  assert.deepEqual(seen, [`fn:1 ${ID}`, 'busybox:1.36 sha256:of-busybox:1.36']);

  // The engine restarts: the stream ends, and a new one is opened a second later, from a
  // second before the break, so the engine replays what happened in between.
  assert.equal(engine.asked[0]!.since, undefined, 'the first stream starts now');
  const broke = Math.floor(Date.now() / 1000);
  engine.streams[0]!.destroy();
  await until(() => engine.streams.length === 2, 3000);
  const since = engine.asked[1]!.since;
  assert.ok(since !== undefined && since >= broke - 2 && since <= broke, `since ${since}, broke at ${broke}`);
  engine.streams[1]!.write(line('load', ID, ID));
  await until(() => seen.length === 4);
  assert.deepEqual(seen.slice(2), [`fn:2 ${ID}`, `fn:latest ${ID}`]);

  stop();
  assert.ok(engine.streams[1]!.destroyed, 'stopping closes the stream');
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(engine.opened(), 2, 'and opens no other');
});
