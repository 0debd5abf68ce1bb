// The pure rules of what the cluster views show (src/cluster/view.ts): placement, the quorum
// reason, the hb column of live members, when a node was last heard.
import test from 'ava';
import { agoText, lastSeenOf, placementOf, quorumReason, serviceHbStatus, type PlacementInstance } from '../../src/cluster/view.js';
import type { QuorumInfo } from '../../src/cluster/node-state.js';

const inst = (agent: PlacementInstance['agent'], runs: boolean, frozen = false): PlacementInstance => ({ agent, runs, frozen });

test('placement: running on the first eligible node is optimal', (t) => {
  t.like(placementOf(['n1', 'n2'], { n1: inst('self', true), n2: inst('up', false) }), { placement: 'optimal', best: 'n1', runningOn: ['n1'] });
});

test('placement: a returning first node that did not get its service back makes it non-optimal', (t) => {
  t.deepEqual(placementOf(['n1', 'n2'], { n1: inst('up', false), n2: inst('self', true) }), { placement: 'non-optimal', best: 'n1', runningOn: ['n2'] });
});

test('placement: a down, left, unknown or frozen first node is not a candidate', (t) => {
  for (const agent of ['down', 'left', 'unknown'] as const) {
    // its last word said it ran the service: stale, it neither runs nor is a candidate
    t.like(placementOf(['n1', 'n2'], { n1: inst(agent, true), n2: inst('self', true) }), { placement: 'optimal', best: 'n2', runningOn: ['n2'] }, agent);
  }
  t.like(placementOf(['n1', 'n2'], { n1: inst('up', false, true), n2: inst('self', true) }), { placement: 'optimal', best: 'n2' }, 'n1 frozen');
});

test('placement: nodes order decides, not names; nothing running is n/a', (t) => {
  t.like(placementOf(['n3', 'n1', 'n2'], { n1: inst('self', true), n2: inst('up', false), n3: inst('up', false) }), { placement: 'non-optimal', best: 'n3' });
  t.like(placementOf(['n1', 'n2'], { n1: inst('self', false), n2: inst('up', false) }), { placement: 'n/a', runningOn: [] });
  t.like(placementOf(['n1', 'n2'], { n1: inst('self', true, true), n2: inst('up', true, true) }), { placement: 'n/a', best: undefined }, 'every node frozen');
});

const quorum = (o: Partial<QuorumInfo>): QuorumInfo => ({ state: 'quorate', votes: 2, total: 3, needed: 2, why: '', ...o });

test('quorum reason: a won two-node tie names the fenced peer, never "1/2 (2 needed)"', (t) => {
  const won = quorum({ votes: 1, total: 2, needed: 2 });
  t.is(quorumReason(won, ['n1']), 'peer n1 fenced');
  t.is(quorumReason(won, []), 'tie won by fencing');
});

test('quorum reason: an arbitrator vote when the nodes heard are no majority alone', (t) => {
  const arb = quorum({ votes: 2, total: 3, needed: 2, arbitrators: { 'arbitrator#1': { granted: true } } });
  t.is(quorumReason(arb, []), 'arbitrator#1 vote');
  // both nodes up and the vote held too: the nodes are the majority
  t.is(quorumReason(quorum({ votes: 3, total: 3, needed: 2, arbitrators: { 'arbitrator#1': { granted: true } } }), []), '3/3 votes');
  t.is(quorumReason(quorum({ arbitrators: { 'arbitrator#1': { granted: false, error: 'held by n2' } } }), []), '2/3 votes');
});

test('quorum reason: a plain majority, and the count when not quorate', (t) => {
  t.is(quorumReason(quorum({}), []), '2/3 votes');
  t.is(quorumReason(quorum({ state: 'lost', votes: 1 }), []), '1/3 votes, 2 needed');
  t.is(quorumReason(quorum({ state: 'off' }), []), 'quorum disabled');
});

const hb = (txState: string, peers: Record<string, string>) => ({ txState, peers: Object.fromEntries(Object.entries(peers).map(([n, rxState]) => [n, { rxState }])) });

test('hb column: a dead peer is not a heartbeat problem; a live member not heard on one is', (t) => {
  const afterFailover = [hb('up', { n1: 'down' }), hb('up', { n1: 'down' })];
  t.is(serviceHbStatus(afterFailover, []), 'up', 'n1 is down: only live members count');
  t.is(serviceHbStatus(afterFailover, ['n1']), 'warn', 'were n1 live: sending, nothing heard from it');
  t.is(serviceHbStatus([hb('error', { n1: 'down' })], ['n1']), 'down', 'nothing works');
  t.is(serviceHbStatus([hb('up', { n1: 'up', n3: 'down' }), hb('up', { n1: 'down' })], ['n1']), 'warn', 'n1 heard on one of two');
  t.is(serviceHbStatus([hb('error', { n1: 'up' })], ['n1']), 'warn', 'a send failing');
  t.is(serviceHbStatus([hb('up', { n1: 'up', n3: 'down' })], ['n1']), 'up', 'n3 is not a member');
  t.is(serviceHbStatus([], ['n1']), 'n/a');
});

test('last seen: the latest of every heartbeat, never when none heard', (t) => {
  const hbs: { peers: Record<string, { lastSeen: number | null }> }[] = [{ peers: { n1: { lastSeen: 1_000 }, n2: { lastSeen: null } } }, { peers: { n1: { lastSeen: 3_000 } } }];
  t.is(lastSeenOf(hbs, 'n1'), 3_000);
  t.is(lastSeenOf(hbs, 'n2'), null);
  t.is(lastSeenOf(hbs, 'n9'), null);
  t.is(agoText(3_000, 15_400), '12.4 s ago');
  t.is(agoText(null, 15_400), 'never');
  t.is(agoText(0, 250_000), '250 s ago');
});
