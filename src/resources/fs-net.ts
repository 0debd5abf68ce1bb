// Network filesystems of the fs driver (type glusterfs, nfs, nfs4): what `dev` must look like
// (host:/path), which kernel filesystem types a mount of each shows in /proc/self/mountinfo,
// and which mount is ours. Pure: no I/O. A network mount is never stat'ed by the driver (a
// stat of a mount whose server is gone can block for good), so these rules work on the mount
// table's text only.
import type { MountEntry } from '../util/mountinfo.js';

export const NET_TYPES: readonly string[] = ['glusterfs', 'nfs', 'nfs4'];

export function isNetType(fsType: string): boolean {
  return NET_TYPES.includes(fsType);
}

/** What the kernel records as the filesystem type of such a mount. */
export function kernelTypes(fsType: string): readonly string[] {
  switch (fsType) {
    case 'glusterfs':
      return ['fuse.glusterfs'];
    case 'nfs':
      // mount -t nfs negotiates the version: a v4 server gives an "nfs4" mount
      return ['nfs', 'nfs4'];
    default:
      return [fsType];
  }
}

export interface NetDev {
  host: string;
  path: string;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;

/** Parse `host:/path` (host: a name, an IPv4 address or [IPv6]); a string says what is wrong. */
export function parseNetDev(dev: string, fsType: string): NetDev | string {
  const what = fsType === 'glusterfs' ? 'host:/volume' : 'host:/export/path';
  if (dev.length === 0) return `expected ${what}`;
  if (/\s/.test(dev)) return `expected ${what}, without blanks`;
  const cut = dev.startsWith('[') ? dev.indexOf(']:') + 1 : dev.indexOf(':');
  if (cut <= 0) return `expected ${what}: no "host:" part`;
  const host = dev.slice(0, cut);
  const p = dev.slice(cut + 1);
  if (!HOSTNAME.test(host) && !IPV4.test(host) && !IPV6.test(host)) return `expected ${what}: "${host}" is not a host name or address`;
  if (!p.startsWith('/')) return `expected ${what}: the path after "${host}:" must start with /`;
  if (p.includes('//') || p.split('/').some((s) => s === '..' || s === '.')) return `expected ${what}: "${p}" is not a clean absolute path`;
  if (fsType === 'glusterfs' && !/^\/[A-Za-z0-9_.-]+(?:\/[^/]+)*$/.test(p)) return `expected ${what}: "${p}" does not start with a volume name`;
  return { host, path: p };
}

/** The source a mount of dev shows: as written, less a trailing slash after the path. */
function normSource(s: string): string {
  return s.length > 1 && s.endsWith('/') && !s.endsWith(':/') ? s.slice(0, -1) : s;
}

export function netEntryMatches(e: MountEntry, dev: string, fsType: string): boolean {
  return kernelTypes(fsType).includes(e.fsType) && normSource(e.source) === normSource(dev);
}
