// A call's stdout/stderr, kept up to a byte cap; what is cut is counted and said. Its last
// bytes are kept as well, past the cap too (the Lambda Invoke API's LogResult is a log's end).
import { storedPrefix, withoutCutCharacter } from './stored-prefix.js';

/** How much of a log's end is kept whatever the cap: LogResult's 4 KB. */
export const LOG_TAIL_BYTES = 4096;

export class LogBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;
  private end: Buffer = Buffer.alloc(0);
  /** A Lambda invocation's END and REPORT come after its answer (the daemon's Kiln-Report-Late). */
  reportLate = false;

  constructor(private readonly maxBytes: number) {}

  write(chunk: Buffer): void {
    const last = chunk.length > LOG_TAIL_BYTES ? chunk.subarray(chunk.length - LOG_TAIL_BYTES) : chunk;
    const joined = this.end.length === 0 ? last : Buffer.concat([this.end, last]);
    this.end = joined.length > LOG_TAIL_BYTES ? joined.subarray(joined.length - LOG_TAIL_BYTES) : joined;
    const room = this.maxBytes - this.size;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(kept);
    this.size += kept.length;
    this.dropped += chunk.length - kept.length;
  }

  get bytes(): number {
    return this.size;
  }

  /** Every byte written, kept or dropped. */
  get written(): number {
    return this.size + this.dropped;
  }

  /** The last bytes written (at most LOG_TAIL_BYTES), whatever the cap kept. */
  tail(): Buffer {
    return this.end;
  }

  /**
   * As toString, but when output was dropped its end follows too (up to LOG_TAIL_BYTES): the
   * last lines of a long output are often the telling ones. The note counts what falls between.
   */
  withEnd(): string {
    const head = Buffer.concat(this.chunks);
    if (this.dropped === 0) return head.toString('utf8');
    // Everything dropped came after everything kept: the end's last `dropped` bytes are dropped ones.
    const endDropped = Math.min(this.end.length, this.dropped);
    const end = this.end.subarray(this.end.length - endDropped);
    const gap = this.dropped - endDropped;
    // No gap: the bytes join up, so a character the cap split is whole again.
    if (gap === 0) return Buffer.concat([head, end]).toString('utf8');
    // A character the cap or the end's start cut in two goes with the gap, not as U+FFFD.
    const kept = head.subarray(0, withoutCutCharacter(head));
    let from = 0;
    while (from < Math.min(3, end.length) && (end[from]! & 0xc0) === 0x80) from++;
    const dropped = gap + (head.length - kept.length) + from;
    return `${kept.toString('utf8')}\n[kiln: ${dropped} bytes of output dropped here]\n${end.subarray(from).toString('utf8')}`;
  }

  /**
   * The kept output as stored text, at most the cap in UTF-8 bytes: bytes that are not UTF-8
   * (and NUL) are stored as U+FFFD, three bytes each, so what the cap kept is cut again, between
   * characters, and what that cuts is counted as dropped. (MySQL's statements are sized by it.)
   */
  toString(): string {
    let head = Buffer.concat(this.chunks);
    // The cap may have cut a character in two: its first bytes go with what was dropped.
    if (this.dropped > 0) head = head.subarray(0, withoutCutCharacter(head));
    let text = head.toString('utf8');
    if (text.includes('\u0000') || Buffer.byteLength(text) > this.maxBytes) {
      head = head.subarray(0, storedPrefix(head, this.maxBytes));
      text = head.toString('utf8');
    }
    const dropped = this.written - head.length;
    return dropped > 0 ? `${text}\n[kiln: ${dropped} more bytes of output dropped]\n` : text;
  }
}
