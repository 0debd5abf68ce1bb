// The v1 `svcmon` table (seed 003), drawn with cli-table3 without borders.
import Table from 'cli-table3';
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

const blank = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ' ',
};

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
  const table = new Table({ chars: blank, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true } });
  table.push(HEAD.map(([a]) => a));
  table.push(HEAD.map(([, b]) => b));
  table.push(HEAD.map(([a, b]) => '-'.repeat(Math.max(a.length, b.length, 6))));
  for (const s of statuses) table.push(svcmonRow(s));
  return table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
