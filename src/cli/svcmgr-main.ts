// svcmgr's entry (built into the one file dist/src/cli/svcmgr.bundle.js, run by dist/src/cli/svcmgr.js:
// scripts/bundle-cli.mjs).
// A plain `print status` (src/cli/svcmgr-args.ts) is answered from the daemon's last read
// when it runs here (control op `status`: read again first if the file or the var dir
// changed), and read here without commander when no daemon runs; anything else runs the
// commands of svcmgr-program.ts. Each path loads only what it uses.
import { askDaemon, DaemonUnreachable, noDaemonSocket } from '../daemon/control-client.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import { summarize, type ServiceStatus } from '../service/status.js';
import { cliContext, isMainModule, runMain, type CliContext } from './main.js';
import { printStatuses } from './print-status.js';
import { hbRows } from './relocate.js';
import { printStatusArgs } from './svcmgr-args.js';

type Args = NonNullable<ReturnType<typeof printStatusArgs>>;

/** `print status` from the daemon; 'no-daemon' when none runs here, undefined when it cannot answer for every service. */
async function printStatusFromDaemon(ctx: CliContext, args: Args): Promise<number | 'no-daemon' | undefined> {
  if (noDaemonSocket(ctx.paths)) return 'no-daemon';
  // the view and every status at once: one round trip, not one per service
  const [r, ...s] = await Promise.allSettled([askDaemon(ctx.paths, { op: 'view' }, 5_000), ...args.services.map((svc) => askDaemon(ctx.paths, { op: 'status', svc }, 30_000))]);
  // no daemon here: the full program would read without a view and say nothing either
  if (r!.status === 'rejected') return r!.reason instanceof DaemonUnreachable ? 'no-daemon' : undefined;
  if (!r!.value.ok || !r!.value.view) return undefined;
  const view: ClusterView = r!.value.view;
  const statuses: ServiceStatus[] = [];
  for (const x of s) {
    if (x.status === 'rejected' || !x.value.ok || !x.value.status) return undefined;
    statuses.push(x.value.status);
  }
  // the daemon reads without heartbeat rows: they count in overall, as a read here does
  const hb = hbRows(view);
  return printStatuses(statuses.map((s) => summarize(s, s.resources, hb)), view, args.format);
}

/** `print status` read here, as the full program does without a daemon (no view, no note). */
async function printStatusHere(ctx: CliContext, args: Args): Promise<number> {
  const { Service } = await import('../service/service.js');
  const statuses = await Promise.all(args.services.map((n) => Service.open(ctx.paths, n, ctx.nodename).status(hbRows(undefined))));
  return printStatuses(statuses, undefined, args.format);
}

async function main(): Promise<number> {
  const args = printStatusArgs(process.argv);
  if (args) {
    const ctx = cliContext();
    const fast = await printStatusFromDaemon(ctx, args);
    if (fast === 'no-daemon') return printStatusHere(ctx, args);
    if (fast !== undefined) return fast;
  }
  const { main: full } = await import('./svcmgr-program.js');
  return full();
}

if (isMainModule(import.meta.url)) runMain('svcmgr', main);
