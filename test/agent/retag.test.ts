// An image rebuilt under the name a fn runs (`kiln deploy --no-bump`, `docker build -t` of the
// same tag, a pull of :latest): hot containers of the old image retire and the next call runs
// the new one, on the engine's image events, rather than old code until the fn idles out.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { eventually, nodeContainers } from '../helpers/containers.js';
import { FN_LABEL } from '../../drivers/docker/driver.js';

interface Echo {
  env: Record<string, string>;
  /** Calls this container has taken (a pid says nothing: each container has its own pid namespace). */
  calls: number;
}

const REPO = 'kiln-test/retag';
const IMAGE = `${REPO}:1`;

describe('an image rebuilt under its name', () => {
  let t: AgentSuite;
  /** Every image built here, removed at the end (a rebuild leaves the one before untagged). */
  const built: string[] = [];

  /** Names tagged here besides IMAGE, untagged at the end. */
  const tagged: string[] = [];

  /** Builds `FROM base` plus one ENV under `name` (IMAGE unless said), as a rebuild under the same tag does. */
  async function rebuild(marker: string, name = IMAGE): Promise<void> {
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile' }, `FROM ${t.tester}\nENV KILN_RETAG=${marker}\n`);
    pack.finalize();
    const res = await t.docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: name, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) => t.docker.modem.followProgress(res, (err) => (err ? reject(err) : resolve())));
    built.push((await t.docker.getImage(name).inspect()).Id);
  }

  const containersOf = async (fnId: string) =>
    (await nodeContainers(t.docker, t.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId);

  before(async () => {
    t = await agentSuite('retag', { FN_FREEZE_IDLE_MSECS: '-1' });
    await t.docker.getImage(t.tester).tag({ repo: REPO, tag: '1' });
  });

  after(async () => {
    await t?.close();
    await t?.docker.getImage(IMAGE).remove({ force: true }).catch(() => {});
    for (const name of tagged) await t?.docker.getImage(name).remove({ force: true }).catch(() => {});
    for (const id of built) await t?.docker.getImage(id).remove({ force: true }).catch(() => {});
  });

  test('the next call runs the new image; the old container is removed', async () => {
    const fn = await t.mkFn('rebuilt', { image: IMAGE, config: { ECHO_ENV: 'KILN_RETAG' } });
    const first = (await t.invoke(fn.id)).body as Echo;
    assert.equal(first.env.KILN_RETAG, undefined);
    assert.equal(((await t.invoke(fn.id)).body as Echo).calls, first.calls + 1, 'the hot container is reused');
    const [old] = await containersOf(fn.id);
    assert.ok(old);

    await rebuild('two');
    let seen: Echo | undefined;
    assert.ok(await eventually(async () => {
      seen = (await t.invoke(fn.id)).body as Echo;
      return seen.env.KILN_RETAG === 'two';
    }, 5000, 100), `still the old image: ${JSON.stringify(seen?.env)}`);
    assert.equal(seen!.calls, 1, 'a new container');
    assert.ok(await eventually(async () => !(await containersOf(fn.id)).some((c) => c.Id === old.Id)), 'the old container is removed');

    // Only that image's pools: another fn on the fixture's own tag keeps its container.
    const other = await t.mkFn('untouched');
    const before = ((await t.invoke(other.id)).body as Echo).calls;
    await rebuild('three');
    assert.ok(await eventually(async () => ((await t.invoke(fn.id)).body as Echo).env.KILN_RETAG === 'three', 5000, 100));
    assert.equal(((await t.invoke(other.id)).body as Echo).calls, before + 1, 'its container is still the same');
  });

  /**
   * A fn whose image names `build` in another form than the engine's events do (`repo:latest`,
   * `repo:2`): tagged from the fixture, called twice on one container, rebuilt, called again.
   */
  async function rebuiltInAnotherForm(fnName: string, image: string, build: string, marker: string): Promise<void> {
    const [repo, tag] = build.split(':') as [string, string];
    tagged.push(build);
    await t.docker.getImage(t.tester).tag({ repo, tag });
    const fn = await t.mkFn(fnName, { image, config: { ECHO_ENV: 'KILN_RETAG' } });
    const first = (await t.invoke(fn.id)).body as Echo;
    assert.equal(first.env.KILN_RETAG, undefined);
    assert.equal(((await t.invoke(fn.id)).body as Echo).calls, first.calls + 1, 'the hot container is reused');

    await rebuild(marker, build);
    let seen: Echo | undefined;
    assert.ok(await eventually(async () => {
      seen = (await t.invoke(fn.id)).body as Echo;
      return seen.env.KILN_RETAG === marker;
    }, 5000, 100), `fn image "${image}": still the old image after ${build} was rebuilt: ${JSON.stringify(seen?.env)}`);
    assert.equal(seen!.calls, 1, 'a new container');
  }

  // Names of this process's own, so no other run's images are touched.
  const bareRepo = `kiln-test-retag-bare-${process.pid}`;

  test('a fn whose image has no tag (repo, meaning repo:latest) runs the image rebuilt as repo:latest', () =>
    rebuiltInAnotherForm('untagged', bareRepo, `${bareRepo}:latest`, 'bare'));

  test('a fn whose image is written docker.io/library/repo:2 runs the image rebuilt as repo:2', () =>
    rebuiltInAnotherForm('library', `docker.io/library/${bareRepo}:2`, `${bareRepo}:2`, 'library'));

  test('the same image under the name again keeps the container; a docker load that moves the name back is seen', async () => {
    const fn = await t.mkFn('reloaded', { image: IMAGE, config: { ECHO_ENV: 'KILN_RETAG' } });
    await rebuild('four');
    const four = (await t.invoke(fn.id)).body as Echo;
    assert.equal(four.env.KILN_RETAG, 'four');
    const saved = await new Promise<Buffer>((resolve, reject) => {
      void t.docker.getImage(IMAGE).get().then((stream) => {
        const parts: Buffer[] = [];
        stream.on('data', (b: Buffer) => parts.push(b)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
      }, reject);
    });

    // A tag event for the image the name already names: nothing to retire.
    await t.docker.getImage(IMAGE).tag({ repo: REPO, tag: '1' });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(((await t.invoke(fn.id)).body as Echo).calls, four.calls + 1, 'a no-op retag kept the hot container');

    // The same while a first container is starting (a pull's own event comes then): it serves.
    const cold = await t.mkFn('cold-retag', { image: IMAGE });
    const firstCall = t.invoke(cold.id);
    await new Promise((r) => setTimeout(r, 40));
    await t.docker.getImage(IMAGE).tag({ repo: REPO, tag: '1' });
    assert.equal(((await firstCall).body as Echo).calls, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(((await t.invoke(cold.id)).body as Echo).calls, 2, 'the container that was starting is kept');

    // docker load logs only a load event naming the image id: its names come from the image.
    await rebuild('five');
    assert.ok(await eventually(async () => ((await t.invoke(fn.id)).body as Echo).env.KILN_RETAG === 'five', 5000, 100));
    await t.docker.loadImage(Readable.from([saved])).then((res) => new Promise<void>((resolve, reject) =>
      t.docker.modem.followProgress(res, (err) => (err ? reject(err) : resolve()))));
    assert.ok(await eventually(async () => ((await t.invoke(fn.id)).body as Echo).env.KILN_RETAG === 'four', 5000, 100), 'the loaded image runs');
  });
});
