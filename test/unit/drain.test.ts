// The pure part of `nodemgr drain` (src/cluster/drain.ts): which services move, where, and how
// each move stands.
import test from 'ava';
import { drainComplete, drainPlan, moveOutcome, type DrainReport, type OutcomeInput } from '../../src/cluster/drain.js';
import type { NodeState, ServiceState } from '../../src/cluster/node-state.js';
import type { PeerInfo } from '../../src/cluster/takeover.js';
import { serviceState } from '../helpers/node-states.js';

const peer = (services: Record<string, ServiceState>, over: Partial<NodeState> = {}, state: PeerInfo['state'] = 'up'): PeerInfo => ({ state, payload: { v: 1, frozen: false, services, intents: {}, ...over } });
const down = serviceState({ avail: 'down', overall: 'down' });

test('plan: each ha service running here goes to its first candidate in nodes order; others are not part of it', (t) => {
  const services = {
    web: serviceState({ nodes: ['n1', 'n3', 'n2'] }),
    db: serviceState({ nodes: ['n1', 'n2', 'n3'] }),
    idle: serviceState({ avail: 'down', overall: 'down' }),
    manual: serviceState({ orchestrate: 'no' }),
    starting: serviceState({ avail: 'down', monitor: 'starting' }),
  };
  const peers = { n2: peer({ web: down, db: down, starting: down }), n3: peer({ web: down, db: down, starting: down }) };
  t.deepEqual(drainPlan({ self: 'n1', services, peers, fence: {} }), [
    { svc: 'db', to: 'n2' },
    { svc: 'starting', to: 'n2' },
    { svc: 'web', to: 'n3' },
  ]);
});

test('plan: a candidate not usable is skipped; none left: not movable, with every reason', (t) => {
  const services = { web: serviceState({ nodes: ['n1', 'n2', 'n3'] }) };
  // n2 frozen: n3 takes it
  t.deepEqual(drainPlan({ self: 'n1', services, peers: { n2: peer({ web: down }, { frozen: true }), n3: peer({ web: down }) }, fence: {} }), [{ svc: 'web', to: 'n3' }]);
  // n2 frozen, n3 down
  t.deepEqual(drainPlan({ self: 'n1', services, peers: { n2: peer({ web: down }, { frozen: true }), n3: peer({ web: down }, {}, 'down') }, fence: {} }), [
    { svc: 'web', why: 'no other node can take it over (n2 node frozen, n3 down)' },
  ]);
  // the service failed on n2, frozen on n3
  t.deepEqual(drainPlan({ self: 'n1', services, peers: { n2: peer({ web: serviceState({ avail: 'down', monitor: 'start failed' }) }), n3: peer({ web: serviceState({ avail: 'down', frozen: true }) }) }, fence: {} }), [
    { svc: 'web', why: 'no other node can take it over (n2 start failed, n3 service frozen there)' },
  ]);
  // being fenced, no quorum there
  t.deepEqual(drainPlan({ self: 'n1', services, peers: { n2: peer({ web: down }), n3: peer({ web: down }, { quorum: { state: 'lost', votes: 1, total: 3, needed: 2, why: 'x' } }) }, fence: { n2: { state: 'fencing', at: 1 } } }), [
    { svc: 'web', why: 'no other node can take it over (n2 being fenced, n3 no quorum there (lost))' },
  ]);
  // alone in nodes
  t.deepEqual(drainPlan({ self: 'n1', services: { solo: serviceState({ nodes: ['n1'] }) }, peers: {}, fence: {} }), [{ svc: 'solo', why: 'no other node in nodes (n1)' }]);
});

function input(over: Partial<OutcomeInput> = {}): OutcomeInput {
  return {
    self: 'n1', svc: 'web', to: 'n2', intent: { id: 'i1', at: 1_000 }, local: serviceState({ avail: 'down', overall: 'down' }),
    peers: { n2: peer({ web: serviceState({ updated: 2_000 }) }) }, intents: { web: { id: 'i1', svc: 'web', target: 'n2', by: 'n1', at: 1_000, done: true } },
    now: 3_000, deadline: 100_000, ...over,
  };
}

test('outcome: moved once the target reports it up and idle after the request, and it no longer runs here', (t) => {
  t.deepEqual(moveOutcome(input()), { state: 'moved' });
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: serviceState({ avail: 'warn', updated: 2_000 }) }) } })), { state: 'moved' });
  // a state from before the request, still starting there, or still running here: moving
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: serviceState({ updated: 500 }) }) } })), { state: 'moving' });
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: serviceState({ avail: 'down', monitor: 'starting', updated: 2_000 }) }) } })), { state: 'moving' });
  t.deepEqual(moveOutcome(input({ local: serviceState({ monitor: 'stopping' }) })), { state: 'moving' });
});

test('outcome: failed on a failed start there, a failed stop here, the target lost, a newer relocation, the deadline', (t) => {
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: serviceState({ avail: 'down', monitor: 'start failed', error: 'ip#1 conflict', updated: 2_000 }) }) } })), { state: 'failed', why: 'start on n2 failed: ip#1 conflict' });
  t.deepEqual(moveOutcome(input({ local: serviceState({ monitor: 'stop failed', error: 'fs#1 busy' }), peers: { n2: peer({ web: down }) } })), { state: 'failed', why: 'stop on n1 failed: fs#1 busy; not started on n2' });
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: down }, {}, 'down') } })), { state: 'failed', why: 'n2 went down during the move' });
  t.deepEqual(moveOutcome(input({ peers: {} })), { state: 'failed', why: 'n2 went away during the move' });
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: down }) }, intents: { web: { id: 'i2', svc: 'web', target: 'n3', by: 'n3', at: 2_000, done: false } } })), { state: 'failed', why: 'superseded by another relocation to n3' });
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: down }) }, now: 61_000, deadline: 61_000 })), { state: 'failed', why: 'not running on n2 after 60 s' });
  // a start failure from before the request does not count
  t.deepEqual(moveOutcome(input({ peers: { n2: peer({ web: serviceState({ avail: 'down', monitor: 'start failed', updated: 500 }) }) } })), { state: 'moving' });
});

test('complete: done and every service moved (an empty drain is complete)', (t) => {
  const r = (done: boolean, states: DrainReport['services'][number]['state'][]): DrainReport => ({ id: 'x', node: 'n1', started: 0, timeoutMs: 1, done, services: states.map((state, i) => ({ svc: `s${i}`, state })) });
  t.true(drainComplete(r(true, [])));
  t.true(drainComplete(r(true, ['moved', 'moved'])));
  t.false(drainComplete(r(false, ['moved', 'moving'])));
  t.false(drainComplete(r(true, ['moved', 'unmovable'])));
  t.false(drainComplete(r(true, ['failed'])));
});
