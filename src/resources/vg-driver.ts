// The vg driver's schema (section, keywords); its resources are vg.ts's, loaded at their first
// use (lazy-driver.ts).
import type { DriverSpec } from './types.js';
import { lazyDriver } from './lazy-driver.js';
import { noPreemptAbortKeyword } from './pr-keywords.js';

export const driver: DriverSpec = lazyDriver({
  section: 'vg',
  kind: 'disk',
  types: [],
  keywords: [
    {
      name: 'vgname',
      aliases: ['name'],
      type: 'string',
      required: true,
      scopable: true,
      description: 'Name of the LVM volume group. Start removes the other nodes\' tags from it, tags it with this node name and activates it; stop deactivates it and removes the tag.',
    },
    {
      name: 'scsireserv',
      aliases: ['scsi_reserve'],
      type: 'boolean',
      default: false,
      scopable: true,
      description: 'Hold a SCSI-3 persistent reservation (type 5, Write Exclusive - Registrants Only, with this node\'s key from `<var>/scsi_pr_key`) on every disk of the volume group (its physical volumes as this node\'s LVM lists them). Start registers the key and reserves before any LVM change: a free disk is reserved, a disk held by another node is preempted only when the start is forced (the daemon\'s failover, `svcmgr start --force`), otherwise the start fails. Stop releases and unregisters after deactivation. Status is up only when this node holds every disk. See docs/fencing.md.',
    },
    noPreemptAbortKeyword,
  ],
  description:
    'An LVM volume group owned through a host tag: start takes the tag over from the previous owner and activates the logical volumes; stop deactivates and untags. Note: start removes every tag that is not this node\'s.',
  has: { devices: true },
  load: () => import('./vg.js').then((m) => m.createResource),
});
