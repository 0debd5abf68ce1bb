// The generation and delta rules of the state channel: a refresh stamp does not move the
// generation, a change does; a peer holding G gets what changed since G and the removals; a
// peer of another incarnation, or too far behind, gets a snapshot; replicas agree on the digest.
import test from 'ava';
import type { NodeState } from '../../src/cluster/node-state.js';
import { assemble, beatFacts, stateItems } from '../../src/statechan/facts.js';
import { CHUNK_BYTES } from '../../src/statechan/protocol.js';
import type { StateChunk } from '../../src/statechan/protocol.js';
import { Replica } from '../../src/statechan/replica.js';
import { StateStore, TOMBSTONES_MAX } from '../../src/statechan/store.js';
import { bigState, serviceState } from '../helpers/node-states.js';

const clone = (s: NodeState): NodeState => structuredClone(s);

function pull(store: StateStore, r: Replica): StateChunk[] {
  const chunks = store.answer(r.inc, r.gen);
  for (const c of chunks) {
    const res = r.take(c);
    if (res === 'refused') throw new Error('refused');
  }
  return chunks;
}

test('the updated stamp alone does not move the generation; a change peers act on does', (t) => {
  const s = bigState(50);
  const store = new StateStore('1');
  t.true(store.update(stateItems(s)));
  const g = store.gen;
  const later = clone(s);
  for (const v of Object.values(later.services)) v.updated += 1000;
  t.false(store.update(stateItems(later)));
  t.is(store.gen, g);
  later.services.svc00007!.monitor = 'starting';
  t.true(store.update(stateItems(later)));
  t.is(store.gen, g + 1);
  // the beat facts follow the generation
  t.is(beatFacts(later, store.mark).sc.gen, g + 1);
});

test('delta since G: the changed services and the removals only; the replica ends equal to the source', (t) => {
  const s = bigState(200, { intents: true });
  const store = new StateStore('7');
  store.update(stateItems(s));
  const r = new Replica();
  const snap = pull(store, r);
  t.is(snap[0]!.from, null, 'first pull is a snapshot');
  t.true(r.matches(store.mark));
  t.is(r.size, 400);

  const next = clone(s);
  next.services.svc00003!.avail = 'down';
  delete next.services.svc00004;
  delete next.intents.svc00005;
  next.services.fresh = serviceState();
  store.update(stateItems(next));
  const d = pull(store, r);
  t.is(d.length, 1);
  t.is(d[0]!.from, snap[0]!.gen);
  t.deepEqual(d[0]!.set.map(([k]) => k).sort(), ['s:fresh', 's:svc00003']);
  t.deepEqual(d[0]!.del.sort(), ['i:svc00005', 's:svc00004']);
  t.true(r.matches(store.mark));
  const got = assemble(beatFacts(next, store.mark), r.values, true);
  t.deepEqual(got.services, next.services);
  t.deepEqual(got.intents, next.intents);
});

test('another incarnation, or a generation past the tombstones kept, gets a snapshot', (t) => {
  const store = new StateStore('2');
  store.update(stateItems(bigState(3)));
  t.is(store.answer('1', store.gen)[0]!.from, null, 'other incarnation');
  t.is(store.answer('2', store.gen + 5)[0]!.from, null, 'a generation from the future');
  t.is(store.answer(null, 0)[0]!.from, null);
  t.is(store.answer('2', 0)[0]!.from, 0, 'gen 0 of this incarnation is a delta of everything');
  // more removals than tombstones kept: an old replica cannot be patched
  const big = new StateStore('3');
  big.update(stateItems(bigState(TOMBSTONES_MAX + 10)));
  const old = big.gen;
  big.update(stateItems(bigState(0)));
  t.is(big.answer('3', old)[0]!.from, null);
});

test('a large state is chunked, applied only at its last chunk, and a chunk of another answer is refused', (t) => {
  const store = new StateStore('4');
  store.update(stateItems(bigState(12_000, { error: 'y'.repeat(200) })));
  const chunks = store.answer(null, 0);
  t.true(chunks.length > 1, `${chunks.length} chunks`);
  for (const c of chunks) t.true(JSON.stringify(c).length < CHUNK_BYTES + 4096);
  const r = new Replica();
  for (const c of chunks.slice(0, -1)) t.is(r.take(c), 'more');
  t.is(r.size, 0, 'nothing applied before the last chunk');
  t.is(r.take(chunks.at(-1)!), 'applied');
  t.is(r.size, 12_000);
  // a delta that does not start where the replica stands
  const other = { ...chunks.at(-1)!, from: r.gen + 3, set: [], del: [] };
  t.is(new Replica().take(other), 'refused');
  t.is(r.take(other), 'refused');
});

test('a replica whose items went astray fails the digest and is refused', (t) => {
  const store = new StateStore('5');
  store.update(stateItems(bigState(5)));
  const [c] = store.answer(null, 0);
  const tampered = { ...c!, set: c!.set.map(([k, v], i) => [k, i === 0 ? { ...(v as object), avail: 'down' } : v] as [string, typeof v]) };
  t.is(new Replica().take(tampered), 'refused');
});
