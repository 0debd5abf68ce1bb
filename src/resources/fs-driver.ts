// The fs driver's schema (section, types, keywords, checks); its resources are fs.ts's, loaded
// at their first use (lazy-driver.ts).
import type { DriverSpec } from './types.js';
import { lazyDriver } from './lazy-driver.js';
import { isNetType, NET_TYPES, parseNetDev } from './fs-net.js';

const DEFAULT_STOP_TIMEOUT = 10_000;

export const driver: DriverSpec = lazyDriver({
  section: 'fs',
  kind: 'fs',
  types: ['ext4', 'ext3', 'ext2', 'xfs', 'btrfs', 'vfat', 'tmpfs', ...NET_TYPES],
  keywords: [
    {
      name: 'dev',
      aliases: ['device'],
      type: 'string',
      required: true,
      scopable: true,
      description:
        'What to mount: a block device (/dev/mapper/vg-lv, /dev/sdb1), a regular file (mounted through a loop device), for tmpfs the source name shown in the mount table, for glusterfs host:/volume, for nfs and nfs4 host:/export/path (host: a name, an IPv4 address or [IPv6]).',
    },
    {
      name: 'mnt',
      aliases: ['mount_point'],
      type: 'string',
      required: true,
      scopable: true,
      description: 'Absolute mount point, created if missing. Nested mount points of one service are mounted shallowest first and unmounted deepest first.',
    },
    {
      name: 'mnt_opt',
      type: 'string',
      scopable: true,
      description: 'Mount options passed to mount -o, comma separated (for example rw,noatime; for glusterfs backup-volfile-servers=host2:host3; for nfs vers=4.2,soft,timeo=50).',
    },
    {
      name: 'fsck',
      type: 'boolean',
      default: true,
      scopable: true,
      description:
        'Check the filesystem before mounting it: e2fsck -p for ext2/3/4 (corrected errors are logged, uncorrected ones fail the start), xfs_repair -n for xfs (corruption fails the start; a dirty log is left to mount to replay). No check for other types (none for glusterfs, nfs, nfs4).',
    },
    {
      name: 'stop_timeout',
      type: 'duration',
      default: DEFAULT_STOP_TIMEOUT,
      scopable: true,
      description:
        'When the filesystem is busy at stop, how long its users get between SIGTERM and SIGKILL (fuser -k on the mount point) before the unmount is retried. A busy local filesystem is never lazily unmounted; a network one (glusterfs, nfs, nfs4) that still cannot be unmounted (users left, server gone, umount timed out) is detached with umount -f -l.',
    },
  ],
  description:
    'A filesystem mounted on the owner node; the section type is the filesystem type (ext4 by default). Stop kills processes still using it so that the next owner can mount it. Types glusterfs, nfs and nfs4 mount a network filesystem (dev = host:/path; no check, no device; docs/network-fs.md) and stop in bounded time even when its server is gone.',
  check(kw, ctx) {
    if (!isNetType(ctx.type)) return [];
    const bad = parseNetDev(kw.string('dev') ?? '', ctx.type);
    return typeof bad === 'string' ? [{ keyword: 'dev', message: `bad dev "${kw.string('dev') ?? ''}" for type ${ctx.type}: ${bad}` }] : [];
  },
  has: { devices: true },
  load: () => import('./fs.js').then((m) => m.createResource),
});
