// The quorum arbitrator over real HTTP on 127.0.0.1: the lease (one partition at a time,
// renewal, expiry with real waiting), authentication (bad MAC, unknown cluster, stale or
// future ts never touch the lease), malformed requests, and the client's one-line errors
// (closed port, a server that never answers, forged or garbled answers, URL with a path).
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { askVote } from '../../src/arbitrator/client.js';
import type { UnsignedVoteRequest, VoteAnswer } from '../../src/arbitrator/protocol.js';
import { arbitratorKey, MAX_CLOCK_SKEW_MS, signRequest, TTL_MAX_MS, voteUrl } from '../../src/arbitrator/protocol.js';
import { startArbitrator, type ArbitratorHandle, type SecretSource } from '../../src/arbitrator/server.js';
import type { ArbitratorConfig } from '../../src/cluster/config.js';
import { silentLogger } from '../../src/log.js';

const SECRET = 'ab'.repeat(32);
const OTHER_SECRET = 'cd'.repeat(32);
const prod = { name: 'prod', secret: SECRET };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function arbitrator(t: ExecutionContext, o: { secrets?: SecretSource; path?: string; restartHoldMs?: number } = {}): Promise<ArbitratorHandle> {
  const h = await startArbitrator({ host: '127.0.0.1', port: 0, secrets: o.secrets ?? new Map([['prod', SECRET]]), log: silentLogger(), ...(o.path ? { path: o.path } : {}), ...(o.restartHoldMs ? { restartHoldMs: o.restartHoldMs } : {}) });
  t.teardown(() => h.close());
  return h;
}
const arbAt = (port: number, over: Partial<ArbitratorConfig> = {}): ArbitratorConfig => ({ id: 'arbitrator#1', addr: '127.0.0.1', port, timeout: 3000, ...over });

/** POST a raw body; the status and the decoded answer. */
async function post(port: number, body: string, path = '/vote'): Promise<{ status: number; answer: VoteAnswer }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, answer: (await res.json()) as VoteAnswer };
}
/** A request signed with `secret` (default: the right one), fields overridable before signing. */
function signed(over: Partial<UnsignedVoteRequest> = {}, secret = SECRET, cluster = over.cluster ?? 'prod'): string {
  const r: UnsignedVoteRequest = { cluster: 'prod', node: 'n1', members: ['n1', 'n2'], ttl: 5000, ts: Date.now(), ...over };
  return JSON.stringify(signRequest(arbitratorKey(secret, cluster), r));
}

test('the first partition gets the vote; a disjoint one is refused while the lease lives', async (t) => {
  const h = await arbitrator(t);
  const a = await askVote(arbAt(h.port), prod, 'n1', ['n2', 'n1'], 5000);
  t.deepEqual(a, { granted: true, holder: ['n1', 'n2'] });
  const lease = h.lease('prod');
  t.deepEqual(lease?.members, ['n1', 'n2']);
  t.true(lease !== undefined && lease.expires > Date.now() + 4000 && lease.expires <= Date.now() + 5000);

  const b = await askVote(arbAt(h.port), prod, 'n3', ['n3'], 5000);
  t.deepEqual(b, { granted: false, holder: ['n1', 'n2'] }, 'refused, and told who holds it; not an error');
  // an overlapping but different set is refused too: only the same partition renews
  const c = await askVote(arbAt(h.port), prod, 'n2', ['n2', 'n3'], 5000);
  t.false(c.granted);
  t.deepEqual(c.holder, ['n1', 'n2']);
  const raw = await post(h.port, signed({ node: 'n3', members: ['n3'] }));
  t.is(raw.status, 409);
  t.false(raw.answer.granted);
  t.deepEqual(raw.answer.holder, ['n1', 'n2']);
  t.is(raw.answer.expires, lease!.expires);
  t.deepEqual(h.lease('prod'), lease, 'refusals leave the lease as it was');
});

test('the same member set renews (from any of its nodes), extending the expiry', async (t) => {
  const h = await arbitrator(t);
  // ttl and waits with margins for a loaded machine
  t.true((await askVote(arbAt(h.port), prod, 'n1', ['n1', 'n2'], 5000)).granted);
  const first = h.lease('prod');
  await sleep(1500);
  const r = await askVote(arbAt(h.port), prod, 'n2', ['n1', 'n2'], 5000);
  t.deepEqual(r, { granted: true, holder: ['n1', 'n2'] });
  const second = h.lease('prod');
  t.truthy(first && second);
  t.true(second!.expires >= first!.expires + 1400, `renewal moved expiry from ${first!.expires} to ${second!.expires}`);
  t.is(second!.since, first!.since, 'a renewal is the same lease');
  // once the first lease would have expired, the renewed one still refuses n3
  while (Date.now() < first!.expires + 200) await sleep(100);
  t.false((await askVote(arbAt(h.port), prod, 'n3', ['n3'], 5000)).granted);
});

test('after the lease expires (no renewal) another partition gets the vote, and the old one is refused', async (t) => {
  const h = await arbitrator(t);
  t.true((await askVote(arbAt(h.port), prod, 'n1', ['n1'], 1000)).granted);
  t.false((await askVote(arbAt(h.port), prod, 'n2', ['n2'], 1000)).granted);
  await sleep(1300);
  t.is(h.lease('prod'), undefined);
  t.deepEqual(await askVote(arbAt(h.port), prod, 'n2', ['n2'], 1000), { granted: true, holder: ['n2'] });
  t.deepEqual(await askVote(arbAt(h.port), prod, 'n1', ['n1'], 1000), { granted: false, holder: ['n2'] });
});

test('restart hold: no vote to anyone right after start, then the first asker gets it', async (t) => {
  // long enough for the requests below to land inside it on a loaded machine
  const h = await arbitrator(t, { restartHoldMs: 4000 });
  const early = await post(h.port, signed({ node: 'n3', members: ['n3'] }));
  t.is(early.status, 503);
  t.regex(early.answer.reason ?? '', /just started/);
  t.is(h.lease('prod'), undefined);
  t.regex((await askVote(arbAt(h.port), prod, 'n1', ['n1'], 5000)).error ?? '', /refused \(HTTP 503\): just started: no vote is granted for [1-4] s more/);
  // a bad request during the hold is still a 403 (authentication comes first)
  t.is((await post(h.port, signed({}, OTHER_SECRET))).status, 403);
  await sleep(4100);
  t.deepEqual(await askVote(arbAt(h.port), prod, 'n1', ['n1'], 5000), { granted: true, holder: ['n1'] });
  t.false((await askVote(arbAt(h.port), prod, 'n3', ['n3'], 5000)).granted);
});

test('ttl is clamped to [1 s, 60 s]', async (t) => {
  const h = await arbitrator(t);
  const before = Date.now();
  const short = await post(h.port, signed({ ttl: 10 }));
  t.is(short.status, 200);
  t.true(short.answer.expires >= before + 1000 && short.answer.expires <= Date.now() + 1000, `expires ${short.answer.expires - before} ms after`);
  await sleep(1100);
  const long = await post(h.port, signed({ ttl: 3_600_000 }));
  t.is(long.status, 200);
  t.true(long.answer.expires <= Date.now() + TTL_MAX_MS && long.answer.expires > Date.now() + TTL_MAX_MS - 2000);
});

test('bad MAC, unknown cluster, stale or future ts: 403, and the lease never changes', async (t) => {
  const h = await arbitrator(t);
  // with no lease: a forged request would have been granted, so "still no lease" proves it was ignored
  const wrongKey = await post(h.port, signed({}, OTHER_SECRET));
  t.is(wrongKey.status, 403);
  t.deepEqual({ granted: wrongKey.answer.granted, holder: wrongKey.answer.holder }, { granted: false, holder: [] });
  t.regex(wrongKey.answer.reason ?? '', /bad MAC/);
  t.is(h.lease('prod'), undefined);

  // a valid request whose fields are altered after signing
  const tampered = JSON.parse(signed()) as Record<string, unknown>;
  tampered.members = ['n1', 'n3'];
  tampered.node = 'n3';
  t.is((await post(h.port, JSON.stringify(tampered))).status, 403);
  t.is(h.lease('prod'), undefined);

  const stale = await post(h.port, signed({ ts: Date.now() - MAX_CLOCK_SKEW_MS - 5000 }));
  t.is(stale.status, 403);
  t.regex(stale.answer.reason ?? '', /clock/);
  const future = await post(h.port, signed({ ts: Date.now() + MAX_CLOCK_SKEW_MS + 5000 }));
  t.is(future.status, 403);
  t.is(h.lease('prod'), undefined);

  const unknown = await post(h.port, signed({ cluster: 'other' }, SECRET, 'other'));
  t.is(unknown.status, 403);
  t.regex(unknown.answer.reason ?? '', /unknown cluster "other"/);

  // with a lease: none of them takes it over or extends it
  t.true((await askVote(arbAt(h.port), prod, 'n1', ['n1', 'n2'], 5000)).granted);
  const lease = h.lease('prod');
  for (const body of [
    signed({ node: 'n3', members: ['n3'] }, OTHER_SECRET),
    signed({ node: 'n1', members: ['n1', 'n2'], ttl: 60_000 }, OTHER_SECRET),
    signed({ node: 'n3', members: ['n3'], ts: Date.now() - 40_000 }),
    signed({ node: 'n1', members: ['n1', 'n2'], ttl: 60_000, ts: Date.now() - 40_000 }),
  ]) {
    const r = await post(h.port, body);
    t.is(r.status, 403);
    t.deepEqual(r.answer.holder, [], 'an unauthenticated asker is not told who holds the vote');
  }
  t.deepEqual(h.lease('prod'), lease);

  // the client reports a refusal as an error, in one line
  const viaClient = await askVote(arbAt(h.port), { name: 'prod', secret: OTHER_SECRET }, 'n1', ['n1', 'n2'], 5000);
  t.false(viaClient.granted);
  t.regex(viaClient.error ?? '', /^arbitrator http:\/\/127\.0\.0\.1:\d+\/vote refused \(HTTP 403\): bad MAC/);
  t.false((viaClient.error ?? '').includes('\n'));
});

test('malformed requests: 400 (JSON, shape, node not in members, unsorted members); other paths and methods', async (t) => {
  const h = await arbitrator(t);
  const garbage = await post(h.port, 'this is not json{');
  t.is(garbage.status, 400);
  t.regex(garbage.answer.reason ?? '', /malformed JSON/);
  t.is((await post(h.port, '[1,2]')).status, 400);
  const noMac = JSON.parse(signed()) as Record<string, unknown>;
  delete noMac.mac;
  const r = await post(h.port, JSON.stringify(noMac));
  t.is(r.status, 400);
  t.regex(r.answer.reason ?? '', /mac/);
  const notMember = await post(h.port, signed({ node: 'n9', members: ['n1', 'n2'] }));
  t.is(notMember.status, 400);
  t.regex(notMember.answer.reason ?? '', /"n9" is not in members/);
  t.is((await post(h.port, signed({ members: ['n2', 'n1'] }))).status, 400);
  t.is((await post(h.port, signed({ members: ['n1', 'n1'] }))).status, 400);
  t.is(h.lease('prod'), undefined, 'nothing was granted');
  t.is((await post(h.port, signed(), '/elsewhere')).status, 404);
  const get = await fetch(`http://127.0.0.1:${h.port}/vote`);
  t.is(get.status, 405);
  t.is(get.headers.get('allow'), 'POST');
  const big = await post(h.port, JSON.stringify({ pad: 'x'.repeat(100_000) }));
  t.is(big.status, 413);
});

test('one arbitrator serves several clusters, each with its own lease; secrets may come from a function', async (t) => {
  const secrets = new Map([['prod', SECRET], ['qa', OTHER_SECRET]]);
  const h = await arbitrator(t, { secrets: (c) => secrets.get(c) });
  t.true((await askVote(arbAt(h.port), prod, 'n1', ['n1'], 5000)).granted);
  t.true((await askVote(arbAt(h.port), { name: 'qa', secret: OTHER_SECRET }, 'n2', ['n2'], 5000)).granted);
  t.false((await askVote(arbAt(h.port), { name: 'qa', secret: OTHER_SECRET }, 'n1', ['n1'], 5000)).granted);
  // the prod secret is not qa's: a request for qa signed with it is refused
  t.regex((await askVote(arbAt(h.port), { name: 'qa', secret: SECRET }, 'n3', ['n3'], 5000)).error ?? '', /HTTP 403/);
  secrets.delete('qa');
  t.regex((await askVote(arbAt(h.port), { name: 'qa', secret: OTHER_SECRET }, 'n2', ['n2'], 5000)).error ?? '', /unknown cluster "qa"/);
});

test('URL form with a path: the vote goes to that path; the bare address (/vote) is a 404 there', async (t) => {
  const h = await arbitrator(t, { path: '/ferry/arb' });
  const r = await askVote(arbAt(h.port, { addr: `http://127.0.0.1:${h.port}/ferry/arb`, port: 1 }), prod, 'n1', ['n1'], 5000);
  t.deepEqual(r, { granted: true, holder: ['n1'] });
  const bare = await askVote(arbAt(h.port), prod, 'n1', ['n1'], 5000);
  t.false(bare.granted);
  t.regex(bare.error ?? '', /refused \(HTTP 404\)/);
});

test('voteUrl: host, IPv6, URL with or without path', (t) => {
  t.is(voteUrl({ addr: '10.0.9.1', port: 1215 }).toString(), 'http://10.0.9.1:1215/vote');
  t.is(voteUrl({ addr: 'fd00::9', port: 1215 }).toString(), 'http://[fd00::9]:1215/vote');
  t.is(voteUrl({ addr: 'arb.example', port: 8080 }).toString(), 'http://arb.example:8080/vote');
  t.is(voteUrl({ addr: 'http://arb.example:9000', port: 1215 }).toString(), 'http://arb.example:9000/vote');
  t.is(voteUrl({ addr: 'http://arb.example:9000/x/y', port: 1215 }).toString(), 'http://arb.example:9000/x/y');
  t.is(voteUrl({ addr: 'https://arb.example/v', port: 1215 }).toString(), 'https://arb.example/v');
  t.throws(() => voteUrl({ addr: 'ftp://arb.example/', port: 1215 }), { message: /only http/ });
});

test('client: a closed port is an unreachable arbitrator, in one line', async (t) => {
  const h = await startArbitrator({ host: '127.0.0.1', port: 0, secrets: new Map([['prod', SECRET]]), log: silentLogger() });
  const port = h.port;
  await h.close();
  const r = await askVote(arbAt(port), prod, 'n1', ['n1'], 5000);
  t.false(r.granted);
  t.deepEqual(r.holder, []);
  t.regex(r.error ?? '', new RegExp(`^cannot reach arbitrator http://127\\.0\\.0\\.1:${port}/vote: .*ECONNREFUSED`));
  t.false((r.error ?? '').includes('\n'));
});

test('client: a server that never answers is a timeout after arb.timeout', async (t) => {
  const sockets: net.Socket[] = [];
  const mute = net.createServer((s) => void sockets.push(s)); // accepts, reads nothing, answers nothing
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    mute.close();
  });
  const port = (mute.address() as AddressInfo).port;
  const started = Date.now();
  // long enough for the connection to be made on a loaded machine
  const r = await askVote(arbAt(port, { timeout: 1500 }), prod, 'n1', ['n1'], 5000);
  const took = Date.now() - started;
  t.false(r.granted);
  t.is(r.error, `no answer from arbitrator http://127.0.0.1:${port}/vote within 1500 ms`);
  t.true(took >= 1400 && took < 5000, `took ${took} ms`);
  t.true(sockets.length >= 1, 'the client did connect');
});

/** A fake arbitrator answering every request with `status` and `body`. */
async function fake(t: ExecutionContext, status: number, body: (req: { mac: string }) => string): Promise<number> {
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body(JSON.parse(Buffer.concat(chunks).toString()) as { mac: string }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return (srv.address() as AddressInfo).port;
}

test('client: an unsigned or wrongly signed grant is not a grant; garbage is a bad answer', async (t) => {
  const unsigned = await fake(t, 200, () => JSON.stringify({ granted: true, holder: ['n1'], expires: Date.now() + 5000 }));
  const r1 = await askVote(arbAt(unsigned), prod, 'n1', ['n1'], 5000);
  t.false(r1.granted);
  t.regex(r1.error ?? '', /not signed with the cluster key/);

  // signed, but for another request (a replayed answer): the request mac is bound into it
  const { signAnswer } = await import('../../src/arbitrator/protocol.js');
  const key = arbitratorKey(SECRET, 'prod');
  const replayed = await fake(t, 200, () => {
    const a = { granted: true, holder: ['n1'], expires: 1 };
    return JSON.stringify({ ...a, mac: signAnswer(key, a, 'f'.repeat(64)) });
  });
  t.false((await askVote(arbAt(replayed), prod, 'n1', ['n1'], 5000)).granted);
  // and a correctly bound one is accepted: the check above fails for the right reason
  const honest = await fake(t, 200, (req) => {
    const a = { granted: true, holder: ['n1'], expires: 1 };
    return JSON.stringify({ ...a, mac: signAnswer(key, a, req.mac) });
  });
  t.deepEqual(await askVote(arbAt(honest), prod, 'n1', ['n1'], 5000), { granted: true, holder: ['n1'] });

  const garbage = await fake(t, 200, () => '<html>proxy error</html>');
  const r3 = await askVote(arbAt(garbage), prod, 'n1', ['n1'], 5000);
  t.false(r3.granted);
  t.regex(r3.error ?? '', /^bad answer from arbitrator .* \(HTTP 200\): not JSON/);
  const shape = await fake(t, 200, () => '{"granted":"yes"}');
  t.regex((await askVote(arbAt(shape), prod, 'n1', ['n1'], 5000)).error ?? '', /no boolean "granted"/);
});

test('client: the asking node must be in the member set (no request is sent)', async (t) => {
  const r = await askVote(arbAt(1), prod, 'n1', ['n2'], 5000);
  t.false(r.granted);
  t.regex(r.error ?? '', /not in the member set/);
});
