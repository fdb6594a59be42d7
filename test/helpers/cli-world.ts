// What a CLI test file runs against: a Kiln server on a fresh SQLite file, a temp dir, and
// the CLI's environment pointed at both. After the file: the server stopped, the temp dir
// and the function images the file built (tags starting with `<prefix>-`) removed, and a
// check that no container is left.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { nodeContainers } from './containers.js';
import { sqliteDb, type TestDb } from './db.js';
import { docker } from './images.js';
import { startServer, type TestServer } from './server.js';

export interface CliWorld {
  srv: TestServer;
  work: string;
  /** FN_API_URL and KILN_CONFIG_DIR for runCli. */
  env: Record<string, string>;
}

/**
 * Registers the file's before/after hooks; `ready` gets the world once it is up (node:test
 * does not wait for one root `before` hook before starting the next).
 */
export function cliWorld(prefix: string, ready: (world: CliWorld) => void): CliWorld {
  const client = docker();
  const world = {} as CliWorld;
  let db: TestDb;
  before(async () => {
    world.work = await mkdtemp(join(tmpdir(), `kiln-cli-${prefix}-`));
    db = await sqliteDb();
    world.srv = await startServer(db.url);
    world.env = { FN_API_URL: world.srv.url, KILN_CONFIG_DIR: join(world.work, 'config') };
    ready(world);
  });
  after(async () => {
    const nodeId = world.srv.nodeId;
    await world.srv.stop();
    await db.cleanup();
    await rm(world.work, { recursive: true, force: true });
    // By id, and by the fn name kiln build labels them with too: a rebuild of a tag (--no-bump,
    // --no-cache) leaves the image it replaced untagged, out of reach of a tag.
    for (const img of await client.listImages({ all: true, filters: JSON.stringify({ label: ['io.kiln.function'] }) })) {
      const mine = (img.RepoTags ?? []).some((t) => t.startsWith(`${prefix}-`)) || (img.Labels?.['io.kiln.function'] ?? '').startsWith(`${prefix}-`);
      if (mine) await client.getImage(img.Id).remove({ force: true }).catch(() => {});
    }
    assert.deepEqual(await nodeContainers(client, nodeId), [], 'the server removed its containers');
  });
  return world;
}
