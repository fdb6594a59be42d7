// The top-level docker-compose.yml, run for real: PostgreSQL and two Kiln nodes in containers
// driving this machine's Docker engine through its socket. No registry here, so the images
// are local stand-ins passed through the file's variables (test/helpers/compose-images.ts,
// Dockerfile.prebuilt); everything else is the file as a user runs it. A wrong shared
// directory, socket mount or node id shows up as a failing invoke or a wrong label.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { APP_LABEL, FN_LABEL } from '../../drivers/docker/driver.js';
import { ComposeProject } from '../helpers/compose.js';
import { freePort } from '../helpers/daemon.js';
import { composePostgres, composeServerBase } from '../helpers/compose-images.js';
import { nodeContainers } from '../helpers/containers.js';
import { docker, fixtureImage, projectRoot } from '../helpers/images.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';
import { call as plainCall, type Reply } from '../helpers/server.js';

interface Named {
  id: string;
  name: string;
}
interface Page<T> {
  items: T[];
}

// The file passes KILN_AUTH_TOKENS to both nodes: the test sets one, and sends it.
const TOKEN = 'compose-test-token-0123456789';
const call = <T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<Reply<T>> =>
  plainCall<T>(base, method, path, body, { authorization: `Bearer ${TOKEN}` });

// The shared directory must be on the engine's machine: only a local engine qualifies.
const remoteEngine = process.env.DOCKER_HOST !== undefined && !process.env.DOCKER_HOST.startsWith('unix://');

describe('docker-compose.yml: PostgreSQL and two Kiln nodes', { skip: remoteEngine && 'DOCKER_HOST is not a local engine', timeout: 300_000 }, () => {
  const client: Docker = docker();
  const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
  // Node ids start with `test-`: scripts/test.sh fails the run if their containers remain.
  const nodePrefix = `test-compose-${run}`;
  const node1 = `${nodePrefix}-1`;
  const node2 = `${nodePrefix}-2`;
  const serverImage = `kiln-test/compose-server:${run}`;
  let project: ComposeProject | undefined;
  let sharedDir = '';
  let url1 = '';
  let url2 = '';
  let helloImage = '';
  let lambdaImage = '';

  /** Waits for GET /version on a node; on timeout, fails with the services' logs. */
  async function waitForNode(url: string, p: ComposeProject): Promise<string> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        const res = await call<{ version: string }>(url, 'GET', '/version');
        if (res.status === 200) return res.body.version;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) assert.fail(`${url} did not answer GET /version within 90 s:\n${await p.logs()}`);
      await sleep(250);
    }
  }

  before(async () => {
    const [base, postgres, hello, lambda] = await Promise.all([
      composeServerBase(client),
      composePostgres(client),
      fixtureImage('hello-fdk', client),
      lambdaFixtureImage('node-hello', client),
    ]);
    helloImage = hello;
    lambdaImage = lambda;
    // Short (socket paths stay under 108 bytes) and named kiln-*, so scripts/test.sh notices
    // it if left behind.
    sharedDir = await mkdtemp(join(tmpdir(), 'kiln-compose-'));
    const [port1, port2] = [await freePort(), await freePort()];
    project = new ComposeProject(`kilntest${run.replace('-', '')}`, projectRoot(), {
      KILN_IMAGE: serverImage,
      KILN_DOCKERFILE: 'Dockerfile.prebuilt',
      KILN_NODE_IMAGE: base,
      KILN_POSTGRES_IMAGE: postgres,
      KILN_SHARED_DIR: sharedDir,
      KILN_1_PORT: String(port1),
      KILN_2_PORT: String(port2),
      KILN_NODE_ID_PREFIX: nodePrefix,
      KILN_AUTH_TOKENS: TOKEN,
      // Characters a URL would misread: the nodes must still reach the database.
      KILN_DB_PASSWORD: 'pa/ss@1:x?#',
    });
    url1 = `http://127.0.0.1:${port1}`;
    url2 = `http://127.0.0.1:${port2}`;
    // Both services share the image: build it once, then `up` finds it.
    await project.run(['build', 'kiln-1'], 240_000);
    await project.run(['up', '-d']);
    const p = project;
    await Promise.all([waitForNode(url1, p), waitForNode(url2, p)]);
  });

  after(async () => {
    // Everything the run made, even when a step above failed; each step on its own.
    if (project) {
      await project.down().catch((err: unknown) => console.error(`compose test cleanup: ${String(err)}`));
      // Should down itself have failed: the project's services, by compose's own label.
      const services = await client.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project.name}`] } }).catch(() => []);
      for (const c of services) await client.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
    }
    // A node killed before its own shutdown leaves its function containers: they go here.
    for (const node of [node1, node2]) {
      for (const c of await nodeContainers(client, node).catch(() => [])) {
        await client.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
      }
    }
    if (project) {
      await client.getNetwork(`${project.name}_default`).remove().catch(() => {});
      await client.getVolume(`${project.name}_pgdata`).remove().catch(() => {});
    }
    await client.getImage(serverImage).remove({ force: true }).catch(() => {});
    if (sharedDir) await rm(sharedDir, { recursive: true, force: true });
  });

  let app: Named;
  let hello: Named;
  let lambdaFn: Named;

  it('both nodes answer GET /version with the same version, and want the token for the API', async () => {
    const [v1, v2] = await Promise.all([call<{ version: string }>(url1, 'GET', '/version'), call<{ version: string }>(url2, 'GET', '/version')]);
    assert.equal(v1.status, 200);
    assert.equal(v1.body.version, v2.body.version);
    // Both nodes got the token from the file: without it, the API is closed.
    for (const url of [url1, url2]) assert.equal((await plainCall(url, 'GET', '/v2/apps')).status, 401, url);
  });

  it('an http-stream fn created through node 1 runs through both nodes and through a trigger', async () => {
    const a = await call<Named>(url1, 'POST', '/v2/apps', { name: `compose-${run}` });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    app = a.body;
    const f = await call<Named>(url1, 'POST', '/v2/fns', { app_id: app.id, name: 'hello', image: helloImage });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    hello = f.body;
    const t = await call<Named>(url1, 'POST', '/v2/triggers', { app_id: app.id, fn_id: hello.id, name: 'hello', type: 'http', source: '/hello' });
    assert.equal(t.status, 200, JSON.stringify(t.body));

    for (const [url, who] of [[url1, 'one'], [url2, 'two']] as const) {
      const res = await call(url, 'POST', `/invoke/${hello.id}`, { name: who });
      assert.equal(res.status, 200, `invoke through ${url}: ${JSON.stringify(res.body)}\n${await project!.logs()}`);
      assert.deepEqual(res.body, { message: `Hello ${who}` });
    }
    const viaTrigger = await call(url2, 'POST', `/t/${app.name}/hello`, { name: 'trigger' });
    assert.equal(viaTrigger.status, 200, JSON.stringify(viaTrigger.body));
    assert.deepEqual(viaTrigger.body, { message: 'Hello trigger' });
  });

  it('a Lambda-format fn runs through both nodes: the runtime bundle is on the shared path', async () => {
    const f = await call<Named>(url1, 'POST', '/v2/fns', {
      app_id: app.id, name: 'lambda-hello', image: lambdaImage, format: 'lambda', config: { _HANDLER: 'index.handler' },
    });
    assert.equal(f.status, 200, JSON.stringify(f.body));
    lambdaFn = f.body;
    for (const [url, who] of [[url2, 'lambda two'], [url1, 'lambda one']] as const) {
      const res = await call(url, 'POST', `/invoke/${lambdaFn.id}`, { name: who });
      assert.equal(res.status, 200, `invoke through ${url}: ${JSON.stringify(res.body)}\n${await project!.logs()}`);
      assert.deepEqual(res.body, { message: `Hello ${who}` });
    }
    // The nodes made their socket directories and bundles in the host directory they share.
    const made = await readdir(sharedDir);
    assert.ok(made.includes('kiln-iofs'), `no kiln-iofs in ${sharedDir}: ${made.join(', ')}`);
    assert.ok(made.some((n) => n.startsWith('kiln-runtime-')), `no runtime bundle in ${sharedDir}: ${made.join(', ')}`);
  });

  it('node 2 lists what node 1 created', async () => {
    const a = await call<Named>(url2, 'GET', `/v2/apps/${app.id}`);
    assert.equal(a.status, 200);
    assert.equal(a.body.name, app.name);
    const fns = await call<Page<Named>>(url2, 'GET', `/v2/fns?app_id=${app.id}`);
    assert.deepEqual(fns.body.items.map((f) => f.id).sort(), [hello.id, lambdaFn.id].sort());
    const triggers = await call<Page<Named>>(url2, 'GET', `/v2/triggers?app_id=${app.id}`);
    assert.deepEqual(triggers.body.items.map((t) => t.name), ['hello']);
  });

  it("each node's function containers carry its own io.kiln.node label", async () => {
    for (const node of [node1, node2]) {
      const mine = await nodeContainers(client, node);
      // Both nodes ran both fns, each in a container of its own.
      assert.deepEqual(mine.map((c) => c.Labels[FN_LABEL]).sort(), [hello.id, lambdaFn.id].sort(), `containers of ${node}`);
      for (const c of mine) assert.equal(c.Labels[APP_LABEL], app.id);
    }
  });

  it('docker-compose down stops the nodes, and they remove their function containers', async () => {
    await project!.down();
    for (const node of [node1, node2]) {
      const left = await nodeContainers(client, node);
      assert.deepEqual(left.map((c) => c.Names[0]), [], `containers of ${node} after down`);
    }
    assert.deepEqual(await readdir(join(sharedDir, 'kiln-iofs')), [], 'socket directories left after down');
  });
});
