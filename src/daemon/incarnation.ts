// The heartbeat incarnation of this daemon start: peers accept a restarted node's messages
// only if its (incarnation, seq) moves forward, and the incarnation comes from the wall clock.
// Keeping the last one in <var>/hb.incarnation as a floor makes it grow even when the clock
// was stepped back between two starts.
import fs from 'node:fs';
import path from 'node:path';
import { newIncarnation } from '../heartbeat/envelope.js';
import type { FerryPaths } from '../paths.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export function nextIncarnation(paths: FerryPaths): bigint {
  const file = path.join(paths.var, 'hb.incarnation');
  let floor = 0n;
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (/^\d+$/.test(text)) floor = BigInt(text);
  } catch {
    // first start: no floor
  }
  const inc = newIncarnation(floor);
  fs.mkdirSync(paths.var, { recursive: true });
  writeFileAtomic(file, `${inc}\n`);
  return inc;
}
