// Runs bench/least-relay.ts in a container like a Lambda hello's: the same image and runtime,
// the daemon bundle's node, user 1000, a read-only root, no network, 128 MB, pinned to the same
// CPU. Not through Kiln: the bench calls its socket directly, as it calls the Lambda hello's.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { prepareRuntimeBundle } from '../images/runtime-bundle.js';

const relayJs = fileURLToPath(new URL('./least-relay.js', import.meta.url));
const daemonJs = fileURLToPath(new URL('../runtime/daemon.cjs', import.meta.url));
/** Containers of the bench's own, removed as it ends. */
export const BENCH_LABEL = 'io.kiln.bench';

const socketUp = (path: string): Promise<boolean> => stat(path).then((s) => s.isSocket(), () => false);

export interface LeastRelay {
  socketPath: string;
  stop(): Promise<void>;
}

export async function startLeastRelay(docker: Docker, image: string, cpusetCpus: string): Promise<LeastRelay> {
  const bundle = await prepareRuntimeBundle({ daemonJs });
  const daemonAt = bundle.command[bundle.command.length - 1];
  if (!daemonAt?.endsWith('daemon.js')) throw new Error(`unexpected bundle command: ${bundle.command.join(' ')}`);
  const iofs = mkdtempSync(join(tmpdir(), 'kiln-bench-relay-'));
  // The image's user writes the socket here.
  chmodSync(iofs, 0o777);
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [...bundle.command.slice(0, -1), '/relay/least-relay.mjs'],
    Cmd: [],
    Env: ['FN_LISTENER=unix:/tmp/iofs/lsnr.sock'],
    Labels: { [BENCH_LABEL]: String(process.pid) },
    // As the agent runs a fn's container (KILN_FN_USER's default, a read-only root).
    User: '1000:1000',
    HostConfig: {
      ReadonlyRootfs: true,
      NetworkMode: 'none',
      Memory: 128 * 1024 * 1024,
      CpusetCpus: cpusetCpus,
      Binds: [`${bundle.hostDir}:${bundle.mount}:ro`, `${relayJs}:/relay/least-relay.mjs:ro`, `${iofs}:/tmp/iofs`],
    },
  });
  const stop = async () => {
    await container.remove({ force: true }).catch(() => {});
    rmSync(iofs, { recursive: true, force: true });
  };
  try {
    await container.start();
    const socketPath = join(iofs, 'lsnr.sock');
    const until = Date.now() + 10_000;
    while (!(await socketUp(socketPath))) {
      if (Date.now() > until) throw new Error('the least relay did not open its socket within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { socketPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

