// Fn's log frames: with FN_LOGFRAME_NAME and FN_LOGFRAME_HDR in its env, an FDK prints
// `\n<name>=<value of that request header>\n` on stdout and on stderr as each call starts,
// before the handler runs. With the header Fn-Call-Id the frames say, in the output itself,
// where each call's output begins: a cut that does not depend on when the output arrives.
import type { App, Fn } from '../store/types.js';

/** The frame name Kiln asks for: unlikely to be a line a function prints. */
export const LOG_FRAME_NAME = 'kiln_call';
/** The request header whose value the FDK prints: the call's id. */
export const LOG_FRAME_HEADER = 'Fn-Call-Id';
/** The longest frame value looked for (a call id is 26); a longer line is not a frame. */
export const MAX_FRAME_VALUE_BYTES = 128;

/**
 * The frame variables Kiln adds to an http-stream container's env. None for Lambda (its daemon
 * gives offsets), for an app with a syslog_url (the engine would send the frames there too,
 * where nothing strips them), or when the config sets either variable (the user's own framing).
 */
export function logFrameEnv(app: Pick<App, 'config' | 'syslog_url'>, fn: Pick<Fn, 'config' | 'format'>): Record<string, string> {
  if (fn.format === 'lambda' || app.syslog_url?.trim()) return {};
  const config = { ...app.config, ...fn.config };
  if ('FN_LOGFRAME_NAME' in config || 'FN_LOGFRAME_HDR' in config) return {};
  return { FN_LOGFRAME_NAME: LOG_FRAME_NAME, FN_LOGFRAME_HDR: LOG_FRAME_HEADER };
}

/**
 * The frame name to cut a container's output at, from its env: only frames whose value is the
 * call id (FN_LOGFRAME_HDR Fn-Call-Id, any case) say which call the output is; others are left
 * in the output as the function printed them.
 */
export function logFrameName(env: Record<string, string>): string | undefined {
  const name = env.FN_LOGFRAME_NAME;
  const hdr = env.FN_LOGFRAME_HDR;
  if (!name || name.includes('\n') || hdr?.toLowerCase() !== LOG_FRAME_HEADER.toLowerCase()) return undefined;
  return name;
}

/** Output as it goes on: bytes, or a frame (`raw` the bytes it took, its leading newline too). */
export type FramePiece = { bytes: Buffer } | { frame: string; raw: Buffer };

const NL = 0x0a;

/**
 * Finds the frames in one stream's output, chunk by chunk. A frame is `<name>=<value>\n` at the
 * start of a line, the newline before it (which the FDK printed) taken with it. A chunk's end
 * that may be the start of a frame is held for the next chunk, at most a frame's length; the
 * one exception is a chunk ending in a lone newline, which is the common end of a line and is
 * passed on at once (a frame split just after it still parses, its newline left in the output).
 */
export class FrameScanner {
  private readonly body: Buffer;
  private readonly marker: Buffer;
  /** Bytes held: the chunk's end that may be a frame's start. */
  private pending: Buffer | undefined;
  /** The last byte passed on (or stripped) ended a line, or nothing has been. */
  private lineStart = true;

  constructor(name: string) {
    this.body = Buffer.from(`${name}=`);
    this.marker = Buffer.from(`\n${name}=`);
  }

  scan(chunk: Buffer): FramePiece[] {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const out: FramePiece[] = [];
    let start = 0;
    let hold = data.length;
    const lineFrame = this.lineStart ? this.match(data, 0) : 'no';
    if (lineFrame === 'partial') hold = 0;
    else if (lineFrame !== 'no') {
      out.push({ frame: lineFrame.value, raw: data.subarray(0, lineFrame.end) });
      start = lineFrame.end;
    }
    for (let from = start; hold === data.length; ) {
      const k = data.indexOf(this.marker, from);
      if (k === -1) {
        // A partial marker at the end (a lone newline aside) may be completed by the next chunk.
        const last = data.lastIndexOf(NL);
        if (last >= from && data.length - last >= 2 && data.length - last < this.marker.length && this.marker.subarray(0, data.length - last).equals(data.subarray(last))) hold = last;
        break;
      }
      const m = this.match(data, k + 1);
      if (m === 'partial') hold = k;
      else if (m === 'no') from = k + 1;
      else {
        if (k > start) out.push({ bytes: data.subarray(start, k) });
        out.push({ frame: m.value, raw: data.subarray(k, m.end) });
        start = from = m.end;
      }
    }
    if (hold > start) out.push({ bytes: data.subarray(start, hold) });
    if (hold < data.length) this.pending = data.subarray(hold);
    if (hold > 0) this.lineStart = data[hold - 1] === NL;
    return out;
  }

  /** What is held, passed on: the stream ended. */
  flush(): Buffer | undefined {
    const p = this.pending;
    this.pending = undefined;
    if (p) this.lineStart = p[p.length - 1] === NL;
    return p;
  }

  /** Whether `<name>=<value>\n` starts at i: yes (its end and value), no, or not yet known. */
  private match(data: Buffer, i: number): { end: number; value: string } | 'no' | 'partial' {
    const body = this.body;
    const have = Math.min(data.length - i, body.length);
    if (data.compare(body, 0, have, i, i + have) !== 0) return 'no';
    if (have < body.length) return 'partial';
    const v = i + body.length;
    const limit = v + MAX_FRAME_VALUE_BYTES + 1;
    const nl = data.subarray(0, limit).indexOf(NL, v);
    if (nl === -1) return data.length < limit ? 'partial' : 'no';
    if (nl === v) return 'no';
    return { end: nl + 1, value: data.toString('latin1', v, nl) };
  }
}
