// Replace a file so that readers (the daemon, a peer's config sync) see either the old or
// the new content, never a half-written one, even across a crash: temp file in the same
// directory, fsync, rename over, fsync the directory.
import fs from 'node:fs';
import path from 'node:path';
import { crypto } from './lazy-crypto.js';

export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  const dir = path.dirname(file);
  let mode = 0o644;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = fs.statSync(file);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto().randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode);
    fs.writeFileSync(fd, text);
    // the umask applied to openSync's mode: set it exactly
    fs.fchmodSync(fd, mode);
    if (owner) {
      try {
        fs.fchownSync(fd, owner.uid, owner.gid);
      } catch {
        // not root: the file becomes ours, as any editor would make it
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}
