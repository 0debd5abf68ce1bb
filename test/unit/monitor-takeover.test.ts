// takeoverCandidates() and gateMonitorAction(): a monitor action that gives the service up on
// this node (switch, crash, reboot) is held while no other node could take the service over.
// (The lab scenario is in cluster-monitor.test.ts.)
import test from 'ava';
import { takeoverCandidates, type PeerInfo, type TakeoverInput } from '../../src/cluster/takeover.js';
import type { FenceInfo, NodeState, QuorumInfo, ServiceState } from '../../src/cluster/node-state.js';
import { TAKEOVER_ACTIONS, gateMonitorAction } from '../../src/daemon/monitor.js';

const na = 'n/a' as const;
function svc(over: Partial<ServiceState> = {}): ServiceState {
  return {
    avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2', 'n3'], monitor: 'idle',
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
  };
}
interface PeerOpts {
  frozenNode?: boolean;
  quorum?: QuorumInfo['state'];
  fence?: Record<string, FenceInfo>;
  without?: boolean;
}
function peer(state: PeerInfo['state'], s: ServiceState = svc(), o: PeerOpts = {}): PeerInfo {
  const payload: NodeState = {
    v: 1, frozen: o.frozenNode ?? false, services: o.without ? {} : { web: s }, intents: {},
    ...(o.quorum ? { quorum: { state: o.quorum, votes: 1, total: 3, needed: 2, why: o.quorum } } : {}),
    ...(o.fence ? { fence: o.fence } : {}),
  };
  return { state, payload };
}
const input = (peers: Record<string, PeerInfo>, over: Partial<TakeoverInput> = {}): TakeoverInput => ({
  self: 'n1', svc: 'web', local: svc({ avail: 'warn' }), peers, fence: {}, ...over,
});

test('a live, unfrozen peer holding the service is a candidate', (t) => {
  t.deepEqual(takeoverCandidates(input({ n2: peer('up'), n3: peer('up') })), { ok: true, candidates: ['n2', 'n3'] });
});

test('the only peer frozen: no candidate, and the reason names it', (t) => {
  const r = takeoverCandidates(input({ n2: peer('up', svc(), { frozenNode: true }) }, { local: svc({ nodes: ['n1', 'n2'] }) }));
  t.deepEqual(r, { ok: false, why: 'no other node can take it over (n2 node frozen)' });
});

test('every way a peer is out of the running, each named', (t) => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9', 'n10'];
  const r = takeoverCandidates(input({
    n2: peer('down'),
    n3: peer('left'),
    n4: peer('unknown'),
    n5: peer('up', svc({ frozen: true })),
    n6: peer('up', svc({ monitor: 'start failed' })),
    n7: peer('up', svc(), { without: true }),
    n8: peer('up', svc(), { quorum: 'tie' }),
    n9: peer('up'),
    // n10 never heard at all
  }, { local: svc({ nodes }), fence: { n9: { state: 'fencing', at: 1 } } }));
  t.false(r.ok);
  t.is(!r.ok && r.why, 'no other node can take it over (n2 down, n3 daemon left, n4 not heard yet, n5 service frozen there, n6 start failed, ' +
    'n7 does not have the service, n8 no quorum there (tie), n9 being fenced, n10 not heard)');
});

test('one candidate among ineligible peers is enough', (t) => {
  const r = takeoverCandidates(input({ n2: peer('up', svc(), { frozenNode: true }), n3: peer('up', svc(), { quorum: 'quorate' }) }));
  t.deepEqual(r, { ok: true, candidates: ['n3'] });
});

test('a peer another node is fencing, or fenced, is not a candidate; a failed fence does not count', (t) => {
  const fencedByN3 = peer('up', svc(), { fence: { n2: { state: 'fenced', at: 1 } } });
  t.deepEqual(takeoverCandidates(input({ n2: peer('up'), n3: peer('up', svc(), { frozenNode: true, fence: { n2: { state: 'fenced', at: 1 } } }) })), {
    ok: false, why: 'no other node can take it over (n2 fenced, n3 node frozen)',
  });
  t.deepEqual(takeoverCandidates(input({ n2: peer('up'), n3: fencedByN3 })), { ok: true, candidates: ['n3'] });
  t.deepEqual(takeoverCandidates(input({ n2: peer('up') }, { local: svc({ nodes: ['n1', 'n2'] }), fence: { n2: { state: 'failed', at: 1 } } })), { ok: true, candidates: ['n2'] });
});

test('quorum off or quorate on the peer, or not published yet: not held against it', (t) => {
  for (const q of ['off', 'quorate', undefined] as const) {
    t.true(takeoverCandidates(input({ n2: peer('up', svc(), q ? { quorum: q } : {}) }, { local: svc({ nodes: ['n1', 'n2'] }) })).ok, String(q));
  }
  for (const q of ['waiting', 'tie', 'hold', 'lost'] as const) {
    t.false(takeoverCandidates(input({ n2: peer('up', svc(), { quorum: q }) }, { local: svc({ nodes: ['n1', 'n2'] }) })).ok, q);
  }
});

test('a service not orchestrated, or with no other node, has no takeover', (t) => {
  t.deepEqual(takeoverCandidates(input({ n2: peer('up') }, { local: svc({ orchestrate: 'no' }) })), { ok: false, why: 'orchestrate = no: no daemon starts it elsewhere' });
  t.false(takeoverCandidates(input({ n2: peer('up') }, { local: svc({ orchestrate: 'start' }) })).ok);
  t.deepEqual(takeoverCandidates(input({ n2: peer('up') }, { local: svc({ nodes: ['n1'] }) })), { ok: false, why: 'no other node in nodes (n1)' });
  // a peer outside the service's nodes does not count
  t.false(takeoverCandidates(input({ n9: peer('up') }, { local: svc({ nodes: ['n1', 'n2'] }) })).ok);
});

test('switch, crash and reboot are held without a candidate; freezestop and none are not', (t) => {
  const none = { ok: false as const, why: 'no other node can take it over (n2 node frozen)' };
  const some = { ok: true as const, candidates: ['n2'] };
  t.deepEqual([...TAKEOVER_ACTIONS].sort(), ['crash', 'reboot', 'switch']);
  for (const a of ['switch', 'crash', 'reboot']) {
    t.deepEqual(gateMonitorAction(a, none), { run: false, why: none.why }, a);
    t.deepEqual(gateMonitorAction(a, some), { run: true, candidates: ['n2'] }, a);
  }
  for (const a of ['freezestop', 'none']) t.deepEqual(gateMonitorAction(a, none), { run: true, candidates: [] }, a);
});
