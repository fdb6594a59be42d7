// A process's output cut into lines, as readline would, but with lines bounded: readline keeps
// a line with no newline in memory whole (60 MB of it killed a 128 MB container). A longer one
// comes out in pieces of the bound. Pure; a table-driven test covers it.
import { StringDecoder } from 'node:string_decoder';

/** CloudWatch Logs' largest event is 256 KB: a longer line would be cut there anyway (in characters here). */
export const MAX_LINE_CHARS = 256 * 1024;
const CR = 13;
const LF = 10;
const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly max = MAX_LINE_CHARS) {}

  /** The whole lines `chunk` completes (without their `\n`, `\r\n` or `\r`), and pieces of overlong ones. */
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
    // The next \n and \r at or after `from`, found again only once passed (a chunk of many
    // short lines is scanned once, not once a line).
    let nl = text.indexOf('\n');
    let cr = text.indexOf('\r');
    for (;;) {
      if (nl !== -1 && nl < from) nl = text.indexOf('\n', from);
      if (cr !== -1 && cr < from) cr = text.indexOf('\r', from);
      const brk = nl === -1 ? cr : cr === -1 ? nl : Math.min(nl, cr);
      if (brk === -1 || brk - from > this.max) {
        // No line end within the bound: a piece of the bound, if there is that much, not
        // cutting a character's two halves (surrogates) apart.
        if (text.length - from <= this.max) break;
        let cut = from + this.max;
        if (isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
        lines.push(text.slice(from, cut));
        from = cut;
        continue;
      }
      if (text.charCodeAt(brk) === CR) {
        // \r\n is one line end and a lone \r another, as readline has them; a \r last in the
        // text waits for what follows.
        if (brk + 1 === text.length && !atEnd) break;
        lines.push(text.slice(from, brk));
        from = brk + (text.charCodeAt(brk + 1) === LF ? 2 : 1);
        continue;
      }
      lines.push(text.slice(from, brk));
      from = brk + 1;
    }
    this.partial = text.slice(from);
    if (atEnd && this.partial !== '') {
      lines.push(this.partial);
      this.partial = '';
    }
    return lines;
  }
}
