// Scheduled tasks: after each status refresh of a service, the daemon of the node running it
// starts the tasks whose schedule is due (src/resources/schedule.ts), one run at a time per
// task, never on a frozen service or node. The last run is recorded by the service layer at
// its start, in the var dir: a restarted daemon does not run a task again at once.
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';
import { isDue } from '../resources/schedule.js';
import { readTaskRecord } from '../resources/task-state.js';
import type { Service } from '../service/service.js';
import { runTask, taskResources } from '../service/tasks.js';

export interface TaskSchedulerDeps {
  log: Logger;
}

/** Which of the tasks are due now, as a pure function of their schedules and last runs. */
export function dueTasks(tasks: readonly { rid: string; disabled: boolean; schedule: Parameters<typeof isDue>[0] | undefined; confirmation: boolean; lastAt: number | undefined }[], now: number): string[] {
  return tasks.filter((t) => t.schedule && !t.disabled && !t.confirmation && isDue(t.schedule, t.lastAt, now)).map((t) => t.rid);
}

export class TaskScheduler {
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly d: TaskSchedulerDeps) {}

  /** After a refresh of `svc`: runsHere is the daemon's word that the service runs on this node, idle and not frozen. */
  observe(svc: Service, runsHere: boolean, now = Date.now()): void {
    if (!runsHere) return;
    const tasks = taskResources(svc).map((r) => ({
      rid: r.rid,
      disabled: r.disabled,
      schedule: r.impl.task.schedule,
      confirmation: r.impl.task.confirmation,
      lastAt: readTaskRecord(r.impl.task.recordFile).last?.at,
    }));
    for (const rid of dueTasks(tasks, now)) {
      const key = `${svc.svcname}\0${rid}`;
      if (this.running.has(key)) continue; // the previous run still goes: no overlap
      const p = runTask(svc, rid, { scheduled: true })
        .then(() => undefined)
        .catch((e: unknown) => {
          const why = e instanceof Error ? e.message : String(e);
          this.d.log.warn({ event: EVENT.taskSkipped, svc: svc.svcname, rid, why }, `scheduled ${rid} of ${svc.svcname} not run: ${why}`);
        })
        .finally(() => this.running.delete(key));
      this.running.set(key, p);
    }
  }

  /** runs under way (daemon stop waits for none: a run is the service's, it ends on its own or by its timeout) */
  get active(): number {
    return this.running.size;
  }
}
