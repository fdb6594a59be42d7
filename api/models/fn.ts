// Fn input: create (with Fn's defaults) and PUT-merge, plus Kiln's `format`.
import { z } from 'zod';
import { badRequest } from '../errors.js';
import { ImageRefError, parseImage } from '../../drivers/image-name.js';
import { FN_FORMATS, kilnFnFormat, type Fn, type FnFormat } from '../../store/types.js';
import {
  annotationsSchema, checkFnName, configSchema, FN_NAME_ERRORS, mergeAnnotations, mergeConfig, parseBody,
  stampIfChanged, timestampSchema, validateAnnotations, validateNetworkAnnotation, withoutEndpoints,
} from './common.js';
import { FN_LIMITS, fnValueInRange } from '../contract/fn-limits.js';

export { FN_LIMITS } from '../contract/fn-limits.js';

const int = (field: string) => z.number({ error: `${field} must be an integer` }).int(`${field} must be an integer`);

const fnBody = z.object({
  id: z.string().nullish(),
  name: z.string().nullish(),
  app_id: z.string().nullish(),
  image: z.string().nullish(),
  memory: int('memory').nullish(),
  timeout: int('timeout').nullish(),
  idle_timeout: int('idle_timeout').nullish(),
  format: z.string().nullish(),
  config: configSchema.nullish(),
  annotations: annotationsSchema.nullish(),
  created_at: timestampSchema.nullish(),
  updated_at: timestampSchema.nullish(),
});
type FnBody = z.infer<typeof fnBody>;

/** Why Docker would refuse `image` as a reference, or undefined. */
function imageRefProblem(image: string): string | undefined {
  try {
    parseImage(image);
    return undefined;
  } catch (err) {
    if (err instanceof ImageRefError) return `is not an image reference Docker takes: ${err.reason}`;
    throw err;
  }
}

function validateFn(fn: Fn, allowedNetworks: readonly string[]): void {
  const name = checkFnName(fn.name);
  if (name !== 'ok') throw badRequest(FN_NAME_ERRORS[name]);
  if (!fn.app_id) throw badRequest('Missing AppID on Fn');
  if (!fn.image) throw badRequest('Missing image on Fn');
  // Fn takes any image and fails each call; one the engine can never use is a 400 here instead.
  const imageProblem = imageRefProblem(fn.image);
  if (imageProblem !== undefined) throw badRequest(`Invalid image on Fn: ${JSON.stringify(fn.image)} ${imageProblem}`);
  // Fn's messages, word for word.
  if (!fnValueInRange('timeout', fn.timeout)) {
    throw badRequest(`timeout value is out of range, must be between 0 and ${FN_LIMITS.timeout.max}`);
  }
  if (!fnValueInRange('idle_timeout', fn.idle_timeout)) {
    throw badRequest(`idle_timeout value is out of range, must be between 0 and ${FN_LIMITS.idle_timeout.max}`);
  }
  if (!fnValueInRange('memory', fn.memory)) {
    throw badRequest(`memory value is out of range. It should be between 0 and ${FN_LIMITS.memory.max}`);
  }
  if (!(FN_FORMATS as readonly string[]).includes(fn.format)) {
    throw badRequest(`Invalid format on Fn: "${fn.format}" (use ${FN_FORMATS.join(' or ')})`);
  }
  validateAnnotations(fn.annotations);
  validateNetworkAnnotation(fn.annotations, allowedNetworks);
}

/** `allowedNetworks`: what kiln.io/network may name (the server's settings). */
export function newFn(body: unknown, id: string, now: string, allowedNetworks: readonly string[]): Fn {
  const b: FnBody = parseBody(fnBody, body);
  if (b.id) throw badRequest('ID cannot be provided for Fn creation');
  if (!b.app_id) throw badRequest('Missing AppID on Fn');
  // As Fn: 0 or absent means the default.
  const fn: Fn = {
    id,
    name: b.name ?? '',
    app_id: b.app_id,
    image: b.image ?? '',
    memory: b.memory || FN_LIMITS.memory.def,
    timeout: b.timeout || FN_LIMITS.timeout.def,
    idle_timeout: b.idle_timeout || FN_LIMITS.idle_timeout.def,
    format: kilnFnFormat(b.format || 'http-stream') as FnFormat,
    config: mergeConfig({}, b.config ?? undefined),
    annotations: withoutEndpoints(b.annotations ?? {}),
    created_at: now,
    updated_at: now,
  };
  validateFn(fn, allowedNetworks);
  return fn;
}

export function parseFnPatch(body: unknown, pathId: string): FnBody {
  const b = parseBody(fnBody, body);
  if (b.id && b.id !== pathId) throw badRequest('Fn ID in path does not match that in body');
  return b;
}

/** As Fn: zero values leave a field as it is; name and app_id cannot change and are ignored. */
export function mergeFn(existing: Fn, b: FnBody, now: string, allowedNetworks: readonly string[]): Fn {
  const fn: Fn = {
    ...existing,
    image: b.image || existing.image,
    memory: b.memory || existing.memory,
    timeout: b.timeout || existing.timeout,
    idle_timeout: b.idle_timeout || existing.idle_timeout,
    format: b.format ? (kilnFnFormat(b.format) as FnFormat) : existing.format,
    config: mergeConfig(existing.config, b.config ?? undefined),
    annotations: mergeAnnotations(existing.annotations, b.annotations ?? undefined),
    updated_at: now,
  };
  validateFn(fn, allowedNetworks);
  return stampIfChanged(existing, fn, now);
}
