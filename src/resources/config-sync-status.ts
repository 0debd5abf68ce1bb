// What sync#i0 reports: the service configuration held identical on the nodes of the
// service. The daemon (src/daemon/config-replication.ts) writes, per service, the sum of the
// file each live peer of the service holds; this module only reads that file and compares
// it with the local file's sum, so the driver knows nothing of the daemon. Without a running
// daemon (no file, or its writer gone) only the local file is judged.
import fs from 'node:fs';
import path from 'node:path';
import type { FerryPaths } from '../paths.js';
import { serviceVarDir } from '../paths.js';
import type { StatusReport } from './types.js';
import { crypto } from '../util/lazy-crypto.js';
import { pidAlive } from '../util/pid-alive.js';

export const CONFIG_PEERS_FILE = 'config-peers.json';
const PEERS_MAX = 256 * 1024;

export interface ConfigPeers {
  /** the daemon that wrote it: a file left by a stopped daemon is not current */
  pid: number;
  node: string;
  /** live peers of the service: the sum of their file, null when they hold none (or a deletion) */
  peers: Record<string, string | null>;
}

function isConfigPeers(x: unknown): x is ConfigPeers {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o.pid === 'number' && typeof o.node === 'string' && typeof o.peers === 'object' && o.peers !== null &&
    Object.values(o.peers).every((v) => v === null || typeof v === 'string');
}


/** The peers' sums as last written by a running daemon, or undefined. */
export function readConfigPeers(paths: FerryPaths, svcname: string): ConfigPeers | undefined {
  try {
    const file = path.join(serviceVarDir(paths, svcname), CONFIG_PEERS_FILE);
    if (fs.statSync(file).size > PEERS_MAX) return undefined;
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return isConfigPeers(v) && pidAlive(v.pid) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** up: every live peer of the service holds the bytes we hold; warn naming those that do not. */
export async function configSyncStatus(paths: FerryPaths, svcname: string, src: string, label: string): Promise<StatusReport> {
  // the callback form: fs.promises loads Node's FileHandle machinery (readline...), ~3 ms of a CLI start
  const bytes = await new Promise<Buffer | undefined>((resolve) => fs.readFile(src, (e, b) => resolve(e ? undefined : b)));
  if (!bytes) return { status: 'down', label, messages: [`${src} is not readable`] };
  const peers = readConfigPeers(paths, svcname);
  // no daemon to compare with: readable is all there is to say (and nothing to hash)
  if (!peers) return { status: 'up', label, messages: [] };
  const sum = crypto().createHash('sha256').update(bytes).digest('hex');
  const differ = Object.entries(peers.peers).filter(([, s]) => s !== sum).map(([n, s]) => `${n} (${s === null ? 'none' : s.slice(0, 12)})`);
  if (differ.length === 0) return { status: 'up', label, messages: [] };
  return { status: 'warn', label, messages: [`config differs on ${differ.join(', ')}; here ${sum.slice(0, 12)}`] };
}
