// The generation rule of replicated service configurations (src/config/generation.ts): the
// newest change wins, a tie goes to the greater sum, a change derived from another always
// wins over it, and two changes that do not derive from each other are a conflict. The rule
// is a total order: every node picks the same survivor whatever order it hears them in.
import test from 'ava';
import { configSum, DELETED_SUM, HISTORY_MAX, isConfigGen, newer, nextGen, relation, shortSum, type ConfigGen } from '../../src/config/generation.js';

const A = configSum('a');
const B = configSum('b');
const C = configSum('c');

test('a local change is stamped after its parent, even with a clock behind it, and records it', (t) => {
  const g0: ConfigGen = { updated: 5_000, sum: A, hist: [] };
  const g1 = nextGen(g0, B, 1_000);
  t.is(g1.updated, 5_001);
  t.deepEqual(g1.hist, [shortSum(A)]);
  t.true(newer(g1, g0));
  t.is(relation(g0, g1), 'behind');
  t.is(relation(g1, g0), 'ahead');
  t.is(nextGen(g0, B, 9_000).updated, 9_000);
});

test('the history is bounded; a chain longer than it reads as a conflict but the newest still wins', (t) => {
  let g: ConfigGen = { updated: 1, sum: A, hist: [] };
  const first = g;
  for (let i = 0; i < HISTORY_MAX + 2; i++) g = nextGen(g, configSum(`v${i}`), 10 + i);
  t.is(g.hist.length, HISTORY_MAX);
  t.is(relation(first, g), 'conflict');
  t.true(newer(g, first));
});

test('concurrent edits from one parent are a conflict; the newest stamp wins, a tie goes to the greater sum', (t) => {
  const base: ConfigGen = { updated: 100, sum: A, hist: [] };
  const n1 = nextGen(base, B, 200);
  const n3 = nextGen(base, C, 300);
  t.is(relation(n1, n3), 'conflict');
  t.is(relation(n3, n1), 'conflict');
  t.true(newer(n3, n1));
  t.false(newer(n1, n3));
  const tie1 = nextGen(base, B, 300);
  const tie2 = nextGen(base, C, 300);
  t.is(newer(tie1, tie2), B > C);
  t.is(newer(tie2, tie1), C > B);
});

test('same bytes are the same configuration whatever the stamps (files written by hand on each node)', (t) => {
  t.is(relation({ updated: 1, sum: A, hist: [] }, { updated: 2, sum: A, hist: [] }), 'same');
});

test('a deletion is a generation: it wins over the file it deletes, a re-creation wins over it', (t) => {
  const g0: ConfigGen = { updated: 100, sum: A, hist: [] };
  const del = nextGen(g0, DELETED_SUM, 50);
  t.true(del.deleted);
  t.is(relation(g0, del), 'behind');
  t.true(newer(del, g0));
  const again = nextGen(del, B, 60);
  t.true(newer(again, del));
  t.is(relation(del, again), 'behind');
  t.false(again.deleted ?? false);
});

test('the rule is a total order: every permutation of heads converges to one survivor', (t) => {
  const base: ConfigGen = { updated: 100, sum: A, hist: [] };
  const heads = [nextGen(base, B, 300), nextGen(base, C, 300), nextGen(base, configSum('d'), 250), base];
  const best = (gs: ConfigGen[]): ConfigGen => gs.reduce((x, y) => (newer(y, x) ? y : x));
  const want = best(heads).sum;
  for (let i = 0; i < heads.length; i++) {
    const rotated = [...heads.slice(i), ...heads.slice(0, i)];
    t.is(best(rotated).sum, want);
    t.is(best([...rotated].reverse()).sum, want);
  }
});

test('isConfigGen refuses what is not a generation', (t) => {
  t.true(isConfigGen({ updated: 1, sum: A, hist: [] }));
  t.true(isConfigGen({ updated: 1, sum: DELETED_SUM, hist: [], deleted: true }));
  t.false(isConfigGen({ updated: 1, sum: DELETED_SUM, hist: [] }), 'a deletion says so');
  t.false(isConfigGen({ updated: 1, sum: 'x', hist: [] }));
  t.false(isConfigGen({ updated: -1, sum: A, hist: [] }));
  t.false(isConfigGen({ updated: 1, sum: A, hist: new Array(HISTORY_MAX + 1).fill('a') }));
  t.false(isConfigGen(null));
});
