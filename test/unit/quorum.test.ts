// quorumOf(): the vote arithmetic and the two-node tie rules (src/cluster/quorum.ts).
import test from 'ava';
import { majority, quorumOf, type QuorumInput } from '../../src/cluster/quorum.js';

const q = (o: Partial<QuorumInput>): ReturnType<typeof quorumOf> =>
  quorumOf({ enabled: true, self: 'n1', nodes: ['n1', 'n2', 'n3'], up: [], unknown: [], arbitrators: 0, granted: 0, peerFenceable: false, peerFenced: false, ...o });

test('majority of the votes', (t) => {
  t.deepEqual([1, 2, 3, 4, 5].map(majority), [1, 2, 2, 3, 3]);
});

test('three nodes: two of them are a majority, one alone is not', (t) => {
  const two = q({ up: ['n2'] });
  t.like(two, { state: 'quorate', votes: 2, total: 3, needed: 2, canTakeOver: true, mustSplit: false });
  const alone = q({});
  t.like(alone, { state: 'lost', votes: 1, canTakeOver: false, mustSplit: true });
  t.is(alone.why, 'no quorum (1/3 votes, 2 needed)');
});

test('peers not heard since start: nothing decided, nothing split', (t) => {
  t.like(q({ unknown: ['n2', 'n3'] }), { state: 'waiting', canTakeOver: false, mustSplit: false });
  // a majority already heard decides even if one peer is unknown
  t.like(q({ up: ['n2'], unknown: ['n3'] }), { state: 'quorate' });
});

test('a peer outside nodes does not vote', (t) => {
  t.like(q({ up: ['x9'] }), { state: 'lost', votes: 1 });
});

test('arbitrator votes: granted to this partition only', (t) => {
  const two = { nodes: ['n1', 'n2'], arbitrators: 1 };
  t.like(q({ ...two, granted: 1 }), { state: 'quorate', votes: 2, total: 3, needed: 2, why: "quorum with an arbitrator's vote (2/3 votes, 2 needed)" });
  t.like(q({ ...two, granted: 0 }), { state: 'lost', votes: 1 });
  t.like(q({ ...two, up: ['n2'] }), { state: 'quorate', votes: 2, why: 'quorum (2/3 votes, 2 needed)' }, 'both nodes: no arbitrator needed');
  t.like(q({ ...two, up: ['n2'], granted: 1 }), { why: 'quorum (3/3 votes, 2 needed)' }, 'the nodes alone are a majority: the arbitrator is not the reason');
  // 3 nodes + 1 arbitrator: 4 votes, 3 needed
  t.like(q({ arbitrators: 1, up: ['n2'] }), { state: 'lost', votes: 2, needed: 3 });
  t.like(q({ arbitrators: 1, up: ['n2'], granted: 1 }), { state: 'quorate', votes: 3 });
});

test('two nodes, no arbitrator: a tie broken only by fencing a fenceable peer', (t) => {
  const two = { nodes: ['n1', 'n2'] };
  t.like(q({ ...two }), { state: 'lost', mustSplit: true }, 'peer not fenceable: a plain loss');
  t.like(q({ ...two, peerFenceable: true }), { state: 'tie', canTakeOver: false, mustSplit: false });
  t.like(q({ ...two, peerFenceable: true, peerFenced: true }), { state: 'quorate', canTakeOver: true, why: 'tie won: peer n2 fenced' });
  // with an arbitrator the tie does not exist: the arbitrator decides
  t.like(q({ ...two, arbitrators: 1, peerFenceable: true }), { state: 'lost' });
});

test('quorum = false: always acts, never splits', (t) => {
  t.like(q({ enabled: false }), { state: 'off', canTakeOver: true, mustSplit: false });
});

test('two nodes, tie: a peer whose daemon left is held (no fence, no split), a peer never heard is waited for', (t) => {
  const two = { nodes: ['n1', 'n2'], peerFenceable: true };
  t.like(q({ ...two, peerLeft: true, peerSeen: true }), { state: 'hold', canTakeOver: false, mustSplit: false });
  t.like(q({ ...two, peerSeen: false }), { state: 'waiting', canTakeOver: false, mustSplit: false });
  t.like(q({ ...two, peerSeen: true }), { state: 'tie' });
});

test('awaiting the first answer of arbitrators that could make the majority: nothing decided, nothing split', (t) => {
  const two = { nodes: ['n1', 'n2'], arbitrators: 1 };
  t.like(q({ ...two, pending: 1 }), { state: 'waiting', canTakeOver: false, mustSplit: false, asking: 1, why: 'asking the arbitrator for a vote (1/3 votes, 2 needed)' });
  // the answer came: granted or not, the wait is over
  t.like(q({ ...two, pending: 0, granted: 1 }), { state: 'quorate', asking: undefined });
  t.like(q({ ...two, pending: 0 }), { state: 'lost', mustSplit: true });
  // 5 nodes + 1 arbitrator (6 votes, 4 needed): alone with one peer, even the arbitrator cannot make it
  const five = { nodes: ['n1', 'n2', 'n3', 'n4', 'n5'], arbitrators: 1, up: ['n2'] };
  t.like(q({ ...five, pending: 1 }), { state: 'lost', mustSplit: true }, 'a vote that cannot make the majority is not waited for');
  t.like(q({ ...five, up: ['n2', 'n3'], pending: 1 }), { state: 'waiting', asking: 1 });
});
