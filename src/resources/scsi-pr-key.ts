// This node's SCSI-3 persistent reservation key: 8 random bytes, generated the first time a
// resource needs it and kept in <var>/scsi_pr_key (mode 0600) forever after, so that the key a
// node registered yesterday is the key it releases today, across restarts and upgrades.
// Peers only ever see the key on the disks; it is not derived from the node name.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FerryPaths } from '../paths.js';

export const KEY_FILE = 'scsi_pr_key';

export function prKeyFile(paths: FerryPaths): string {
  return path.join(paths.var, KEY_FILE);
}

/** A fresh key: "0x" + 16 hex digits, never zero (key 0 means "unregister" to the target). */
export function newPrKey(): string {
  for (;;) {
    const b = crypto.randomBytes(8);
    if (b.some((x) => x !== 0)) return `0x${b.toString('hex')}`;
  }
}

function readKey(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!/^0x[0-9a-f]{1,16}$/i.test(text) || /^0x0+$/i.test(text)) {
    throw new Error(`${file}: not a reservation key ("0x" and up to 16 hex digits, not zero): "${text.slice(0, 40)}"; remove it to have a new key generated`);
  }
  return text.toLowerCase();
}

/** The stored key, or undefined when this node never needed one (read-only: status uses it). */
export function storedPrKey(paths: FerryPaths): string | undefined {
  return readKey(prKeyFile(paths));
}

/**
 * This node's key, generating and storing it on first use. The write is atomic and never
 * replaces a key already there: a temp file (mode 0600) is written and fsynced, then linked
 * into place — link(2) is rename(2) that fails instead of replacing, so two processes
 * generating at once (two services starting) end up with the same, first stored, key — and
 * the directory is fsynced.
 */
export function nodePrKey(paths: FerryPaths): string {
  const file = prKeyFile(paths);
  const existing = readKey(file);
  if (existing) return existing;
  fs.mkdirSync(paths.var, { recursive: true });
  const key = newPrKey();
  const tmp = path.join(paths.var, `.${KEY_FILE}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, `${key}\n`);
    fs.fchmodSync(fd, 0o600); // the umask applied to openSync's mode
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const dfd = fs.openSync(paths.var, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
  const stored = readKey(file);
  if (!stored) throw new Error(`${file}: vanished right after it was written`);
  return stored;
}
