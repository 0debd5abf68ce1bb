// Loop devices over sparse files under /tmp: the block devices of the fs and vg tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sh } from './env.js';

export interface LoopDev {
  file: string;
  dev: string;
  detach(): Promise<void>;
}

/** A sparse backing file of `sizeMiB` in a fresh temp dir, attached to a free loop device. */
export async function createLoop(prefix: string, sizeMiB = 64): Promise<LoopDev> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${prefix}-`));
  const file = path.join(dir, 'disk.img');
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB * 1024 * 1024);
  let dev: string;
  try {
    dev = (await sh('losetup', ['--find', '--show', file])).stdout.trim();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    file,
    dev,
    async detach() {
      await sh('losetup', ['-d', dev], { reject: false });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A sparse image file (no loop device), for drivers that loop-mount regular files. */
export function createImage(prefix: string, sizeMiB = 64): { file: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${prefix}-`));
  const file = path.join(dir, 'disk.img');
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB * 1024 * 1024);
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
