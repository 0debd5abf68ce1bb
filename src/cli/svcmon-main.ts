// svcmon's entry (built into the one file dist/src/cli/svcmon.bundle.js, run by dist/src/cli/svcmon.js:
// scripts/bundle-cli.mjs).
// svcmon: the status table of the services, cluster-wide when the daemon runs here, this
// node's own otherwise (seed 003 columns). `--format json` has one shape either way
// (src/daemon/svcmon-model.ts). A daemon this user may not reach is an error, not an empty cluster.
import { listServices } from '../service/list.js';
import type { ServiceStatus } from '../service/status.js';
import { cliContext, commaList, isMainModule, reportError, runMain } from './main.js';
import { renderSvcmon } from './render-svcmon.js';
import { EXIT, NoSuchService, UserError } from '../vocab/errors.js';
import { quickSvcmonArgs, type SvcmonArgs } from './svcmon-args.js';
import { askDaemonText, DaemonNoAccess, DaemonUnreachable, noDaemonSocket } from '../daemon/control-client.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import { svcmonJson, svcmonText, type ViewText } from './svcmon-output.js';
import { modelOfLocal } from '../daemon/svcmon-model.js';

/**
 * The cluster view from the local daemon, or why there is none (no daemon runs here). The text
 * asks for it lean (without the config digests it does not show: a third of the view at 5000
 * services), the JSON with the spans of the payloads (copied to the output as they are); a
 * daemon of an earlier version, which refuses these options, is asked for the whole view.
 */
async function clusterView(ctx: ReturnType<typeof cliContext>, json: boolean): Promise<{ view: ClusterView; raw?: ViewText } | DaemonUnreachable> {
  const none = noDaemonSocket(ctx.paths);
  if (none) return none;
  try {
    let a = await askDaemonText(ctx.paths, json ? { op: 'view', spans: true } : { op: 'view', lean: true }, 5_000);
    if (!a.response.ok && a.response.error.startsWith('bad request: unknown field')) a = await askDaemonText(ctx.paths, { op: 'view' }, 5_000);
    const r = a.response;
    if (!r.ok) throw new UserError(`daemon: ${r.error}`);
    if (!r.view) throw new UserError('daemon: the answer carries no view');
    return { view: r.view, ...(r.spans ? { raw: { text: a.text, spans: r.spans } } : {}) };
  } catch (e) {
    if (e instanceof DaemonUnreachable) return e;
    // a local-only table here would read as an empty cluster: say why and stop
    if (e instanceof DaemonNoAccess) throw new UserError(e.message, EXIT.unavailable);
    throw e;
  }
}

/** The options: the plain forms without commander, anything else through it (help, usage errors). */
async function options(): Promise<SvcmonArgs> {
  const quick = quickSvcmonArgs(process.argv.slice(2));
  if (quick) return quick;
  const { buildProgram } = await import('./svcmon-program.js');
  return buildProgram().parse(process.argv).opts<SvcmonArgs>();
}

async function main(): Promise<number> {
  const ctx = cliContext();
  const opts = await options();
  const wanted = commaList(opts.service);
  const view = await clusterView(ctx, opts.format === 'json');
  // the service files are listed only when needed (a check of --service, no daemon): 5000 names
  const known = wanted.length || view instanceof DaemonUnreachable ? listServices(ctx.paths) : [];
  for (const w of wanted) if (!known.includes(w)) throw new NoSuchService(`service ${w} does not exist`);
  if (!(view instanceof DaemonUnreachable)) {
    process.stdout.write(opts.format === 'json' ? svcmonJson(view.view, wanted, view.raw) : svcmonText(view.view, wanted));
    return 0;
  }
  const names = wanted.length ? wanted : known;
  let code = 0;
  // no daemon: read the services here (the service layer is loaded only then)
  const { Service } = await import('../service/service.js');
  // a broken service file must not hide the others: report it and go on
  const statuses = (
    await Promise.all(
      names.map(async (n): Promise<ServiceStatus | undefined> => {
        try {
          return await Service.open(ctx.paths, n, ctx.nodename).status();
        } catch (e) {
          code = reportError('svcmon', e);
          return undefined;
        }
      }),
    )
  ).filter((s): s is ServiceStatus => s !== undefined);
  if (opts.format === 'json') process.stdout.write(JSON.stringify(modelOfLocal(ctx.nodename, statuses, view.message)) + '\n');
  else process.stdout.write(renderSvcmon(statuses) + '\n');
  return code;
}

if (isMainModule(import.meta.url)) runMain('svcmon', main);
