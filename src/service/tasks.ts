// Task resources as the service layer runs them: who may run one (the service up on this node,
// or --force; --confirm for a task with confirmation), one run at a time per task, the record
// of the last run, task.run.begin/end in the service log. The CLI (`svcmgr run`) and the
// daemon's scheduler (src/daemon/task-scheduler.ts) both come here.
import { UsageError, UserError } from '../vocab/errors.js';
import { EVENT } from '../events.js';
import type { Status } from '../vocab/status.js';
import type { TaskOutcome, TaskRunner } from '../resources/types.js';
import { nextRun } from '../resources/schedule.js';
import { readRecord } from '../resources/sync-rsync-state.js';
import { lockTask, readTaskRecord, writeTaskRecord, type TaskRun } from '../resources/task-state.js';
import type { ServiceResource } from './resources.js';
import type { Service } from './service.js';

export interface TaskResource extends ServiceResource {
  impl: ServiceResource['impl'] & { task: TaskRunner };
}

export function taskResources(svc: Service): TaskResource[] {
  return svc.resources.filter((r): r is TaskResource => r.impl.task !== undefined);
}

/** Does this node run the service, as far as a task is concerned? (the daemon's runsHere, on a local status) */
export function runsHereForTasks(avail: Status, expectUp: boolean): boolean {
  return avail === 'up' || avail === 'warn' || avail === 'stdby up' || (avail === 'n/a' && expectUp);
}

export interface RunTaskOptions {
  /** the operator confirmed a task with confirmation = true */
  confirm?: boolean;
  /** run even though the service is not up here */
  force?: boolean;
  /** the daemon's scheduler runs it */
  scheduled?: boolean;
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface TaskReport extends TaskOutcome {
  svcname: string;
  rid: string;
  at: number;
}

/** The checks before a run, as a pure function: the reason it is refused, or undefined. */
export function refuseRun(t: { confirmation: boolean; disabled: boolean }, o: { confirm: boolean; force: boolean; runsHere: boolean }, svcname: string, rid: string): string | undefined {
  if (t.disabled) return `${svcname}: ${rid} is disabled`;
  if (t.confirmation && !o.confirm) return `${svcname}: ${rid} needs confirmation: run it again with --confirm`;
  if (!o.runsHere && !o.force) return `${svcname} is not up on this node: ${rid} runs only where the service runs (--force to run it anyway)`;
  return undefined;
}

/** Run one task now. Throws UsageError (no such task) or UserError (refused, already running). */
export async function runTask(svc: Service, rid: string, opts: RunTaskOptions = {}): Promise<TaskReport> {
  const r = taskResources(svc).find((x) => x.rid === rid);
  if (!r) {
    if (svc.resources.some((x) => x.rid === rid)) throw new UsageError(`service ${svc.svcname}: ${rid} is not a task: only task resources can run`);
    throw new UsageError(`service ${svc.svcname}: no resource ${rid}`);
  }
  const t = r.impl.task;
  const needsStatus = !opts.force;
  const runsHere = needsStatus ? runsHereForTasks((await svc.status()).avail, svc.expect?.state === 'up') : true;
  const why = refuseRun({ confirmation: t.confirmation, disabled: r.disabled }, { confirm: Boolean(opts.confirm) || Boolean(opts.scheduled && !t.confirmation), force: Boolean(opts.force), runsHere }, svc.svcname, rid);
  if (why) throw new UserError(why);
  const lock = lockTask(svc.varDir, rid);
  if ('heldBy' in lock) throw new UserError(`${svc.svcname}: ${rid} is already running (pid ${lock.heldBy})`);
  const log = svc.log.child({ rid });
  try {
    const at = Date.now();
    const scheduled = Boolean(opts.scheduled);
    // recorded at the start: a daemon that dies mid-run does not run it again at once
    writeTaskRecord(t.recordFile, { last: { at, scheduled } });
    log.info({ event: EVENT.taskRunBegin, command: t.command, user: t.user, scheduled }, `run ${rid}: ${t.command}`);
    const o = await t.run(opts.onOutput);
    const run: TaskRun = { at, end: Date.now(), scheduled, timedOut: o.timedOut, ...(o.code !== undefined ? { code: o.code } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.error ? { error: o.error } : {}) };
    writeTaskRecord(t.recordFile, { last: run });
    const fields = { event: EVENT.taskRunEnd, code: o.code, signal: o.signal, timedOut: o.timedOut, error: o.error, ms: o.ms, scheduled };
    if (o.code === 0) log.info(fields, `${rid} done`);
    else log.warn(fields, `${rid} failed`);
    return { svcname: svc.svcname, rid, at, ...o };
  } finally {
    lock.release();
  }
}

export interface ScheduleRow {
  svcname: string;
  rid: string;
  /** what runs: "run" for a task, "sync" for a data sync */
  action: 'run' | 'sync';
  schedule: string;
  /** epoch ms; undefined: never */
  lastRun: number | undefined;
  /** epoch ms; undefined: no schedule */
  nextRun: number | undefined;
}

/** The scheduled jobs of a service (print schedule): its tasks and data syncs, scheduled or not. */
export function scheduleRows(svc: Service, now = Date.now()): ScheduleRow[] {
  const rows: ScheduleRow[] = [];
  for (const r of svc.resources) {
    if (r.impl.task) {
      const last = readTaskRecord(r.impl.task.recordFile).last?.at;
      const s = r.impl.task.schedule;
      rows.push({ svcname: svc.svcname, rid: r.rid, action: 'run', schedule: s?.text ?? '', lastRun: last, nextRun: s && !r.disabled ? nextRun(s, last, now) : undefined });
    } else if (r.impl.data) {
      // the pass due first: the peer synced longest ago (never: due now)
      const rec = readRecord(r.impl.data.recordFile);
      const ats = r.impl.data.targets.map((p) => rec.sent[p]?.at);
      const known = ats.filter((a): a is number => a !== undefined);
      const last = known.length === 0 || known.length < ats.length ? undefined : Math.min(...known);
      const s = r.impl.data.schedule;
      rows.push({ svcname: svc.svcname, rid: r.rid, action: 'sync', schedule: s?.text ?? '', lastRun: last, nextRun: s && !r.disabled ? nextRun(s, last, now) : undefined });
    }
  }
  return rows;
}
