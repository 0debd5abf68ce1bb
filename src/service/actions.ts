// start / stop of a service's resources in plan order. A failed non-optional resource stops
// the action; on start, what this action brought up is then stopped again in reverse order
// (unless the service says rollback = false), so a half-finished start leaves nothing behind
// or is reported exactly. With hooks (the service's actions), each resource's requirements are
// checked and its triggers run around it, and the service's own triggers around the whole; a
// rollback stops resources without triggers or requirements (as v1).
import type { Logger } from '../log.js';
import { EVENT } from '../events.js';
import type { SubsetSection } from '../config/model.js';
import type { ServiceResource } from './resources.js';
import { splitStartPlan, startPlan, stopPlan, storageMayStartBesideAddress, type Stage } from './ordering.js';
import type { PriorOwner, ResourceKind, StatusReport } from '../resources/types.js';
import type { Status } from '../vocab/status.js';
import { triggerKeyword, type TriggerAction } from '../config/trigger-keywords.js';
import { runTriggers, type TriggerContext, type TriggerSet } from './triggers.js';
import { describeUnmet, unmetRequirements } from './requires.js';

/** What a service action runs besides the drivers: requirements and triggers. */
export interface ActionHooks {
  triggers: TriggerContext;
  /** the [DEFAULT] triggers; undefined when the action is not the whole service's (--rid, --subset) */
  service?: TriggerSet;
  /** every resource of the service: requirements may name resources outside the selection */
  all: readonly ServiceResource[];
}

/** rid used in reports for a failure of the service's own triggers */
export const serviceTriggerRid = 'DEFAULT';

export type ActionName = 'start' | 'stop';

export interface ResourceOutcome {
  rid: string;
  action: ActionName;
  ok: boolean;
  /** false when the resource was already in the wanted state */
  changed: boolean;
  error?: string;
  startedAt: number;
  endedAt: number;
  /** a start that changed it: epoch ms it began to serve (the driver's servingAt, else endedAt) */
  servingAt?: number;
}

/**
 * When a started service began to serve: the last of its resources' servingAt (a container
 * counts from running, not after its start_settle check). Undefined when nothing was started.
 */
export function servingAtOf(report: ActionReport): number | undefined {
  const xs = report.outcomes.filter((o) => o.action === 'start' && o.ok && o.changed).map((o) => o.servingAt ?? o.endedAt);
  return xs.length ? Math.max(...xs) : undefined;
}

export interface ActionReport {
  action: ActionName;
  ok: boolean;
  outcomes: ResourceOutcome[];
  /** the non-optional resource that failed the action */
  failed?: { rid: string; error: string };
  /** resources stopped again by the rollback of a failed start */
  rolledBack: string[];
  rollbackFailures: { rid: string; error: string }[];
}

/**
 * A relocation's handover, the target's side: resolves once the previous owner has announced
 * the group stopped ('all': its whole stop done), with the instant this node read that
 * (performance.now() ms); rejects when it will not be (its stop failed, it was lost).
 */
export type ReleaseGate = (group: ResourceKind | 'all') => Promise<number>;

/** The owner's side: a group whose every resource in the stop has stopped (called once per group, at once). */
export type ReleaseNotice = (group: ResourceKind) => void;

/** a pre_start trigger (blocking or not) is set */
const hasPreStart = (t: TriggerSet): boolean => [false, true].some((b) => t.commands.has(triggerKeyword('pre', 'start', b)));

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'error';

async function startOne(r: ServiceResource, log: Logger, force: boolean, hooks?: ActionHooks, prior?: PriorOwner, gate?: ReleaseGate, early?: Promise<StatusReport | undefined>): Promise<ResourceOutcome> {
  const startedAt = Date.now();
  log.info({ event: EVENT.resourceBegin, rid: r.rid, action: 'start' }, 'resource start begins');
  const fail = (error: string, changed: boolean): ResourceOutcome => {
    log.error({ event: EVENT.resourceEnd, rid: r.rid, action: 'start', ok: false, ms: Date.now() - startedAt, err: error }, 'resource start failed');
    // a failed start may have half-applied: count it as changed so rollback cleans it up
    return { rid: r.rid, action: 'start', ok: false, changed, error, startedAt, endedAt: Date.now() };
  };
  try {
    // a handover's status read made while the owner was still stopping counts only when it
    // says down (nothing here starts it meanwhile: the action holds the lock); else read again
    const warm = early ? await early : undefined;
    const before = warm?.status === 'down' ? warm : await r.impl.status();
    if (before.status === 'up') {
      log.info({ event: EVENT.resourceEnd, rid: r.rid, action: 'start', ok: true, changed: false, ms: Date.now() - startedAt }, 'resource already up');
      return { rid: r.rid, action: 'start', ok: true, changed: false, startedAt, endedAt: Date.now() };
    }
    // a handover: nothing of this resource's group changes here before the owner released it
    // (a driver that awaits it itself does its read-only checks first)
    const released = gate && (() => gate(r.kind));
    if (released && !r.impl.awaitsRelease) {
      const refused = await released().then(() => undefined, (e: unknown) => message(e));
      if (refused) return fail(refused, false);
    }
    if (hooks) {
      // nothing ran yet: a refusal here leaves nothing to roll back
      const refused = (await unmetFor(r, 'start', hooks, log)) ?? (await runTriggers(hooks.triggers, r.rid, r.triggers, 'pre', 'start'));
      if (refused) return fail(refused, false);
    }
    // the status read above still holds unless a pre_start trigger ran since
    const checkedNotUp = !hooks || !hasPreStart(r.triggers);
    const res = await r.impl.start({ force, ...(checkedNotUp ? { checkedNotUp } : {}), ...(prior ? { prior } : {}), ...(released && r.impl.awaitsRelease ? { released } : {}) });
    const servedAt = Date.now();
    if (hooks) {
      const post = await runTriggers(hooks.triggers, r.rid, r.triggers, 'post', 'start');
      if (post) return fail(post, true);
    }
    log.info({ event: EVENT.resourceEnd, rid: r.rid, action: 'start', ok: true, changed: true, ms: Date.now() - startedAt }, 'resource started');
    return { rid: r.rid, action: 'start', ok: true, changed: true, startedAt, endedAt: Date.now(), servingAt: (res && res.servingAt) ?? servedAt };
  } catch (e) {
    return fail(message(e), true);
  }
}

/** The first unmet requirement of r for action, as one line (logged), or undefined. */
async function unmetFor(r: ServiceResource, action: TriggerAction, hooks: ActionHooks, log: Logger): Promise<string | undefined> {
  const reqs = r.requires[action];
  if (reqs.length === 0) return undefined;
  const current = new Map<string, Status>();
  for (const req of reqs) {
    const target = hooks.all.find((x) => x.rid === req.rid);
    if (!target) continue;
    const st = target.disabled ? 'n/a' : await statusOf(target);
    if (st !== undefined) current.set(req.rid, st as Status);
  }
  const unmet = unmetRequirements(reqs, current)[0];
  if (!unmet) return undefined;
  log.error({ event: EVENT.requiresUnmet, rid: r.rid, action, requires: unmet.rid, states: unmet.states, current: unmet.current ?? 'undef' }, 'requirement not met');
  return describeUnmet(action, unmet);
}

/** The resource's status, or undefined when the driver broke its contract and threw. */
async function statusOf(r: ServiceResource): Promise<string | undefined> {
  try {
    return (await r.impl.status()).status;
  } catch {
    return undefined;
  }
}

async function stopOne(r: ServiceResource, log: Logger, hooks?: ActionHooks): Promise<ResourceOutcome> {
  const startedAt = Date.now();
  log.info({ event: EVENT.resourceBegin, rid: r.rid, action: 'stop' }, 'resource stop begins');
  const fail = (error: string): ResourceOutcome => {
    log.error({ event: EVENT.resourceEnd, rid: r.rid, action: 'stop', ok: false, ms: Date.now() - startedAt, err: error }, 'resource stop failed');
    return { rid: r.rid, action: 'stop', ok: false, changed: false, error, startedAt, endedAt: Date.now() };
  };
  try {
    // stop runs even on a resource that reads down (drivers are idempotent and may clean up
    // leftovers), but only one that was not down counts as stopped by this action; its
    // requirements and triggers are for a resource that is not down already
    const before = await statusOf(r);
    const active = hooks !== undefined && before !== 'down';
    if (active) {
      const refused = (await unmetFor(r, 'stop', hooks, log)) ?? (await runTriggers(hooks.triggers, r.rid, r.triggers, 'pre', 'stop'));
      if (refused) return fail(refused);
    }
    // the status read above still holds unless a pre_stop trigger ran since
    const checkedNotDown = before !== undefined && before !== 'down' && (!active || ![false, true].some((b) => r.triggers.commands.has(triggerKeyword('pre', 'stop', b))));
    await r.impl.stop(checkedNotDown ? { checkedNotDown } : undefined);
    if (active) {
      const post = await runTriggers(hooks.triggers, r.rid, r.triggers, 'post', 'stop');
      if (post) return fail(post);
    }
    const changed = before !== 'down' && before !== 'n/a';
    log.info({ event: EVENT.resourceEnd, rid: r.rid, action: 'stop', ok: true, changed, ms: Date.now() - startedAt }, changed ? 'resource stopped' : 'resource already down');
    return { rid: r.rid, action: 'stop', ok: true, changed, startedAt, endedAt: Date.now() };
  } catch (e) {
    return fail(message(e));
  }
}

/** Run the stages in order; stop after the first stage where a non-optional member failed. */
async function runStages(
  stages: Stage[],
  one: (r: ServiceResource) => Promise<ResourceOutcome>,
  log: Logger,
  bestEffort = false,
): Promise<{ outcomes: ResourceOutcome[]; failed?: { rid: string; error: string } }> {
  const outcomes: ResourceOutcome[] = [];
  let first: { rid: string; error: string } | undefined;
  for (const stage of stages) {
    const results: ResourceOutcome[] = [];
    if (stage.parallel) {
      results.push(...(await Promise.all(stage.members.map(one))));
    } else {
      for (const r of stage.members) {
        const o = await one(r);
        results.push(o);
        if (!o.ok && !r.optional && !bestEffort) break;
      }
    }
    outcomes.push(...results);
    for (const o of results) {
      const r = stage.members.find((m) => m.rid === o.rid);
      if (!o.ok && r?.optional) log.warn({ rid: o.rid, err: o.error }, 'optional resource failed, continuing');
    }
    const fatal = results.find((o) => !o.ok && !stage.members.find((m) => m.rid === o.rid)?.optional);
    if (fatal && !bestEffort) return { outcomes, failed: { rid: fatal.rid, error: fatal.error ?? 'failed' } };
    if (fatal) first ??= { rid: fatal.rid, error: fatal.error ?? 'failed' };
  }
  return first ? { outcomes, failed: first } : { outcomes };
}

/**
 * A start plan, run in order unless the previous owner is proven out of the way
 * (storageMayStartBesideAddress): then its leading address stages run beside the disk and fs
 * stages (they do not need the address, see splitStartPlan), each branch in its own order, the
 * rest of the plan after both. A failure in either branch stops the action once both have ended, so the
 * rollback sees every resource either branch changed.
 */
async function runStartPlan(
  stages: Stage[],
  one: (r: ServiceResource) => Promise<ResourceOutcome>,
  log: Logger,
  prior: PriorOwner | undefined,
): Promise<{ outcomes: ResourceOutcome[]; failed?: { rid: string; error: string } }> {
  const split = storageMayStartBesideAddress(prior) ? splitStartPlan(stages) : undefined;
  if (!split) return runStages(stages, one, log);
  const [addr, storage] = await Promise.all([runStages(split.address, one, log), runStages(split.beside, one, log)]);
  const outcomes = [...addr.outcomes, ...storage.outcomes];
  // the address branch comes first in the plan: its failure is the one reported
  const failed = addr.failed ?? storage.failed;
  if (failed) return { outcomes, failed };
  const rest = await runStages(split.rest, one, log);
  return rest.failed ? { outcomes: [...outcomes, ...rest.outcomes], failed: rest.failed } : { outcomes: [...outcomes, ...rest.outcomes] };
}

export async function startResources(
  resources: readonly ServiceResource[],
  subsets: readonly SubsetSection[],
  opts: { rollback: boolean; log: Logger; force?: boolean; hooks?: ActionHooks; prior?: PriorOwner; released?: ReleaseGate },
): Promise<ActionReport> {
  const { log, hooks, prior, released: gate } = opts;
  const force = opts.force ?? false;
  log.info({ event: EVENT.actionBegin, action: 'start', rids: resources.map((r) => r.rid), ...(force ? { force } : {}), ...(prior ? { prior } : {}), ...(gate ? { handover: true } : {}) }, 'action begins');
  const service = hooks?.service;
  // a handover: the service's own pre_start runs only once the owner's whole stop is done
  const preGate = gate && service && hasPreStart(service) ? await gate('all').then(() => undefined, (e: unknown) => message(e)) : undefined;
  const pre = preGate ?? (hooks && service ? await runTriggers(hooks.triggers, undefined, service, 'pre', 'start') : undefined);
  let outcomes: ResourceOutcome[] = [];
  let failed: { rid: string; error: string } | undefined = pre ? { rid: serviceTriggerRid, error: pre } : undefined;
  // a handover: every resource's status is read now, while the owner still stops (warm), not
  // on the path after the release of the groups before it
  const early = gate && !pre ? new Map(resources.map((r) => [r.rid, r.impl.status().catch(() => undefined)])) : undefined;
  if (!pre) ({ outcomes, failed } = await runStartPlan(startPlan(resources, subsets), (r) => startOne(r, log, force, hooks, prior, gate, early?.get(r.rid)), log, prior));
  if (!failed && hooks && service) {
    const post = await runTriggers(hooks.triggers, undefined, service, 'post', 'start');
    if (post) failed = { rid: serviceTriggerRid, error: post };
  }
  const report: ActionReport = { action: 'start', ok: !failed, outcomes, rolledBack: [], rollbackFailures: [] };
  if (failed) {
    report.failed = failed;
    if (opts.rollback) {
      const touched = new Set(outcomes.filter((o) => o.changed).map((o) => o.rid));
      const failedRids = new Set(outcomes.filter((o) => !o.ok).map((o) => o.rid));
      const toStop = resources.filter((r) => touched.has(r.rid));
      log.warn({ event: EVENT.rollback, rid: failed.rid, rollback: [...touched] }, 'start failed, rolling back');
      for (const stage of stopPlan(toStop, subsets)) {
        for (const r of stage.members) {
          // the failed resource is stopped too: its start may have half-applied (a key
          // registered on some disks); but when that stop fails while it reads down, it never
          // came up (its stop may fail for the very reason its start did): not "still up"
          const o = await stopOne(r, log);
          if (o.ok) report.rolledBack.push(r.rid);
          else if ((await statusOf(r)) === 'down') {
            if (!failedRids.has(r.rid)) report.rolledBack.push(r.rid);
            log.warn({ event: 'rollback_stop_failed_down', rid: r.rid, err: o.error }, 'rollback stop failed, the resource reads down');
          } else report.rollbackFailures.push({ rid: r.rid, error: o.error ?? 'failed' });
        }
      }
    }
  }
  log.info({ event: EVENT.actionEnd, action: 'start', ok: report.ok }, 'action ends');
  return report;
}

export async function stopResources(
  resources: readonly ServiceResource[],
  subsets: readonly SubsetSection[],
  /** bestEffort: go on past a failed resource (shutdown, boot); the report names the first failure */
  opts: { log: Logger; bestEffort?: boolean; hooks?: ActionHooks; released?: ReleaseNotice },
): Promise<ActionReport> {
  const { log, hooks } = opts;
  // a handover's announces: how many resources of each group are still to stop
  const left = new Map<ResourceKind, number>();
  for (const r of resources) left.set(r.kind, (left.get(r.kind) ?? 0) + 1);
  const stopNoting = async (r: ServiceResource): Promise<ResourceOutcome> => {
    const o = await stopOne(r, log, hooks);
    if (o.ok && opts.released) {
      const n = left.get(r.kind)! - 1;
      left.set(r.kind, n);
      if (n === 0) opts.released(r.kind);
    }
    return o;
  };
  log.info({ event: EVENT.actionBegin, action: 'stop', rids: resources.map((r) => r.rid), ...(opts.bestEffort ? { bestEffort: true } : {}) }, 'action begins');
  const service = hooks?.service;
  const pre = hooks && service ? await runTriggers(hooks.triggers, undefined, service, 'pre', 'stop') : undefined;
  let outcomes: ResourceOutcome[] = [];
  let failed: { rid: string; error: string } | undefined = pre ? { rid: serviceTriggerRid, error: pre } : undefined;
  // a blocking pre_stop refuses the stop, except for a best-effort one (shutdown), which goes on
  if (!pre || opts.bestEffort) {
    const r = await runStages(stopPlan(resources, subsets), stopNoting, log, opts.bestEffort);
    outcomes = r.outcomes;
    failed ??= r.failed;
  }
  if (!failed && hooks && service) {
    const post = await runTriggers(hooks.triggers, undefined, service, 'post', 'stop');
    if (post) failed = { rid: serviceTriggerRid, error: post };
  }
  const report: ActionReport = { action: 'stop', ok: !failed, outcomes, rolledBack: [], rollbackFailures: [] };
  if (failed) report.failed = failed;
  log.info({ event: EVENT.actionEnd, action: 'stop', ok: report.ok }, 'action ends');
  return report;
}
