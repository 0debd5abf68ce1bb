// app type `ocf`: drive an OCF resource agent (Pacemaker's resource-agents package:
// ocf:heartbeat:Dummy, anything, IPaddr2...). The agent is called as `<agent> start|stop|monitor`
// with its parameters in OCF_RESKEY_<name>; exit codes follow the OCF spec (GUIDE §5):
// monitor 0 running, 7 not running, anything else is trouble named in the status message.
import fs from 'node:fs';
import path from 'node:path';
import type { Resource, ResourceContext, StatusReport } from './types.js';
import type { CommandResult, OutputTarget } from './app-command.js';
import { describeOutcome, formatMs, lastLine, runAppCommand, safeName } from './app-command.js';
import { baseEnv, parseAssignments, serviceEnv } from './app-env.js';

export const defaultOcfRoot = '/usr/lib/ocf';

/** OCF return codes and what they mean, for messages. */
export const ocfExitMeaning: Readonly<Record<number, string>> = {
  0: 'success',
  1: 'generic error',
  2: 'invalid arguments',
  3: 'unimplemented feature',
  4: 'insufficient privileges',
  5: 'not installed',
  6: 'not configured',
  7: 'not running',
  8: 'running promoted',
  9: 'failed promoted',
};
/** Agents state why they failed with `ocf_exit_reason`: an "ocf-exit-reason:<text>" stderr line. */
function exitReason(r: CommandResult): string {
  const reasons = r.stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
  const last = reasons[reasons.length - 1];
  return last !== undefined ? last.slice('ocf-exit-reason:'.length).trim() : lastLine(r.stderr) || lastLine(r.stdout);
}
const describe = { meaning: (code: number): string | undefined => ocfExitMeaning[code], detail: exitReason };

export interface OcfAgent {
  /** canonical "ocf:heartbeat:Dummy" */
  spec: string;
  provider: string;
  type: string;
  /** <OCF_ROOT>/resource.d/<provider>/<type> */
  file: string;
}

const namePart = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/** "ocf:heartbeat:Dummy" or "heartbeat:Dummy". Throws a readable error on anything else. */
export function parseAgent(spec: string, ocfRoot: string = defaultOcfRoot): OcfAgent {
  const parts = spec.trim().split(':');
  if (parts.length === 3 && parts[0] === 'ocf') parts.shift();
  const [provider, type] = parts;
  if (parts.length !== 2 || !provider || !type || !namePart.test(provider) || !namePart.test(type)) {
    throw new Error(`agent "${spec}": expected ocf:<provider>:<type>, e.g. ocf:heartbeat:Dummy`);
  }
  return { spec: `ocf:${provider}:${type}`, provider, type, file: path.join(ocfRoot, 'resource.d', provider, type) };
}

type OcfAction = 'start' | 'stop' | 'monitor';

export function createOcfApp(ctx: ResourceContext): Resource {
  const { kw, log } = ctx;
  const ocfRoot = process.env.OCF_ROOT || defaultOcfRoot;
  const problems: string[] = [];
  let agent: OcfAgent | undefined;
  const agentSpec = kw.string('agent')?.trim();
  if (!agentSpec) problems.push('agent is required for type ocf (e.g. agent = ocf:heartbeat:Dummy)');
  else {
    try {
      agent = parseAgent(agentSpec, ocfRoot);
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  let params: Record<string, string> = {};
  let extraEnv: Record<string, string> = {};
  try {
    params = parseAssignments(kw.string('ocf_params'), 'ocf_params');
    extraEnv = parseAssignments(kw.string('environment'), 'environment');
  } catch (e) {
    problems.push(e instanceof Error ? e.message : String(e));
  }
  const label = agent?.spec ?? agentSpec ?? 'ocf';
  const timeouts: Record<OcfAction, number> = {
    start: kw.duration('start_timeout') ?? kw.mustDuration('timeout'),
    stop: kw.duration('stop_timeout') ?? kw.mustDuration('timeout'),
    monitor: kw.mustDuration('check_timeout'),
  };
  const base = safeName(ctx.svcname, ctx.rid);
  // agents' private state dir; under ferry's run dir so it is cleared with it at boot
  const rscTmp = path.join(ctx.paths.run, 'ocf');
  const output = (action: OcfAction): OutputTarget =>
    action === 'monitor'
      ? { mode: 'scratch', dir: path.join(ctx.paths.run, 'app'), tag: `${base}.monitor` }
      : { mode: 'log', stdoutPath: path.join(ctx.paths.log, 'app', `${base}.out`), stderrPath: path.join(ctx.paths.log, 'app', `${base}.err`) };

  /** Why the agent cannot be called at all, or undefined. */
  function unusable(): string | undefined {
    if (problems.length) return problems.join('; ');
    try {
      fs.accessSync(agent!.file, fs.constants.X_OK);
      return undefined;
    } catch {
      return `ocf agent ${agent!.spec} not found: ${agent!.file} is missing or not executable`;
    }
  }

  async function call(a: OcfAgent, action: OcfAction): Promise<CommandResult> {
    fs.mkdirSync(rscTmp, { recursive: true });
    const env: Record<string, string> = {
      // a stray OCF_RESKEY_x in ferry's own environment must not configure the agent
      ...baseEnv(/^OCF_RESKEY_/),
      ...serviceEnv(ctx.svcname, ctx.rid, ctx.nodename),
      ...extraEnv,
      OCF_ROOT: ocfRoot,
      OCF_RA_VERSION_MAJOR: '1',
      OCF_RA_VERSION_MINOR: '0',
      OCF_RESOURCE_INSTANCE: safeName(`${ctx.svcname}_${ctx.rid}`),
      OCF_RESOURCE_TYPE: a.type,
      OCF_RESOURCE_PROVIDER: a.provider,
      OCF_RESKEY_CRM_meta_timeout: String(timeouts[action]),
      HA_RSCTMP: rscTmp,
    };
    for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
    // monitor and meta-data run at every status refresh: routine, at debug
    log[action === 'start' || action === 'stop' ? 'info' : 'debug']({ action, agent: a.spec }, `ocf ${action}`);
    // monitor only reads (OCF): the daemon's command runner may start it
    return runAppCommand([a.file, action], { timeoutMs: timeouts[action], env, cwd: '/', output: output(action), readOnly: action === 'monitor', log });
  }

  async function act(action: 'start' | 'stop'): Promise<void> {
    const why = unusable();
    if (why) throw new Error(`${ctx.rid} ${action} failed: ${why}`);
    const r = await call(agent!, action);
    if (r.exitCode !== 0 || r.timedOut) {
      throw new Error(`${ctx.rid} ${action} failed: ${agent!.spec} ${action}: ${describeOutcome(r, timeouts[action], describe)}`);
    }
  }

  return {
    rid: ctx.rid,
    kind: 'app',
    start: () => act('start'),
    stop: () => act('stop'),
    async status(): Promise<StatusReport> {
      const report = (s: StatusReport['status'], ...messages: string[]): StatusReport => ({ status: s, label, messages });
      // an agent that cannot run cannot have started anything
      const why = unusable();
      if (why) return report('down', why);
      let r: CommandResult;
      try {
        r = await call(agent!, 'monitor');
      } catch (e) {
        return report('warn', `monitor: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (r.timedOut) return report('warn', `monitor timed out after ${formatMs(timeouts.monitor)}`);
      if (r.exitCode === 0) return report('up');
      if (r.exitCode === 7) return report('down');
      if (r.exitCode === 8) return report('up', 'running promoted');
      return report('warn', `monitor ${describeOutcome(r, timeouts.monitor, describe)}`);
    },
  };
}
