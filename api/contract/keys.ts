// The rules for config and annotation keys and values, with Fn's messages: a pure module, so
// the CLI's checks of func.yaml (images/func-yaml.ts) apply the server's own rules before
// anything is built or changed, as names.ts and fn-limits.ts do for names and numbers.

const MAX_ANNOTATION_KEY_BYTES = 128;
const MAX_ANNOTATION_VALUE_BYTES = 512;
const MAX_ANNOTATION_KEYS = 100;

/** Annotations the server computes on every answer; never stored from input. */
export const FN_ENDPOINT_ANNOTATION = 'fnproject.io/fn/invokeEndpoint';
export const TRIGGER_ENDPOINT_ANNOTATION = 'fnproject.io/trigger/httpEndpoint';

export const CONFIG_KEY_MESSAGE = 'config keys must be non-empty and hold no "=" (each becomes an environment variable name)';

/**
 * A config key becomes a container's environment variable name (`KEY=value`), so it must be
 * non-empty and hold no "=". A key given "" passes: that deletes it, also one stored before
 * this rule (or by Fn).
 */
export const configKeyOk = (key: string, value: string): boolean => value === '' || (key !== '' && !key.includes('='));

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Why the server refuses annotations as they are to be stored (Fn's message), and the key at fault. */
export function annotationsProblem(a: Record<string, unknown>): { key?: string; message: string } | undefined {
  for (const [key, v] of Object.entries(a)) {
    if (!/^[!-~]+$/.test(key)) {
      return { key, message: 'Invalid annotation key, annotation keys must be non-empty ascii strings excluding whitespace' };
    }
    if (byteLength(key) > MAX_ANNOTATION_KEY_BYTES) {
      return { key, message: 'Invalid annotation key length, annotation keys may not be larger than 128 bytes' };
    }
    // Fn's message, and which key: a null an older Kiln stored (from 1e400) fails every PUT of its
    // app or fn, as Fn validates the whole merged map, until a PUT removes it.
    if (v === '' || v === null || v === undefined) {
      return {
        key,
        message: `Invalid annotation value, annotation values may only be non-empty strings, numbers, objects, or arrays: ${JSON.stringify(key)} is ${v === '' ? '""' : 'null'}`,
      };
    }
    if (byteLength(JSON.stringify(v)) > MAX_ANNOTATION_VALUE_BYTES) {
      return { key, message: 'Invalid annotation value length, annotation values may not be larger than 512 bytes when serialized as JSON' };
    }
  }
  if (Object.keys(a).length > MAX_ANNOTATION_KEYS) {
    return { message: 'Invalid annotation change, new key(s) exceed maximum permitted number of annotations keys (100)' };
  }
  return undefined;
}
