// Reading a small file that comes from outside (a service file, the cluster file, a secret)
// without trusting what the path names: a FIFO would block the reader for ever, /dev/zero
// or a growing file would be read for ever. Only a regular file is read, never more than
// `limit` bytes.
import fs from 'node:fs';

export type BoundedRead =
  | { ok: true; text: string; mode: number }
  /** `kind`: "FIFO", "directory", "character device", ... */
  | { ok: false; reason: 'not-regular'; kind: string }
  /** `size` is undefined when the file grew past the limit while being read */
  | { ok: false; reason: 'too-large'; size: number | undefined };

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isDirectory()) return 'directory';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'not a file';
}

/**
 * The UTF-8 text of `file` when it is a regular file of at most `limit` bytes. The open
 * does not block (O_NONBLOCK: a FIFO without writer opens at once, and is then refused).
 * Throws the system's error (ENOENT, EACCES...) when the file cannot be opened or read.
 */
export function readRegularFile(file: string, limit: number): BoundedRead {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, reason: 'not-regular', kind: kindOf(st) };
    if (st.size > limit) return { ok: false, reason: 'too-large', size: st.size };
    // the file may grow between fstat and read: read one byte past its size to notice, and
    // past the limit once it did. A buffer of the limit for every read made the daemon's
    // memory grow by a megabyte per service file read.
    let buf = Buffer.allocUnsafe(Math.min(limit, st.size) + 1);
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const grown = Buffer.allocUnsafe(limit + 1);
        buf.copy(grown, 0, 0, len);
        buf = grown;
      }
      const n = fs.readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
      if (len > limit) return { ok: false, reason: 'too-large', size: undefined };
    }
    return { ok: true, text: buf.toString('utf8', 0, len), mode: st.mode };
  } finally {
    fs.closeSync(fd);
  }
}
