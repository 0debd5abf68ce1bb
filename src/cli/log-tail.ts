// Reading a log file line by line, and following it: new bytes are read at every poll; a file
// replaced (rotated: another inode) is finished then reopened from its start, a file
// truncated in place (copytruncate) is read again from its start. Lines are bounded.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { MAX_LOG_LINE } from './log-format.js';

const CHUNK = 64 * 1024;
/** bytes kept from just before the offset, to notice a file truncated then rewritten past it */
const TAIL = 64;

export class LogTail {
  private fd: number | undefined;
  private ino: number | undefined;
  private offset = 0;
  private partial = '';
  /** inside a line longer than MAX_LOG_LINE: its rest is dropped up to the newline */
  private skipping = false;
  private readonly buf = Buffer.alloc(CHUNK);
  private tail: Buffer = Buffer.alloc(0);
  /** a character split between two reads stays whole */
  private decoder = new StringDecoder('utf8');

  constructor(
    readonly file: string,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Read what is new since the last poll. A missing file is not an error (not created yet, or mid-rotation). */
  poll(): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      return;
    }
    if (this.fd === undefined || st.ino !== this.ino) {
      if (this.fd !== undefined) {
        this.drain(); // what was written to the old file before it was moved away
        this.flush();
        fs.closeSync(this.fd);
      }
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch {
        this.fd = undefined;
        return;
      }
      this.ino = fs.fstatSync(this.fd).ino;
      this.offset = 0;
      this.tail = Buffer.alloc(0);
      this.decoder = new StringDecoder('utf8');
    } else if (st.size < this.offset || !this.sameTail()) {
      this.flush();
      this.offset = 0;
      this.tail = Buffer.alloc(0);
      this.decoder = new StringDecoder('utf8');
    }
    this.drain();
  }

  /** The last line when it has no newline (end of a one-shot read). */
  flush(): void {
    if (this.partial.length > 0 && !this.skipping) this.onLine(this.partial);
    this.partial = '';
    this.skipping = false;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** The bytes just before the offset are still those we read: not truncated and rewritten longer since. */
  private sameTail(): boolean {
    if (this.fd === undefined || this.tail.length === 0) return true;
    const got = Buffer.alloc(this.tail.length);
    const n = fs.readSync(this.fd, got, 0, got.length, this.offset - this.tail.length);
    return n === got.length && got.equals(this.tail);
  }

  private drain(): void {
    if (this.fd === undefined) return;
    for (;;) {
      const n = fs.readSync(this.fd, this.buf, 0, CHUNK, this.offset);
      if (n <= 0) return;
      this.offset += n;
      const keep = Math.min(TAIL, this.offset);
      this.tail = Buffer.concat([this.tail, this.buf.subarray(0, n)]).subarray(-keep);
      this.take(this.decoder.write(this.buf.subarray(0, n)));
    }
  }

  private take(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.partial = '';
        continue;
      }
      this.onLine(this.partial + piece);
      this.partial = '';
    }
    if (this.skipping) return;
    this.partial += text.slice(start);
    if (this.partial.length > MAX_LOG_LINE) {
      this.onLine(`${this.partial.slice(0, MAX_LOG_LINE)} ...(line cut at ${MAX_LOG_LINE} characters)`);
      this.partial = '';
      this.skipping = true;
    }
  }
}
