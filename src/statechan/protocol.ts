// Messages inside the encrypted frames: one type byte, then a body (JSON for the state
// messages). Types 0x01-0x3f are the state protocol; 0x40-0x7f are reserved for bulk streams
// (data mobility: open / data / end / ack of a stream, binary bodies) on the same
// authenticated connection, so they need no key or listener of their own.
import type { JsonValue } from '../heartbeat/envelope.js';

export const MSG = {
  /** client → server: send what changed since {inc, gen} (a snapshot if that is not possible) */
  GET: 0x01,
  /** server → client: one chunk of a snapshot or delta */
  STATE: 0x02,
  PING: 0x03,
  PONG: 0x04,
} as const;

/**
 * Requests beyond GET, client → server, each answered by the server with type + 1 and the
 * same `id` (the config files of src/statechan/configs.ts use 0x20/0x21).
 */
export const REQUEST_TYPES = { first: 0x20, last: 0x2f } as const;

/** First type of the range kept for bulk streams (not implemented yet). */
export const STREAM_TYPES_FIRST = 0x40;

export interface GetMsg {
  /** what the client holds; null: nothing (send a snapshot) */
  inc: string | null;
  gen: number;
}

export interface StateChunk {
  inc: string;
  gen: number;
  digest: string;
  /** null: a snapshot (replace everything); else the generation this delta applies to */
  from: number | null;
  set: [string, JsonValue][];
  del: string[];
  /** the last chunk of this answer: apply now */
  last: boolean;
}

/** Target size of a STATE chunk's JSON: well under the frame limit, so one item never overflows it. */
export const CHUNK_BYTES = 1024 * 1024;

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function isGet(x: unknown): x is GetMsg {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (o.inc === null || typeof o.inc === 'string') && typeof o.gen === 'number' && Number.isSafeInteger(o.gen);
}

export function isStateChunk(x: unknown): x is StateChunk {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return (
    typeof o.inc === 'string' && typeof o.gen === 'number' && typeof o.digest === 'string' && (o.from === null || typeof o.from === 'number') &&
    Array.isArray(o.set) && o.set.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string') &&
    Array.isArray(o.del) && o.del.every((k) => typeof k === 'string') && typeof o.last === 'boolean'
  );
}
