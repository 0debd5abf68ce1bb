// How svcmgr prints an action's report: one line per resource (started, stopped, already
// up/down, failed), the rollback, and one error line on stderr; or the report as JSON.
import type { ActionReport } from '../service/actions.js';
import { writeJson, type Format } from './format.js';

export function describeReport(svc: string, r: ActionReport): { out: string[]; err?: string } {
  const out: string[] = [];
  for (const o of r.outcomes) {
    if (o.ok && o.changed) out.push(`${svc} ${o.rid} ${o.action === 'start' ? 'started' : 'stopped'} (${o.endedAt - o.startedAt} ms)`);
    else if (o.ok) out.push(`${svc} ${o.rid} already ${o.action === 'start' ? 'up' : 'down'}`);
    else out.push(`${svc} ${o.rid} ${o.action} failed: ${o.error ?? ''}`);
  }
  for (const rid of r.rolledBack) out.push(`${svc} ${rid} rolled back`);
  for (const f of r.rollbackFailures) out.push(`${svc} ${f.rid} rollback failed: ${f.error}`);
  if (r.ok) return { out };
  const rb = r.rollbackFailures.length
    ? `; rollback incomplete, still up: ${r.rollbackFailures.map((f) => f.rid).join(', ')}`
    : r.rolledBack.length
      ? `; rolled back ${r.rolledBack.join(', ')}`
      : '';
  return { out, err: `${svc}: ${r.action} failed at ${r.failed?.rid}: ${r.failed?.error}${rb}` };
}

export function printReports(svc: string, reports: ActionReport[], format: Format = 'text'): boolean {
  let ok = true;
  if (format === 'json') {
    writeJson({ svcname: svc, ok: reports.every((r) => r.ok), reports });
    for (const r of reports) if (!r.ok) process.stderr.write(`svcmgr: ${describeReport(svc, r).err}\n`);
    return reports.every((r) => r.ok);
  }
  for (const r of reports) {
    const { out, err } = describeReport(svc, r);
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    if (err) {
      process.stderr.write(`svcmgr: ${err}\n`);
      ok = false;
    }
  }
  return ok;
}

