// Asking an arbitrator for its vote (see server.ts, docs/arbitrator.md). Never throws: every
// failure is "not granted" plus a one-line reason, since a vote that cannot be obtained is a
// vote this partition does not have.
//
// For the caller (the quorum logic): a grant is good for ttl ms counted from the moment the
// request was SENT, on the caller's own monotonic clock (the arbitrator's lease started later
// than that, so this is the safe side); renew well before that (every second).
import type { ArbitratorConfig } from '../cluster/config.js';
import type { VoteAnswer } from './protocol.js';
import { arbitratorKey, macEqual, normalizeMembers, parseVoteAnswer, signAnswer, signRequest, voteUrl } from './protocol.js';

export interface VoteResult {
  granted: boolean;
  /** members of the partition holding the vote, [] if none or unknown */
  holder: string[];
  /** why there is no answer to trust (unreachable, timeout, refused, bad answer) */
  error?: string;
}

const keyCache = new Map<string, Buffer>();
function keyFor(cluster: { name: string; secret: string }): Buffer {
  const k = `${cluster.name}\0${cluster.secret}`;
  let key = keyCache.get(k);
  if (!key) {
    key = arbitratorKey(cluster.secret, cluster.name);
    keyCache.set(k, key);
  }
  return key;
}

let lastTs = 0;
/**
 * The ts of the next request: the wall clock, but strictly after the previous one. The
 * arbitrator refuses a request whose ts is not after the last one it accepted from the same
 * node (replay protection), and two requests may be signed within one millisecond.
 */
export function nextRequestTs(now = Date.now()): number {
  lastTs = Math.max(now, lastTs + 1);
  return lastTs;
}

/** A one-line reason from a fetch failure (undici hides the useful part in `cause`). */
function fetchError(e: unknown, url: string, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer from arbitrator ${url} within ${timeoutMs} ms`;
  const cause = err.cause?.message ?? err.cause?.code;
  return `cannot reach arbitrator ${url}: ${(cause ?? err.message ?? String(e)).split('\n')[0]}`;
}

export async function askVote(arb: ArbitratorConfig, cluster: { name: string; secret: string }, node: string, members: string[], ttlMs: number): Promise<VoteResult> {
  const fail = (error: string, holder: string[] = []): VoteResult => ({ granted: false, holder, error });
  let url: URL;
  try {
    url = voteUrl(arb);
  } catch (e) {
    return fail(`bad arbitrator address "${arb.addr}": ${(e as Error).message}`);
  }
  const where = url.toString();
  const set = normalizeMembers(members);
  if (!set.includes(node)) return fail(`bug: asking node ${node} is not in the member set ${set.join(',')}`);

  let key: Buffer;
  try {
    key = keyFor(cluster);
  } catch (e) {
    return fail(`cannot derive the arbitrator key: ${(e as Error).message}`);
  }
  const request = signRequest(key, { cluster: cluster.name, node, members: set, ttl: Math.round(ttlMs), ts: nextRequestTs() });

  let status: number;
  let text: string;
  try {
    const signal = AbortSignal.timeout(arb.timeout);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal,
      redirect: 'error',
    });
    status = res.status;
    text = await res.text();
  } catch (e) {
    return fail(fetchError(e, where, arb.timeout));
  }

  let answer: VoteAnswer;
  try {
    const parsed = parseVoteAnswer(JSON.parse(text));
    if ('error' in parsed) return fail(`bad answer from arbitrator ${where} (HTTP ${status}): ${parsed.error}`);
    answer = parsed.answer;
  } catch {
    return fail(`bad answer from arbitrator ${where} (HTTP ${status}): not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const signed = answer.mac !== undefined && macEqual(signAnswer(key, answer, request.mac), answer.mac.toLowerCase());

  if (status === 200 && answer.granted) {
    // a grant counts only when the arbitrator proves it knows the secret and answers THIS request
    if (!signed) return fail(`bad answer from arbitrator ${where}: the grant is not signed with the cluster key`);
    return { granted: true, holder: answer.holder };
  }
  if (status === 409 && !answer.granted) {
    // refused because another partition holds the vote: the normal answer in a split
    return { granted: false, holder: signed ? answer.holder : [] };
  }
  // the reason is the arbitrator's text: one line, bounded, whatever it sent
  const reason = answer.reason ? `: ${answer.reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300)}` : '';
  return fail(`arbitrator ${where} refused (HTTP ${status})${reason}`);
}
