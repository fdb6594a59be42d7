// The naming rules for apps, fns and triggers, and the trigger types, with Fn's limits: a pure
// module, so the CLI's func.yaml checks (images/func-yaml.ts) apply the server's own rules.
/** The longest app, fn or trigger name, in UTF-8 bytes (Fn's). */
export const MAX_NAME_BYTES = 255;

/** App and trigger names: letters, digits (any script, as Fn), `_` and `-`. */
const WORD_NAME = /^[\p{L}\p{N}_-]+$/u;
/** Fn names: what survives URL path-segment escaping unchanged (Fn uses url.PathEscape). */
const PATH_SAFE_NAME = /^[A-Za-z0-9\-_.~$&+:=@]+$/;

export type NameCheck = 'ok' | 'missing' | 'too-long' | 'invalid';

function checkName(name: string | undefined, pattern: RegExp): NameCheck {
  if (name === undefined || name === '') return 'missing';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return 'too-long';
  return pattern.test(name) ? 'ok' : 'invalid';
}

export const checkWordName = (name: string | undefined): NameCheck => checkName(name, WORD_NAME);
export const checkFnName = (name: string | undefined): NameCheck => checkName(name, PATH_SAFE_NAME);

/** The server's 400 message (Fn's words) for an app name that is not ok; the CLI says the same before it builds. */
export const APP_NAME_ERRORS: Record<Exclude<NameCheck, 'ok'>, string> = {
  missing: 'Missing Name',
  'too-long': 'App name must be 255 characters or less',
  invalid: 'Invalid app name',
};

/** The server's 400 message (Fn's words) for a fn name that is not ok. */
export const FN_NAME_ERRORS: Record<Exclude<NameCheck, 'ok'>, string> = {
  missing: 'Missing Fn name',
  'too-long': 'Fn name must be 255 characters or less',
  invalid: 'name must be a valid string',
};

/** The trigger types Kiln (as Fn) has. */
export const TRIGGER_TYPES: readonly string[] = ['http'];

/**
 * Why no client can call a trigger source the server takes, or undefined: a `.` or `..` segment,
 * which fetch, curl and browsers resolve away before sending (`/t/app/x/../y` goes out as
 * `/t/app/y`). Every `/`-separated part counts: the endpoint encodes `?` and `#` as part of the path.
 */
export function unreachableSource(source: string): string | undefined {
  if (!source.split('/').some((seg) => seg === '.' || seg === '..')) return undefined;
  return `source "${source}" has a "." or ".." segment, which no client can call: fetch, curl and browsers resolve it away before sending the request`;
}
