// The container's log: the daemon's stdout, which the engine hands to the agent. Every line the
// daemon passes on goes through here, so the bytes can be counted: each answer tells the agent
// where its invocation began in this stream, and the agent splits the stream between calls there
// (output an extension writes after one call's answer belongs to that call, even when it reaches
// the agent while the next call runs).

export interface ContainerLog {
  /** Writes text; false when the stream is backed up (as Writable.write). */
  write(text: string): boolean;
  /** Bytes written so far. */
  readonly bytes: number;
  /** Calls back once a backed-up stream has drained; returns what cancels the callback. */
  onceDrained(cb: () => void): () => void;
}

export function containerLog(out: NodeJS.WritableStream): ContainerLog {
  let bytes = 0;
  return {
    write(text) {
      bytes += Buffer.byteLength(text);
      return out.write(text);
    },
    get bytes() {
      return bytes;
    },
    onceDrained(cb) {
      out.once('drain', cb);
      return () => out.removeListener('drain', cb);
    },
  };
}
