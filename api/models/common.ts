// Rules shared by apps, fns and triggers: names, config and annotation merging and validation.
// Messages and limits are Fn's (api/models/*.go), so Fn clients see the answers they expect.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { networkProblem, NETWORK_ANNOTATION } from '../../agent/fn-network.js';
import { badRequest } from '../errors.js';
import type { Annotations, Config } from '../../store/types.js';

import { annotationsProblem, CONFIG_KEY_MESSAGE, configKeyOk, FN_ENDPOINT_ANNOTATION, TRIGGER_ENDPOINT_ANNOTATION } from '../contract/keys.js';

export { FN_ENDPOINT_ANNOTATION, TRIGGER_ENDPOINT_ANNOTATION } from '../contract/keys.js';

export { APP_NAME_ERRORS, checkFnName, checkWordName, FN_NAME_ERRORS, MAX_NAME_BYTES, type NameCheck } from '../contract/names.js';

// Wire shapes: types only; the rules with Fn's messages live in validate functions.
/**
 * Config keys by contract/keys.ts's rule (each becomes an environment variable name). A null value is "",
 * as Fn's Go decoder reads it into its map[string]string: a delete on update.
 */
const configValue = z.preprocess((v) => (v === null ? '' : v), z.string({ error: 'config values must be strings' }));
export const configSchema = z.record(z.string(), configValue).superRefine((config, ctx) => {
  for (const [key, value] of Object.entries(config)) {
    if (!configKeyOk(key, value)) ctx.addIssue({ code: 'custom', path: [key], message: CONFIG_KEY_MESSAGE });
  }
});
export const annotationsSchema = z.record(z.string(), z.unknown());
export const timestampSchema = z.string().optional();

/** Turns a body that fails its wire schema into one clear 400. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined) throw badRequest('Invalid JSON: the request body is empty');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Invalid JSON: the request body must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  throw badRequest(`Invalid JSON: field "${field}": ${issue?.message ?? 'invalid'}`, field || undefined);
}

/** Config merge: keys overwrite, a value of "" deletes the key. */
export function mergeConfig(base: Config, patch: Config | undefined): Config {
  if (!patch) return base;
  const out: Config = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === '') delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Drops the server-computed endpoint annotations a client may echo back. */
export function withoutEndpoints(a: Annotations): Annotations {
  const { [FN_ENDPOINT_ANNOTATION]: _f, [TRIGGER_ENDPOINT_ANNOTATION]: _t, ...rest } = a;
  return rest;
}

/** Annotation merge: keys overwrite, a value of "" or null deletes the key. */
export function mergeAnnotations(base: Annotations, patch: Annotations | undefined): Annotations {
  if (!patch) return base;
  const out: Annotations = { ...base };
  for (const [k, v] of Object.entries(withoutEndpoints(patch))) {
    if (v === '' || v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Fn's rules (contract/keys.ts), as a 400. */
export function validateAnnotations(a: Annotations): void {
  const problem = annotationsProblem(a);
  if (problem) throw badRequest(problem.message);
}

/**
 * kiln.io/network, when given, names a network the operator allows (KILN_ALLOWED_NETWORKS):
 * refused here rather than at the first call.
 */
export function validateNetworkAnnotation(a: Annotations, allowedNetworks: readonly string[]): void {
  if (!Object.hasOwn(a, NETWORK_ANNOTATION)) return;
  const problem = networkProblem(a[NETWORK_ANNOTATION], allowedNetworks);
  if (problem !== undefined) throw badRequest(problem);
}

/** Fn's timestamp format: RFC 3339, milliseconds, UTC. */
export const timestamp = (d: Date = new Date()): string => d.toISOString();

interface Stamped {
  created_at: string;
  updated_at: string;
}

/**
 * The merged object, its updated_at moved to `now` only when something other than the
 * timestamps differs from what was stored: Fn's Update() (`if !x.Equals(original)`), so a
 * client PUTting back what it read, as the fn CLI does, does not look like an edit.
 */
export function stampIfChanged<T extends Stamped>(existing: T, merged: T, now: string): T {
  const { created_at: _c1, updated_at: _u1, ...before } = existing;
  const { created_at: _c2, updated_at: _u2, ...after } = merged;
  return isDeepStrictEqual(before, after) ? { ...merged, updated_at: existing.updated_at } : { ...merged, updated_at: now };
}
