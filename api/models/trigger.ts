// Trigger input: create and PUT-merge, with Fn's rules and messages.
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { Trigger } from '../../store/types.js';
import {
  annotationsSchema, checkWordName, mergeAnnotations, parseBody, stampIfChanged, timestampSchema,
  validateAnnotations, withoutEndpoints,
} from './common.js';
import { TRIGGER_TYPES } from '../contract/names.js';


const triggerBody = z.object({
  id: z.string().nullish(),
  name: z.string().nullish(),
  app_id: z.string().nullish(),
  fn_id: z.string().nullish(),
  type: z.string().nullish(),
  source: z.string().nullish(),
  annotations: annotationsSchema.nullish(),
  created_at: timestampSchema.nullish(),
  updated_at: timestampSchema.nullish(),
});
type TriggerBody = z.infer<typeof triggerBody>;

function validateTrigger(t: Trigger): void {
  if (!t.app_id) throw badRequest('Missing App ID on Trigger');
  switch (checkWordName(t.name)) {
    case 'missing': throw badRequest('Missing name on Trigger');
    case 'too-long': throw badRequest('Trigger name must be 255 characters or less');
    case 'invalid': throw badRequest('Invalid name for Trigger');
    case 'ok': break;
  }
  if (!t.fn_id) throw badRequest('Missing Fn ID on Trigger');
  if (!TRIGGER_TYPES.includes(t.type)) throw badRequest('Trigger Type Not Supported');
  if (!t.source) throw badRequest('Missing Trigger Source');
  if (!t.source.startsWith('/')) throw badRequest("Missing Trigger Source Prefix '/'");
  validateAnnotations(t.annotations);
}

export function newTrigger(body: unknown, id: string, now: string): Trigger {
  const b: TriggerBody = parseBody(triggerBody, body);
  if (b.id) throw badRequest('ID cannot be provided for Trigger creation');
  const t: Trigger = {
    id,
    name: b.name ?? '',
    app_id: b.app_id ?? '',
    fn_id: b.fn_id ?? '',
    type: b.type ?? '',
    source: b.source ?? '',
    annotations: withoutEndpoints(b.annotations ?? {}),
    created_at: now,
    updated_at: now,
  };
  validateTrigger(t);
  return t;
}

export function parseTriggerPatch(body: unknown, pathId: string): TriggerBody {
  const b = parseBody(triggerBody, body);
  if (b.id && b.id !== pathId) throw badRequest('ID in path does not match ID in body');
  return b;
}

/** As Fn: name, fn_id and source may change; type and app_id are kept. */
export function mergeTrigger(existing: Trigger, b: TriggerBody, now: string): Trigger {
  const t: Trigger = {
    ...existing,
    name: b.name || existing.name,
    fn_id: b.fn_id || existing.fn_id,
    source: b.source || existing.source,
    annotations: mergeAnnotations(existing.annotations, b.annotations ?? undefined),
    updated_at: now,
  };
  validateTrigger(t);
  return stampIfChanged(existing, t, now);
}
