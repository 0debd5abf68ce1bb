// What an rsync sync resource remembers on each node (one small JSON file per resource under
// the service's var dir), and the pure rules built on it: how current this node's copy of the
// data is, whether a takeover may start from it, and when a phase-1 pass is good enough.
//
// Events, each with its epoch ms:
//   sent[peer]  a sync from here to peer completed (final: after the service stopped here)
//   received    a sync into here completed (final: the sender had stopped the service)
//   handedOver  this node sent its final delta and gave the service to another node
//   started     the service started here: from then on this node's data is the truth
// The latest of received / handedOver / started says what the local copy is.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface SentRecord {
  at: number;
  bytes: number;
  ms: number;
  final: boolean;
  /** type btrfs: the snapshot sent, and the parent of the incremental send (none: a full send) */
  snap?: string;
  parent?: string;
}

export interface ReceivedRecord {
  from: string;
  at: number;
  final: boolean;
  /** type btrfs: the snapshot received */
  snap?: string;
}

export interface RsyncRecord {
  v: 1;
  sent: Record<string, SentRecord>;
  received?: ReceivedRecord;
  handedOver?: { to: string; at: number };
  started?: number;
}

const STATE_MAX_BYTES = 64 * 1024;

export function emptyRecord(): RsyncRecord {
  return { v: 1, sent: {} };
}

export function recordFile(varDir: string, rid: string): string {
  return path.join(varDir, `${rid.replace(/[^A-Za-z0-9_.-]/g, '_')}.rsync.json`);
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A record from JSON text; undefined when it is not one (a corrupt file reads as no history). */
export function parseRecord(text: string): RsyncRecord | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || (o as { v?: unknown }).v !== 1) return undefined;
  const r = o as Record<string, unknown>;
  const out = emptyRecord();
  if (typeof r.sent === 'object' && r.sent !== null) {
    for (const [peer, s] of Object.entries(r.sent as Record<string, unknown>)) {
      const x = s as Record<string, unknown> | null;
      if (x && isNum(x.at) && isNum(x.bytes) && isNum(x.ms)) {
        out.sent[peer] = { at: x.at, bytes: x.bytes, ms: x.ms, final: x.final === true, ...(typeof x.snap === 'string' ? { snap: x.snap } : {}), ...(typeof x.parent === 'string' ? { parent: x.parent } : {}) };
      }
    }
  }
  const rc = r.received as Record<string, unknown> | undefined;
  if (rc && typeof rc.from === 'string' && isNum(rc.at)) out.received = { from: rc.from, at: rc.at, final: rc.final === true, ...(typeof rc.snap === 'string' ? { snap: rc.snap } : {}) };
  const h = r.handedOver as Record<string, unknown> | undefined;
  if (h && typeof h.to === 'string' && isNum(h.at)) out.handedOver = { to: h.to, at: h.at };
  if (isNum(r.started)) out.started = r.started;
  return out;
}

export function readRecord(file: string): RsyncRecord {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > STATE_MAX_BYTES) return emptyRecord();
    return parseRecord(fs.readFileSync(file, 'utf8')) ?? emptyRecord();
  } catch {
    return emptyRecord();
  }
}

/** Read, change, write atomically. The daemon and the CLI may both write: last writer wins per field. */
export function updateRecord(file: string, change: (r: RsyncRecord) => void): RsyncRecord {
  const r = readRecord(file);
  change(r);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(r)}\n`);
  return r;
}

export type CopyState =
  | { current: true; why: string }
  | { current: false; /** ms since the copy was last known current; undefined: never synced */ age: number | undefined; why: string };

/**
 * How current this node's copy is. `origin`: this node is the first of the service's nodes
 * (a service that never moved starts from the data that is there).
 */
export function copyState(r: RsyncRecord, origin: boolean, now: number): CopyState {
  const events: { at: number; kind: 'received' | 'handedOver' | 'started' }[] = [];
  if (r.received) events.push({ at: r.received.at, kind: 'received' });
  if (r.handedOver) events.push({ at: r.handedOver.at, kind: 'handedOver' });
  if (r.started !== undefined) events.push({ at: r.started, kind: 'started' });
  events.sort((a, b) => b.at - a.at);
  const last = events[0];
  if (!last) return origin ? { current: true, why: 'the service never moved: its data is here' } : { current: false, age: undefined, why: 'never synced to this node' };
  if (last.kind === 'started') return { current: true, why: 'the service ran here last' };
  if (last.kind === 'received') {
    if (r.received!.final) return { current: true, why: `final sync from ${r.received!.from} after it stopped the service` };
    return { current: false, age: Math.max(0, now - last.at), why: `last sync from ${r.received!.from}` };
  }
  return { current: false, age: Math.max(0, now - last.at), why: `handed over to ${r.handedOver!.to}` };
}

export type GateVerdict = { ok: true } | { ok: false; why: string };

/**
 * May the daemon start (take over) the service from this copy? Past max_delay it waits for
 * the operator (svcmgr start), unless the service allows stale takeovers.
 */
export function takeoverGate(c: CopyState, maxDelayMs: number, staleTakeover: boolean): GateVerdict {
  if (c.current) return { ok: true };
  if (c.age !== undefined && c.age <= maxDelayMs) return { ok: true };
  if (staleTakeover) return { ok: true };
  const age = c.age === undefined ? 'no copy' : `copy ${ageText(c.age)} old`;
  return { ok: false, why: `data not current (${c.why}, ${age}, max_delay ${ageText(maxDelayMs)}): waiting for the operator (svcmgr start, or stale_takeover = true)` };
}

export function ageText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** Bounds of phase 1 of a relocation: passes while the service runs. */
export const PHASE1 = { maxPasses: 8, smallBytes: 4 * 1024 * 1024, shortMs: 1_000 };

/**
 * After a phase-1 pass that moved `bytes` in `ms`: run another one, or stop the service now?
 * Another pass only if the last delta was not small and the count allows it; a delta that
 * did not shrink (writes as fast as the copy) stops the passes too.
 */
export function anotherPass(passes: number, bytes: number, ms: number, previousBytes: number | undefined): boolean {
  if (passes >= PHASE1.maxPasses) return false;
  if (bytes <= PHASE1.smallBytes || ms <= PHASE1.shortMs) return false;
  if (previousBytes !== undefined && bytes >= previousBytes) return false;
  return true;
}

/** Is a scheduled sync to `peer` due? */
export function syncDue(r: RsyncRecord, peer: string, intervalMs: number, now: number): boolean {
  const last = r.sent[peer]?.at;
  return last === undefined || now - last >= intervalMs;
}
