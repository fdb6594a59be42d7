// `node dist/images/build-base-cli.js`: builds (or confirms) the local Node base image and
// prints its tag. Run by `npm test` and `npm run up`; honours DOCKER_HOST.
import Docker from 'dockerode';
import { ensureNodeBaseImage } from './base-image.js';

try {
  const started = Date.now();
  const tag = await ensureNodeBaseImage(new Docker(), {
    log: (m) => process.stderr.write(`kiln: ${m}\n`),
  });
  process.stderr.write(`kiln: base image ${tag} ready in ${Date.now() - started} ms\n`);
  process.stdout.write(`${tag}\n`);
} catch (err) {
  process.stderr.write(`kiln: could not build the Node base image: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
