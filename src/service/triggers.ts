// Triggers (OpenSVC v1): the `pre_<action>`, `blocking_pre_<action>`, `post_<action>` and
// `blocking_post_<action>` commands of a resource or of the service, run around its part of a
// start or stop. Each is shlex-split and run without a shell, detached in its own session like
// an app command (a daemon it leaves behind does not hold the action), within trigger_timeout.
// A non-blocking failure is logged and the action goes on; a blocking one is returned to the
// caller, which fails the action.
import path from 'node:path';
import type { Logger } from '../log.js';
import { EVENT } from '../events.js';
import type { KeywordValues } from '../vocab/keywords.js';
import { describeOutcome, runAppCommand, type CommandResult } from '../resources/app-command.js';
import { baseEnv } from '../resources/app-env.js';
import { shlexSplit } from '../util/shlex.js';
import { defaultTriggerTimeoutMs, triggerActions, triggerKeyword, type TriggerAction, type TriggerWhen } from '../config/trigger-keywords.js';

/** The trigger commands of one section, by keyword name (`blocking_pre_start`), as argv. */
export interface TriggerSet {
  commands: ReadonlyMap<string, readonly string[]>;
  timeoutMs: number;
}

export const noTriggers: TriggerSet = { commands: new Map(), timeoutMs: defaultTriggerTimeoutMs };

/** The triggers of a section's values; `inheritedTimeoutMs` when the section sets no trigger_timeout. */
export function triggerSetFrom(kw: KeywordValues, inheritedTimeoutMs: number): TriggerSet {
  const commands = new Map<string, readonly string[]>();
  for (const action of triggerActions) {
    for (const when of ['pre', 'post'] as const) {
      for (const blocking of [false, true]) {
        const name = triggerKeyword(when, action, blocking);
        const raw = kw.string(name);
        // validated at load: splits; an empty value (`pre_start@node2 =`) is no trigger
        const argv = raw === undefined ? [] : shlexSplit(raw);
        if (argv.length > 0) commands.set(name, argv);
      }
    }
  }
  return { commands, timeoutMs: kw.duration('trigger_timeout') ?? inheritedTimeoutMs };
}

export interface TriggerContext {
  svcname: string;
  nodename: string;
  /** where the commands' output is written and read back */
  scratchDir: string;
  log: Logger;
}

/** The variables a trigger sees besides ferry's own environment (v1 names and ferry's). */
export function triggerEnv(svcname: string, nodename: string, action: TriggerAction, rid: string | undefined): Record<string, string> {
  return {
    OPENSVC_SVCNAME: svcname,
    OPENSVC_ACTION: action,
    ...(rid !== undefined ? { OPENSVC_RID: rid } : {}),
    FERRY_SVCNAME: svcname,
    FERRY_NODENAME: nodename,
    FERRY_ACTION: action,
    ...(rid !== undefined ? { FERRY_RID: rid } : {}),
  };
}

/**
 * Run the `when` triggers of `action` for a resource (rid) or the service (rid undefined):
 * the non-blocking one, then the blocking one, as v1. Returns the blocking failure as one
 * line, undefined when nothing blocks.
 */
export async function runTriggers(ctx: TriggerContext, rid: string | undefined, set: TriggerSet, when: TriggerWhen, action: TriggerAction): Promise<string | undefined> {
  for (const blocking of [false, true]) {
    const name = triggerKeyword(when, action, blocking);
    const argv = set.commands.get(name);
    if (!argv) continue;
    const env = { ...baseEnv(/^(OPENSVC_|FERRY_(SVCNAME|RID|ACTION)$)/), ...triggerEnv(ctx.svcname, ctx.nodename, action, rid) };
    const started = Date.now();
    let r: CommandResult | undefined;
    let err: string | undefined;
    try {
      r = await runAppCommand(argv, {
        timeoutMs: set.timeoutMs,
        env,
        cwd: '/',
        output: { mode: 'scratch', dir: ctx.scratchDir, tag: `${(rid ?? 'DEFAULT').replace(/[^A-Za-z0-9_.-]/g, '_')}.${name}` },
      });
      if (r.spawnError || r.timedOut || r.exitCode !== 0) err = describeOutcome(r, set.timeoutMs);
    } catch (e) {
      // the scratch files could not be made (a full or read-only var): the trigger did not run
      err = `cannot run: ${(e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'error'}`;
    }
    const cmd = r?.command ?? argv.join(' ');
    const fields = { event: EVENT.triggerRun, ...(rid !== undefined ? { rid } : {}), trigger: name, action, blocking, cmd, ms: r?.durationMs ?? Date.now() - started };
    if (err === undefined) {
      ctx.log.info(fields, `${name} ran`);
      continue;
    }
    const failed = { ...fields, event: EVENT.triggerFailed, err };
    if (!blocking) {
      ctx.log.warn(failed, `${name} failed, non-blocking: the action goes on`);
      continue;
    }
    ctx.log.error(failed, `${name} failed: the action fails`);
    return `${name} failed: ${cmd}: ${err}`;
  }
  return undefined;
}

export const scratchDirOf = (varDir: string): string => path.join(varDir, 'triggers');
