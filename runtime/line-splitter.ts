// A process's output cut into lines, as readline would, but with lines bounded: readline keeps
// a line with no newline in memory whole (60 MB of it killed a 128 MB container). A longer one
// comes out in pieces of the bound. Pure; a table-driven test covers it.
import { StringDecoder } from 'node:string_decoder';

/** CloudWatch Logs' largest event is 256 KB: a longer line would be cut there anyway. */
export const MAX_LINE_CHARS = 256 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly max = MAX_LINE_CHARS) {}

  /** The whole lines `chunk` completes (without their `\n` or `\r\n`), and pieces of overlong ones. */
  push(chunk: Buffer): string[] {
    return this.split(this.partial + this.decoder.write(chunk), false);
  }

  /** What is left at the end of the stream. */
  end(): string[] {
    return this.split(this.partial + this.decoder.end(), true);
  }

  private split(text: string, atEnd: boolean): string[] {
    const lines: string[] = [];
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0 || nl - from > this.max) {
        // No newline within the bound: a piece of the bound, if there is that much.
        if (text.length - from < this.max) break;
        lines.push(text.slice(from, from + this.max));
        from += this.max;
        continue;
      }
      lines.push(text.slice(from, nl > from && text[nl - 1] === '\r' ? nl - 1 : nl));
      from = nl + 1;
    }
    this.partial = text.slice(from);
    if (atEnd && this.partial !== '') {
      lines.push(this.partial);
      this.partial = '';
    }
    return lines;
  }
}
