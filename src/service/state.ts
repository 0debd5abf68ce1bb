// Persistent per-service state on this node: the frozen flag.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export function frozenFile(varDir: string): string {
  return path.join(varDir, 'frozen');
}

export function isFrozen(varDir: string): boolean {
  return fs.existsSync(frozenFile(varDir));
}

export async function setFrozen(varDir: string, frozen: boolean): Promise<void> {
  fs.mkdirSync(varDir, { recursive: true });
  if (frozen) await writeFileAtomic(frozenFile(varDir), `${new Date().toISOString()}\n`);
  else fs.rmSync(frozenFile(varDir), { force: true });
}
