// Service configuration files over the state channel: a node that sees a newer generation of
// a service's file announced by a peer (the `c:<svc>` items of the peer's state) asks that
// peer for the bytes. CONFIG_GET carries the service and the sum wanted; the answer carries
// the generation and the bytes (base64), or an error (not a node of the service, changed
// since, too large). The server refuses a requester that is not in the file's `nodes`.
import type { ConfigGen } from '../config/generation.js';
import { configSum, isConfigGen } from '../config/generation.js';
import { configLimits } from '../config/limits.js';
import type { ClusterState } from './index.js';

export const CONFIG_MSG = {
  /** client → server: {id, svc, sum} */
  GET: 0x20,
  /** server → client: {id, svc, gen, data} or {id, svc, error} */
  FILE: 0x21,
} as const;

/** what a node serves: the file's generation and bytes, or why not */
export type ConfigProvider = (peer: string, svc: string, sum: string) => { gen: ConfigGen; bytes: Buffer } | { error: string };

export interface ConfigFile {
  gen: ConfigGen;
  bytes: Buffer;
}

const SVC_MAX = 255;

export function serveConfigs(chan: Pick<ClusterState, 'serve'>, provider: ConfigProvider): void {
  chan.serve(CONFIG_MSG.GET, (peer, body) => {
    const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const { id, svc, sum } = o;
    if (typeof svc !== 'string' || svc.length > SVC_MAX || typeof sum !== 'string' || sum.length > 64) return { id: id ?? null, error: 'bad config request' };
    const r = provider(peer, svc, sum);
    if ('error' in r) return { id, svc, error: r.error };
    return { id, svc, gen: r.gen, data: r.bytes.toString('base64') };
  });
}

/**
 * The file of `svc` at `sum` from `peer`; throws with the reason on refusal, a bad answer,
 * bytes that do not match the sum, or a file over the config size limit.
 */
export async function fetchConfig(chan: Pick<ClusterState, 'request'>, peer: string, svc: string, sum: string, timeoutMs = 10_000): Promise<ConfigFile> {
  const v = await chan.request(peer, CONFIG_MSG.GET, { svc, sum }, timeoutMs);
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.error === 'string') throw new Error(`${peer} refused: ${o.error.slice(0, 200)}`);
  if (!isConfigGen(o.gen) || typeof o.data !== 'string') throw new Error(`bad config answer from ${peer}`);
  // base64 is 4/3 of the bytes: refuse before decoding anything over the limit
  if (o.data.length > Math.ceil(configLimits.fileBytes / 3) * 4 + 4) throw new Error(`${peer} sent a file over the limit of ${configLimits.fileBytes} bytes`);
  const bytes = Buffer.from(o.data, 'base64');
  if (bytes.length > configLimits.fileBytes) throw new Error(`${peer} sent a file over the limit of ${configLimits.fileBytes} bytes`);
  if (o.gen.sum !== sum || configSum(bytes) !== sum) throw new Error(`${peer} sent bytes that do not match sum ${sum.slice(0, 12)}`);
  return { gen: o.gen, bytes };
}
