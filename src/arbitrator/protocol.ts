// The arbitrator protocol: one HTTP POST, a JSON request authenticated with an HMAC keyed from
// the cluster secret, a JSON answer. Shared by the server (server.ts) and the client
// (client.ts); pure functions, no I/O. Described for operators in docs/arbitrator.md.
import crypto from 'node:crypto';

/** Path of the vote endpoint when the arbitrator's addr is not a URL with a path. */
export const VOTE_PATH = '/vote';
export const DEFAULT_ARBITRATOR_PORT = 1215;
/** A request whose ts is further than this from the arbitrator's clock is refused (403). */
export const MAX_CLOCK_SKEW_MS = 30_000;
/** The ttl a node asks for is clamped to [TTL_MIN_MS, TTL_MAX_MS]. */
export const TTL_MIN_MS = 1_000;
export const TTL_MAX_MS = 60_000;
/** Largest request body the server reads (413 past it). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest request head (request line + headers) the server parses (431 past it). */
export const MAX_HEADER_BYTES = 8 * 1024;
/** Longest cluster or node name accepted, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 255;
/** Most members a request may name. */
export const MAX_MEMBERS = 256;
const HKDF_INFO = 'ferry arbitrator v1';

/** What a node sends: "give my partition (members) the vote for ttl ms". */
export interface VoteRequest {
  cluster: string;
  /** the asking node; must be one of members */
  node: string;
  /** the partition as the asker sees it, asker included: sorted, no duplicates */
  members: string[];
  /** ms the vote lasts without renewal (clamped by the server to [1 s, 60 s]) */
  ttl: number;
  /** the asker's clock, epoch ms */
  ts: number;
  /** hex HMAC-SHA256 of requestCanonical(), keyed with arbitratorKey() */
  mac: string;
}
export type UnsignedVoteRequest = Omit<VoteRequest, 'mac'>;

/** What the arbitrator answers (200 granted, 409 held by another partition, 4xx refused). */
export interface VoteAnswer {
  granted: boolean;
  /** members of the partition holding the vote, [] if none (and always [] on 400/403) */
  holder: string[];
  /** arbitrator clock, epoch ms, when the holder's lease ends (0 if none) */
  expires: number;
  reason?: string;
  /**
   * hex HMAC-SHA256 of answerCanonical(), keyed like the request: present on answers to
   * authenticated requests (200, 409). It binds the answer to the request's mac, so a
   * forged or replayed "granted" is rejected by the client.
   */
  mac?: string;
}

/** The 32-byte MAC key of a cluster: HKDF-SHA256(secret, salt = cluster name, info = "ferry arbitrator v1"). */
export function arbitratorKey(secretHex: string, clusterName: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secretHex, 'hex'), Buffer.from(clusterName, 'utf8'), Buffer.from(HKDF_INFO, 'utf8'), 32));
}

/**
 * The string the request MAC covers: a JSON array in a fixed field order. JSON quoting makes
 * it unambiguous whatever characters the names hold.
 */
export function requestCanonical(r: UnsignedVoteRequest): string {
  return JSON.stringify(['ferry-arbitrator-v1', 'vote', r.cluster, r.node, r.members, r.ttl, r.ts]);
}

/** The string the answer MAC covers; the request's mac makes it unique to that request. */
export function answerCanonical(a: Pick<VoteAnswer, 'granted' | 'holder' | 'expires'>, requestMac: string): string {
  return JSON.stringify(['ferry-arbitrator-v1', 'answer', a.granted, a.holder, a.expires, requestMac]);
}

export function hmacHex(key: Buffer, text: string): string {
  return crypto.createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex MACs. */
export function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function signRequest(key: Buffer, r: UnsignedVoteRequest): VoteRequest {
  return { ...r, mac: hmacHex(key, requestCanonical(r)) };
}

export function verifyRequest(key: Buffer, r: VoteRequest): boolean {
  return macEqual(hmacHex(key, requestCanonical(r)), r.mac.toLowerCase());
}

export function signAnswer(key: Buffer, a: Pick<VoteAnswer, 'granted' | 'holder' | 'expires'>, requestMac: string): string {
  return hmacHex(key, answerCanonical(a, requestMac));
}

/** Sorted copy without duplicates: the canonical form of a member set. */
export function normalizeMembers(members: readonly string[]): string[] {
  return [...new Set(members)].sort();
}

export function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i]);
}

export function clampTtl(ttl: number): number {
  return Math.min(TTL_MAX_MS, Math.max(TTL_MIN_MS, Math.round(ttl)));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_LENGTH;

/** Check the shape of a decoded request body; an error string says what is wrong. */
export function parseVoteRequest(v: unknown): { request: VoteRequest } | { error: string } {
  if (!isObject(v)) return { error: 'body is not a JSON object' };
  const { cluster, node, members, ttl, ts, mac } = v;
  if (!isName(cluster)) return { error: `cluster: a non-empty string of at most ${MAX_NAME_LENGTH} characters is required` };
  if (!isName(node)) return { error: `node: a non-empty string of at most ${MAX_NAME_LENGTH} characters is required` };
  if (!Array.isArray(members) || members.length === 0 || members.length > MAX_MEMBERS || !members.every(isName)) return { error: `members: an array of 1 to ${MAX_MEMBERS} node names (1 to ${MAX_NAME_LENGTH} characters) is required` };
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) return { error: 'ttl: a positive number of ms is required' };
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) return { error: 'ts: an integer epoch ms is required' };
  if (typeof mac !== 'string' || !/^[0-9a-fA-F]{64}$/.test(mac)) return { error: 'mac: 64 hex digits are required' };
  // one spelling of the MAC: the answer MAC binds the lowercase form (what signRequest makes)
  return { request: { cluster, node, members, ttl, ts, mac: mac.toLowerCase() } };
}

/** Check the shape of a decoded answer body. */
export function parseVoteAnswer(v: unknown): { answer: VoteAnswer } | { error: string } {
  if (!isObject(v)) return { error: 'answer is not a JSON object' };
  const { granted, holder, expires, reason, mac } = v;
  if (typeof granted !== 'boolean') return { error: 'answer has no boolean "granted"' };
  if (!isStringArray(holder)) return { error: 'answer has no "holder" array' };
  if (typeof expires !== 'number' || !Number.isFinite(expires)) return { error: 'answer has no numeric "expires"' };
  if (reason !== undefined && typeof reason !== 'string') return { error: 'answer "reason" is not a string' };
  if (mac !== undefined && typeof mac !== 'string') return { error: 'answer "mac" is not a string' };
  const answer: VoteAnswer = { granted, holder, expires };
  if (reason !== undefined) answer.reason = reason;
  if (mac !== undefined) answer.mac = mac;
  return { answer };
}

/**
 * The vote URL of an arbitrator: `addr` as a URL (http:// or https://; no path or "/" means
 * /vote; no port means the scheme's default, as in any URL), or a host name / IPv4 / IPv6
 * address with `port`.
 */
export function voteUrl(arb: { addr: string; port: number }): URL {
  const addr = arb.addr.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(addr)) {
    const u = new URL(addr);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`arbitrator addr ${addr}: only http:// and https:// URLs are supported`);
    if (u.pathname === '' || u.pathname === '/') u.pathname = VOTE_PATH;
    return u;
  }
  const host = addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr;
  return new URL(`http://${host}:${arb.port}${VOTE_PATH}`);
}
