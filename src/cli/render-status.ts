// The v1 `print status` tree (seed 003): fixed columns, `# ` message lines under a resource.
import type { ResourceStatus, ServiceStatus } from '../service/status.js';

const STATUS_COL = 26;
const LABEL_COL = 35;

function resourceLines(r: ResourceStatus, parent: string, last: boolean): string[] {
  const head = `${parent}${last ? "'- " : '|- '}${r.rid}`;
  const name = head.length < STATUS_COL - 5 ? head.padEnd(STATUS_COL - 5) : `${head} `;
  const lines = [`${name}${r.flags} ${r.status.padEnd(LABEL_COL - STATUS_COL)}${r.label}`.trimEnd()];
  const cont = `${parent}${last ? '   ' : '|  '}|`;
  for (const m of r.messages) lines.push(`${cont.padEnd(LABEL_COL)}# ${m}`);
  return lines;
}

function groupLines(title: string, status: string, children: ResourceStatus[], last: boolean): string[] {
  const lines = [`${last ? "'- " : '|- '}${title}`.padEnd(STATUS_COL) + status];
  const parent = last ? '   ' : '|  ';
  children.forEach((r, i) => lines.push(...resourceLines(r, parent, i === children.length - 1)));
  return lines;
}

export function renderStatusTree(s: ServiceStatus): string {
  const avail = s.resources.filter((r) => r.kind !== 'sync' && r.kind !== 'task');
  const sync = s.resources.filter((r) => r.kind === 'sync');
  // tasks are not part of avail (never started with the service): their own group, when any
  const tasks = s.resources.filter((r) => r.kind === 'task');
  const lines = [s.svcname, 'overall'.padEnd(STATUS_COL) + s.overall];
  lines.push(...groupLines('avail', s.avail, avail, false));
  lines.push(...groupLines('sync', s.groups.sync, sync, false));
  if (tasks.length) lines.push(...groupLines('task', 'n/a', tasks, false));
  const hbLines = [`'- hb`.padEnd(STATUS_COL) + s.groups.hb];
  s.hb.forEach((h, i) => {
    const last = i === s.hb.length - 1;
    const head = `   ${last ? "'- " : '|- '}${h.name}`;
    hbLines.push(`${head.padEnd(STATUS_COL - 5)}.... ${h.status.padEnd(LABEL_COL - STATUS_COL)}${h.label}`.trimEnd());
  });
  lines.push(...hbLines);
  return lines.join('\n');
}
