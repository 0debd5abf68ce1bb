// `svcmgr print schedule`: the service's scheduled jobs (tasks, data syncs) with their last
// and next run on this node (next: only where the service runs, the daemon runs them).
import { writeJson } from '../format.js';
import { plainTable } from '../table.js';
import { scheduleRows, type ScheduleRow } from '../../service/tasks.js';
import type { SvcmgrEnv } from './env.js';

export interface ScheduleJson {
  svcname: string;
  rid: string;
  action: 'run' | 'sync';
  schedule: string;
  last_run: string | null;
  next_run: string | null;
}

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

/** local "YYYY-MM-DD HH:MM:SS", '-' for none */
function localTime(t: number | undefined): string {
  if (t === undefined) return '-';
  const d = new Date(t);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function scheduleJson(rows: readonly ScheduleRow[]): ScheduleJson[] {
  return rows.map((r) => ({ svcname: r.svcname, rid: r.rid, action: r.action, schedule: r.schedule, last_run: iso(r.lastRun), next_run: iso(r.nextRun) }));
}

export function renderSchedule(rows: readonly ScheduleRow[]): string {
  if (rows.length === 0) return '(no scheduled job)';
  const head = ['SERVICE', 'ACTION', 'RID', 'LAST RUN', 'NEXT RUN', 'SCHEDULE'];
  return plainTable([head, ...rows.map((r) => [r.svcname, r.action, r.rid, localTime(r.lastRun), r.schedule ? localTime(r.nextRun) : '-', r.schedule || '-'])]);
}

export function registerPrintSchedule(env: SvcmgrEnv): void {
  env.print
    .command('schedule')
    .description('the scheduled jobs of the service (tasks, data syncs): schedule, last run, next run')
    .action(async () => {
      const svcs = env.services().map(env.open);
      const rows = svcs.flatMap((s) => scheduleRows(s));
      if (env.format() === 'json') return writeJson(scheduleJson(rows));
      process.stdout.write(renderSchedule(rows) + '\n');
    });
}
