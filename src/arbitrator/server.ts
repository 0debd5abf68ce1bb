// The quorum arbitrator: a tiny HTTP service that gives its vote to ONE partition of a cluster
// at a time, through a lease. A partition (a set of nodes that see each other) asks for the
// vote and renews it every second; while its lease lives, any other member set is refused.
// A reachability check would not do: both halves of a two-node split reach the arbitrator.
//
// Leases live in memory only. A restarted arbitrator has no lease, which is the state of a
// lease that expired — provided the old holder has stopped counting its last grant by the
// time anyone can get the vote again. A quick restart (systemctl restart) during a split
// would break that: the holder still counts a grant it got a second before, the other side
// asks first and gets the vote. Hence the restart hold (restartHoldMs): no grant at all for
// a while after start, longer than any node counts a grant. Persisting leases would add disk
// I/O to every renewal; safety rests on expiry, not on remembering the holder.
// See docs/arbitrator.md.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { VoteAnswer, VoteRequest } from './protocol.js';
import { arbitratorKey, clampTtl, MAX_BODY_BYTES, MAX_CLOCK_SKEW_MS, normalizeMembers, parseVoteRequest, sameMembers, signAnswer, verifyRequest, VOTE_PATH } from './protocol.js';

/** cluster name → hex secret; a function lets a caller reload secrets without a restart. */
export type SecretSource = ReadonlyMap<string, string> | ((cluster: string) => string | undefined);

export interface ArbitratorOptions {
  /** address to listen on ("0.0.0.0", "::", "127.0.0.1") */
  host: string;
  /** 0 picks a free port (see handle.port) */
  port: number;
  secrets: SecretSource;
  log: Logger;
  /** request path served (default /vote); anything else is 404 */
  path?: string;
  /**
   * ms after start during which no vote is granted (503): longer than any node counts a
   * grant, so that a grant made before a restart has run out on its holder's side before
   * the restarted arbitrator, which remembers nothing, can give the vote to anyone else.
   * Default 0 (tests); `nodemgr arbitrator` uses RESTART_HOLD_DEFAULT_MS.
   */
  restartHoldMs?: number;
  /** clock, epoch ms (tests) */
  now?: () => number;
}

/** Default restart hold of `nodemgr arbitrator`: above the 4 s a ferry node counts a grant, with margin. */
export const RESTART_HOLD_DEFAULT_MS = 10_000;

export interface ArbitratorHandle {
  host: string;
  /** the bound port */
  port: number;
  /** current lease of a cluster, if live (for tests and diagnostics) */
  lease(cluster: string): Lease | undefined;
  /** stop listening and drop every connection; leases are forgotten */
  close(): Promise<void>;
}

export interface Lease {
  members: string[];
  /** arbitrator clock, epoch ms */
  expires: number;
  /** when this member set took the vote */
  since: number;
}

interface Reply {
  status: number;
  answer: VoteAnswer;
}

/** Start an arbitrator; resolves once it listens. */
export async function startArbitrator(o: ArbitratorOptions): Promise<ArbitratorHandle> {
  const now = o.now ?? Date.now;
  const servedPath = o.path ?? VOTE_PATH;
  const log = o.log.child({ component: 'arbitrator' });
  const leases = new Map<string, Lease>();
  const holdUntil = now() + (o.restartHoldMs ?? 0);
  const keys = new Map<string, { secret: string; key: Buffer }>();

  const secretOf = (cluster: string): string | undefined => (typeof o.secrets === 'function' ? o.secrets(cluster) : o.secrets.get(cluster));
  const keyOf = (cluster: string): Buffer | undefined => {
    const secret = secretOf(cluster);
    if (secret === undefined) return undefined;
    const cached = keys.get(cluster);
    if (cached && cached.secret === secret) return cached.key;
    const key = arbitratorKey(secret, cluster);
    keys.set(cluster, { secret, key });
    return key;
  };
  const liveLease = (cluster: string, t: number): Lease | undefined => {
    const l = leases.get(cluster);
    if (l && l.expires > t) return l;
    if (l) {
      log.info({ cluster, holder: l.members, expired: l.expires }, 'lease expired');
      leases.delete(cluster);
    }
    return undefined;
  };
  const refuse = (status: number, reason: string): Reply => ({ status, answer: { granted: false, holder: [], expires: 0, reason } });

  /** The whole decision, synchronous: two requests can never interleave inside it. */
  function decide(body: string, remote: string): Reply {
    let decoded: unknown;
    try {
      decoded = JSON.parse(body);
    } catch {
      return refuse(400, 'malformed JSON');
    }
    const parsed = parseVoteRequest(decoded);
    if ('error' in parsed) return refuse(400, parsed.error);
    const r: VoteRequest = parsed.request;
    const t = now();
    // authentication first: nothing below runs, and no lease changes, for an unauthenticated request
    const key = keyOf(r.cluster);
    if (!key) {
      log.warn({ cluster: r.cluster, node: r.node, remote }, 'refused: unknown cluster');
      return refuse(403, `unknown cluster "${r.cluster}"`);
    }
    if (!verifyRequest(key, r)) {
      log.warn({ cluster: r.cluster, node: r.node, remote }, 'refused: bad MAC');
      return refuse(403, 'bad MAC (wrong cluster secret?)');
    }
    if (Math.abs(t - r.ts) > MAX_CLOCK_SKEW_MS) {
      log.warn({ cluster: r.cluster, node: r.node, remote, skewMs: r.ts - t }, 'refused: clock skew');
      return refuse(403, `request time is ${Math.round((r.ts - t) / 1000)} s away from the arbitrator's clock (limit ${MAX_CLOCK_SKEW_MS / 1000} s): check NTP`);
    }
    const members = normalizeMembers(r.members);
    if (!sameMembers(members, r.members)) return refuse(400, 'members must be sorted and without duplicates');
    if (!members.includes(r.node)) return refuse(400, `node "${r.node}" is not in members`);

    if (t < holdUntil) {
      log.info({ cluster: r.cluster, node: r.node, members, holdUntil }, 'refused: restart hold');
      return refuse(503, `just started: no vote is granted for ${Math.ceil((holdUntil - t) / 1000)} s more (restart hold: a vote granted before the restart must run out first)`);
    }
    const ttl = clampTtl(r.ttl);
    const sign = (a: Pick<VoteAnswer, 'granted' | 'holder' | 'expires'>, reason?: string): VoteAnswer => ({ ...a, ...(reason ? { reason } : {}), mac: signAnswer(key, a, r.mac) });
    const held = liveLease(r.cluster, t);
    if (held && !sameMembers(held.members, members)) {
      log.debug({ cluster: r.cluster, node: r.node, members, holder: held.members }, 'refused: vote held by another partition');
      return { status: 409, answer: sign({ granted: false, holder: held.members, expires: held.expires }, `the vote is held by ${held.members.join(',')} until its lease expires`) };
    }
    // a renewal never shortens a lease (a smaller ttl than before only applies once it ran out)
    const expires = Math.max(t + ttl, held?.expires ?? 0);
    if (held) {
      held.expires = expires;
      log.debug({ cluster: r.cluster, node: r.node, members, expires }, 'lease renewed');
    } else {
      leases.set(r.cluster, { members, expires, since: t });
      log.info({ cluster: r.cluster, node: r.node, members, ttl, expires }, 'vote granted');
    }
    return { status: 200, answer: sign({ granted: true, holder: members, expires }) };
  }

  const server = http.createServer((req, res) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const send = (rep: Reply): void => {
      const text = JSON.stringify(rep.answer);
      res.writeHead(rep.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'http://arbitrator');
    if (url.pathname !== servedPath) {
      send(refuse(404, `no such endpoint ${url.pathname} (the vote is at ${servedPath})`));
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      send(refuse(405, 'POST a vote request'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        if (!tooBig) {
          tooBig = true;
          res.setHeader('connection', 'close');
          send(refuse(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
          req.resume();
        }
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return;
      let rep: Reply;
      try {
        rep = decide(Buffer.concat(chunks).toString('utf8'), remote);
      } catch (e) {
        log.error({ err: e, remote }, 'arbitrator bug');
        rep = refuse(500, 'internal error');
      }
      send(rep);
    });
    req.on('error', () => res.destroy());
  });
  // a vote is a one-shot exchange; a peer that sends headers but no body is dropped
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ err: e }, 'arbitrator server error'));
  const bound = server.address() as AddressInfo;
  log.info({ host: bound.address, port: bound.port, path: servedPath, restartHoldMs: o.restartHoldMs ?? 0 }, 'arbitrator listening');

  return {
    host: bound.address,
    port: bound.port,
    lease(cluster: string): Lease | undefined {
      const l = leases.get(cluster);
      return l && l.expires > now() ? { ...l, members: [...l.members] } : undefined;
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        log.info('arbitrator stopped');
      });
    },
  };
}
