// A call's stdout/stderr, kept up to a byte cap; what is cut is counted and said.

export class LogBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  write(chunk: Buffer): void {
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

  toString(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${text}\n[kiln: ${this.dropped} more bytes of output dropped]\n` : text;
  }
}
