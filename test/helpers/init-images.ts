// The test's fn init image (test/fixtures/init-image): FROM Kiln's shell image, with the host's
// tar, the script fn's contract asks for (a tar of the function's files on stdout) and the files
// it templates. Cached by content like the other fixtures.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { inspectImage } from '../../images/inspect.js';
import { readProgress } from '../../images/progress.js';
import { ensureShellBaseImage } from '../../images/shell-image.js';
import { buildFixtureTag, docker, hashTree, projectRoot } from './images.js';
import { packTree } from './lambda-images.js';

const HOST_TAR = '/usr/bin/tar';

export async function initImage(client: Docker = docker()): Promise<string> {
  const base = await ensureShellBaseImage(client);
  const baseInfo = await inspectImage(client, base);
  if (!baseInfo) throw new Error(`base image ${base} vanished`);
  const root = join(projectRoot(), 'test', 'fixtures', 'init-image');
  const dockerfile = `FROM ${base}\nCOPY tar ${HOST_TAR}\nRUN chmod 755 ${HOST_TAR}\nCOPY rootfs/init.sh /init.sh\nCOPY rootfs/template/ /init/template/\nENTRYPOINT ["/init.sh"]\n`;
  const h = createHash('sha256').update(`${baseInfo.Id}\n${dockerfile}`).update(await readFile(HOST_TAR));
  await hashTree(h, root);
  const repo = 'kiln-test/init-image';
  const tag = `${repo}:${h.digest('hex').slice(0, 12)}`;
  return buildFixtureTag(client, repo, tag, async () => {
    const pack = tar.pack();
    const writing = packTree(pack, root, dockerfile, [{ dir: HOST_TAR, prefix: 'tar' }]);
    const res = await client.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
    await Promise.all([readProgress(res), writing]);
  });
}
