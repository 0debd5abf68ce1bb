// svcmgr's commands (the entry is src/cli/svcmgr-main.ts): act on services of this node. `svcmgr -s a,b <action>`, or the v1 habits
// `svcmgr <svc> <action>` and `<svc> <action>` through a symlink named after the service.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { Service } from '../service/service.js';
import { locateService } from '../config/load.js';
import { EXIT, UsageError, UserError } from '../vocab/errors.js';
import { formatOption, writeJson, type Format } from './format.js';
import { printReports } from './svcmgr-report.js';
import type { SvcmgrEnv } from './commands/env.js';
import { registerClear } from './commands/clear.js';
import { registerEnable } from './commands/enable.js';
import { registerPrintDevs } from './commands/print-devs.js';
import { registerPrStatus } from './commands/prstatus.js';
import { registerLogs } from './commands/logs.js';
import { registerBoot } from './commands/boot.js';
import { registerRun } from './commands/run.js';
import { registerPrintSchedule } from './commands/print-schedule.js';
import { registerEngine, splitEngineArgv } from './commands/engine.js';
import { cliContext, commaList, type CliContext } from './main.js';
import { printStatuses } from './print-status.js';
import { daemonView, hbRows, relocate, relocateText } from './relocate.js';
import { oneLine } from '../util/one-line.js';
import { cmdGet, cmdPrintConfig, cmdSet, cmdUnset, cmdValidateConfig, parseAssignment } from './config-commands.js';
import { registerLifecycleCommands } from './create-delete-commands.js';
import { checkParentsUp } from './dependency-check.js';

const ACTIONS = new Set(['start', 'stop', 'restart', 'print', 'validate', 'get', 'set', 'unset', 'freeze', 'thaw', 'help', 'relocate', 'switch', 'takeover', 'giveback', 'create', 'delete', 'edit']);
// the daily commands, one module each (src/cli/commands/)
for (const a of ['clear', 'enable', 'disable', 'boot', 'shutdown', 'logs', 'prstatus', 'docker', 'podman', 'run']) ACTIONS.add(a);

/** Turn the v1 calling forms into `-s <svc>`. */
export function normalizeArgv(argv: string[], ctx: CliContext): string[] {
  const [node = 'node', script = 'svcmgr', ...rest] = argv;
  const invokedAs = path.basename(script).replace(/\.c?js$/, '');
  if (invokedAs !== 'svcmgr') return [node, script, '-s', invokedAs, ...rest];
  const first = rest[0];
  if (first && !first.startsWith('-') && !ACTIONS.has(first)) {
    const looksLikeService = first.endsWith('.env') || fs.existsSync(locateService(ctx.paths, first).file);
    if (looksLikeService) return [node, script, '-s', first, ...rest.slice(1)];
  }
  return argv;
}

function services(program: Command): string[] {
  const list = commaList(program.opts<{ service?: string }>().service);
  if (list.length === 0) throw new UsageError('no service given: use -s <svc>[,<svc>]');
  return list;
}

/** The command tree (also walked by gen-man for the man page and the completion). */
export function buildProgram(ctx: CliContext): { program: Command; exitCode: () => number; setEngineTail: (tail: string[]) => void } {
  let code = 0;
  const program = new Command('svcmgr')
    .description('Act on the services of this node')
    .option('-s, --service <svc>', 'service name(s), comma separated, or a path to an .env file')
    .option('--rid <rids>', 'only these resources (comma separated)')
    .option('--subset <subsets>', 'only the resources of these subsets (comma separated)')
    .addOption(formatOption())
    .option('--waitlock <seconds>', 'how long to wait for another action on the service', '60')
    .option('--force', 'start, restart: take shared disks over even when another node holds their SCSI reservation, and start a service whose parents are not up; run: run a task where the service is not up')
    .configureOutput({ outputError: (str, write) => write(`svcmgr: ${str.replace(/^error: /, '')}`) })
    .exitOverride()
    .showHelpAfterError(false);

  const actionOpts = () => {
    const o = program.opts<{ rid?: string; subset?: string; waitlock: string; force?: boolean }>();
    const wait = Number(o.waitlock);
    if (!Number.isFinite(wait) || wait < 0) throw new UsageError(`--waitlock: "${o.waitlock}" is not a number of seconds`);
    return { rids: commaList(o.rid), subsets: commaList(o.subset), waitLockMs: wait * 1000, operator: true, force: Boolean(o.force) };
  };
  const format = () => program.opts<{ format: Format }>().format;
  const open = (name: string) => Service.open(ctx.paths, name, ctx.nodename);

  for (const action of ['start', 'stop', 'restart'] as const) {
    program.command(action).description(`${action} the service resources in order`).action(async () => {
      const opts = actionOpts();
      // open every service first: a bad file anywhere means nothing is touched
      const svcs = services(program).map(open);
      // a child is not started by hand before its parents are up somewhere (docs/dependencies.md)
      if (action !== 'stop' && !opts.force) await checkParentsUp(ctx, svcs);
      for (const svc of svcs) {
        const reports = action === 'restart' ? await svc.restart(opts) : [await svc[action](opts)];
        if (!printReports(svc.svcname, reports, format())) code = EXIT.failed;
      }
    });
  }

  for (const action of ['freeze', 'thaw'] as const) {
    program.command(action).description(action === 'freeze' ? 'stop the daemon from acting on the service' : 'let the daemon act on the service again').action(async () => {
      const svcs = services(program).map(open);
      for (const svc of svcs) await svc[action]();
    });
  }

  const print = program.command('print').description('print status or config');
  print.command('status').description('the status tree; exit code is the overall status').action(async () => {
    const { view: v, note } = await daemonView(ctx);
    if (note) process.stderr.write(`svcmgr: note: ${oneLine(note)}\n`);
    const statuses = await Promise.all(services(program).map((n) => open(n).status(hbRows(v))));
    code = printStatuses(statuses, v, format());
  });
  print
    .command('config')
    .description('the configuration file, or with --eval every keyword with its effective value')
    .option('--eval', 'show effective values, defaults included')
    .action(async (o: { eval?: boolean }) => {
      const texts = services(program).map((name) => cmdPrintConfig(ctx.paths, name, ctx.nodename, { format: format(), evaluate: Boolean(o.eval) }));
      // several services in json: one array, not documents one after the other
      if (format() === 'json') writeJson(texts.length === 1 ? JSON.parse(texts[0]!) : texts.map((t) => JSON.parse(t) as unknown));
      else for (const t of texts) process.stdout.write(t);
    });

  program
    .command('validate')
    .argument('<what>', 'config')
    .description('validate config: list every problem of the service file')
    .action(async (what: string) => {
      if (what !== 'config') throw new UsageError(`validate ${what}: only "validate config" exists`);
      const results = services(program).map((name) => cmdValidateConfig(ctx.paths, name, ctx.nodename));
      if (format() === 'json') writeJson(results.length === 1 ? results[0]!.json : results.map((r) => r.json));
      else for (const r of results) process.stdout.write(r.lines.join('\n') + '\n');
      code = Math.max(code, ...results.map((r) => r.exitCode));
    });

  program
    .command('get')
    .description('print the raw value of <section>.<keyword> (a bare keyword means DEFAULT)')
    .argument('[param]')
    .option('--param <param>')
    .option('--eval', 'print the effective value (scoping, references, default)')
    .action(async (arg: string | undefined, o: { param?: string; eval?: boolean }) => {
      const param = o.param ?? arg;
      if (!param) throw new UsageError('get: which keyword? use --param <section>.<keyword>');
      const [name] = services(program);
      const value = cmdGet(ctx.paths, name!, ctx.nodename, param, { evaluate: Boolean(o.eval) });
      // docs/schemas/svcmgr-get.schema.json
      if (format() === 'json') writeJson({ svcname: locateService(ctx.paths, name!).svcname, param, evaluated: Boolean(o.eval), value });
      else process.stdout.write(`${value}\n`);
    });

  program
    .command('set')
    .description('set keywords: set <section>.<kw>=<value> ... or --param <section>.<kw> --value <value>')
    .argument('[assignments...]')
    .option('--param <param>')
    .option('--value <value>')
    .option('--kw <assignment...>', 'v1 form: --kw <kw>=<value>')
    .action(async (args: string[], o: { param?: string; value?: string; kw?: string[] }) => {
      const assignments = [...args, ...(o.kw ?? [])].map(parseAssignment);
      if (o.param !== undefined || o.value !== undefined) {
        if (o.param === undefined || o.value === undefined) throw new UsageError('set: --param and --value go together');
        assignments.push(parseAssignment(`${o.param}=${o.value}`));
      }
      if (assignments.length === 0) throw new UsageError('set: nothing to set');
      for (const name of services(program)) await cmdSet(ctx.paths, name, ctx.nodename, assignments, { waitLockMs: actionOpts().waitLockMs });
    });

  program
    .command('unset')
    .description('remove keywords: unset <section>.<kw> ...')
    .argument('[params...]')
    .option('--param <param...>')
    .action(async (args: string[], o: { param?: string[] }) => {
      const params = [...args, ...(o.param ?? [])];
      if (params.length === 0) throw new UsageError('unset: nothing to unset');
      for (const name of services(program)) await cmdUnset(ctx.paths, name, ctx.nodename, params, { waitLockMs: actionOpts().waitLockMs });
    });

  registerLifecycleCommands(program, ctx, () => services(program), () => ({ waitLockMs: actionOpts().waitLockMs }));

  const moves: [string, string][] = [
    ['relocate', 'move the service to --to <node> through the daemons, and wait for the result'],
    ['switch', 'alias of relocate'],
    ['takeover', 'move the service to this node'],
    ['giveback', 'move the service back to its preferred node (the first of nodes)'],
  ];
  for (const [verb, description] of moves) {
    const cmd = program.command(verb).description(description).option('--wait <seconds>', 'how long to wait for the result', '300');
    if (verb === 'relocate' || verb === 'switch') cmd.requiredOption('--to <node>', 'target node');
    cmd.action(async (o: { to?: string; wait: string }) => {
      // json (docs/schemas/svcmgr-relocate.schema.json): one document, an array for several services
      const results: unknown[] = [];
      for (const name of services(program)) {
        const svc = open(name);
        const to = verb === 'takeover' ? ctx.nodename : verb === 'giveback' ? svc.config.defaults.list('nodes')[0] ?? ctx.nodename : o.to!;
        const waitS = Number(o.wait);
        if (!Number.isFinite(waitS) || waitS <= 0) throw new UsageError(`--wait: "${o.wait}" is not a number of seconds`);
        const r = await relocate(ctx, svc.svcname, to, waitS * 1000);
        if (format() === 'json') results.push(r);
        else process.stdout.write(`${relocateText(r)}\n`);
      }
      if (format() === 'json') writeJson(results.length === 1 ? results[0] : results);
    });
  }

  const env: SvcmgrEnv = {
    ctx,
    program,
    print,
    services: () => services(program),
    open,
    format,
    actionOpts,
    fail: (c) => (code = Math.max(code, c)),
    setCode: (c) => (code = c),
  };
  registerClear(env);
  registerEnable(env);
  registerPrintDevs(env);
  registerPrStatus(env);
  registerLogs(env);
  registerBoot(env);
  registerRun(env);
  registerPrintSchedule(env);
  // `svcmgr -s S docker ...`: what follows the engine verb is the engine's, not commander's
  let engineTail: string[] = [];
  registerEngine(env, () => engineTail);
  return { program, exitCode: () => code, setEngineTail: (tail) => (engineTail = tail) };
}

export async function main(): Promise<number> {
  const ctx = cliContext();
  const { program, exitCode, setEngineTail } = buildProgram(ctx);
  const argv = normalizeArgv(process.argv, ctx);
  const split = splitEngineArgv(argv);
  if (split) setEngineTail(split.tail);
  await program.parseAsync(split?.head ?? argv);
  return exitCode();
}

