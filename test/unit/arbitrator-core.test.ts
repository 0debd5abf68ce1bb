// The arbitrator's socket-free core (src/arbitrator/handler.ts) on a fake clock: replays and
// out-of-order requests, a lease held by {n1,n2} against {n1} alone and against n2's requests
// replayed after n2 died, the replay memory across a restart (the restart hold), the bound on
// remembered nodes, /status, and inputs that must never throw.
import test from 'ava';
import { ArbitratorCore, MAX_TRACKED_NODES, type RawRequest } from '../../src/arbitrator/handler.js';
import type { UnsignedVoteRequest, VoteAnswer } from '../../src/arbitrator/protocol.js';
import { arbitratorKey, MAX_CLOCK_SKEW_MS, signAnswer, signRequest } from '../../src/arbitrator/protocol.js';
import { silentLogger } from '../../src/log.js';

const SECRET = 'ab'.repeat(32);
const KEY = arbitratorKey(SECRET, 'prod');
const T0 = 1_800_000_000_000;

const core = (o: { startedAt?: number; restartHoldMs?: number; secrets?: (c: string) => string | undefined } = {}) =>
  new ArbitratorCore({ secrets: o.secrets ?? new Map([['prod', SECRET]]), log: silentLogger(), startedAt: o.startedAt ?? T0, restartHoldMs: o.restartHoldMs ?? 0 });
const body = (over: Partial<UnsignedVoteRequest>): string => JSON.stringify(signRequest(KEY, { cluster: 'prod', node: 'n1', members: ['n1', 'n2'], ttl: 6000, ts: T0, ...over }));
const req = (b: string, over: Partial<RawRequest> = {}): RawRequest => ({ method: 'POST', url: '/vote', body: b, remote: 'test', local: false, ...over });
const answer = (c: ArbitratorCore, b: string, now: number): { status: number; a: VoteAnswer } => {
  const r = c.handle(req(b), now);
  return { status: r.status, a: r.body as VoteAnswer };
};

test('a replayed request is refused and does not extend the lease; a newer one from the same node renews', (t) => {
  const c = core();
  const r1 = body({ ts: T0 });
  const first = answer(c, r1, T0);
  t.is(first.status, 200);
  t.is(first.a.expires, T0 + 6000);
  for (const at of [T0 + 1000, T0 + 2000, T0 + 5000]) {
    const again = answer(c, r1, at);
    t.is(again.status, 403);
    t.regex(again.a.reason ?? '', /replayed or out-of-order/);
    t.is(c.lease('prod', at)?.expires, T0 + 6000, 'the lease did not move');
  }
  // same ms again, or older: refused too (the client keeps its ts strictly increasing)
  t.is(answer(c, body({ ts: T0 - 1 }), T0 + 5000).status, 403);
  t.is(answer(c, body({ ts: T0 + 1000 }), T0 + 5000).status, 200);
  t.is(c.lease('prod', T0 + 5000)?.expires, T0 + 11_000);
  t.is(c.counters.snapshot().drops.replay, 4);
});

test('lease {n1,n2}: a request from {n1} alone neither renews nor takes it; it gets the vote after expiry', (t) => {
  const c = core();
  t.is(answer(c, body({ node: 'n2', ts: T0 }), T0).status, 200);
  const alone = answer(c, body({ node: 'n1', members: ['n1'], ts: T0 + 1000 }), T0 + 1000);
  t.is(alone.status, 409);
  t.deepEqual(alone.a.holder, ['n1', 'n2']);
  t.is(c.lease('prod', T0 + 1000)?.expires, T0 + 6000, 'a subset does not extend the lease');
  t.is(answer(c, body({ node: 'n1', members: ['n1'], ts: T0 + 6000 }), T0 + 6000).status, 200);
  t.deepEqual(c.lease('prod', T0 + 6000)?.members, ['n1']);
});

test("n2's requests replayed after n2 died keep no stale {n1,n2} lease alive: {n1} gets the vote at expiry", (t) => {
  const c = core();
  // n1 and n2 renew as a partition, once a second; everything n2 sends is recorded by the attacker
  const captured: string[] = [];
  for (let i = 0; i < 5; i++) {
    const fromN2 = body({ node: 'n2', ts: T0 + i * 1000 + 1 });
    captured.push(fromN2);
    t.is(answer(c, body({ node: 'n1', ts: T0 + i * 1000 }), T0 + i * 1000).status, 200);
    t.is(answer(c, fromN2, T0 + i * 1000 + 1).status, 200);
  }
  const expires = c.lease('prod', T0 + 4001)!.expires;
  t.is(expires, T0 + 4001 + 6000);
  // n2 dies at T0+4.5 s; n1 now asks for {n1}; the attacker replays n2's requests, all within the skew window
  for (let i = 0; i < 10; i++) {
    const at = T0 + 5000 + i * 1000;
    for (const old of captured) t.is(answer(c, old, at).status, 403);
    t.is(answer(c, body({ node: 'n1', members: ['n1'], ts: at }), at).status, at < expires ? 409 : 200);
  }
  t.deepEqual(c.lease('prod', T0 + 14_500)?.members, ['n1']);
  t.true(MAX_CLOCK_SKEW_MS > 10_000, 'the replays were inside the skew window: only the replay rule refused them');
});

test('after a restart, a node that asked during the restart hold cannot have its pre-restart requests replayed', (t) => {
  const before = core();
  const old = body({ node: 'n2', ts: T0 });
  t.is(answer(before, old, T0).status, 200);
  // the arbitrator restarts at T0+1 s with a 10 s hold; n2 keeps asking once a second
  const after = core({ startedAt: T0 + 1000, restartHoldMs: 10_000 });
  for (let i = 2; i <= 10; i++) t.is(answer(after, body({ node: 'n2', ts: T0 + i * 1000 }), T0 + i * 1000).status, 503);
  t.is(answer(after, old, T0 + 11_500).status, 403, 'refused as a replay, not granted');
  t.is(after.lease('prod', T0 + 11_500), undefined);
  t.is(answer(after, body({ node: 'n2', ts: T0 + 11_600 }), T0 + 11_600).status, 200);
});

test('the remembered nodes are bounded: past MAX_TRACKED_NODES a new node is refused (503) until old entries age out', (t) => {
  const c = core();
  for (let i = 0; i < MAX_TRACKED_NODES; i++) {
    const node = `n${i}`;
    const r = c.handle(req(body({ node, members: [node], ts: T0 + i })), T0 + i);
    t.true(r.status === 200 || r.status === 409);
  }
  const full = answer(c, body({ node: 'late', members: ['late'], ts: T0 + 5000 }), T0 + 5000);
  t.is(full.status, 503);
  t.is(c.status(T0 + 5000).trackedNodes, MAX_TRACKED_NODES);
  // an already known node still gets through
  t.not(answer(c, body({ node: 'n0', members: ['n0'], ts: T0 + 5001 }), T0 + 5001).status, 503);
  const later = T0 + MAX_TRACKED_NODES + MAX_CLOCK_SKEW_MS + 10_000;
  t.is(answer(c, body({ node: 'late', members: ['late'], ts: later }), later).status, 200);
  t.true(c.status(later).trackedNodes < 10);
});

test('/status: counters on loopback only; other paths, methods and targets are refused, never thrown', (t) => {
  const c = core();
  c.handle(req('nope'), T0);
  const local = c.handle(req('', { method: 'GET', url: '/status', local: true }), T0 + 5);
  t.is(local.status, 200);
  t.like(local.body, { uptimeMs: 5, counters: { drops: { malformed_json: 1 } } });
  t.is(c.handle(req('', { method: 'GET', url: '/status' }), T0).status, 403);
  t.is(c.handle(req('', { method: 'POST', url: '/status', local: true }), T0).status, 405);
  let ts = T0;
  for (const url of ['http://[', 'http://[::1', '*', '', 'vote', '//', 'http://x:99999/vote', '\u0000', 'https://h/vote?x#y']) {
    const r = c.handle(req(body({ ts: ++ts }), { url }), T0);
    t.true([200, 400, 403, 404].includes(r.status), `${JSON.stringify(url)} → ${r.status}`);
  }
  t.is(c.handle(req(body({ ts: ++ts }), { url: 'http://arb:1215/vote' }), T0).status, 200, 'absolute-form target');
  t.is(c.handle(req(body({}), { method: 'GET' }), T0).headers?.allow, 'POST');
});

test('a throwing secret source is a 500, counted, and the next request is served', (t) => {
  let broken = true;
  const c = core({
    secrets: (cluster) => {
      if (broken) throw new Error('boom');
      return cluster === 'prod' ? SECRET : undefined;
    },
  });
  t.is(c.handle(req(body({})), T0).status, 500);
  t.is(c.counters.snapshot().drops.internal_error, 1);
  broken = false;
  t.is(c.handle(req(body({ ts: T0 + 1 })), T0 + 1).status, 200);
});

test('oversized names and member lists are a 400 before any MAC work', (t) => {
  const c = core();
  const long = 'x'.repeat(256);
  t.is(c.handle(req(body({ node: long, members: [long] })), T0).status, 400);
  t.is(c.handle(req(body({ cluster: long })), T0).status, 400);
  const many = Array.from({ length: 257 }, (_, i) => `n${String(i).padStart(3, '0')}`);
  t.is(c.handle(req(body({ node: many[0], members: many })), T0).status, 400);
  t.is(c.handle(req('x'.repeat(70_000)), T0).status, 413);
  t.is(c.counters.snapshot().drops.bad_fields, 3);
});

test('a MAC sent in uppercase hex is the same request: the answer binds its lowercase form, and a case variant is still a replay', (t) => {
  const c = core();
  const lower = JSON.parse(body({ ts: T0 })) as { mac: string };
  const upper = JSON.stringify({ ...lower, mac: lower.mac.toUpperCase() });
  const r = answer(c, upper, T0);
  t.is(r.status, 200);
  t.is(r.a.mac, signAnswer(KEY, r.a, lower.mac));
  t.is(answer(c, JSON.stringify(lower), T0 + 1).status, 403);
});
