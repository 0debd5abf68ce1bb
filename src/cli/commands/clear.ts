// `svcmgr clear`: forget a "start failed" / "stop failed" / switch hold and the monitor's
// restart counts of a service on this node, so the orchestrator may try it again now. That
// state lives in the daemon only (src/daemon/control-handlers.ts clear()): without a daemon there is
// nothing to clear.
import { askDaemon, DaemonNoAccess, DaemonUnreachable } from '../../daemon/control-client.js';
import { locateService, readServiceText } from '../../config/load.js';
import { EXIT, UserError } from '../../vocab/errors.js';
import { writeJson } from '../format.js';
import type { SvcmgrEnv } from './env.js';

export interface ClearOutput {
  svcname: string;
  /** a daemon runs here and took the request */
  daemon: boolean;
  /** the monitor state before the clear (with a daemon) */
  was?: string;
  /** the error the service carried */
  error?: string;
}

export function registerClear(env: SvcmgrEnv): void {
  env.program
    .command('clear')
    .description('reset a failed start/stop, a switch hold and the restart counts here, so the daemon may try the service again now')
    .action(async () => {
      const out: ClearOutput[] = [];
      for (const name of env.services()) {
        const { svcname, file } = locateService(env.ctx.paths, name);
        readServiceText(file, svcname); // no such service: exit 66 before asking anything
        let r;
        try {
          r = await askDaemon(env.ctx.paths, { op: 'clear', svc: svcname }, 10_000);
        } catch (e) {
          if (e instanceof DaemonUnreachable) {
            out.push({ svcname, daemon: false });
            continue;
          }
          if (e instanceof DaemonNoAccess) throw new UserError(e.message, EXIT.unavailable);
          throw e;
        }
        if (!r.ok) throw new UserError(`${svcname}: ${r.error}`);
        out.push({ svcname, daemon: true, ...(r.cleared ? { was: r.cleared.was, ...(r.cleared.error ? { error: r.cleared.error } : {}) } : {}) });
      }
      if (env.format() === 'json') return writeJson(out.length === 1 ? out[0] : out);
      for (const o of out) {
        const line = !o.daemon
          ? `${o.svcname}: no daemon runs on ${env.ctx.nodename}: no failed state to clear`
          : `${o.svcname}: cleared (was ${o.was ?? 'idle'}${o.error ? `: ${o.error}` : ''})`;
        process.stdout.write(`${line}\n`);
      }
    });
}
