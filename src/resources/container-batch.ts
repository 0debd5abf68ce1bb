// Status of a service with many containers must stay cheap: the service layer asks every
// resource at once, so the inspects asked for during one turn of the event loop, per engine and
// socket, are merged into a single `inspect` command (one process, one engine round trip).
import type { Logger } from '../log.js';
import { engineKey, inspectMany, type EngineTarget, type InspectResult } from './container-engine.js';

interface Waiter {
  name: string;
  resolve(r: InspectResult): void;
}

interface Pending {
  target: EngineTarget;
  timeoutMs: number;
  waiters: Waiter[];
}

const pending = new Map<string, Pending>();
// keep argv far below ARG_MAX and the output of one command reasonable
const MAX_NAMES = 64;

/** Inspect one container, sharing the engine call with the other inspects of this tick. */
export function inspectBatched(t: EngineTarget, name: string, timeoutMs: number, log?: Logger): Promise<InspectResult> {
  return new Promise((resolve) => {
    const key = engineKey(t);
    let p = pending.get(key);
    if (!p) {
      p = { target: t, timeoutMs, waiters: [] };
      pending.set(key, p);
      // setImmediate, not a microtask: callers that await something before asking still join
      setImmediate(() => void flush(key, log));
    }
    p.timeoutMs = Math.max(p.timeoutMs, timeoutMs);
    p.waiters.push({ name, resolve });
  });
}

async function flush(key: string, log?: Logger): Promise<void> {
  const p = pending.get(key);
  pending.delete(key);
  if (!p) return;
  const names = [...new Set(p.waiters.map((w) => w.name))];
  const results = new Map<string, InspectResult>();
  for (let i = 0; i < names.length; i += MAX_NAMES) {
    const chunk = names.slice(i, i + MAX_NAMES);
    try {
      for (const [n, r] of await inspectMany(p.target, chunk, p.timeoutMs, log)) results.set(n, r);
    } catch (e) {
      // inspectMany only throws if the process cannot be spawned at all
      const message = e instanceof Error ? e.message : String(e);
      for (const n of chunk) results.set(n, { kind: 'unreachable', message });
    }
  }
  for (const w of p.waiters) w.resolve(results.get(w.name) ?? { kind: 'absent' });
}
