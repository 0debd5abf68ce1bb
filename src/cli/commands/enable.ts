// `svcmgr enable` / `disable` [--rid | --subset]: a disabled resource is skipped by start and
// stop and shows `D` in the flags column of print status (the `disable` keyword every resource
// section has, src/config/keywords.ts). Without --rid/--subset, every resource section of the
// file. Persisted through the locked edit path of `set`/`unset` (src/cli/config-commands.ts):
// disable sets `disable = true`, enable removes the unscoped `disable` line.
import { cmdSet, cmdUnset } from '../config-commands.js';
import { UsageError, UserError } from '../../vocab/errors.js';
import { writeJson } from '../format.js';
import type { SvcmgrEnv } from './env.js';

export interface EnableOutput {
  svcname: string;
  action: 'enable' | 'disable';
  rids: string[];
}

/** The resource sections the command applies to (those of the file; not the implicit sync#i0). */
function targets(env: SvcmgrEnv, name: string): { svcname: string; rids: string[] } {
  const svc = env.open(name);
  const { rids, subsets } = env.actionOpts();
  const inFile = svc.config.resources;
  for (const rid of rids) if (!inFile.some((r) => r.rid === rid)) throw new UsageError(`service ${svc.svcname}: no resource ${rid}`);
  for (const s of subsets) if (!inFile.some((r) => r.kw.string('subset') === s)) throw new UsageError(`service ${svc.svcname}: no subset ${s}`);
  const chosen = inFile.filter((r) => (rids.length === 0 || rids.includes(r.rid)) && (subsets.length === 0 || subsets.includes(r.kw.string('subset') ?? '')));
  return { svcname: svc.svcname, rids: chosen.map((r) => r.rid) };
}

export function registerEnable(env: SvcmgrEnv): void {
  for (const action of ['enable', 'disable'] as const) {
    env.program
      .command(action)
      .description(action === 'disable' ? 'disable resources (--rid/--subset, or all): start and stop skip them, print status flags them D' : 'enable disabled resources again (--rid/--subset, or all)')
      .action(async () => {
        const outs: EnableOutput[] = [];
        // every target resolved first: a bad --rid anywhere changes nothing
        const all = env.services().map((n) => targets(env, n));
        const waitLockMs = env.actionOpts().waitLockMs;
        for (const { svcname, rids } of all) {
          if (rids.length > 0) {
            if (action === 'disable') await cmdSet(env.ctx.paths, svcname, env.ctx.nodename, rids.map((rid) => ({ section: rid, key: 'disable', value: 'true' })), { waitLockMs });
            else await cmdUnset(env.ctx.paths, svcname, env.ctx.nodename, rids.map((rid) => `${rid}.disable`), { waitLockMs });
          }
          // a scoped `disable@<node>` line outranks the unscoped one: say so rather than claim it
          const still = env.open(svcname).resources.filter((r) => rids.includes(r.rid) && r.disabled !== (action === 'disable'));
          if (still.length) throw new UserError(`${svcname}: ${still.map((r) => r.rid).join(', ')} still ${action === 'enable' ? 'disabled' : 'enabled'} on ${env.ctx.nodename} by a scoped disable@ line: edit it with set/unset`);
          env.open(svcname).log.info({ event: action, rids }, `${action}d ${rids.join(', ')}`);
          outs.push({ svcname, action, rids });
        }
        if (env.format() === 'json') return writeJson(outs.length === 1 ? outs[0] : outs);
        for (const o of outs) process.stdout.write(o.rids.length ? o.rids.map((rid) => `${o.svcname} ${rid} ${action}d`).join('\n') + '\n' : `${o.svcname}: no resource\n`);
      });
  }
}
