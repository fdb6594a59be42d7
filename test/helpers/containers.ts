// What a test server left in Docker: containers are found by the node label Kiln puts on them.
import Docker from 'dockerode';
import { NODE_LABEL } from '../../drivers/docker/driver.js';

export async function nodeContainers(docker: Docker, nodeId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${NODE_LABEL}=${nodeId}`] } });
}

/** Polls until `check` holds or the time is up; returns whether it held. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
