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

/** The operator's last word on a service here: started (up) or stopped (down), and when. */
export interface Expect {
  state: 'up' | 'down';
  at: number;
}

export function expectFile(varDir: string): string {
  return path.join(varDir, 'expect.json');
}

export function readExpect(varDir: string): Expect | undefined {
  try {
    const e = JSON.parse(fs.readFileSync(expectFile(varDir), 'utf8')) as Expect;
    return (e.state === 'up' || e.state === 'down') && typeof e.at === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}

export async function writeExpect(varDir: string, state: Expect['state']): Promise<void> {
  fs.mkdirSync(varDir, { recursive: true });
  await writeFileAtomic(expectFile(varDir), JSON.stringify({ state, at: Date.now() }) + '\n');
}
