// `svcmgr -s S docker|podman <args...>`: the engine CLI for the service's containers (as v1's
// `svcmgr -s S docker ps`). `ps` lists only the service's containers on this node (filters on
// the labels the container driver sets: ferry.svc, ferry.node; other ps flags kept); in any
// other command an argument naming one of the service's container resources ("container#1")
// is replaced by its container's name. The engine's output and exit code are passed through.
// The engine arguments are taken off the command line before commander sees it, so engine
// flags (`--format`, `-a`) are never read as svcmgr's.
import { spawn } from 'node:child_process';
import { run } from '../../util/exec.js';
import { UsageError, UserError } from '../../vocab/errors.js';
import type { SvcmgrEnv } from './env.js';

export const ENGINES = ['docker', 'podman'] as const;
type EngineName = (typeof ENGINES)[number];

/** svcmgr's own options that take a value (their value is never the engine word) */
const VALUE_OPTIONS = new Set(['-s', '--service', '--rid', '--subset', '--format', '--waitlock']);

/** Split `node svcmgr [opts] docker args...` into what commander parses and the engine's args. */
export function splitEngineArgv(argv: readonly string[]): { head: string[]; tail: string[] } | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    if ((ENGINES as readonly string[]).includes(a)) return { head: argv.slice(0, i + 1), tail: argv.slice(i + 1) };
    return undefined; // another command
  }
  return undefined;
}

async function containerName(engine: EngineName, env: Record<string, string>, svc: string, node: string, rid: string): Promise<string> {
  const r = await run(engine, ['ps', '-a', '--filter', `label=ferry.svc=${svc}`, '--filter', `label=ferry.rid=${rid}`, '--filter', `label=ferry.node=${node}`, '--format', '{{.Names}}'], { timeout: 30_000, env });
  if (!r.ok) throw new UserError(`${engine} ps: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.exitCode}`}`);
  const name = r.stdout.trim().split('\n').filter(Boolean)[0];
  if (!name) throw new UserError(`${svc}: no ${engine} container for ${rid} on ${node} (not started?)`);
  return name;
}

export function registerEngine(env: SvcmgrEnv, tail: () => string[]): void {
  for (const engine of ENGINES) {
    env.program
      .command(engine)
      .description(`run the ${engine} CLI on the service's containers: \`ps\` lists only them; a container rid in the arguments is replaced by its name`)
      .helpOption(false)
      .action(async () => {
        const names = env.services();
        if (names.length !== 1) throw new UsageError(`${engine}: one service at a time`);
        const svc = env.open(names[0]!);
        const mine = svc.config.resources.filter((r) => r.group === 'container' && r.type === engine);
        if (mine.length === 0) throw new UsageError(`service ${svc.svcname} has no ${engine} container`);
        const host = mine.map((r) => r.kw.string('docker_host')).find((h) => h !== undefined && h.length > 0);
        const engineEnv: Record<string, string> = host ? (engine === 'docker' ? { DOCKER_HOST: host } : { CONTAINER_HOST: host }) : {};
        const args = tail();
        let argv: string[];
        if (args[0] === 'ps') {
          argv = ['ps', ...args.slice(1), '--filter', `label=ferry.svc=${svc.svcname}`, '--filter', `label=ferry.node=${env.ctx.nodename}`];
        } else {
          argv = [];
          for (const a of args) argv.push(mine.some((r) => r.rid === a) ? await containerName(engine, engineEnv, svc.svcname, env.ctx.nodename, a) : a);
        }
        const code = await new Promise<number>((resolve, reject) => {
          const child = spawn(engine, argv, { stdio: 'inherit', env: { ...process.env, ...engineEnv } });
          child.on('error', (e) => reject(new UserError(`cannot run ${engine}: ${e.message}`)));
          child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 + 15 : 1)));
        });
        env.setCode(code);
      });
  }
}
