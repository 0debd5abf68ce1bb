// decide(): a live (or departed) peer whose services are not known for its current state
// generation is never read as "not running": no start, no takeover, until its state is
// pulled. Down peers do not hold anything up (the fencing gate handles those).
import test from 'ava';
import { clusterFormed, decide, unsynced, type DecisionInput, type PeerInfo } from '../../src/cluster/orchestrator.js';
import type { Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';

const na = 'n/a' as const;
function svc(over: Partial<ServiceState> = {}): ServiceState {
  return {
    avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2'], monitor: 'idle',
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
  };
}
const state = (services: Record<string, ServiceState>, complete?: boolean): NodeState => ({ v: 1, frozen: false, services, intents: {}, ...(complete === undefined ? {} : { complete }) });
const peer = (s: PeerInfo['state'], payload: NodeState | undefined): PeerInfo => ({ state: s, payload });
const input = (peers: Record<string, PeerInfo>, intents: Record<string, Intent> = {}): DecisionInput => ({
  self: 'n2', svc: 'web', local: svc(), nodeFrozen: false, peers, intents, now: 1_000_000, bootPhase: false, quorum: { ok: true, why: 'quorum' },
});
const waiting = { action: 'none', why: 'waiting for the state of n1' };

test('a live peer with no state yet: not started here (main started it: "not running anywhere")', (t) => {
  t.deepEqual(decide(input({ n1: peer('up', undefined) })), waiting);
});

test('a live peer whose services were never pulled: not started here', (t) => {
  t.deepEqual(decide(input({ n1: peer('up', state({}, false)) })), waiting);
});

test('a live peer behind its beats (e.g. reached only by the disk heartbeat): its stale "down" is not trusted', (t) => {
  t.deepEqual(decide(input({ n1: peer('up', state({ web: svc({ monitor: 'start failed' }) }, false)) })), waiting);
});

test('once pulled, the ordinary rules decide', (t) => {
  t.deepEqual(decide(input({ n1: peer('up', state({ web: svc() }, true)) })), { action: 'none', why: 'n1 is the first eligible node' });
  t.is(decide(input({ n1: peer('up', state({ web: svc({ monitor: 'start failed' }) }, true)) })).action, 'start');
  // a state without the flag came whole in the beat (a peer of an earlier version)
  t.is(decide(input({ n1: peer('up', state({ web: svc({ monitor: 'start failed' }) })) })).action, 'start');
});

test('a departed peer behind its beats holds starts up too; a dead one does not', (t) => {
  t.deepEqual(decide(input({ n1: peer('left', state({ web: svc() }, false)) })), waiting);
  t.is(decide(input({ n1: peer('down', state({ web: svc({ avail: 'up' }) }, false)) })).action, 'start');
});

test('a relocation here waits for the state of the other nodes too', (t) => {
  const intent: Intent = { id: 'i1', svc: 'web', target: 'n2', by: 'n2', at: 999_000, done: false };
  t.deepEqual(decide(input({ n1: peer('up', state({ web: svc() }, false)) }, { web: intent })), waiting);
  t.is(decide(input({ n1: peer('up', state({ web: svc() }, true)) }, { web: intent })).action, 'start');
});

test('unsynced(): peers that might run the service only', (t) => {
  const peers = {
    n1: peer('up', state({}, false)),
    n3: peer('up', state({}, false)),
    n4: peer('up', state({ web: svc() }, false)),
    n5: peer('down', undefined),
    n6: peer('up', state({}, true)),
  };
  t.deepEqual(unsynced({ peers, svc: 'web' }, ['n1', 'n2']), ['n1', 'n4'], 'n3: not in nodes and never had it; n5 dead; n6 in sync');
});

test('clusterFormed(): every peer known, and the state of the live ones pulled (ends the boot phase of orchestrate = start)', (t) => {
  t.true(clusterFormed({ n1: peer('up', state({ web: svc() }, true)), n3: peer('down', undefined) }));
  t.false(clusterFormed({ n1: peer('unknown', undefined) }));
  t.false(clusterFormed({ n1: peer('up', state({}, false)) }), 'up but its state not pulled yet');
  t.false(clusterFormed({ n1: peer('up', undefined) }));
  t.false(clusterFormed({ n1: peer('left', state({}, false)) }));
  // orchestrate = start still acts once the state is in
  const boot = { ...input({ n1: peer('up', state({ web: svc({ orchestrate: 'start' }), }, true)) }), local: svc({ orchestrate: 'start', nodes: ['n2', 'n1'] }), bootPhase: true };
  t.is(decide(boot).action, 'start');
});
