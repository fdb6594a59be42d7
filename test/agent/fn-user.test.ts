// KILN_FN_USER on real containers: http-stream and Lambda functions run as the configured
// uid:gid (the engine's User, and the owner of what the function makes in its socket
// directory on the host) and still serve calls.
import assert from 'node:assert/strict';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FN_LABEL } from '../../drivers/docker/driver.js';
import { agentSuite, type AgentSuite } from '../helpers/agent-suite.js';
import { nodeContainers } from '../helpers/containers.js';
import { lambdaFixtureImage } from '../helpers/lambda-images.js';

const UID = 100000;
const GID = 100001;

/** The fn's one container: its User, and who owns lsnr.sock (made by the function's process). */
async function runsAs(s: AgentSuite, fnId: string): Promise<{ user: string; owner: string }> {
  const mine = (await nodeContainers(s.docker, s.srv.nodeId)).filter((c) => c.Labels[FN_LABEL] === fnId);
  assert.equal(mine.length, 1);
  const info = await s.docker.getContainer(mine[0]!.Id).inspect();
  const iofs = info.Mounts.find((m) => m.Destination === '/tmp/iofs');
  assert.ok(iofs, 'the socket directory is mounted');
  const st = await lstat(join(iofs.Source, 'lsnr.sock'));
  return { user: info.Config.User, owner: `${st.uid}:${st.gid}` };
}

describe(`KILN_FN_USER=${UID}:${GID}`, () => {
  let s: AgentSuite;
  before(async () => {
    s = await agentSuite('fn-user', { KILN_FN_USER: `${UID}:${GID}` });
  });
  after(() => s?.close());

  test('an http-stream function runs as that user and answers', async () => {
    const fn = await s.mkFn('plain');
    const r = await s.invoke(fn.id, { hello: 'user' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.body, '{"hello":"user"}');
    assert.deepEqual(await runsAs(s, fn.id), { user: `${UID}:${GID}`, owner: `${UID}:${GID}` });
  });

  test('a Lambda function (Kiln\'s daemon and the runtime) runs as that user and answers', async () => {
    const image = await lambdaFixtureImage('node-hello');
    const fn = await s.mkFn('lambda', { image, format: 'lambda', config: { _HANDLER: 'index.handler' } });
    const r = await s.invoke(fn.id, { name: 'user' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { message: 'Hello user' });
    assert.deepEqual(await runsAs(s, fn.id), { user: `${UID}:${GID}`, owner: `${UID}:${GID}` });
  });
});
