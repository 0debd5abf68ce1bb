// The peers whose sums sync#i0 reads (src/daemon/config-sum-peers.ts): a peer up but behind
// its beats keeps the configs of its last complete state; a peer down, left or never complete
// does not count; the live ones count as they are.
import test from 'ava';
import type { NodeState } from '../../src/cluster/node-state.js';
import type { PeerView } from '../../src/heartbeat/index.js';
import { sumPeers, type LastConfigs } from '../../src/daemon/config-sum-peers.js';

const digest = (sum: string) => ({ updated: 1, sum, hist: [], nodes: ['n1', 'n2', 'n3'] });
const state = (sum: string, complete?: boolean): NodeState => ({ v: 1, frozen: false, services: {}, intents: {}, configs: { web: digest(sum) }, ...(complete === undefined ? {} : { complete }) }) as NodeState;
const view = (s: PeerView['state'], payload: unknown): PeerView => ({ state: s, since: 0, payload });
const sums = (peers: [string, NodeState][]) => Object.fromEntries(peers.map(([n, p]) => [n, p.configs?.web?.sum]));

test('a peer behind its beats keeps its last complete sums; down or never complete: not counted', (t) => {
  const last: LastConfigs = new Map();
  const live: [string, NodeState][] = [['n2', state('a')], ['n3', state('b')]];
  t.deepEqual(sums(sumPeers(live, { n2: view('up', live[0]![1]), n3: view('up', live[1]![1]) }, last)), { n2: 'a', n3: 'b' });
  // n2 is behind (a pull in flight, its new configs not known yet): its old sum stays
  const behind = { ...state('x', false), configs: undefined };
  t.deepEqual(sums(sumPeers([live[1]!], { n2: view('up', behind), n3: view('up', live[1]![1]) }, last)), { n3: 'b', n2: 'a' });
  // in sync again with a new sum: that one
  t.deepEqual(sums(sumPeers([['n2', state('c')], live[1]!], {}, last)), { n2: 'c', n3: 'b' });
  // n2 down: gone, and forgotten (back behind later: not counted until complete)
  t.deepEqual(sums(sumPeers([live[1]!], { n2: view('down', behind), n3: view('up', live[1]![1]) }, last)), { n3: 'b' });
  t.deepEqual(sums(sumPeers([live[1]!], { n2: view('up', behind), n3: view('up', live[1]![1]) }, last)), { n3: 'b' });
});

test('a peer never seen complete is not counted while behind', (t) => {
  const last: LastConfigs = new Map();
  t.deepEqual(sumPeers([], { n2: view('up', state('a', false)) }, last), []);
  t.is(last.size, 0);
});
