// Multiple-active as a pure function: who counts (live, pulled peers only), two consecutive
// refreshes, what each node does with its own instance per multiple_active value, and the
// frozen and orchestrate = no cases (alarm only).
import test from 'ava';
import type { NodeState, ServiceState } from '../../src/cluster/node-state.js';
import { activeNodes, CONFIRM_REFRESHES, multipleActive, type MultipleActiveInput, type MultipleActivePolicy, type MultipleActiveTrack } from '../../src/cluster/multiple-active.js';
import type { PeerInfo } from '../../src/cluster/takeover.js';
import { serviceState } from '../helpers/node-states.js';

const down = (over: Partial<ServiceState> = {}) => serviceState({ avail: 'down', overall: 'down', ...over });
const peer = (state: PeerInfo['state'], s: ServiceState | undefined, over: Partial<NodeState> = {}): PeerInfo => ({
  state,
  payload: { v: 1, frozen: false, services: s ? { web: s } : {}, intents: {}, ...over },
});

function input(self: string, local: ServiceState, peers: Record<string, PeerInfo>, policy: MultipleActivePolicy = 'stop_start', nodeFrozen = false): MultipleActiveInput {
  return { self, svc: 'web', local, nodeFrozen, peers, policy };
}

/** n refreshes with the same view; the last verdict */
function refreshes(i: MultipleActiveInput, n: number) {
  let track: MultipleActiveTrack | undefined;
  let v = multipleActive(i, track);
  for (let k = 1; k < n; k++) {
    track = v.track;
    v = multipleActive(i, track);
  }
  return v;
}

test('stale, down, left, unknown and not-pulled peers never count; stdby up and n/a are not active', (t) => {
  const up = serviceState();
  for (const state of ['down', 'left', 'unknown'] as const) {
    const v = refreshes(input('n1', up, { n2: peer(state, serviceState()) }), 5);
    t.deepEqual(v.active, ['n1'], state);
    t.is(v.action, 'none');
    t.is(v.track, undefined);
  }
  // up, but its services not pulled for its current generation: its word is not current
  t.deepEqual(activeNodes(input('n1', up, { n2: peer('up', serviceState(), { complete: false }) })), ['n1']);
  t.deepEqual(activeNodes(input('n1', up, { n2: peer('up', serviceState({ avail: 'stdby up' })) })), ['n1']);
  t.deepEqual(activeNodes(input('n1', up, { n2: peer('up', serviceState({ avail: 'n/a', expect: { state: 'up', at: 1 } })) })), ['n1']);
  // warn, starting and stopping hold resources: active
  t.deepEqual(activeNodes(input('n1', up, { n2: peer('up', serviceState({ avail: 'warn' })), n3: peer('up', down({ monitor: 'stopping' })) })), ['n1', 'n2', 'n3']);
});

test('one refresh is not enough: confirmed on the second with the same nodes; a changed set starts over', (t) => {
  t.is(CONFIRM_REFRESHES, 2);
  const i = input('n2', serviceState(), { n1: peer('up', serviceState()) });
  const first = multipleActive(i, undefined);
  t.deepEqual(first.active, ['n1', 'n2']);
  t.false(first.confirmed);
  t.is(first.action, 'none');
  t.regex(first.why, /seen on 1 refresh, 2 needed/);
  const second = multipleActive(i, first.track);
  t.true(second.confirmed);
  t.is(second.action, 'stop');
  t.is(second.keep, 'n1');
  // another node joins the set: counted again from 1
  const i3 = input('n2', serviceState(), { n1: peer('up', serviceState()), n3: peer('up', serviceState()) });
  t.false(multipleActive(i3, second.track).confirmed);
  // gone in between: nothing remembered
  const gone = multipleActive(input('n2', serviceState(), { n1: peer('up', down()) }), first.track);
  t.is(gone.track, undefined);
  t.false(multipleActive(i, gone.track).confirmed);
});

test('stop_start: the first node of `nodes` that runs it keeps it, every other stops its own instance', (t) => {
  const nodes = ['n1', 'n2', 'n3'];
  const on = (n: string) => serviceState({ nodes });
  // n1 not running it: n2 keeps it, n3 stops
  const peersOf = (self: string): Record<string, PeerInfo> =>
    Object.fromEntries(nodes.filter((n) => n !== self).map((n) => [n, peer('up', n === 'n1' ? down({ nodes }) : on(n))]));
  const n2 = refreshes(input('n2', on('n2'), peersOf('n2')), 2);
  const n3 = refreshes(input('n3', on('n3'), peersOf('n3')), 2);
  t.like(n2, { action: 'none', keep: 'n2', confirmed: true });
  t.like(n3, { action: 'stop', keep: 'n2', confirmed: true });
  t.deepEqual(n3.active, ['n2', 'n3']);
  // a node in a failed state is not the one to keep it
  const failed = refreshes(input('n3', on('n3'), { n1: peer('up', down({ nodes })), n2: peer('up', serviceState({ nodes, monitor: 'stop failed' })) }), 2);
  t.like(failed, { action: 'none', keep: 'n3' });
  // this node's own action under way: it owns the state, nothing is decided on it
  const busy = refreshes(input('n3', serviceState({ nodes, monitor: 'stopping' }), peersOf('n3')), 3);
  t.is(busy.action, 'none');
});

test('stop_only stops it everywhere; block only raises the alarm', (t) => {
  for (const self of ['n1', 'n2']) {
    const other = self === 'n1' ? 'n2' : 'n1';
    t.like(refreshes(input(self, serviceState(), { [other]: peer('up', serviceState()) }, 'stop_only'), 2), { action: 'stop', confirmed: true }, self);
    const b = refreshes(input(self, serviceState(), { [other]: peer('up', serviceState()) }, 'block'), 5);
    t.like(b, { action: 'none', confirmed: true }, self);
    t.regex(b.why, /block: alarm only/);
  }
});

test('stop_only: a peer that stopped first, naming this node, stops it here on the first refresh; a later start here, another node named, or a frozen node does not', (t) => {
  const stoppedBy = (at: number, nodes = ['n1', 'n2']) => peer('up', down({ expect: { state: 'down', at, multipleActive: nodes } }));
  // n1 confirmed and stopped before n2 counted a second refresh: n2 now sees only itself
  const v = multipleActive(input('n2', serviceState(), { n1: stoppedBy(100) }, 'stop_only'), undefined);
  t.like(v, { action: 'stop', confirmed: true });
  t.regex(v.why, /n1 stopped it as multiple-active with this node, stopping it here too/);
  // the same seen by n2 while n1 is still stopping: active on both, stop on the first refresh
  t.like(multipleActive(input('n2', serviceState(), { n1: peer('up', down({ monitor: 'stopping', expect: { state: 'down', at: 100, multipleActive: ['n1', 'n2'] } })) }, 'stop_only'), undefined), { action: 'stop', confirmed: true });
  // an operator started it here after that stop: the operator's word stands
  t.like(multipleActive(input('n2', serviceState({ expect: { state: 'up', at: 200 } }), { n1: stoppedBy(100) }, 'stop_only'), undefined), { action: 'none', track: undefined });
  // the peer's stop did not name this node (n2 was not up then)
  t.like(multipleActive(input('n2', serviceState(), { n1: stoppedBy(100, ['n1', 'n3']) }, 'stop_only'), undefined), { action: 'none' });
  // a plain operator stop on n1 (no multipleActive): nothing to do here
  t.like(multipleActive(input('n2', serviceState(), { n1: peer('up', down({ expect: { state: 'down', at: 100 } })) }, 'stop_only'), undefined), { action: 'none' });
  // only under stop_only, only from a live peer, never on a frozen node
  t.like(multipleActive(input('n2', serviceState(), { n1: stoppedBy(100) }, 'stop_start'), undefined), { action: 'none' });
  t.like(multipleActive(input('n2', serviceState(), { n1: { ...stoppedBy(100), state: 'down' } }, 'stop_only'), undefined), { action: 'none' });
  t.like(multipleActive(input('n2', serviceState(), { n1: stoppedBy(100) }, 'stop_only', true), undefined), { action: 'none', confirmed: true });
});

test('frozen anywhere it runs (node or service, here or on a peer): alarm only, nothing stopped anywhere until thawed', (t) => {
  for (const policy of ['stop_start', 'stop_only'] as const) {
    // the standby's node is frozen (an operator started the service there by hand)
    const fromN1 = refreshes(input('n1', serviceState(), { n2: peer('up', serviceState(), { frozen: true }) }, policy), 3);
    const fromN2 = refreshes(input('n2', serviceState(), { n1: peer('up', serviceState()) }, policy, true), 3);
    for (const v of [fromN1, fromN2]) {
      t.like(v, { action: 'none', confirmed: true }, policy);
      t.regex(v.why, /frozen on n2: alarm only until thawed/);
    }
    // the service frozen on n1
    t.regex(refreshes(input('n2', serviceState(), { n1: peer('up', serviceState({ frozen: true })) }, policy), 3).why, /frozen on n1/);
    // thawed: the count went on meanwhile, the next refresh acts
    const thawed = multipleActive(input('n2', serviceState(), { n1: peer('up', serviceState()) }, policy), fromN2.track);
    t.is(thawed.action, 'stop', policy);
  }
  // a frozen node that does not run it is no reason to wait
  const v = refreshes(input('n2', serviceState(), { n1: peer('up', serviceState()), n3: peer('up', down(), { frozen: true }) }), 2);
  t.is(v.action, 'stop');
});

test('orchestrate = no: alarm only', (t) => {
  const v = refreshes(input('n2', serviceState({ orchestrate: 'no' }), { n1: peer('up', serviceState({ orchestrate: 'no' })) }), 3);
  t.like(v, { action: 'none', confirmed: true });
  t.regex(v.why, /orchestrate = no/);
});
