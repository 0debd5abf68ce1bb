// `svcmgr prstatus`: the SCSI-3 persistent reservation of every disk the service protects
// (vg and disk resources with scsireserv): the registered keys, the holder, and whether it is
// this node. Read-only (sg_persist -i). No such disk: said so, exit 0. A disk that cannot be
// read: its error in the output, exit 1.
import { readKeys, readReservation, sameKey } from '../../resources/scsi-pr.js';
import { storedPrKey } from '../../resources/scsi-pr-key.js';
import { EXIT } from '../../vocab/errors.js';
import { writeJson } from '../format.js';
import type { SvcmgrEnv } from './env.js';

export interface PrDisk {
  rid: string;
  disk: string;
  keys: string[];
  holder: { key: string; type: string; scope: string } | null;
  /** the holder is this node's key */
  ours: boolean;
  error?: string;
}

export interface PrStatusOutput {
  svcname: string;
  nodename: string;
  /** this node's reservation key (none until its first reservation) */
  nodeKey: string | null;
  disks: PrDisk[];
}

async function readDisk(rid: string, disk: string, nodeKey: string | undefined): Promise<PrDisk> {
  try {
    const [keys, res] = await Promise.all([readKeys(disk), readReservation(disk)]);
    const holder = res.holder ?? null;
    return { rid, disk, keys: keys.keys, holder, ours: holder !== null && nodeKey !== undefined && sameKey(holder.key, nodeKey) };
  } catch (e) {
    return { rid, disk, keys: [], holder: null, ours: false, error: (e as Error).message.split('\n')[0] ?? 'error' };
  }
}

export function renderPrStatus(o: PrStatusOutput): string {
  if (o.disks.length === 0) return `${o.svcname}: no disk with a SCSI persistent reservation (no vg or disk resource with scsireserv = true)`;
  const lines = [`${o.svcname} (node ${o.nodename}, key ${o.nodeKey ?? 'none yet'})`];
  for (const d of o.disks) {
    if (d.error) {
      lines.push(`  ${d.rid} ${d.disk}: cannot read: ${d.error}`);
      continue;
    }
    const holder = d.holder ? `held by ${d.holder.key}${d.ours ? ' (this node)' : ''}, type ${d.holder.type}` : 'not reserved';
    lines.push(`  ${d.rid} ${d.disk}: ${holder}; registered keys: ${d.keys.join(' ') || 'none'}`);
  }
  return lines.join('\n');
}

export function registerPrStatus(env: SvcmgrEnv): void {
  env.program
    .command('prstatus')
    .description("the SCSI-3 persistent reservations of the service's disks: registered keys and holder")
    .action(async () => {
      const svcs = env.services().map(env.open);
      let nodeKey: string | undefined;
      try {
        nodeKey = storedPrKey(env.ctx.paths);
      } catch {
        nodeKey = undefined;
      }
      const outs: PrStatusOutput[] = [];
      for (const svc of svcs) {
        const disks: PrDisk[] = [];
        for (const r of await svc.devices()) for (const d of r.reserved) disks.push(await readDisk(r.rid, d, nodeKey));
        outs.push({ svcname: svc.svcname, nodename: env.ctx.nodename, nodeKey: nodeKey ?? null, disks });
      }
      if (outs.some((o) => o.disks.some((d) => d.error))) env.fail(EXIT.failed);
      if (env.format() === 'json') return writeJson(outs.length === 1 ? outs[0] : outs);
      process.stdout.write(outs.map(renderPrStatus).join('\n\n') + '\n');
    });
}
