// A byte-rate limit for a stream (rsync --bwlimit's job for a pipe ferry copies itself, such
// as btrfs send into the transport): each chunk passes once the bytes so far fit in the rate
// since the first one. Pure schedule (delayFor) + a Transform that applies it.
import { Transform } from 'node:stream';

/** ms to wait before `bytes` (the total so far, this chunk included) may have gone at `bytesPerS`, `elapsedMs` after the first byte. */
export function delayFor(bytes: number, bytesPerS: number, elapsedMs: number): number {
  if (bytesPerS <= 0) return 0;
  return Math.max(0, (bytes / bytesPerS) * 1000 - elapsedMs);
}

/** A pass-through stream at most `bytesPerS` on average (0: no limit); chunks are not split. */
export function rateLimit(bytesPerS: number, now: () => number = Date.now): Transform {
  let t0: number | undefined;
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      t0 ??= now();
      const wait = delayFor(sent, bytesPerS, now() - t0);
      sent += chunk.length;
      if (wait < 1) cb(null, chunk);
      else setTimeout(() => cb(null, chunk), wait);
    },
  });
}
