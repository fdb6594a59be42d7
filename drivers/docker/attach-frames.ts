// Docker's attach stream for a container without a TTY: frames of an 8-byte header (the stream:
// 1 stdout, 2 stderr, 0 stdin; three zero bytes; the payload's length, big-endian) and the
// payload. docker-modem's demuxStream copies all it holds at every frame (Buffer.concat, then
// Buffer.from of the rest), which made a function printing as fast as it can cost the server
// most of a core; this passes each payload on as views of the chunks that carried it.

/** Where payload bytes go: `stream` 1 is stdout, 2 stderr (0, stdin, is never attached). */
export type FrameSink = (stream: number, bytes: Buffer) => void;

export class AttachFrames {
  private readonly header = Buffer.alloc(8);
  private headerHave = 0;
  private stream = 0;
  /** Payload bytes of the current frame still to come. */
  private left = 0;
  /** Not frames after all (a header naming no stream: a TTY's raw output): all goes to stdout. */
  private raw = false;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    if (this.raw) return this.sink(1, chunk);
    let at = 0;
    while (at < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - at);
        this.sink(this.stream, chunk.subarray(at, at + n));
        this.left -= n;
        at += n;
        continue;
      }
      const n = Math.min(8 - this.headerHave, chunk.length - at);
      chunk.copy(this.header, this.headerHave, at, at + n);
      this.headerHave += n;
      at += n;
      if (this.headerHave < 8) return;
      this.headerHave = 0;
      const stream = this.header[0]!;
      if (stream > 2) {
        // As docker-modem does: what looked like a header is output, and so is everything after.
        this.raw = true;
        this.sink(1, Buffer.from(this.header));
        if (at < chunk.length) this.sink(1, chunk.subarray(at));
        return;
      }
      this.stream = stream;
      this.left = this.header.readUInt32BE(4);
    }
  }
}
