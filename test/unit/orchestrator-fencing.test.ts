// decide(): the fencing verdict and the data gate are inputs of the pure orchestrator, like
// quorum. A takeover from a dead node waits for its fence (when it can be fenced and the
// service allows it), or for its split grace (when it cannot); takeoverClear() alone too.
// (The lab scenarios are in cluster-fencing.test.ts and cluster-split.test.ts.)
import test from 'ava';
import { decide, type DecisionInput, type PeerInfo } from '../../src/cluster/orchestrator.js';
import { takeoverClear, type FenceFacts, type FenceNodeFacts } from '../../src/cluster/fence-clearance.js';
import type { Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';

const na = 'n/a' as const;
const NOW = 1_000_000;
function svc(over: Partial<ServiceState> = {}): ServiceState {
  return {
    avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2'], monitor: 'idle',
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
  };
}
const peer = (state: PeerInfo['state'], s: ServiceState): PeerInfo => ({ state, payload: { v: 1, frozen: false, services: { web: s }, intents: {} } satisfies NodeState });
const node = (over: Partial<FenceNodeFacts> = {}): FenceNodeFacts => ({ fenced: false, fenceable: true, deadSince: NOW - 1_000, waitWhy: 'waiting for the fence of n1', ...over });
const facts = (n1: Partial<FenceNodeFacts> = {}, over: Partial<FenceFacts> = {}): FenceFacts => ({
  quorum: true, splitAction: 'stop', splitGrace: 10_000, quorateSince: 0, nodes: { n1: node(n1) }, ...over,
});
const ownerDead = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  self: 'n2', svc: 'web', local: svc(), nodeFrozen: false, peers: { n1: peer('down', svc({ avail: 'up' })) }, intents: {}, now: NOW,
  bootPhase: false, quorum: { ok: true, why: 'quorum' }, ...over,
});

test('a dead owner that can be fenced and is not: no start, the fence named, the why says so', (t) => {
  t.deepEqual(decide(ownerDead({ fence: facts() })), { action: 'none', why: 'waiting for the fence of n1', blocked: 'fence', fence: ['n1'] });
});

test('a failed fence keeps the service down with its reason', (t) => {
  const why = 'fence of n1 failed (2x): timeout; not starting, next attempt at 00:17:00 UTC';
  t.deepEqual(decide(ownerDead({ fence: facts({ waitWhy: why }) })), { action: 'none', why, blocked: 'fence', fence: ['n1'] });
});

test('a fenced dead owner: the takeover starts', (t) => {
  t.deepEqual(decide(ownerDead({ fence: facts({ fenced: true }) })), { action: 'start', why: 'not running anywhere (n1 dead)' });
});

test('stonith = false: a fenceable dead owner is not fenced for it, the split grace applies, then it starts', (t) => {
  const d = decide(ownerDead({ fence: facts(), stonith: false }));
  t.is(d.action, 'none');
  t.true('blocked' in d && d.blocked === 'fence' && d.fence.length === 0, JSON.stringify(d));
  t.regex(d.why, /^n1 lost: giving it until \d\d:\d\d:\d\d UTC \(split_grace\) to stop its services$/);
  t.is(decide(ownerDead({ fence: facts(), stonith: false, now: NOW + 9_000 })).action, 'start');
});

test('cannot be fenced: the split grace counts from its death, or from when this node gained quorum if later', (t) => {
  const f = facts({ fenceable: false });
  t.is(decide(ownerDead({ fence: f, now: NOW + 8_999 })).action, 'none');
  t.is(decide(ownerDead({ fence: f, now: NOW + 9_000 })).action, 'start');
  const late = facts({ fenceable: false }, { quorateSince: NOW });
  t.is(decide(ownerDead({ fence: late, now: NOW + 9_000 })).action, 'none');
  t.is(decide(ownerDead({ fence: late, now: NOW + 10_000 })).action, 'start');
});

test('cannot be fenced, split_action = freeze: only a fence could clear it', (t) => {
  const d = decide(ownerDead({ fence: facts({ fenceable: false }, { splitAction: 'freeze' }), now: NOW + 3_600_000 }));
  t.is(d.action, 'none');
  t.regex(d.why, /split_action = freeze/);
});

test('cannot be fenced, quorum off: no wait', (t) => {
  t.is(decide(ownerDead({ fence: facts({ fenceable: false }, { quorum: false }) })).action, 'start');
});

test('the fencing verdict is the last rule: quorum, placement and peers decide first', (t) => {
  t.deepEqual(decide(ownerDead({ fence: facts(), quorum: { ok: false, why: 'no quorum' } })), { action: 'none', why: 'no quorum' });
  const three = ownerDead({ fence: facts(), local: svc({ nodes: ['n1', 'n3', 'n2'] }), peers: { n1: peer('down', svc({ avail: 'up' })), n3: peer('up', svc()) } });
  t.deepEqual(decide(three), { action: 'none', why: 'n3 is the first eligible node' });
});

test('no dead node: nothing to fence, the start goes on', (t) => {
  t.deepEqual(decide(ownerDead({ fence: facts(), local: svc({ nodes: ['n2', 'n1'] }), peers: { n1: peer('up', svc()) } })), { action: 'start', why: 'not running anywhere' });
});

test('a relocation here from a dead owner waits for its fence too', (t) => {
  const intent: Intent = { id: 'i1', svc: 'web', target: 'n2', by: 'n2', at: NOW - 1_000, done: false };
  t.deepEqual(decide(ownerDead({ fence: facts(), intents: { web: intent } })), { action: 'none', why: 'waiting for the fence of n1', blocked: 'fence', fence: ['n1'] });
  t.deepEqual(decide(ownerDead({ fence: facts({ fenced: true }), intents: { web: intent } })), { action: 'start', why: 'relocation target', intent: 'i1' });
});

test('the data gate: the takeover verdict for a failover, the relocation verdict for a relocation with no dead node', (t) => {
  const data = { takeover: { ok: false as const, why: 'copy too old' }, relocation: { ok: true as const } };
  t.deepEqual(decide(ownerDead({ fence: facts({ fenced: true }), data })), { action: 'none', why: 'copy too old', blocked: 'data' });
  const intent: Intent = { id: 'i1', svc: 'web', target: 'n2', by: 'n2', at: NOW - 1_000, done: false };
  const alive = { n1: peer('up', svc()) };
  t.deepEqual(decide(ownerDead({ peers: alive, intents: { web: intent }, data })), { action: 'start', why: 'relocation target', intent: 'i1' });
  const relocationBlocked = { takeover: { ok: true as const }, relocation: { ok: false as const, why: 'final delta pending' } };
  t.deepEqual(decide(ownerDead({ peers: alive, intents: { web: intent }, data: relocationBlocked })), { action: 'none', why: 'final delta pending', blocked: 'data' });
  // a relocation whose owner died meanwhile is a takeover for the gate
  t.deepEqual(decide(ownerDead({ fence: facts({ fenced: true }), intents: { web: intent }, data: relocationBlocked })), { action: 'start', why: 'relocation target', intent: 'i1' });
});

test('takeoverClear: several dead nodes, every wait joined, only the fenceable ones to fence', (t) => {
  const f: FenceFacts = { quorum: true, splitAction: 'stop', splitGrace: 10_000, quorateSince: 0, nodes: { n1: node(), n3: node({ fenceable: false, waitWhy: 'x' }), n4: node({ fenced: true }) } };
  const c = takeoverClear(['n1', 'n3', 'n4'], true, f, NOW);
  t.false(c.ok);
  if (!c.ok) {
    t.deepEqual(c.fence, ['n1']);
    t.regex(c.why, /^waiting for the fence of n1; n3 lost: giving it until \d\d:\d\d:\d\d UTC \(split_grace\)/);
  }
  t.deepEqual(takeoverClear([], true, f, NOW), { ok: true });
  t.deepEqual(takeoverClear(['n4'], true, f, NOW), { ok: true });
  // a node the fencing part does not know: not fenceable, dead from now
  t.false(takeoverClear(['n9'], true, f, NOW).ok);
});
