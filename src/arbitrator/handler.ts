// The arbitrator's whole request handling, without sockets: handle(request, now) → reply.
// server.ts only moves bytes (size caps, timeouts) and calls it; the fuzz target
// (test/fuzz/targets/arbitrator.ts) calls it directly. Every input is checked before use and
// nothing throws out of handle(): a bug is a 500, counted, and the next request is served.
//
// State, in memory only (see the restart hold in server.ts and docs/arbitrator.md):
// - one lease per cluster: the member set holding the vote and when it ends;
// - per (cluster, node), the ts of the last authenticated request: a request must be newer
//   than the last one from its node (replay protection). An entry is dropped once its ts is
//   older than the skew window: a request that old is refused for its clock anyway.
import type { Logger } from '../log.js';
import type { DropReason } from './drops.js';
import { DROP_LABELS, DropCounters, type ArbitratorCounters } from './drops.js';
import type { VoteAnswer, VoteRequest } from './protocol.js';
import { arbitratorKey, clampTtl, MAX_BODY_BYTES, MAX_CLOCK_SKEW_MS, normalizeMembers, parseVoteRequest, sameMembers, signAnswer, verifyRequest, VOTE_PATH } from './protocol.js';

/** cluster name → hex secret; a function lets a caller reload secrets without a restart. */
export type SecretSource = ReadonlyMap<string, string> | ((cluster: string) => string | undefined);

/** Path of the counters (GET, loopback only). */
export const STATUS_PATH = '/status';
/** Most (cluster, node) pairs whose last ts is remembered; past it new nodes get 503 (only authenticated requests add one). */
export const MAX_TRACKED_NODES = 4096;

export interface Lease {
  members: string[];
  /** arbitrator clock, epoch ms */
  expires: number;
  /** when this member set took the vote */
  since: number;
}

/** A request as received: method and target from the request line, the body as bytes or text. */
export interface RawRequest {
  method: string;
  url: string;
  body: Buffer | string;
  /** "address:port" of the peer, for logs */
  remote: string;
  /** the peer is on a loopback address (may read /status) */
  local: boolean;
}

export interface Reply {
  status: number;
  /** the JSON answer: a VoteAnswer, or the counters on /status */
  body: VoteAnswer | StatusAnswer;
  /** extra response headers (allow on 405) */
  headers?: Record<string, string>;
  /** close the connection after the answer (every drop: a broken client gets no keep-alive) */
  close?: boolean;
}

export interface StatusAnswer {
  uptimeMs: number;
  leases: number;
  trackedNodes: number;
  counters: ArbitratorCounters;
}

export interface ArbitratorCoreOptions {
  secrets: SecretSource;
  log: Logger;
  /** request path of the vote (default /vote) */
  path?: string;
  /** arbitrator clock at start, epoch ms */
  startedAt: number;
  /** ms after start during which no vote is granted (503), see server.ts */
  restartHoldMs?: number;
}

/** The path of a request target: origin-form ("/vote?x") or absolute-form ("http://h/vote"); undefined if neither. */
export function targetPath(url: string): string | undefined {
  if (url.startsWith('/')) return url.split(/[?#]/, 1)[0];
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/** Names are the client's text: no control characters and a bounded length in a reason line. */
const oneLine = (s: string): string => {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
};

export class ArbitratorCore {
  readonly path: string;
  private readonly holdUntil: number;
  private readonly leases = new Map<string, Lease>();
  /** JSON [cluster, node] → ts of its last authenticated request */
  private readonly lastTs = new Map<string, number>();
  private lastPrune = 0;
  private readonly keys = new Map<string, { secret: string; key: Buffer }>();
  private readonly log: Logger;
  readonly counters: DropCounters;

  constructor(private readonly o: ArbitratorCoreOptions) {
    this.path = o.path ?? VOTE_PATH;
    this.holdUntil = o.startedAt + (o.restartHoldMs ?? 0);
    this.log = o.log;
    this.counters = new DropCounters(o.log);
  }

  /** Answer one request. Never throws. */
  handle(req: RawRequest, now: number): Reply {
    try {
      return this.route(req, now);
    } catch (e) {
      return this.drop('internal_error', 500, 'internal error', now, { remote: req.remote, err: e });
    }
  }

  /** Count a drop decided outside handle() (server.ts: parse errors, timeouts, caps); the refusal to send. */
  drop(reason: DropReason, status: number, text: string, now: number, fields: Record<string, unknown> = {}): Reply {
    // a short fixed message per reason (the detail is the client's business, and may hold its text)
    this.counters.drop(reason, fields, `refused: ${DROP_LABELS[reason]}`, now);
    return { status, body: { granted: false, holder: [], expires: 0, reason: text }, close: true };
  }

  /** The live lease of a cluster (a copy), if any. */
  lease(cluster: string, now: number): Lease | undefined {
    const l = this.leases.get(cluster);
    return l && l.expires > now ? { ...l, members: [...l.members] } : undefined;
  }

  status(now: number): StatusAnswer {
    return { uptimeMs: now - this.o.startedAt, leases: this.leases.size, trackedNodes: this.lastTs.size, counters: this.counters.snapshot() };
  }

  private route(req: RawRequest, now: number): Reply {
    const remote = req.remote;
    const path = typeof req.url === 'string' ? targetPath(req.url) : undefined;
    if (path === undefined) return this.drop('bad_target', 400, 'bad request target: a path such as /vote is expected', now, { remote });
    const method = typeof req.method === 'string' ? req.method : '';
    if (path === this.path) {
      if (method !== 'POST') return { ...this.drop('bad_method', 405, 'POST a vote request', now, { remote, method: method.slice(0, 16) }), headers: { allow: 'POST' } };
      return this.vote(req, now);
    }
    if (path === STATUS_PATH) {
      if (method !== 'GET') return { ...this.drop('bad_method', 405, 'GET the status', now, { remote, method: method.slice(0, 16) }), headers: { allow: 'GET' } };
      if (!req.local) return this.drop('status_not_local', 403, 'the status is answered on loopback only', now, { remote });
      return { status: 200, body: this.status(now) };
    }
    // never echo the path in full: it is the client's text
    return this.drop('not_found', 404, `no such endpoint ${JSON.stringify(path.slice(0, 64))} (the vote is at ${this.path})`, now, { remote });
  }

  private secretOf(cluster: string): string | undefined {
    const s = this.o.secrets;
    const secret = typeof s === 'function' ? s(cluster) : s.get(cluster);
    return typeof secret === 'string' ? secret : undefined;
  }

  private keyOf(cluster: string): Buffer | undefined {
    const secret = this.secretOf(cluster);
    if (secret === undefined) return undefined;
    const cached = this.keys.get(cluster);
    if (cached && cached.secret === secret) return cached.key;
    const key = arbitratorKey(secret, cluster);
    this.keys.set(cluster, { secret, key });
    return key;
  }

  private liveLease(cluster: string, t: number): Lease | undefined {
    const l = this.leases.get(cluster);
    if (l && l.expires > t) return l;
    if (l) {
      this.log.info({ event: 'arbitrator.lease_expired', cluster, holder: l.members, expired: l.expires }, 'lease expired');
      this.leases.delete(cluster);
    }
    return undefined;
  }

  /** Forget the last ts of nodes silent for longer than the skew window (their old requests fail the clock check). */
  private prune(t: number): void {
    this.lastPrune = t;
    for (const [k, ts] of this.lastTs) if (ts < t - MAX_CLOCK_SKEW_MS) this.lastTs.delete(k);
  }

  /** The vote decision, synchronous: two requests can never interleave inside it. */
  private vote(req: RawRequest, t: number): Reply {
    const remote = req.remote;
    const size = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.length;
    if (size > MAX_BODY_BYTES) return this.drop('body_too_large', 413, `request body larger than ${MAX_BODY_BYTES} bytes`, t, { remote, size });
    let decoded: unknown;
    try {
      decoded = JSON.parse(typeof req.body === 'string' ? req.body : req.body.toString('utf8'));
    } catch {
      return this.drop('malformed_json', 400, 'malformed JSON', t, { remote });
    }
    const parsed = parseVoteRequest(decoded);
    if ('error' in parsed) return this.drop('bad_fields', 400, parsed.error, t, { remote });
    const r: VoteRequest = parsed.request;
    // authentication first: nothing below runs, and no state changes, for an unauthenticated request
    const key = this.keyOf(r.cluster);
    if (!key) return this.drop('unknown_cluster', 403, `unknown cluster ${JSON.stringify(r.cluster.slice(0, 64))}`, t, { remote, cluster: r.cluster.slice(0, 64) });
    if (!verifyRequest(key, r)) return this.drop('bad_mac', 403, 'bad MAC (wrong cluster secret?)', t, { remote, cluster: r.cluster, node: r.node.slice(0, 64) });
    const who = { remote, cluster: r.cluster, node: r.node };
    if (Math.abs(t - r.ts) > MAX_CLOCK_SKEW_MS) {
      return this.drop('clock_skew', 403, `request time is ${Math.round((r.ts - t) / 1000)} s away from the arbitrator's clock (limit ${MAX_CLOCK_SKEW_MS / 1000} s): check NTP`, t, { ...who, skewMs: r.ts - t });
    }
    const members = normalizeMembers(r.members);
    if (!sameMembers(members, r.members)) return this.drop('bad_members', 400, 'members must be sorted and without duplicates', t, who);
    if (!members.includes(r.node)) return this.drop('bad_members', 400, `node ${JSON.stringify(r.node)} is not in members`, t, who);

    // replay: each node's requests must come in strictly increasing ts (the client sees to it)
    const nodeKey = JSON.stringify([r.cluster, r.node]);
    const last = this.lastTs.get(nodeKey);
    if (last !== undefined && r.ts <= last) {
      return this.drop('replay', 403, `replayed or out-of-order request: ts ${r.ts} is not after the last request from ${JSON.stringify(r.node)} (${last})`, t, { ...who, ts: r.ts, last });
    }
    if (last === undefined && (this.lastTs.size >= MAX_TRACKED_NODES || t - this.lastPrune > MAX_CLOCK_SKEW_MS)) this.prune(t);
    if (last === undefined && this.lastTs.size >= MAX_TRACKED_NODES) {
      return this.drop('nodes_table_full', 503, `more than ${MAX_TRACKED_NODES} nodes asked within ${MAX_CLOCK_SKEW_MS / 1000} s`, t, who);
    }
    this.lastTs.set(nodeKey, r.ts);

    if (t < this.holdUntil) {
      this.counters.answer('restart_hold', t);
      this.log.info({ event: 'arbitrator.restart_hold', ...who, members, holdUntil: this.holdUntil }, 'refused: restart hold');
      return {
        status: 503,
        body: { granted: false, holder: [], expires: 0, reason: `just started: no vote is granted for ${Math.ceil((this.holdUntil - t) / 1000)} s more (restart hold: a vote granted before the restart must run out first)` },
      };
    }
    const ttl = clampTtl(r.ttl);
    const sign = (a: Pick<VoteAnswer, 'granted' | 'holder' | 'expires'>, reason?: string): VoteAnswer => ({ ...a, ...(reason ? { reason } : {}), mac: signAnswer(key, a, r.mac) });
    const held = this.liveLease(r.cluster, t);
    if (held && !sameMembers(held.members, members)) {
      this.counters.answer('held_by_other', t);
      this.log.debug({ event: 'arbitrator.held_by_other', ...who, members, holder: held.members }, 'refused: vote held by another partition');
      return { status: 409, body: sign({ granted: false, holder: [...held.members], expires: held.expires }, `the vote is held by ${oneLine(held.members.join(','))} until its lease expires`) };
    }
    // a renewal never shortens a lease (a smaller ttl than before only applies once it ran out)
    const expires = Math.max(t + ttl, held?.expires ?? 0);
    if (held) {
      held.expires = expires;
      this.counters.answer('renewed', t);
      this.log.debug({ event: 'arbitrator.renewed', ...who, members, expires }, 'lease renewed');
    } else {
      this.leases.set(r.cluster, { members, expires, since: t });
      this.counters.answer('granted', t);
      this.log.info({ event: 'arbitrator.granted', ...who, members, ttl, expires }, 'vote granted');
    }
    return { status: 200, body: sign({ granted: true, holder: members, expires }) };
  }
}
