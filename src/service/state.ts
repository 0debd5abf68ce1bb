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
  /** a stop by the daemon under multiple_active = stop_only: the nodes it was seen up on, so each of them stops its instance too */
  multipleActive?: string[];
}

export function expectFile(varDir: string): string {
  return path.join(varDir, 'expect.json');
}

export function readExpect(varDir: string): Expect | undefined {
  try {
    const e = JSON.parse(fs.readFileSync(expectFile(varDir), 'utf8')) as Expect;
    if ((e.state !== 'up' && e.state !== 'down') || typeof e.at !== 'number') return undefined;
    const ma = Array.isArray(e.multipleActive) ? e.multipleActive.filter((n): n is string => typeof n === 'string') : undefined;
    return { state: e.state, at: e.at, ...(ma?.length ? { multipleActive: ma } : {}) };
  } catch {
    return undefined;
  }
}

export async function writeExpect(varDir: string, state: Expect['state'], multipleActive?: string[]): Promise<void> {
  fs.mkdirSync(varDir, { recursive: true });
  await writeFileAtomic(expectFile(varDir), JSON.stringify({ state, at: Date.now(), ...(multipleActive?.length ? { multipleActive } : {}) }) + '\n');
}

/**
 * `svcmgr shutdown` records the operator's stop (nothing restarts the service while the host
 * goes down) and this marker with the same time: the next `svcmgr boot` takes that stop back,
 * so after the reboot the daemon treats the service as its orchestrate says.
 */
export function shutdownFile(varDir: string): string {
  return path.join(varDir, 'shutdown.json');
}

export async function markShutdown(varDir: string): Promise<void> {
  await writeExpect(varDir, 'down');
  const e = readExpect(varDir);
  await writeFileAtomic(shutdownFile(varDir), JSON.stringify({ at: e?.at ?? Date.now() }) + '\n');
}

/** Remove the shutdown marker, and the stop it recorded if no one has spoken since. True when it did. */
export function takeBackShutdown(varDir: string): boolean {
  let at: unknown;
  try {
    at = (JSON.parse(fs.readFileSync(shutdownFile(varDir), 'utf8')) as { at?: unknown }).at;
  } catch {
    return false;
  }
  const e = readExpect(varDir);
  const ours = e?.state === 'down' && e.at === at;
  if (ours) fs.rmSync(expectFile(varDir), { force: true });
  fs.rmSync(shutdownFile(varDir), { force: true });
  return ours;
}
