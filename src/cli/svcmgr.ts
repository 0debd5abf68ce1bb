#!/usr/bin/env node
// svcmgr's entry. `print status` is answered from the daemon's last read when it runs here
// (control op `status`: read again first if the file or the var dir changed), loading only
// what that needs; anything else, or no daemon, runs the commands of svcmgr-program.ts.
import path from 'node:path';
import { askDaemon } from '../daemon/control-client.js';
import type { ClusterView } from '../daemon/control-protocol.js';
import { summarize, type ServiceStatus } from '../service/status.js';
import { cliContext, commaList, isMainModule, runMain } from './main.js';
import { printStatuses } from './print-status.js';
import { hbRows } from './relocate.js';

/** The services and format of a plain `print status` command line, or undefined for anything else. */
export function printStatusArgs(argv: readonly string[]): { services: string[]; format: 'json' | 'text' } | undefined {
  const [, script = 'svcmgr', ...rest] = argv;
  const invokedAs = path.basename(script).replace(/\.js$/, '');
  const services: string[] = invokedAs === 'svcmgr' ? [] : [invokedAs];
  let format: 'json' | 'text' = 'text';
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? rest[++i];
    if (flag === '-s' || flag === '--service') services.push(...commaList(value()));
    else if (flag === '--format') {
      const f = value();
      if (f !== 'json' && f !== 'text') return undefined;
      format = f;
    } else if (a.startsWith('-')) return undefined;
    else words.push(a);
  }
  if (words.join(' ') !== 'print status' || services.length === 0 || services.some((s) => s.includes('/'))) return undefined;
  return { services, format };
}

/** `print status` from the daemon; undefined when it cannot answer for every service. */
async function printStatusFromDaemon(): Promise<number | undefined> {
  const args = printStatusArgs(process.argv);
  if (!args) return undefined;
  const ctx = cliContext();
  let view: ClusterView;
  const statuses: ServiceStatus[] = [];
  try {
    const r = await askDaemon(ctx.paths, { op: 'view' }, 5_000);
    if (!r.ok || !r.view) return undefined;
    view = r.view;
    for (const svc of args.services) {
      const s = await askDaemon(ctx.paths, { op: 'status', svc }, 30_000);
      if (!s.ok || !s.status) return undefined;
      statuses.push(s.status);
    }
  } catch {
    return undefined;
  }
  // the daemon reads without heartbeat rows: they count in overall, as a read here does
  const hb = hbRows(view);
  return printStatuses(statuses.map((s) => summarize(s, s.resources, hb)), view, args.format);
}

async function main(): Promise<number> {
  const fast = await printStatusFromDaemon();
  if (fast !== undefined) return fast;
  const { main: full } = await import('./svcmgr-program.js');
  return full();
}

if (isMainModule(import.meta.url)) runMain('svcmgr', main);
