// Multiple-active as a pure function: who counts (live, pulled peers only), two consecutive
// refreshes, what each node does with its own instance per multiple_active value, and the
// frozen and orchestrate = no cases (alarm only), and the back-off of a stop that did not end it.
import test from 'ava';
import { pino } from 'pino';
import type { NodeState, ServiceState } from '../../src/cluster/node-state.js';
import {
  activeNodes,
  CONFIRM_REFRESHES,
  multipleActive,
  STOP_BACKOFF_FIRST_MS,
  STOP_BACKOFF_MAX_MS,
  stopBackOffMs,
  type MultipleActiveInput,
  type MultipleActivePolicy,
  type MultipleActiveTrack,
  type MultipleActiveVerdict,
} from '../../src/cluster/multiple-active.js';
import { MultipleActiveWatch } from '../../src/daemon/multiple-active-watch.js';
import { EVENT } from '../../src/events.js';
import type { PeerInfo } from '../../src/cluster/takeover.js';
import { serviceState } from '../helpers/node-states.js';

const down = (over: Partial<ServiceState> = {}) => serviceState({ avail: 'down', overall: 'down', ...over });
const peer = (state: PeerInfo['state'], s: ServiceState | undefined, over: Partial<NodeState> = {}): PeerInfo => ({
  state,
  payload: { v: 1, frozen: false, services: s ? { web: s } : {}, intents: {}, ...over },
});

function input(self: string, local: ServiceState, peers: Record<string, PeerInfo>, policy: MultipleActivePolicy = 'stop_start', nodeFrozen = false): MultipleActiveInput {
  return { self, svc: 'web', local, nodeFrozen, peers, policy, now: 0 };
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

// ---------------------------------------------------------------- a stop that did not end it

const warn = (over: Partial<ServiceState> = {}) => serviceState({ avail: 'warn', ...over });

/**
 * n2 (or `self`) refreshing once a second; its instance stays `warn` whatever it does (the
 * idle bench's case: the stop succeeds, the check still says warn). A stop ordered at one
 * refresh is seen under way (`stopping`) at the next, as the daemon's action leaves it.
 */
function simulate(make: (local: ServiceState, now: number) => MultipleActiveInput, seconds: number, onVerdict?: (v: MultipleActiveVerdict, now: number) => void) {
  let track: MultipleActiveTrack | undefined;
  let stopping = false;
  const stops: number[] = [];
  for (let now = 0; now <= seconds * 1000; now += 1000) {
    const v = multipleActive(make(warn(stopping ? { monitor: 'stopping' } : {}), now), track);
    track = v.track;
    onVerdict?.(v, now);
    stopping = v.action === 'stop';
    if (stopping) stops.push(now);
  }
  return stops;
}

test('back-off: a stop that did not end it is not repeated at every refresh; the delay doubles from the end of the last stop, capped', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(stopBackOffMs), [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  t.is(STOP_BACKOFF_FIRST_MS, 2000);
  t.is(STOP_BACKOFF_MAX_MS, 60000);
  const whys: string[] = [];
  const stops = simulate(
    (local, now) => ({ ...input('n2', local, { n1: peer('up', serviceState()) }), now }),
    400,
    (v) => {
      if (whys.at(-1) !== `${v.action}|${v.why}`) whys.push(`${v.action}|${v.why}`);
    },
  );
  // the first stop at confirmation, as before
  t.is(stops[0], (CONFIRM_REFRESHES - 1) * 1000);
  // each next one the back-off after the refresh that last saw the stop under way (1 s after it)
  const gaps = stops.slice(1).map((s, i) => s - stops[i]! - 1000);
  t.deepEqual(gaps, gaps.map((_, i) => stopBackOffMs(i + 1)));
  t.true(stops.length >= 8 && stops.length < 15, `${stops.length} stops in 400 s, not 400`);
  // between two stops one reason (the watch logs a line when it changes): the order, then the wait
  t.is(whys.length, 1 + 2 * stops.length);
  t.regex(whys[2]!, /^none\|multiple_active = stop_start: n1 keeps it; stopped here 1 time, still active: next stop 2 s after the last one ended$/);
  t.regex(whys.at(-1)!, /stopped here \d+ times, still active: next stop 60 s after/);
});

test('back-off: the verdict says how many stops and when the next; refreshes 1 s apart after the stop order none', (t) => {
  const i = (local: ServiceState, now: number) => ({ ...input('n2', local, { n1: peer('up', serviceState()) }), now });
  const seen = multipleActive(i(warn(), 0), undefined);
  const first = multipleActive(i(warn(), 1000), seen.track);
  t.like(first, { action: 'stop', stops: 1, keep: 'n1' });
  t.is(first.nextStopInMs, undefined);
  // the stop done, the instance still warn: 1 s later, nothing; 2 s after the stop, the next one
  const after = multipleActive(i(warn(), 2000), first.track);
  t.like(after, { action: 'none', confirmed: true, stops: 1, nextStopInMs: 1000, keep: 'n1' });
  t.like(multipleActive(i(warn(), 2500), after.track), { action: 'none', nextStopInMs: 500 });
  const second = multipleActive(i(warn(), 3000), after.track);
  t.like(second, { action: 'stop', stops: 2 });
  t.like(multipleActive(i(warn(), 6999), second.track), { action: 'none', stops: 2, nextStopInMs: 1 });
  t.like(multipleActive(i(warn(), 7000), second.track), { action: 'stop', stops: 3 });
  // a clock that went back does not hold the stop off for longer than the delay
  t.like(multipleActive(i(warn(), 0), second.track), { action: 'stop', stops: 3 });
});

test('back-off: a changed set of active nodes, or the end of the multiple-active, starts over: the first stop at confirmation again', (t) => {
  const two = (local: ServiceState, now: number) => ({ ...input('n2', local, { n1: peer('up', serviceState()), n3: peer('up', down()) }), now });
  const three = (local: ServiceState, now: number) => ({ ...input('n2', local, { n1: peer('up', serviceState()), n3: peer('up', serviceState()) }), now });
  let v = multipleActive(two(warn(), 0), undefined);
  v = multipleActive(two(warn(), 1000), v.track);
  t.like(v, { action: 'stop', stops: 1 });
  v = multipleActive(two(warn(), 2000), v.track);
  t.like(v, { action: 'none', stops: 1 });
  // n3 starts it too: a new set, confirmed anew, stopped at once at confirmation
  v = multipleActive(three(warn(), 2100), v.track);
  t.like(v, { action: 'none', confirmed: false });
  t.is(v.stops, undefined);
  v = multipleActive(three(warn(), 2200), v.track);
  t.like(v, { action: 'stop', confirmed: true, stops: 1 });
  v = multipleActive(three(warn(), 3000), v.track);
  t.like(v, { action: 'none', stops: 1 });
  // n1 and n3 stop it: active here only, nothing remembered; back on two nodes later: as the first time
  v = multipleActive({ ...input('n2', warn(), { n1: peer('up', down()), n3: peer('up', down()) }), now: 3100 }, v.track);
  t.is(v.track, undefined);
  v = multipleActive(two(warn(), 3200), v.track);
  v = multipleActive(two(warn(), 3300), v.track);
  t.like(v, { action: 'stop', stops: 1 });
});

test('back-off under stop_only: stopped everywhere at confirmation as before, repeated only after the delay; a peer\'s stop naming this node is still followed on the first refresh', (t) => {
  const stops = simulate((local, now) => ({ ...input('n1', local, { n2: peer('up', warn()) }, 'stop_only'), now }), 30);
  t.deepEqual(stops, [1000, 4000, 9000, 18000]);
  const v = multipleActive({ ...input('n2', serviceState(), { n1: peer('up', down({ expect: { state: 'down', at: 100, multipleActive: ['n1', 'n2'] } })) }, 'stop_only'), now: 5 }, undefined);
  t.like(v, { action: 'stop', confirmed: true, stops: 1 });
  // block, frozen, orchestrate = no: still never a stop
  for (const i of [
    input('n2', warn(), { n1: peer('up', serviceState()) }, 'block'),
    input('n2', warn(), { n1: peer('up', serviceState()) }, 'stop_start', true),
    input('n2', warn({ orchestrate: 'no' }), { n1: peer('up', serviceState()) }),
  ]) {
    t.deepEqual(simulate((local, now) => ({ ...i, local: { ...local, orchestrate: i.local.orchestrate }, now }), 30), []);
  }
});

test('the watch: one service.multiple-active line per stop and one per wait after it, with stops and nextStopInMs; not one per refresh', (t) => {
  const lines: Record<string, unknown>[] = [];
  const watch = new MultipleActiveWatch(pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }));
  const stops = simulate((local, now) => ({ ...input('n2', local, { n1: peer('up', serviceState()) }), now }), 120);
  let stopping = false;
  for (let now = 0; now <= 120_000; now += 1000) {
    const v = watch.refresh({ ...input('n2', warn(stopping ? { monitor: 'stopping' } : {}), { n1: peer('up', serviceState()) }), now });
    stopping = v.action === 'stop';
  }
  const ma = lines.filter((l) => l.event === EVENT.multipleActive);
  t.is(ma.length, 1 + 2 * stops.length, `${ma.length} lines in 121 refreshes`);
  t.like(ma[1], { action: 'stop', stops: 1 });
  t.like(ma[2], { action: 'none', stops: 1, nextStopInMs: 2000 });
  t.like(ma[4], { action: 'none', stops: 2, nextStopInMs: 4000 });
});
