// The Lambda Invoke API's request, read into plain values: FunctionName in its name and ARN
// forms, Qualifier, and the X-Amz-* headers. Pure functions (a table-driven test covers them);
// what is wrong is a LambdaApiError with the service's type (api/errors.ts maps it to HTTP).
import type { IncomingHttpHeaders } from 'node:http';
import { LambdaApiError } from './errors.js';

/** Where one of the Lambda invoke APIs takes its calls: `POST {prefix}{FunctionName}{suffix}`. */
export interface LambdaPath {
  prefix: string;
  suffix: string;
}

/** `Invoke`: `POST /2015-03-31/functions/{FunctionName}/invocations`. */
export const INVOKE_PATH: LambdaPath = { prefix: '/2015-03-31/functions/', suffix: '/invocations' };
/** `InvokeWithResponseStream`: `POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`. */
export const STREAM_PATH: LambdaPath = { prefix: '/2021-11-15/functions/', suffix: '/response-streaming-invocations' };

/**
 * Every Lambda API path begins with its API version's date (`/2015-03-31/functions/`,
 * `/2016-08-19/account-settings/`, `/2018-10-31/layers`, ...); Fn's never does.
 */
const LAMBDA_API_VERSION = /^\/\d{4}-\d{2}-\d{2}(?:[/?]|$)/;

/** Whether a request target is a Lambda API's (it is answered in Lambda's error shape, served or not). */
export const isLambdaApiPath = (url: string): boolean => LAMBDA_API_VERSION.test(url);

/** RIE's account id, which Kiln's Lambda daemon puts in every function ARN. */
export const KILN_ACCOUNT_ID = '012345678912';
export const DEFAULT_REGION = 'us-east-1';

/**
 * The FunctionName pattern of the Invoke API reference, anchored: an optional `arn:aws:lambda:`,
 * region, 12-digit account and `function:`, the name, then an optional `:qualifier`.
 */
const FUNCTION_NAME = /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(?:-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(?:function:)?([a-zA-Z0-9_.-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;
/** The reference's length limits: 170 for the whole (an ARN), 128 for a qualifier. */
const MAX_FUNCTION_NAME = 170;
const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/;

export interface FunctionRef {
  /** The fn's name, or a Kiln fn id (both use Lambda's charset). */
  name: string;
  /** `$LATEST` or another version/alias; undefined when none was given. */
  qualifier?: string;
  /** From an ARN, for messages; Kiln has one region and account. */
  region?: string;
  account?: string;
}

/** FunctionName from the path, if the path is the API's: the still-encoded segment, else undefined. */
export function functionNameIn(path: string, api: LambdaPath): string | undefined {
  if (!path.startsWith(api.prefix) || !path.endsWith(api.suffix)) return undefined;
  const segment = path.slice(api.prefix.length, path.length - api.suffix.length);
  return segment === '' || segment.includes('/') ? undefined : segment;
}

/** The `Qualifier` query parameter of a request URL; undefined when absent or empty. */
export function qualifierParam(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const v = new URLSearchParams(url.slice(q + 1)).get('Qualifier');
  return v === null || v === '' ? undefined : v;
}

/**
 * FunctionName (decoded) and the Qualifier parameter as one reference. A name that does not fit
 * Lambda's pattern, a malformed qualifier, or a qualifier in the name that differs from the
 * parameter is a 400 InvalidParameterValueException, as on the service.
 */
export function parseFunctionName(raw: string, qualifierParam?: string): FunctionRef {
  const m = raw.length <= MAX_FUNCTION_NAME ? FUNCTION_NAME.exec(raw) : null;
  if (!m) {
    throw new LambdaApiError('InvalidParameterValueException',
      `Invalid FunctionName: ${JSON.stringify(raw.slice(0, MAX_FUNCTION_NAME))} is neither a function name, a Kiln fn id nor a function ARN`);
  }
  const [, region, account, name, fromName] = m;
  if (qualifierParam !== undefined && !QUALIFIER.test(qualifierParam)) {
    throw new LambdaApiError('InvalidParameterValueException', `Invalid Qualifier: ${JSON.stringify(qualifierParam.slice(0, 128))}`);
  }
  if (fromName !== undefined && qualifierParam !== undefined && fromName !== qualifierParam) {
    throw new LambdaApiError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  const qualifier = fromName ?? qualifierParam;
  return {
    name: name!,
    ...(qualifier !== undefined && { qualifier }),
    ...(region !== undefined && { region: region.slice(0, -1) }),
    ...(account !== undefined && { account: account.slice(0, -1) }),
  };
}

export function functionArn(region: string, account: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${account}:function:${name}${qualifier !== undefined ? `:${qualifier}` : ''}`;
}

const SIGV4_SCOPE = /^AWS4-HMAC-SHA256 +Credential=[^/,\s]{1,256}\/\d{8}\/([a-z0-9-]{1,64})\//;

/** The region of a SigV4 `Authorization` header's credential scope (`Credential=AK/DATE/REGION/lambda/aws4_request`). */
export function sigV4Region(authorization: string | undefined): string | undefined {
  // Anchored and bounded: unanchored, `[^/,\s]+` rescanned the header from every
  // "Credential=" in it, so a crafted 15 KB header cost 48 ms of the event loop.
  const m = authorization === undefined ? null : SIGV4_SCOPE.exec(authorization);
  return m?.[1];
}

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

/** What the X-Amz-* request headers ask. */
export interface InvokeOptions {
  invocationType: InvocationType;
  /** X-Amz-Log-Type: Tail on a synchronous call: answer with the log's last 4 KB. */
  tail: boolean;
}

/** The most X-Amz-Client-Context may hold, as the reference says. */
export const MAX_CLIENT_CONTEXT = 3583;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

/** The invocation types `Invoke` takes; `InvokeWithResponseStream` takes no Event (its model's enum has none). */
export const INVOKE_TYPES: readonly InvocationType[] = ['RequestResponse', 'Event', 'DryRun'];
export const STREAM_TYPES: readonly InvocationType[] = ['RequestResponse', 'DryRun'];

const listed = (words: readonly string[]): string => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`);

/**
 * Reads X-Amz-Invocation-Type (one of `types`), X-Amz-Log-Type and checks X-Amz-Client-Context;
 * a bad value is a 400.
 */
export function invokeOptions(headers: IncomingHttpHeaders, types: readonly InvocationType[] = INVOKE_TYPES): InvokeOptions {
  const raw = one(headers['x-amz-invocation-type']) ?? 'RequestResponse';
  const type = types.find((t) => t === raw);
  if (type === undefined) {
    throw new LambdaApiError('InvalidParameterValueException',
      `Invalid X-Amz-Invocation-Type: ${JSON.stringify(raw.slice(0, 64))}; valid values are ${listed(types)}`);
  }
  const logType = one(headers['x-amz-log-type']) ?? 'None';
  if (logType !== 'None' && logType !== 'Tail') {
    throw new LambdaApiError('InvalidParameterValueException', `Invalid X-Amz-Log-Type: ${JSON.stringify(logType.slice(0, 64))}; valid values are None and Tail`);
  }
  const cc = one(headers['x-amz-client-context']);
  if (cc !== undefined) checkClientContext(cc);
  return { invocationType: type, tail: logType === 'Tail' && type === 'RequestResponse' };
}

/** X-Amz-Client-Context must be base64 of a JSON object, at most MAX_CLIENT_CONTEXT bytes. */
function checkClientContext(value: string): void {
  if (value.length > MAX_CLIENT_CONTEXT) {
    throw new LambdaApiError('InvalidRequestContentException', `Client context must be ${MAX_CLIENT_CONTEXT} bytes or less, got ${value.length}`);
  }
  let ok = /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0;
  if (ok) {
    try {
      const v: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
      ok = typeof v === 'object' && v !== null && !Array.isArray(v);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new LambdaApiError('InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
}

/**
 * Request headers that never reach the function: credentials (Kiln's bearer token or an SDK's
 * SigV4 signature, and a session token), the signature's own headers, and the Invoke options,
 * which Kiln has acted on. X-Amz-Client-Context and X-Amzn-Trace-Id go through: the Lambda
 * daemon turns them into the runtime's Lambda-Runtime-* headers.
 */
const NOT_FORWARDED = new Set([
  'authorization', 'x-amz-security-token', 'x-amz-date', 'x-amz-content-sha256',
  'x-amz-invocation-type', 'x-amz-log-type', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request',
  // Fn's gateway protocol: an Invoke is never a trigger call, and these would make a lambda fn's
  // daemon build a function-URL event from what the caller wrote (a source IP, say).
  'fn-intent',
]);

export function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!NOT_FORWARDED.has(k) && !k.startsWith('fn-http-')) out[k] = v;
  return out;
}

/** The last `max` bytes of a call's log, base64, as X-Amz-Log-Result carries it. */
export function logTail(log: Buffer | string, max = 4096): string {
  const bytes = typeof log === 'string' ? Buffer.from(log, 'utf8') : log;
  return (bytes.length > max ? bytes.subarray(bytes.length - max) : bytes).toString('base64');
}
