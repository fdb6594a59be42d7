// Calling functions: by fn id (`/invoke/:id`, Fn's invoke) or through an HTTP trigger
// (`/t/:app/<source>`). Exported for scripts/up.ts.
import type { KilnClient, RawReply } from './client.js';

export interface InvokeOptions {
  body?: Buffer;
  /** Fn's default for `fn invoke` is text/plain. */
  contentType?: string;
  detached?: boolean;
}

export interface InvokeReply extends RawReply {
  callId: string | null;
}

export async function invokeFn(client: KilnClient, fnId: string, opts: InvokeOptions = {}): Promise<InvokeReply> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'text/plain' };
  if (opts.detached) headers['fn-invoke-type'] = 'detached';
  const r = await client.invoke(fnId, opts.body ?? Buffer.alloc(0), headers);
  let callId = r.headers.get('fn-call-id');
  if (!callId && opts.detached) {
    try {
      callId = (JSON.parse(r.body.toString('utf8')) as { call_id?: string }).call_id ?? null;
    } catch {
      callId = null;
    }
  }
  return { ...r, callId };
}

export interface TriggerRequest {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export async function invokeTrigger(client: KilnClient, app: string, source: string, req: TriggerRequest): Promise<InvokeReply> {
  const path = `/t/${encodeURIComponent(app)}${source.startsWith('/') ? source : `/${source}`}`;
  const r = await client.raw(req.method, path, { headers: req.headers, ...(req.body && { body: req.body }) });
  return { ...r, callId: r.headers.get('fn-call-id') };
}
