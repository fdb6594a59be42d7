// Request ids, X-Ray trace ids and ARNs in the shapes the Lambda service uses.
import { randomUUID } from 'node:crypto';

/** `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`: the cloud always sends one. */
export function newTraceId(nowMs = Date.now()): string {
  const epoch = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  // randomUUID draws from Node's pooled entropy; randomBytes(20) cost ~10 µs on every call's path.
  return `Root=1-${epoch}-${uuidHex().slice(0, 24)};Parent=${uuidHex().slice(0, 16)};Sampled=0`;
}

/** The 30 random hex digits of a v4 UUID: its version digit and variant digit left out. */
function uuidHex(): string {
  const u = randomUUID();
  // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(15, 18) + u.slice(20, 23) + u.slice(24);
}

/** RIE's account id, so ARNs parse like real ones. */
export const ACCOUNT_ID = '012345678912';

export function functionArn(region: string, name: string): string {
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`;
}

export const newId = (): string => randomUUID();

/**
 * An execution environment's log stream, as the service names it: `YYYY/MM/DD/[VERSION]` and 32
 * hex digits of its own (AWS_LAMBDA_LOG_STREAM_NAME, the Node context's logStreamName), so each
 * container is an instance of its own to what reads it (OpenTelemetry's faas.instance).
 */
export function logStreamName(started: Date, version: string): string {
  const day = started.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomUUID().replaceAll('-', '')}`;
}

/** A JSON object's text, or undefined: runtimes JSON.parse these headers and fail on anything else. */
export function jsonObjectText(text: string): string | undefined {
  // Most calls carry no such header: spare them a thrown SyntaxError.
  if (text === '') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `X-Amz-Client-Context` is base64 of the JSON object the runtime receives (a raw JSON object
 * is taken too). Anything else is dropped: the Node, Python and Rust clients JSON.parse the
 * `Lambda-Runtime-Client-Context` header and would fail the invoke on it.
 */
export function decodeClientContext(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const decoded = jsonObjectText(Buffer.from(header, 'base64').toString('utf8'));
  // A raw object came in a header, so it can go out in one as it is.
  return decoded === undefined ? jsonObjectText(header) : headerText(decoded);
}

/**
 * JSON text as a header value node:http can write (it throws on anything else, and the event
 * would be lost). Valid JSON has CR and LF only as whitespace, which become spaces (as Go's
 * server writes them), and DEL only inside strings, where it is escaped; other text goes as
 * its UTF-8 bytes, one latin1 character each, as the service sends them.
 */
function headerText(json: string): string {
  if (!/[^\t\x20-\x7e]/.test(json)) return json;
  return Buffer.from(json.replace(/[\r\n]/g, ' ').replace(/\x7f/g, '\\u007f'), 'utf8').toString('latin1');
}
