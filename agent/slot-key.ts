// Containers are interchangeable when everything that shapes them is equal; the slot key says so.
import { createHash } from 'node:crypto';
import type { App, Fn } from '../store/types.js';

const sorted = (o: Record<string, string>): [string, string][] =>
  Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * A hash of the app, fn, image, limits, format, the merged config (order-insensitive) and the
 * app's syslog URL (as Fn's: a container's log destination is fixed when it is made).
 */
export function slotKey(app: Pick<App, 'id' | 'config' | 'syslog_url'>, fn: Fn, cpusMilli = 0): string {
  const parts = [
    app.id, fn.id, fn.image, fn.memory, cpusMilli, fn.timeout, fn.idle_timeout, fn.format,
    sorted({ ...app.config, ...fn.config }), app.syslog_url?.trim() ?? '',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
