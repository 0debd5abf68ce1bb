// app type `forking` (the default): commands that return once the application is started,
// in two spellings:
//   v2 style  start = /bin/sh -c "mydaemon --flag &"      (a command line, shlex-split, no shell)
//   v1 style  script = launcher ; start = 10              (true or a sequence number: run
//                                                          `<launcher> start|stop|status|info`)
// check exit codes: 0 up, 1 down, anything else warn.
import path from 'node:path';
import { shlexSplit } from '../util/shlex.js';
import type { Resource, ResourceContext, StartOptions, StatusReport, StopOptions } from './types.js';
import type { CommandResult, OutputTarget } from './app-command.js';
import { describeOutcome, formatMs, runAppCommand, safeName, shorten } from './app-command.js';
import { baseEnv, parseAssignments, resolveUser, serviceEnv } from './app-env.js';

export type AppAction = 'start' | 'stop' | 'check' | 'info';

/** A forking app also answers `info` (v1 `<launcher> info`: "key: value" lines). */
export interface AppResource extends Resource {
  info(): Promise<Record<string, string>>;
}

/** The launcher argument v1 passes for each action. */
const scriptAction: Record<AppAction, string> = { start: 'start', stop: 'stop', check: 'status', info: 'info' };

interface Plan {
  commands: Partial<Record<AppAction, string[]>>;
  /** configuration problems: start/stop refuse to run, status reports them */
  problems: string[];
  label: string;
}

export function createForkingApp(ctx: ResourceContext): AppResource {
  const plan = planCommands(ctx);
  const { kw, log } = ctx;
  const timeouts: Record<AppAction, number> = {
    start: kw.duration('start_timeout') ?? kw.mustDuration('timeout'),
    stop: kw.duration('stop_timeout') ?? kw.mustDuration('timeout'),
    check: kw.mustDuration('check_timeout'),
    info: kw.duration('info_timeout') ?? kw.mustDuration('check_timeout'),
  };
  const base = safeName(ctx.svcname, ctx.rid);
  // start/stop output is the app's log (its daemons keep writing there); check/info output is scratch
  const output = (action: AppAction): OutputTarget =>
    action === 'start' || action === 'stop'
      ? { mode: 'log', stdoutPath: path.join(ctx.paths.log, 'app', `${base}.out`), stderrPath: path.join(ctx.paths.log, 'app', `${base}.err`) }
      : { mode: 'scratch', dir: path.join(ctx.paths.run, 'app'), tag: `${base}.${action}` };

  async function exec(action: AppAction, argv: string[]): Promise<CommandResult> {
    const env = { ...baseEnv(), ...serviceEnv(ctx.svcname, ctx.rid, ctx.nodename) };
    const userName = kw.string('user');
    let ids: { uid: number; gid: number } | undefined;
    if (userName) {
      const u = await resolveUser(userName);
      ids = { uid: u.uid, gid: u.gid };
      Object.assign(env, { HOME: u.home, USER: u.name, LOGNAME: u.name });
    }
    Object.assign(env, parseAssignments(kw.string('environment'), 'environment'));
    // a check or info runs at every status refresh: routine, at debug (its failure shows in the status)
    const level = action === 'start' || action === 'stop' ? 'info' : 'debug';
    log[level]({ action, cmd: argv.join(' ') }, `app ${action}`);
    return runAppCommand(argv, {
      timeoutMs: timeouts[action],
      env,
      cwd: kw.string('cwd') || '/',
      ...ids,
      output: output(action),
      // check and info only read: the daemon's command runner may start them
      readOnly: action === 'check' || action === 'info',
      log,
    });
  }

  /** Run start or stop; throws a one-line error on failure. */
  async function act(action: 'start' | 'stop', checked = false): Promise<void> {
    if (plan.problems.length) throw new Error(`${ctx.rid}: ${plan.problems.join('; ')}`);
    const argv = plan.commands[action];
    if (!argv) {
      log.info(`no ${action} command`);
      return;
    }
    // idempotence, as OpenSVC v2: trust the check when there is one (not run a second time
    // when the caller has just run it and found the app not up for a start, not down for a stop)
    if (plan.commands.check && !checked) {
      const current = (await status()).status;
      if ((action === 'start' && current === 'up') || (action === 'stop' && current === 'down')) {
        log.info(`already ${current}`);
        return;
      }
    }
    let r: CommandResult;
    try {
      r = await exec(action, argv);
    } catch (e) {
      // could not even set the command up: unknown user, unwritable log directory...
      throw new Error(`${ctx.rid} ${action} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (r.exitCode !== 0 || r.timedOut) {
      throw new Error(`${ctx.rid} ${action} failed: ${shorten(r.command, 80)}: ${describeOutcome(r, timeouts[action])}`);
    }
  }

  async function status(): Promise<StatusReport> {
    const report = (s: StatusReport['status'], ...messages: string[]): StatusReport => ({ status: s, label: plan.label, messages });
    if (plan.problems.length) return report('warn', ...plan.problems);
    const argv = plan.commands.check;
    if (!argv) return report('n/a');
    let r: CommandResult;
    try {
      r = await exec('check', argv);
    } catch (e) {
      return report('warn', `check: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (r.timedOut) return report('warn', `check timed out after ${formatMs(timeouts.check)}`);
    if (r.exitCode === 0) return report('up');
    if (r.exitCode === 1) return report('down');
    return report('warn', `check ${describeOutcome(r, timeouts.check)}`);
  }

  return {
    rid: ctx.rid,
    kind: 'app',
    start: (opts?: StartOptions) => act('start', opts?.checkedNotUp === true),
    stop: (opts?: StopOptions) => act('stop', opts?.checkedNotDown === true),
    status,
    async info(): Promise<Record<string, string>> {
      const argv = plan.commands.info;
      if (!argv || plan.problems.length) return {};
      const r = await exec('info', argv);
      if (r.exitCode !== 0 || r.timedOut) throw new Error(`${ctx.rid} info failed: ${describeOutcome(r, timeouts.info)}`);
      return parseInfo(r.stdout);
    },
  };
}

/** Turn the start/stop/check/info/script keywords into argv lists, collecting mistakes. */
function planCommands(ctx: ResourceContext): Plan {
  const problems: string[] = [];
  const commands: Plan['commands'] = {};
  let startViaScript = false;
  const scriptRaw = ctx.kw.string('script')?.trim() || undefined;
  // v1: a relative launcher lives in <services>/<svcname>.dir/
  const script = scriptRaw === undefined ? undefined : path.resolve(ctx.paths.services, `${ctx.svcname}.dir`, scriptRaw);
  for (const action of ['start', 'stop', 'check', 'info'] as const) {
    const raw = ctx.kw.string(action);
    if (raw === undefined || raw.trim() === '' || /^(false|no|off)$/i.test(raw.trim())) continue;
    if (/^(true|yes|on|\d+)$/i.test(raw.trim())) {
      if (script === undefined) problems.push(`${action} = ${raw.trim()} needs a script`);
      else commands[action] = [script, scriptAction[action]];
      if (action === 'start') startViaScript = true;
      continue;
    }
    try {
      const argv = shlexSplit(raw);
      if (argv.length) commands[action] = argv;
    } catch (e) {
      problems.push(`${action}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  try {
    parseAssignments(ctx.kw.string('environment'), 'environment');
  } catch (e) {
    problems.push(e instanceof Error ? e.message : String(e));
  }
  // the status tree shows what starts the app: the launcher, or the start command line
  const startText = ctx.kw.string('start')?.trim() ?? '';
  const label = startViaScript || !commands.start ? (script ?? '') : shorten(startText, 50);
  return { commands, problems, label };
}

/** v1 info output: "key: value" lines. */
function parseInfo(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}
