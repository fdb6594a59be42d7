// What an http-stream container is given from its app and fn: its environment, and where the
// engine also sends its output (the app's syslog_url). Pure.
import type { App, Fn } from '../store/types.js';
import type { ContainerSpec } from './hot-container.js';
import { IOFS_LISTENER } from '../runtime/wire.js';
import { logFrameEnv } from './log-frames.js';
import { engineSyslogAddress } from './syslog-url.js';

/**
 * The environment of an http-stream container: app config, then fn config, then Fn's own, with
 * Fn's log frame variables when the server frames logs, unless the config has its own (see
 * logFrameEnv). All of it follows from the settings and what the slot key hashes (config,
 * format, syslog_url).
 */
export function containerEnv(app: App, fn: Fn, logFrames = false): Record<string, string> {
  return {
    ...app.config,
    ...fn.config,
    ...(logFrames && logFrameEnv(app, fn)),
    FN_LISTENER: IOFS_LISTENER,
    FN_FORMAT: 'http-stream',
    FN_APP_ID: app.id,
    FN_APP_NAME: app.name,
    FN_FN_ID: fn.id,
    FN_FN_NAME: fn.name,
    FN_NAME: fn.name,
    FN_MEMORY: String(fn.memory),
    FN_TYPE: 'sync',
  };
}

/**
 * Where the engine also sends a container's output: the app's syslog_url, tagged as Fn tags it
 * (app_id, fn_id); nothing when the app has none.
 */
export function syslogOf(app: Pick<App, 'id' | 'syslog_url'>, fn: Pick<Fn, 'id'>): Pick<ContainerSpec, 'syslog'> {
  if (!app.syslog_url?.trim()) return {};
  return { syslog: { url: engineSyslogAddress(app.syslog_url), tags: [['app_id', app.id], ['fn_id', fn.id]] } };
}
