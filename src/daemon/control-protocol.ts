// The daemon's control socket speaks one JSON request line, answered by one JSON line.
// Everything read from the socket goes through parseRequest before the daemon sees it.
import path from 'node:path';
import type { FerryPaths } from '../paths.js';
import type { HbSnapshot } from '../heartbeat/index.js';
import type { PeerState } from '../vocab/peer-state.js';
import type { Intent, NodeState } from '../cluster/node-state.js';
import type { EventRecord } from './event-ring.js';
import type { DrainReport } from '../cluster/drain.js';
import type { ServiceStatus } from '../service/status.js';

export function controlSocketPath(paths: FerryPaths): string {
  return path.join(paths.run, 'nodemgr.sock');
}

/** A request line longer than this (without its newline) is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** An answer longer than this is refused by the client (a view of many services stays far below). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** Longest service or node name in a request. */
export const MAX_NAME_LENGTH = 255;
/** Longest drain timeout in a request, seconds (a day). */
export const MAX_DRAIN_TIMEOUT_S = 86_400;

export type Request =
  | { op: 'ping' }
  /**
   * lean: `configs` of each node keeps only the digests with a conflict (what svcmon's text
   * shows of them); spans: the answer says where each node's payload text is in the line
   */
  | { op: 'view'; lean?: boolean; spans?: boolean }
  | { op: 'relocate'; svc: string; to: string }
  | { op: 'clear'; svc: string }
  /** the daemon's last full status of a service here (svcmgr print status) */
  | { op: 'status'; svc: string }
  | { op: 'freeze-node' }
  | { op: 'thaw-node' }
  | { op: 'shutdown' }
  /** freeze this node and move its failover services away; timeout: seconds (1..MAX_DRAIN_TIMEOUT_S) */
  | { op: 'drain'; timeout?: number }
  /** the last drain's report */
  | { op: 'drain-status' }
  /** the recent events; follow: keep the connection open and push new ones as JSON lines */
  | { op: 'events'; follow?: boolean };

export type Op = Request['op'];

/** The fields each op takes besides `op` (all strings). */
const FIELDS: Record<Op, readonly string[]> = {
  ping: [],
  view: [],
  relocate: ['svc', 'to'],
  clear: ['svc'],
  status: ['svc'],
  'freeze-node': [],
  'thaw-node': [],
  shutdown: [],
  drain: [],
  'drain-status': [],
  events: [],
};

/** Optional boolean fields per op. */
const FLAGS: Partial<Record<Op, readonly string[]>> = {
  events: ['follow'],
  view: ['lean', 'spans'],
};

/** Optional whole-number fields per op, with their bounds. */
const NUMBERS: Partial<Record<Op, Readonly<Record<string, { min: number; max: number }>>>> = {
  drain: { timeout: { min: 1, max: MAX_DRAIN_TIMEOUT_S } },
};

export const OPS = Object.keys(FIELDS) as Op[];

/** Why a request was refused (also the drop counters' reasons for bad requests). */
export type RequestErrorReason = 'not-utf8' | 'not-json' | 'invalid-request' | 'line-too-long';

export type ParsedRequest = { ok: true; request: Request } | { ok: false; reason: RequestErrorReason; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A value from the request quoted in an error, cut short: the answer stays small. */
function quote(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? (v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object') : `${typeof v} ${String(v)}`;
  return s.length > 64 ? `${s.slice(0, 64)}...` : s;
}

const invalid = (error: string): ParsedRequest => ({ ok: false, reason: 'invalid-request', error: `bad request: ${error}` });

/** A name the daemon looks up (service, node): a short word, no whitespace or control characters. */
function nameError(field: string, v: unknown): string | undefined {
  if (typeof v !== 'string') return `${field} must be a string, got ${quote(v)}`;
  if (v.length === 0) return `${field} is empty`;
  if (v.length > MAX_NAME_LENGTH) return `${field} is longer than ${MAX_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(v)) return `${field} ${quote(v)} contains whitespace or control characters`;
  return undefined;
}

/**
 * One request line (without its newline) to a Request, or the reason it is refused. Pure and
 * total: it never throws, whatever the bytes. Unknown ops, unknown or missing fields, wrong
 * types and prototype keys (`__proto__`, `constructor`) are refused with a message naming them.
 */
export function parseRequest(line: Buffer | string): ParsedRequest {
  if (line.length > MAX_REQUEST_BYTES) return { ok: false, reason: 'line-too-long', error: `bad request: longer than ${MAX_REQUEST_BYTES} bytes` };
  let text: string;
  if (typeof line === 'string') text = line;
  else {
    try {
      text = utf8.decode(line);
    } catch {
      return { ok: false, reason: 'not-utf8', error: 'bad request: not UTF-8' };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not-json', error: 'bad request: not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(`expected a JSON object, got ${quote(value)}`);
  // JSON.parse makes `__proto__` an own key; only own enumerable keys are looked at below
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (!keys.includes('op')) return invalid('no "op" field');
  const op = obj.op;
  if (typeof op !== 'string') return invalid(`"op" must be a string, got ${quote(op)}`);
  if (!Object.hasOwn(FIELDS, op)) return invalid(`unknown op ${quote(op)}: expected one of ${OPS.join(', ')}`);
  const fields = FIELDS[op as Op];
  const flags = FLAGS[op as Op] ?? [];
  const numbers = NUMBERS[op as Op] ?? {};
  const extra = keys.filter((k) => k !== 'op' && !fields.includes(k) && !flags.includes(k) && !Object.hasOwn(numbers, k));
  if (extra.length) return invalid(`unknown field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((k) => quote(k)).join(', ')}${extra.length > 5 ? ', ...' : ''} for op ${op}`);
  for (const f of fields) {
    if (!keys.includes(f)) return invalid(`op ${op} needs "${f}"`);
    const e = nameError(`"${f}"`, obj[f]);
    if (e) return invalid(e);
  }
  for (const f of flags) if (keys.includes(f) && typeof obj[f] !== 'boolean') return invalid(`"${f}" must be true or false, got ${quote(obj[f])}`);
  for (const [f, b] of Object.entries(numbers)) {
    if (!keys.includes(f)) continue;
    const v = obj[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < b.min || v > b.max) return invalid(`"${f}" must be a whole number from ${b.min} to ${b.max}, got ${quote(v)}`);
  }
  // rebuilt from the checked fields only: nothing else of the parsed object reaches the daemon
  if (op === 'events') return { ok: true, request: keys.includes('follow') ? { op, follow: obj.follow as boolean } : { op } };
  if (op === 'view') return { ok: true, request: { op, ...(keys.includes('lean') ? { lean: obj.lean as boolean } : {}), ...(keys.includes('spans') ? { spans: obj.spans as boolean } : {}) } };
  if (op === 'relocate') return { ok: true, request: { op, svc: obj.svc as string, to: obj.to as string } };
  if (op === 'clear' || op === 'status') return { ok: true, request: { op, svc: obj.svc as string } };
  if (op === 'drain') return { ok: true, request: keys.includes('timeout') ? { op, timeout: obj.timeout as number } : { op } };
  return { ok: true, request: { op } as Request };
}

export interface NodeView {
  state: PeerState | 'self';
  /** what the node last published (for self: the current state) */
  payload: NodeState | undefined;
}

/** Why the control server dropped a connection or request. */
export type DropReason = RequestErrorReason | 'timeout' | 'too-many-connections' | 'incomplete' | 'handler-failed' | 'slow-client';

export interface ControlStats {
  /** connections open now */
  connections: number;
  /** requests answered (good or refused) since the daemon started */
  answered: number;
  /** requests or connections dropped since the daemon started, by reason */
  drops: Partial<Record<DropReason, number>>;
  /** event followers connected now (`nodemgr events --follow`) */
  followers?: number;
}

export interface ClusterView {
  nodename: string;
  cluster: string;
  nodes: Record<string, NodeView>;
  hb: HbSnapshot;
  intents: Record<string, Intent>;
  /** the control socket's counters (absent from daemons before they were counted) */
  control?: ControlStats;
}

/** What `clear` reset: the monitor state before, and whether a failure was pending. */
export interface ClearResult {
  svc: string;
  /** the monitor state the service had before the clear */
  was: string;
  /** the error it carried, if any */
  error?: string;
}

/** Where each node's payload is in the `view` answer line: [start, end) in UTF-16 units of the line's text. */
export type PayloadSpans = Record<string, [number, number]>;

export type Response =
  | { ok: true; nodename?: string; view?: ClusterView; spans?: PayloadSpans; intent?: Intent; events?: EventRecord[]; follow?: boolean; cleared?: ClearResult; drain?: DrainReport; status?: ServiceStatus }
  | { ok: false; error: string };

/** The client's check of an answer line: a Response, or why it is not one. */
export function parseResponse(text: string): Response | { bad: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { bad: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { bad: 'not a JSON object' };
  const r = v as Record<string, unknown>;
  if (r.ok === true) return r as Response;
  if (r.ok === false && typeof r.error === 'string') return { ok: false, error: r.error };
  return { bad: 'no "ok" field, or ok = false without an error' };
}
