// Bulk streams on the state channel (types 0x40-0x4f of the range reserved for them): a
// client asks the peer's daemon to run one command for a named purpose and pipes its stdio
// over the authenticated, encrypted connection. Each stream has a connection of its own (the
// same handshake), so a long copy never delays the state pulls.
//
//   c → s  OPEN     {purpose, svc, rid, path, argv, final}   the peer checks it (refuses with REFUSED)
//   s → c  READY    {}                                        the command runs
//   ↔      DATA     binary, ≤ STREAM_CHUNK bytes              stdin (c → s) / stdout (s → c)
//   c → s  EOF      {}                                        no more stdin
//   s → c  STDERR   binary, ≤ STREAM_CHUNK bytes              the command's stderr (bounded in total)
//   s → c  EXIT     {code, signal?, error?}                   the command ended; the peer closes
//   s → c  REFUSED  {error}                                   not allowed; the peer closes
import { parseJson } from './protocol.js';

export const STREAM = {
  OPEN: 0x40,
  READY: 0x41,
  DATA: 0x42,
  EOF: 0x43,
  STDERR: 0x44,
  EXIT: 0x45,
  REFUSED: 0x46,
} as const;

export const STREAM_FIRST = 0x40;
export const STREAM_LAST = 0x4f;
/** largest DATA / STDERR block: far below the channel's frame limit */
export const STREAM_CHUNK = 256 * 1024;
/** largest OPEN body */
export const OPEN_MAX = 16 * 1024;
/** argv entries of an OPEN */
export const ARGV_MAX = 64;
/** stderr forwarded per stream, in total */
export const STDERR_MAX = 64 * 1024;
/** pause the producer past this much unsent data on the socket */
export const HIGH_WATER = 4 * 1024 * 1024;

export const isStreamType = (t: number): boolean => t >= STREAM_FIRST && t <= STREAM_LAST;

export interface StreamOpen {
  /** the command family: rsync --server, or btrfs receive */
  purpose: 'rsync' | 'btrfs';
  svc: string;
  rid: string;
  /** the path the command works on (the receiver checks it against its configuration) */
  path: string;
  argv: string[];
  /** the last sync of a relocation: the sender has stopped the service */
  final: boolean;
}

export interface StreamExit {
  code: number | null;
  signal?: string;
  error?: string;
}

const str = (x: unknown, max: number): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;

export function parseOpen(body: Buffer): StreamOpen | undefined {
  if (body.length > OPEN_MAX) return undefined;
  const o = parseJson(body) as Record<string, unknown> | undefined;
  if (typeof o !== 'object' || o === null) return undefined;
  if ((o.purpose !== 'rsync' && o.purpose !== 'btrfs') || !str(o.svc, 255) || !str(o.rid, 255) || !str(o.path, 4096) || typeof o.final !== 'boolean') return undefined;
  if (!Array.isArray(o.argv) || o.argv.length === 0 || o.argv.length > ARGV_MAX || !o.argv.every((a) => typeof a === 'string' && a.length <= 4096)) return undefined;
  return { purpose: o.purpose, svc: o.svc, rid: o.rid, path: o.path, argv: o.argv as string[], final: o.final };
}

export function parseExit(body: Buffer): StreamExit | undefined {
  const o = parseJson(body) as Record<string, unknown> | undefined;
  if (typeof o !== 'object' || o === null) return undefined;
  if (!(o.code === null || (typeof o.code === 'number' && Number.isInteger(o.code)))) return undefined;
  return { code: o.code, ...(typeof o.signal === 'string' ? { signal: o.signal.slice(0, 32) } : {}), ...(typeof o.error === 'string' ? { error: o.error.slice(0, 500) } : {}) };
}

export const jsonBody = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8');
