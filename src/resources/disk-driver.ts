// The disk driver's schema (section, keywords); its resources are disk.ts's, loaded at their
// first use (lazy-driver.ts).
import type { DriverSpec } from './types.js';
import { lazyDriver } from './lazy-driver.js';
import { noPreemptAbortKeyword } from './pr-keywords.js';

export const driver: DriverSpec = lazyDriver({
  section: 'disk',
  kind: 'disk',
  types: [],
  keywords: [
    {
      name: 'disks',
      type: 'list',
      required: true,
      scopable: true,
      description: 'Block devices of the resource, whitespace separated (e.g. `/dev/sdb /dev/sdc`); scope per node (`disks@n2 = ...`) when nodes name the same LUN differently.',
    },
    {
      name: 'scsireserv',
      aliases: ['scsi_reserve'],
      type: 'boolean',
      default: true,
      scopable: true,
      description: 'Hold a SCSI-3 persistent reservation (type 5, Write Exclusive - Registrants Only, with this node\'s key from `<var>/scsi_pr_key`) on every disk. Start registers and reserves; a disk held by another node is preempted only when the start is forced (the daemon\'s failover, `svcmgr start --force`), otherwise the start fails. Stop releases and unregisters. Status is up only when this node holds every disk. Default true: without it a disk resource does nothing (status n/a).',
    },
    noPreemptAbortKeyword,
  ],
  description:
    'Raw shared disks guarded by a SCSI-3 persistent reservation: start reserves them for this node (taking them from another node only when forced), stop releases them. Ordered with the other disk resources, before fs.',
  has: { devices: true },
  load: () => import('./disk.js').then((m) => m.createResource),
});
