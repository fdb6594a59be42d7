// Containers are interchangeable when everything that shapes them is equal; the slot key says so.
import { createHash } from 'node:crypto';
import type { App, Fn } from '../store/types.js';
import { askedNetwork } from './fn-network.js';

const sorted = (o: Record<string, string>): [string, string][] =>
  Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * A hash of the app, fn, image, limits, format, the merged config (order-insensitive), the
 * app's syslog URL and the network asked for (kiln.io/network): a container's log destination
 * and network are fixed when it is made, so a change takes new containers.
 */
export function slotKey(app: Pick<App, 'id' | 'config' | 'syslog_url' | 'annotations'>, fn: Fn, cpusMilli = 0): string {
  const parts = [
    app.id, fn.id, fn.image, fn.memory, cpusMilli, fn.timeout, fn.idle_timeout, fn.format,
    sorted({ ...app.config, ...fn.config }), app.syslog_url?.trim() ?? '', askedNetwork(app, fn) ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
