// A process's output cut into log records: a line each, ended by \n or \r\n, as the service
// reads a runtime's stdout, with lines bounded: readline keeps a line with no newline in memory
// whole (60 MB of it killed a 128 MB container). A longer one comes out in pieces of the bound.
// Pure; a table-driven test covers it.
import { StringDecoder } from 'node:string_decoder';

/** CloudWatch Logs' largest event is 256 KB: a longer line would be cut there anyway (in characters here). */
export const MAX_LINE_CHARS = 256 * 1024;
const CR = 13;
const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly max = MAX_LINE_CHARS) {}

  /** Set when a flush took a CR that may have been the first half of a CRLF. */
  private flushedCR = false;

  /** The whole lines `chunk` completes (without their `\n` or `\r\n`), and pieces of overlong ones. */
  push(chunk: Buffer): string[] {
    let text = this.partial + this.decoder.write(chunk);
    if (this.flushedCR) {
      this.flushedCR = false;
      // The LF of a CRLF whose CR was flushed ends nothing more.
      if (text.startsWith('\n')) text = text.slice(1);
    }
    return this.split(text, false);
  }

  /**
   * The line begun and not yet ended, as a record of its own (an invocation is over: what its
   * process printed without a newline is its own, not the start of the next one's first line).
   * A character whose bytes are not all in stays held.
   */
  flush(): string[] {
    if (this.partial === '') return [];
    this.flushedCR = this.partial.charCodeAt(this.partial.length - 1) === CR;
    const last = this.flushedCR ? this.partial.slice(0, -1) : this.partial;
    this.partial = '';
    return [oneMessage(last)];
  }

  /** What is left at the end of the stream. */
  end(): string[] {
    return this.split(this.partial + this.decoder.end(), true);
  }

  private split(text: string, atEnd: boolean): string[] {
    const lines: string[] = [];
    let from = 0;
    // The next \n at or after `from`, found again only once passed (a chunk of many short
    // lines is scanned once, not once a line).
    let nl = text.indexOf('\n');
    for (;;) {
      if (nl !== -1 && nl < from) nl = text.indexOf('\n', from);
      if (nl !== -1) {
        const end = nl > from && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        if (end - from <= this.max) {
          lines.push(oneMessage(text.slice(from, end)));
          from = nl + 1;
          continue;
        }
      }
      // No line end within the bound: a piece of the bound, if there is that much (a CR last
      // may be half of a CRLF still to come), not cutting a character's two halves apart.
      const held = nl === -1 && !atEnd && text.charCodeAt(text.length - 1) === CR ? 1 : 0;
      if (text.length - held - from <= this.max) break;
      let cut = from + this.max;
      if (isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      lines.push(oneMessage(text.slice(from, cut)));
      from = cut;
    }
    this.partial = text.slice(from);
    if (atEnd && this.partial !== '') {
      const last = this.partial.charCodeAt(this.partial.length - 1) === CR ? this.partial.slice(0, -1) : this.partial;
      lines.push(oneMessage(last));
      this.partial = '';
    }
    return lines;
  }
}

/**
 * A lone CR inside a line is a newline within one message: the AWS runtime clients write a
 * multi-line message (a stack trace) to stdout with its newlines made CRs, so that it stays one
 * log record, as the service reads it; it is a newline again in the record and the call's log.
 */
const oneMessage = (line: string): string => (line.includes('\r') ? line.replaceAll('\r', '\n') : line);
