// Calling functions: by fn id (`/invoke/:id`, Fn's invoke) or through an HTTP trigger
// (`/t/:app/<source>`), and what a failed call's answer says. Exported for scripts/up.ts.
import { errorMessage, type KilnClient, type RawReply } from './client.js';
import { triggerPath } from '../api/contract/trigger-path.js';

export interface InvokeOptions {
  body?: Buffer;
  /** Fn's default for `fn invoke` is text/plain. */
  contentType?: string;
  detached?: boolean;
  /** What is called, for errors ("calling function APP/FN"); default POST PATH. */
  what?: string;
}

export interface InvokeReply extends RawReply {
  callId: string | null;
}

export function invokeFn(client: KilnClient, fnId: string, opts: InvokeOptions = {}): Promise<InvokeReply> {
  return invokeAt(client, `/invoke/${fnId}`, opts);
}

/** An invoke POSTed to that path of the client's server (`invoke --endpoint`: the endpoint's). */
export async function invokeAt(client: KilnClient, path: string, opts: InvokeOptions = {}): Promise<InvokeReply> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'text/plain' };
  if (opts.detached) headers['fn-invoke-type'] = 'detached';
  const r = await client.raw('POST', path, { body: opts.body ?? Buffer.alloc(0), headers, call: true, ...(opts.what && { what: opts.what }) });
  // A detached call's id too: Kiln, as Fn, answers it 202 with no body.
  return { ...r, callId: r.headers.get('fn-call-id') };
}

export interface TriggerRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export async function invokeTrigger(client: KilnClient, app: string, source: string, req: TriggerRequest): Promise<InvokeReply> {
  // The source as listed (`%`, `#` and the like encoded, as the endpoint annotation has them),
  // then what follows its first `?` as the query string, whole (a `#` in it would end the URL).
  const q = source.indexOf('?');
  const path = q < 0 ? triggerPath(app, source) : `${triggerPath(app, source.slice(0, q))}${source.slice(q).replaceAll('#', '%23')}`;
  // Triggers are public: the context's token would only reach the function (a caller's own
  // Authorization, given with -H, still goes through).
  const r = await client.raw(req.method, path, { headers: req.headers, withToken: false, call: true, what: `${req.method} /t/${app}${source}`, ...(req.body && { body: req.body }) });
  return { ...r, callId: r.headers.get('fn-call-id') };
}

/** What a failed call said: the error's type (Lambda's), its message, and a stack when given. */
export interface CallFailure {
  type?: string;
  message: string;
  stack: string[];
}

const MAX_MESSAGE = 500;

const textLines = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((l): l is string => typeof l === 'string').map((l) => l.trim()) : [];

/**
 * A Lambda error's stack: its `stackTrace`, else the `trace` AWS's Node.js runtime posts, whose
 * first lines are the error's `Type: message` (the failure's own line), left out here.
 */
function stackLines(o: Record<string, unknown>): string[] {
  if (Array.isArray(o.stackTrace)) return textLines(o.stackTrace);
  const trace = textLines(o.trace);
  const first = trace.findIndex((l) => l.startsWith('at '));
  return first < 0 ? [] : trace.slice(first);
}

/**
 * Reads a failed call's answer: a Lambda error (`{"errorType", "errorMessage", "stackTrace"}`,
 * or Node's `trace`, and the X-Amz-Function-Error header), Fn's `{"message"}` (with the FDK's detail), or the
 * body's text (cut at 500 characters).
 */
export function callFailure(headers: Headers, body: string): CallFailure {
  const header = headers.get('x-amz-function-error') ?? undefined;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    v = undefined;
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.errorMessage === 'string' || typeof o.errorType === 'string') {
      const type = typeof o.errorType === 'string' && o.errorType ? o.errorType : header;
      const stack = stackLines(o);
      return { ...(type && { type }), message: typeof o.errorMessage === 'string' && o.errorMessage ? o.errorMessage : 'no message', stack };
    }
  }
  const text = errorMessage(body);
  return { ...(header && { type: header }), message: text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text, stack: [] };
}

/** One line: `Type: message`, or the message. */
export function failureLine(f: CallFailure): string {
  return f.type ? `${f.type}: ${f.message}` : f.message;
}
