#!/usr/bin/env node
// svcmon: the status table of the services of this node (seed 003 columns).
import { Command, Option } from 'commander';
import { Service, listServices } from '../service/service.js';
import type { ServiceStatus } from '../service/status.js';
import { cliContext, commaList, reportError, runMain } from './main.js';
import { renderSvcmon } from './render-svcmon.js';
import { UserError } from './errors.js';
import { askDaemon, DaemonUnreachable } from '../daemon/control-client.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import { renderClusterSvcmon } from './render-cluster.js';
import { renderHeartbeats } from './render-heartbeats.js';

/** The cluster view from the local daemon, or undefined when no daemon runs here. */
async function clusterView(ctx: ReturnType<typeof cliContext>): Promise<ClusterView | undefined> {
  try {
    const r = await askDaemon(ctx.paths, { op: 'view' }, 5_000);
    if (!r.ok) throw new UserError(`daemon: ${r.error}`);
    return r.view;
  } catch (e) {
    if (e instanceof DaemonUnreachable) return undefined;
    throw e;
  }
}

async function main(): Promise<number> {
  const ctx = cliContext();
  const program = new Command('svcmon')
    .description('Status of the services of this node')
    .option('--service <svcs>', 'only these services (comma separated)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .configureOutput({ outputError: (str, write) => write(`svcmon: ${str.replace(/^error: /, '')}`) })
    .parse(process.argv);
  const opts = program.opts<{ service?: string; format: 'text' | 'json' }>();
  const wanted = commaList(opts.service);
  const known = listServices(ctx.paths);
  for (const w of wanted) if (!known.includes(w)) throw new UserError(`service ${w} does not exist`);
  const view = await clusterView(ctx);
  if (view) {
    if (opts.format === 'json') process.stdout.write(JSON.stringify(view, null, 2) + '\n');
    else process.stdout.write(`${renderClusterSvcmon(view, wanted)}\n\n${renderHeartbeats(view.hb).join('\n')}\n`);
    return 0;
  }
  const names = wanted.length ? wanted : known;
  let code = 0;
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
  if (opts.format === 'json') process.stdout.write(JSON.stringify({ node: ctx.nodename, services: statuses }, null, 2) + '\n');
  else process.stdout.write(renderSvcmon(statuses) + '\n');
  return code;
}

runMain('svcmon', main);
