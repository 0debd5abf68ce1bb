// Cuts the first line out of a byte stream with a bounded buffer, in linear time: each chunk
// is scanned once for the newline, never the bytes already held.

export type Framed = { kind: 'more' } | { kind: 'line'; line: Buffer } | { kind: 'too-long' };

export class LineFramer {
  private readonly chunks: Buffer[] = [];
  private held = 0;
  private done = false;

  constructor(private readonly maxBytes: number) {}

  /** bytes received and kept, waiting for the newline */
  get pending(): number {
    return this.held;
  }

  /**
   * Feed one chunk. 'line' (the bytes before the first newline) and 'too-long' (more than
   * maxBytes without a newline) are final: after them every chunk is dropped unread.
   */
  push(chunk: Buffer): Framed {
    if (this.done) return { kind: 'more' };
    const nl = chunk.indexOf(0x0a);
    const upTo = nl < 0 ? chunk.length : nl;
    if (this.held + upTo > this.maxBytes) return this.finish({ kind: 'too-long' });
    if (nl < 0) {
      this.chunks.push(chunk);
      this.held += chunk.length;
      return { kind: 'more' };
    }
    this.chunks.push(chunk.subarray(0, nl));
    return this.finish({ kind: 'line', line: Buffer.concat(this.chunks) });
  }

  private finish(r: Framed): Framed {
    this.done = true;
    this.chunks.length = 0;
    this.held = 0;
    return r;
  }
}

/**
 * Cuts a stream into lines, each bounded: for the client of a stream answer (`events
 * --follow`). Bytes are scanned once; a line longer than maxBytes is an error.
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  /** The complete lines in this chunk (without their newlines), or 'too-long'. */
  push(chunk: Buffer): Buffer[] | 'too-long' {
    const lines: Buffer[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) break;
      if (this.held + nl - from > this.maxBytes) return 'too-long';
      this.chunks.push(chunk.subarray(from, nl));
      lines.push(Buffer.concat(this.chunks));
      this.chunks = [];
      this.held = 0;
      from = nl + 1;
    }
    const rest = chunk.length - from;
    if (this.held + rest > this.maxBytes) return 'too-long';
    if (rest > 0) {
      this.chunks.push(chunk.subarray(from));
      this.held += rest;
    }
    return lines;
  }
}
