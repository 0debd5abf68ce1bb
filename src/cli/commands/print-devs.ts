// `svcmgr print devs`: the block devices the service's resources use (fs dev, vg PVs and
// LVs, disk resources' disks), per resource, and which carry a SCSI reservation.
import type { ServiceDevices } from '../../service/service.js';
import { writeJson } from '../format.js';
import type { SvcmgrEnv } from './env.js';

export interface DevsOutput {
  svcname: string;
  resources: ServiceDevices[];
}

export function renderDevs(o: DevsOutput): string {
  const lines = [o.svcname];
  if (o.resources.length === 0) lines.push('  (no resource uses a block device)');
  for (const r of o.resources) {
    lines.push(`  ${r.rid}${r.disabled ? ' (disabled)' : ''}`);
    for (const d of r.sub) lines.push(`    sub      ${d}${r.reserved.includes(d) ? ' (scsi reservation)' : ''}`);
    for (const d of r.exposed) lines.push(`    exposed  ${d}`);
    for (const m of r.messages) lines.push(`    # ${m}`);
  }
  return lines.join('\n');
}

export function registerPrintDevs(env: SvcmgrEnv): void {
  env.print
    .command('devs')
    .description('the block devices the resources use: sub (what they sit on) and exposed (what they provide)')
    .action(async () => {
      const svcs = env.services().map(env.open);
      const outs: DevsOutput[] = [];
      for (const svc of svcs) outs.push({ svcname: svc.svcname, resources: await svc.devices() });
      if (env.format() === 'json') return writeJson(outs.length === 1 ? outs[0] : outs);
      process.stdout.write(outs.map(renderDevs).join('\n\n') + '\n');
    });
}
