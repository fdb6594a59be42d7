// App input: create and PUT-merge, with Fn's rules and messages.
import { z } from 'zod';
import { syslogUrlProblem } from '../../agent/syslog-url.js';
import { badRequest } from '../errors.js';
import { ConflictError } from '../../store/errors.js';
import { APP_SHAPES, DEFAULT_APP_SHAPE, type App } from '../../store/types.js';
import {
  annotationsSchema, APP_NAME_ERRORS, checkWordName, configSchema, mergeAnnotations, mergeConfig, parseBody,
  stampIfChanged, timestampSchema, validateAnnotations, validateNetworkAnnotation, withoutEndpoints,
} from './common.js';

const appBody = z.object({
  id: z.string().nullish(),
  name: z.string().nullish(),
  config: configSchema.nullish(),
  annotations: annotationsSchema.nullish(),
  syslog_url: z.string().nullish(),
  shape: z.string().nullish(),
  created_at: timestampSchema.nullish(),
  updated_at: timestampSchema.nullish(),
});
type AppBody = z.infer<typeof appBody>;

function validateApp(app: App, allowedNetworks: readonly string[], syslogSockets: readonly string[]): void {
  const name = checkWordName(app.name);
  if (name !== 'ok') throw badRequest(APP_NAME_ERRORS[name]);
  validateAnnotations(app.annotations);
  validateNetworkAnnotation(app.annotations, allowedNetworks);
  if (app.syslog_url !== undefined) {
    const problem = syslogUrlProblem(app.syslog_url.trim(), syslogSockets);
    if (problem !== undefined) throw badRequest(`invalid syslog url: "${app.syslog_url}"${problem}`);
  }
  if (!(APP_SHAPES as readonly string[]).includes(app.shape)) throw badRequest('Invalid app shape');
}

/** `allowedNetworks`: what kiln.io/network may name; `syslogSockets`: the unix sockets syslog_url may name (the server's settings). */
export function newApp(body: unknown, id: string, now: string, allowedNetworks: readonly string[], syslogSockets: readonly string[] = []): App {
  const b: AppBody = parseBody(appBody, body);
  if (b.id) throw badRequest('App ID cannot be supplied on create');
  const app: App = {
    id,
    name: b.name ?? '',
    config: mergeConfig({}, b.config ?? undefined),
    annotations: withoutEndpoints(b.annotations ?? {}),
    // As Fn's InsertApp: no shape (or "") is GENERIC_X86.
    shape: b.shape || DEFAULT_APP_SHAPE,
    created_at: now,
    updated_at: now,
  };
  if (b.syslog_url) app.syslog_url = b.syslog_url;
  validateApp(app, allowedNetworks, syslogSockets);
  return app;
}

/** Checks a PUT body against the path before the stored app is read. */
export function parseAppPatch(body: unknown, pathId: string): AppBody {
  const b = parseBody(appBody, body);
  if (b.id && b.id !== pathId) throw badRequest('App ID in path does not match ID in body');
  return b;
}

export function mergeApp(existing: App, b: AppBody, now: string, allowedNetworks: readonly string[], syslogSockets: readonly string[] = []): App {
  if (b.name && b.name !== existing.name) throw new ConflictError('app', 'Could not update - name is immutable');
  const app: App = {
    ...existing,
    config: mergeConfig(existing.config, b.config ?? undefined),
    annotations: mergeAnnotations(existing.annotations, b.annotations ?? undefined),
    updated_at: now,
  };
  if (b.syslog_url !== undefined && b.syslog_url !== null) {
    if (b.syslog_url === '') delete app.syslog_url;
    else app.syslog_url = b.syslog_url;
  }
  // A PUT's shape is ignored, as Fn's App.Update does: an app's images were built for the
  // shape it was created with.
  validateApp(app, allowedNetworks, syslogSockets);
  return stampIfChanged(existing, app, now);
}
