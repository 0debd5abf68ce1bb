// `nodemgr drain [--wait] [--timeout S] [--format json]`: ask the local daemon to freeze this
// node and move its failover services away (src/daemon/drain.ts), then, with --wait, follow
// the drain until every service settled. docs/maintenance.md.
import { askDaemon, DaemonNoAccess, DaemonUnreachable } from '../daemon/control-client.js';
import { drainComplete, type DrainReport, type DrainService } from '../cluster/drain.js';
import { MAX_DRAIN_TIMEOUT_S } from '../daemon/control-protocol.js';
import { EXIT, UsageError, UserError } from '../vocab/errors.js';
import { writeJson, type Format } from './format.js';
import type { CliContext } from './main.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DrainOptions {
  wait?: boolean;
  timeout: string;
  format: Format;
}

export function parseDrainTimeout(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_DRAIN_TIMEOUT_S) throw new UsageError(`--timeout ${JSON.stringify(v)}: expected whole seconds from 1 to ${MAX_DRAIN_TIMEOUT_S}`);
  return n;
}

async function ask(ctx: CliContext, req: { op: 'drain'; timeout: number } | { op: 'drain-status' }): Promise<DrainReport> {
  let r;
  try {
    r = await askDaemon(ctx.paths, req);
  } catch (e) {
    if (e instanceof DaemonUnreachable || e instanceof DaemonNoAccess) throw new UserError(`drain needs the daemon: ${e.message}`, EXIT.unavailable);
    throw e;
  }
  if (!r.ok) throw new UserError(`drain refused: ${r.error}`);
  if (!r.drain) throw new UserError('the daemon sent no drain report');
  return r.drain;
}

function line(s: DrainService): string {
  switch (s.state) {
    case 'moved':
      return `${s.svc}: moved to ${s.to} (${((s.ms ?? 0) / 1000).toFixed(1)} s)`;
    case 'moving':
      return `${s.svc}: moving to ${s.to}`;
    case 'failed':
      return `${s.svc}: failed${s.to ? ` to move to ${s.to}` : ''}: ${s.why}`;
    case 'unmovable':
      return `${s.svc}: not movable: ${s.why}`;
  }
}

/** The exit code: 0 when every service moved (or is moving, without --wait), EXIT.notMoved otherwise. */
export async function drainCommand(ctx: CliContext, o: DrainOptions): Promise<number> {
  const timeout = parseDrainTimeout(o.timeout);
  let r = await ask(ctx, { op: 'drain', timeout });
  if (o.wait) {
    // the daemon ends the drain at its timeout; the margin covers a slow answer
    const until = Date.now() + timeout * 1000 + 10_000;
    while (!r.done) {
      if (Date.now() > until) throw new UserError(`drain: the daemon did not end the drain within ${timeout} s`);
      await sleep(200);
      const next = await ask(ctx, { op: 'drain-status' });
      if (next.id !== r.id) throw new UserError('drain: another drain replaced this one');
      r = next;
    }
  }
  const ok = o.wait ? drainComplete(r) : r.services.every((s) => s.state === 'moved' || s.state === 'moving');
  if (o.format === 'json') writeJson({ node: r.node, frozen: true, done: r.done, ms: (r.ended ?? Date.now()) - r.started, services: r.services });
  else {
    process.stdout.write(`${r.node} frozen; ${r.services.length ? `${r.services.length} failover service${r.services.length === 1 ? '' : 's'}` : 'no failover service runs here'}\n`);
    for (const s of r.services) process.stdout.write(`${line(s)}\n`);
  }
  return ok ? EXIT.ok : EXIT.notMoved;
}
