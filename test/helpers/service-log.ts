// The structured events of a service's log on a node (pino JSON lines): tests match events,
// not English text.
import fs from 'node:fs';

/** the events `name` of the service's log under root (a node's FERRY_ROOT); none when no log yet */
export function logEvents(root: string, svc: string, name: string): Record<string, unknown>[] {
  const f = `${root}/log/${svc}.log`;
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').flatMap((l) => {
    try {
      const e = JSON.parse(l) as Record<string, unknown>;
      return e.event === name ? [e] : [];
    } catch {
      return [];
    }
  });
}
