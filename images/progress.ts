// Reads Docker's JSON-lines progress stream (import, build). Docker reports a failed build as
// a 200 response whose stream carries an `error` line, so the stream must be read to the end.

/** One line of the progress stream; only the fields Kiln looks at. */
export interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

export interface ProgressResult {
  events: ProgressEvent[];
  /** The `stream` text joined, for error context. */
  output: string;
}

export class DockerProgressError extends Error {
  constructor(message: string, readonly output: string) {
    super(message);
    this.name = 'DockerProgressError';
  }
}

function parseLine(line: string): ProgressEvent {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' ? (v as ProgressEvent) : { stream: line };
  } catch {
    return { stream: line };
  }
}

/** Resolves with every event; rejects with the first error event's message. */
export async function readProgress(
  stream: NodeJS.ReadableStream,
  onEvent?: (ev: ProgressEvent) => void,
): Promise<ProgressResult> {
  const events: ProgressEvent[] = [];
  let output = '';
  let buf = '';
  let error: string | undefined;
  const take = (line: string): void => {
    const trimmed = line.trim();
    if (!trimmed) return;
    const ev = parseLine(trimmed);
    events.push(ev);
    if (ev.stream) output += ev.stream;
    const msg = ev.errorDetail?.message ?? ev.error;
    if (msg && error === undefined) error = msg;
    onEvent?.(ev);
  };
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      take(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  take(buf);
  if (error !== undefined) throw new DockerProgressError(error, output);
  return { events, output };
}
