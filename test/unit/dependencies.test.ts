// Service dependencies (parents/children) as a pure rule, and decide() honouring it: a child
// waits for its parents up on a live node, a parent's relocation stop waits for its children,
// cycles and unknown parents are named. (The lab scenario is in cluster-dependencies.test.ts.)
import test from 'ava';
import { decide, type DecisionInput, type PeerInfo } from '../../src/cluster/orchestrator.js';
import type { Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';
import {
  childrenOf, childrenRunning, cycleThrough, dependencyFields, isDependencyWait, parentsOf, parentsVerdict, relocateRefusal, type DependencyView,
} from '../../src/cluster/dependencies.js';

const na = 'n/a' as const;
function svc(over: Partial<ServiceState> = {}): ServiceState {
  return {
    avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2'], monitor: 'idle',
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
  };
}
const peer = (state: PeerInfo['state'], services: Record<string, ServiceState>): PeerInfo => ({
  state,
  payload: { v: 1, frozen: false, services, intents: {} } satisfies NodeState,
});
const view = (local: Record<string, ServiceState>, peers: Record<string, PeerInfo> = {}): DependencyView => ({ self: 'n1', local, peers });

test('edges declared on either side are the same edge', (t) => {
  const v1 = view({ web: svc({ parents: ['db'] }), db: svc() });
  const v2 = view({ web: svc(), db: svc({ children: ['web'] }) });
  for (const v of [v1, v2]) {
    t.deepEqual(parentsOf('web', v), ['db']);
    t.deepEqual(childrenOf('db', v), ['web']);
    t.deepEqual(parentsOf('db', v), []);
  }
});

test('a child waits for a parent down everywhere; a parent up on a live peer is enough', (t) => {
  const web = svc({ parents: ['db'] });
  const down = parentsVerdict('web', view({ web, db: svc() }, { n2: peer('up', { db: svc() }) }));
  t.like(down, { ok: false, kind: 'parents', waiting: ['db'], why: 'waiting for parents: db' });
  t.true(isDependencyWait(down.ok ? '' : down.why));
  t.deepEqual(parentsVerdict('web', view({ web, db: svc() }, { n2: peer('up', { db: svc({ avail: 'up' }) }) })), { ok: true });
  t.deepEqual(parentsVerdict('web', view({ web, db: svc({ avail: 'warn' }) })), { ok: true });
});

test('a parent up on a dead or unknown node does not count', (t) => {
  const web = svc({ parents: ['db'] });
  for (const state of ['down', 'unknown', 'left'] as const) {
    const v = parentsVerdict('web', view({ web }, { n2: peer(state, { db: svc({ avail: 'up' }) }) }));
    t.like(v, { ok: false, waiting: ['db'] }, state);
  }
});

test('all parents must be up: the missing ones are named, unknown services said so', (t) => {
  const web = svc({ parents: ['db', 'cache', 'ghost'] });
  const v = parentsVerdict('web', view({ web, db: svc({ avail: 'up' }), cache: svc() }));
  t.like(v, { ok: false, kind: 'parents', waiting: ['cache', 'ghost'], unknown: ['ghost'] });
  t.is(v.ok ? '' : v.why, 'waiting for parents: cache, ghost (unknown service)');
});

test('cycles are detected, through either side of the edges, and self-parenting too', (t) => {
  const v = view({ a: svc({ parents: ['b'] }), b: svc({ parents: ['c'] }), c: svc({ children: ['b'], parents: [] }), d: svc({ children: ['a'] }) });
  // c is b's parent by b's file; c declares b as child: b -> c, and a -> b; no cycle yet
  t.is(cycleThrough('a', v), undefined);
  const cyc = view({ a: svc({ parents: ['b'] }), b: svc({ parents: ['c'] }), c: svc({ parents: ['a'] }) });
  t.deepEqual(cycleThrough('a', cyc), ['a', 'b', 'c', 'a']);
  t.like(parentsVerdict('b', cyc), { ok: false, kind: 'cycle', why: 'dependency cycle: b -> c -> a -> b' });
  const mixed = view({ a: svc({ parents: ['b'] }), b: svc({ avail: 'up' }), x: svc({ children: ['b'] }) });
  t.is(cycleThrough('a', mixed), undefined);
  const back = view({ a: svc({ parents: ['b'], avail: 'up' }), b: svc({ parents: [], avail: 'up', children: [] }), z: svc() });
  back.local['b'] = svc({ avail: 'up', parents: ['a'] });
  t.deepEqual(cycleThrough('a', back), ['a', 'b', 'a']);
  // even with both up, a cycle is refused: it would never have started cold
  t.like(parentsVerdict('a', back), { ok: false, kind: 'cycle' });
  t.deepEqual(cycleThrough('s', view({ s: svc({ parents: ['s'] }) })), ['s', 's']);
  // a cycle elsewhere, above a parent: the child waits for that parent, it does not loop
  const above = view({ web: svc({ parents: ['p'] }), p: svc({ parents: ['q'] }), q: svc({ parents: ['p'] }) });
  t.like(parentsVerdict('web', above), { ok: false, kind: 'parents', waiting: ['p'] });
});

test('children running on live nodes are named child@node', (t) => {
  const v = view({ db: svc({ avail: 'up' }), web: svc({ parents: ['db'], avail: 'up' }) }, { n2: peer('up', { web: svc({ monitor: 'starting' }) }), n3: peer('down', { web: svc({ avail: 'up' }) }) });
  t.deepEqual(childrenRunning('db', v), ['web@n1', 'web@n2']);
  t.deepEqual(childrenRunning('web', v), []);
  t.regex(relocateRefusal('db', v) ?? '', /^db has children running \(web@n1, web@n2\)/);
  t.is(relocateRefusal('web', v), undefined);
  t.regex(relocateRefusal('web', view({ web: svc({ parents: ['db'] }), db: svc() })) ?? '', /waiting for parents: db/);
});

test('dependencyFields publishes only what is set', (t) => {
  t.deepEqual(dependencyFields([], []), {});
  t.deepEqual(dependencyFields(['db'], []), { parents: ['db'] });
});

// ---- decide()

const input = (over: Partial<DecisionInput>): DecisionInput => ({
  self: 'n1', svc: 'web', local: svc({ parents: ['db'] }), nodeFrozen: false, peers: { n2: peer('up', { web: svc({ parents: ['db'] }), db: svc() }) },
  intents: {}, now: 1_000_000, bootPhase: true, quorum: { ok: true, why: 'quorum' }, services: { db: svc() }, ...over,
});

test('decide: the first eligible node waits for the parents instead of starting', (t) => {
  t.deepEqual(decide(input({})), { action: 'none', why: 'waiting for parents: db' });
  t.is(decide(input({ services: { db: svc({ avail: 'up' }) } })).action, 'start');
  t.is(decide(input({ services: {}, peers: { n2: peer('up', { web: svc(), db: svc({ avail: 'up' }) }) } })).action, 'start');
});

test('decide: the parent failing over (its owner dead) keeps the child waiting', (t) => {
  const d = decide(input({ services: { db: svc() }, peers: { n2: peer('down', { web: svc({ avail: 'up', parents: ['db'] }), db: svc({ avail: 'up' }) }) } }));
  t.deepEqual(d, { action: 'none', why: 'waiting for parents: db' });
});

test('decide: a node that would not start it anyway says its own reason', (t) => {
  const d = decide(input({ self: 'n2', peers: { n1: peer('up', { web: svc({ parents: ['db'] }), db: svc() }) } }));
  t.deepEqual(d, { action: 'none', why: 'n1 is the first eligible node' });
});

test('decide: a relocation target waits for the parents; the parent owner waits for children before its stop', (t) => {
  const toHere: Intent = { id: 'i1', svc: 'web', target: 'n1', by: 'n1', at: 999_000, done: false };
  t.deepEqual(decide(input({ intents: { web: toHere } })), { action: 'none', why: 'waiting for parents: db' });
  const away: Intent = { id: 'i2', svc: 'db', target: 'n2', by: 'n1', at: 999_000, done: false };
  const d = decide(input({ svc: 'db', local: svc({ avail: 'up' }), intents: { db: away }, services: { web: svc({ parents: ['db'], avail: 'up' }) } }));
  t.deepEqual(d, { action: 'none', why: 'waiting for children to stop: web@n1' });
  const free = decide(input({ svc: 'db', local: svc({ avail: 'up' }), intents: { db: away }, services: { web: svc({ parents: ['db'] }) } }));
  t.like(free, { action: 'stop', intent: 'i2' });
});

test('decide: services without dependencies are untouched', (t) => {
  t.is(decide(input({ local: svc(), services: {}, peers: { n2: peer('up', { web: svc(), db: svc() }) } })).action, 'start');
});
