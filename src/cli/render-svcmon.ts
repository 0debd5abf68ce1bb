// The v1 `svcmon` table (seed 003), borderless (src/cli/table.ts).
import { headerRows, plainTable } from './table.js';
import type { ServiceStatus } from '../service/status.js';

const HEAD: [string, string][] = [
  ['service', 'name'],
  ['service', 'type'],
  ['container', 'type'],
  ['container', 'status'],
  ['ip', 'status'],
  ['disk', 'status'],
  ['fs', 'status'],
  ['share', 'status'],
  ['app', 'status'],
  ['hb', 'status'],
  ['sync', 'status'],
  ['avail', 'status'],
  ['overall', 'status'],
  ['', 'frozen'],
];

export function svcmonRow(s: ServiceStatus): string[] {
  return [
    s.svcname,
    s.service_type,
    'hosted',
    s.groups.container,
    s.groups.ip,
    s.groups.disk,
    s.groups.fs,
    s.groups.share,
    s.groups.app,
    s.groups.hb,
    s.groups.sync,
    s.avail,
    s.overall,
    s.frozen ? 'True' : 'False',
  ];
}

export function renderSvcmon(statuses: ServiceStatus[]): string {
  return plainTable([...headerRows(HEAD), ...statuses.map(svcmonRow)]);
}
