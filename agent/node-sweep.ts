// What a node leaves behind: its containers (a killed server's, a failed removal's) and the
// socket directories they mounted, removed at start-up, while running and at the end of shutdown.
import type { Logger } from 'pino';
import type { Driver } from '../drivers/contract.js';
import { removeOwnSocketDirs, removeSocketDirs } from './iofs-base.js';

/**
 * Removes every container the engine has of this node, with its socket directory: at start-up
 * (what a killed process left) and at the end of shutdown (what a failed removal left); while
 * running, those `keep` does not name. Throws when the engine does not answer; a directory that
 * cannot be removed is only logged. Says the names of the containers it removed.
 */
export async function sweepNode(driver: Driver, iofsPath: string, log: Logger, keep?: (id: string) => boolean): Promise<string[]> {
  const { removed, socketDirs } = await driver.removeLeftovers(keep);
  await removeSocketDirs(iofsPath, socketDirs).catch((err: unknown) => {
    log.warn({ err }, 'could not remove the socket directories of containers left behind');
  });
  return removed;
}

/**
 * After a sweep of this node that succeeded (at start-up, at the end of shutdown): this node's
 * socket directories no container mounts, left by a stop that did not wait for the engine's
 * removals, go. Only logs when it cannot.
 */
export async function removeOrphanSocketDirs(driver: Driver, iofsPath: string, nodeId: string, log: Logger): Promise<void> {
  try {
    const removed = await removeOwnSocketDirs(iofsPath, nodeId, () => driver.mountedHostPaths());
    if (removed.length > 0) log.info({ removed: removed.length, dir: iofsPath }, `removed ${removed.length} socket director${removed.length === 1 ? 'y' : 'ies'} of this node that no container mounts`);
  } catch (err) {
    log.warn({ err, dir: iofsPath }, 'could not remove the socket directories this node left behind');
  }
}
