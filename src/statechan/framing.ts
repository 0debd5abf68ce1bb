// Length-prefixed frames on a byte stream: u32 big-endian length, then that many bytes.
// The reader is bounded: a frame announced larger than the current limit is refused before
// a byte of it is buffered, so a hostile peer cannot make us hold more than one frame.

/** Largest frame after authentication: a chunk of state, or later a block of a bulk stream. */
export const FRAME_MAX = 16 * 1024 * 1024;
/** Largest frame before authentication: the handshake messages are a few hundred bytes. */
export const HANDSHAKE_FRAME_MAX = 4096;
const LEN = 4;

export function encodeFrame(body: Buffer): Buffer {
  if (body.length > FRAME_MAX) throw new Error(`frame of ${body.length} bytes exceeds ${FRAME_MAX}`);
  const head = Buffer.alloc(LEN);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

export class FrameError extends Error {}

/** Accumulates stream bytes and yields whole frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** the current limit; raised once the peer is authenticated */
  limit: number;

  constructor(limit = HANDSHAKE_FRAME_MAX) {
    this.limit = limit;
  }

  /** Feed bytes; returns the complete frames (bodies). Throws FrameError on an oversized frame. */
  push(data: Buffer): Buffer[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < LEN) break;
      // the length prefix may span chunks: join only those first bytes
      if (this.chunks[0]!.length < LEN) this.chunks = [Buffer.concat(this.chunks)];
      const len = this.chunks[0]!.readUInt32BE(0);
      if (len > this.limit) throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.limit}`);
      // a large frame arrives in many reads: join them once, when it is complete
      if (this.buffered < LEN + len) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      out.push(Buffer.from(all.subarray(LEN, LEN + len)));
      const rest = all.subarray(LEN + len);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
    return out;
  }

  /** bytes held, waiting for the rest of a frame */
  get pending(): number {
    return this.buffered;
  }
}
