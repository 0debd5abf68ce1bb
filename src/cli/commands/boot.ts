// `svcmgr boot` and `svcmgr shutdown` (OpenSVC semantics, docs/commands.md):
//  - boot: what the node runs for the service at boot, before the daemon starts: clean up
//    whatever a crash or the last shutdown left (stop every resource, best effort, no operator
//    stop recorded; a stop recorded by shutdown is taken back). It starts nothing: the daemon
//    does, where orchestrate says. Refused while the daemon runs (it would stop a live service
//    behind the daemon's back).
//  - shutdown: for a host shutdown, stop every resource, going on past failures, monitored
//    ones included, and record the stop so nothing brings the service back meanwhile.
import { askDaemon, DaemonUnreachable } from '../../daemon/control-client.js';
import { EXIT, UserError } from '../../vocab/errors.js';
import type { SvcmgrEnv } from './env.js';
import { printReports } from '../svcmgr-report.js';

async function daemonRuns(env: SvcmgrEnv): Promise<boolean> {
  try {
    return (await askDaemon(env.ctx.paths, { op: 'ping' }, 2_000)).ok;
  } catch (e) {
    if (e instanceof DaemonUnreachable) return false;
    throw e;
  }
}

export function registerBoot(env: SvcmgrEnv): void {
  env.program
    .command('boot')
    .description('at node boot, before the daemon starts: clean up leftovers by stopping every resource (best effort); starts nothing')
    .action(async () => {
      const opts = env.actionOpts();
      const svcs = env.services().map(env.open);
      if (await daemonRuns(env)) throw new UserError(`the daemon runs on ${env.ctx.nodename}: boot is for before it starts (use stop)`, EXIT.usage);
      for (const svc of svcs) {
        const { report } = await svc.boot(opts);
        if (!printReports(svc.svcname, [report], env.format())) env.fail(EXIT.failed);
      }
    });
  env.program
    .command('shutdown')
    .description('for a host shutdown: stop every resource, past failures, and keep the service down until the next boot')
    .action(async () => {
      const opts = env.actionOpts();
      const svcs = env.services().map(env.open);
      for (const svc of svcs) {
        const report = await svc.shutdown(opts);
        if (!printReports(svc.svcname, [report], env.format())) env.fail(EXIT.failed);
      }
    });
}
