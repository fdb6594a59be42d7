// Helpers for the base image tests: one-off containers run the way the agent runs functions
// (read-only root, user 1000, no network, no capabilities), labelled with the test's pid so
// leak checks can find them, and the check that a second build is a no-op.
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { inspectImage } from '../../images/inspect.js';
import { readProgress } from '../../images/progress.js';
import { demuxLogs } from './images.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Labels that mark a container as made by this test process. */
export function testLabels(suite: string): Record<string, string> {
  return { 'io.kiln.test': suite, 'io.kiln.test.pid': String(process.pid) };
}

/** This process's containers still in the engine (there should be none after a suite). */
export async function leftoverContainers(client: Docker): Promise<Docker.ContainerInfo[]> {
  return client.listContainers({ all: true, filters: JSON.stringify({ label: [`io.kiln.test.pid=${process.pid}`] }) });
}

/** Runs `cmd` in `image` to completion and removes the container; `binds` as in `-v`. */
export async function runLocked(client: Docker, image: string, cmd: string[], binds: string[] = []): Promise<RunResult> {
  const c = await client.createContainer({
    Image: image,
    Cmd: cmd,
    User: '1000:1000',
    Labels: testLabels('images'),
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,size=16m' },
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      ...(binds.length ? { Binds: binds } : {}),
    },
  });
  try {
    await c.start();
    const res = (await c.wait()) as { StatusCode: number };
    const logs = demuxLogs((await c.logs({ stdout: true, stderr: true, follow: false })) as Buffer);
    return { code: res.StatusCode, ...logs };
  } finally {
    await c.remove({ force: true });
  }
}

/**
 * Asserts that calling `ensure` again returns `tag` and leaves `tag` and `<repo>:latest` on the
 * same image, carrying a content hash; returns that image.
 */
export async function assertEnsureIsNoop(
  client: Docker,
  tag: string,
  ensure: () => Promise<string>,
): Promise<Docker.ImageInspectInfo> {
  const first = await inspectImage(client, tag);
  assert.equal(await ensure(), tag);
  const second = await inspectImage(client, tag);
  const latest = await inspectImage(client, `${tag.slice(0, tag.lastIndexOf(':'))}:latest`);
  assert.ok(first && second && latest);
  assert.equal(second.Id, first.Id);
  assert.equal(latest.Id, first.Id);
  assert.match(first.Config.Labels?.['io.kiln.content-hash'] ?? '', /^[0-9a-f]{64}$/);
  return first;
}

/** Imports an image `repo:tag` holding just `files` (path without the leading slash → text). */
export async function importFiles(client: Docker, ref: string, files: Record<string, string>): Promise<void> {
  const pack = tar.pack();
  for (const [name, text] of Object.entries(files)) pack.entry({ name, type: 'file', mode: 0o644 }, text);
  pack.finalize();
  const colon = ref.lastIndexOf(':');
  const opts = { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  await readProgress(await client.importImage(pack as unknown as NodeJS.ReadableStream, opts));
}
