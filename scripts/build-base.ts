// `node dist/scripts/build-base.js`: builds (or confirms) the local base images (Node and
// shell) and prints their tags, one a line. Run by `npm test` and `npm run up`; honours
// DOCKER_HOST.
import { engineClient } from '../drivers/docker/client.js';
import { ensureNodeBaseImage } from '../images/base-image.js';
import { ensureShellBaseImage } from '../images/shell-image.js';

// The server's client (never DOCKER_CLIENT_TIMEOUT: a build step quiet that long would be cut).
const docker = engineClient();
const log = (m: string): void => void process.stderr.write(`kiln: ${m}\n`);
const images: Array<[string, () => Promise<string>]> = [
  ['Node', () => ensureNodeBaseImage(docker, { log })],
  ['shell', () => ensureShellBaseImage(docker, { log })],
];
for (const [name, ensure] of images) {
  try {
    const started = Date.now();
    const tag = await ensure();
    process.stderr.write(`kiln: base image ${tag} ready in ${Date.now() - started} ms\n`);
    process.stdout.write(`${tag}\n`);
  } catch (err) {
    process.stderr.write(`kiln: could not build the ${name} base image: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
