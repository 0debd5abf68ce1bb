// sync resources. `sync#i0` is the implicit one every service has: the service configuration
// kept identical on all its nodes ("rsync svc config to drpnodes, nodes" in v1). On a single
// node it is up when the local configuration file is present and readable; with the daemon,
// up only when every live peer of the service holds the same bytes (config-sync-status.ts).
import fs from 'node:fs';
import { configSyncStatus } from './config-sync-status.js';
import type { DriverSpec, Resource, StatusReport } from './types.js';
import { checkRsync, createRsync, RSYNC, rsyncKeywords } from './sync-rsync.js';
import { btrfsKeywords, checkBtrfs, createBtrfs } from './sync-btrfs.js';
import { BTRFS } from './sync-btrfs-state.js';

export const internalSyncRid = 'sync#i0';

export const driver: DriverSpec = {
  section: 'sync',
  kind: 'sync',
  types: ['config', RSYNC, BTRFS],
  keywords: [
    { name: 'src', type: 'string', scopable: true, description: 'File whose copy is kept identical on every node of the service (set implicitly to the service file for sync#i0); for type rsync, the directory copied (required); for type btrfs, the subvolume copied (required).' },
    ...rsyncKeywords,
    ...btrfsKeywords,
  ],
  check: (kw, c) => (c.type === RSYNC ? checkRsync(kw, c.nodes) : c.type === BTRFS ? checkBtrfs(kw, c.nodes) : []),
  description: 'Keeps a file identical on the nodes of the service. sync#i0 is implicit: the service configuration.',
  create(ctx): Resource {
    if (ctx.type === RSYNC) return createRsync(ctx);
    if (ctx.type === BTRFS) return createBtrfs(ctx);
    const src = ctx.kw.string('src');
    return {
      rid: ctx.rid,
      kind: 'sync',
      async start() {},
      async stop() {},
      async status(): Promise<StatusReport> {
        const label = ctx.rid === internalSyncRid ? 'rsync svc config to drpnodes, nodes' : `sync ${src ?? ''}`;
        if (!src) return { status: 'n/a', label, messages: [] };
        if (ctx.rid === internalSyncRid) return configSyncStatus(ctx.paths, ctx.svcname, src, label);
        // the callback form, not fs.promises: see config-sync-status.ts
        const readable = await new Promise<boolean>((resolve) => fs.access(src, fs.constants.R_OK, (e) => resolve(!e)));
        return readable ? { status: 'up', label, messages: [] } : { status: 'down', label, messages: [`${src} is not readable`] };
      },
    };
  },
};
