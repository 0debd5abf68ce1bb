// The daemon's change lists (src/daemon/published.ts): only what differs from the last publish,
// a refresh stamp alone is no change, removals as null, copies handed over (the daemon edits
// its states in place), and the store fed with change lists ends where whole states would.
import test from 'ava';
import type { NodeState, ServiceState } from '../../src/cluster/node-state.js';
import { PublishedState, sameJson } from '../../src/daemon/published.js';
import { stateItems } from '../../src/statechan/facts.js';
import { publishChanges, publishState, StateStore } from '../../src/statechan/store.js';
import { bigState, serviceState } from '../helpers/node-states.js';

const facts = { frozen: false };

test('sameJson: JSON equality, undefined keys absent, one key skipped', (t) => {
  t.true(sameJson({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 }));
  t.false(sameJson({ a: 1 }, { a: 2 }));
  t.false(sameJson({ a: [1, 2] }, { a: [1] }));
  t.false(sameJson({ a: {} }, { a: [] }));
  t.false(sameJson({ a: 1 }, { a: 1, b: 2 }));
  t.true(sameJson({ a: 1, e: undefined }, { a: 1 }));
  t.true(sameJson({ a: 1, updated: 1 }, { a: 1, updated: 2 }, 'updated'));
  t.false(sameJson({ a: 1, updated: 1 }, { a: 1, updated: 2 }));
  t.false(sameJson(null, {}));
  t.true(sameJson(null, null));
});

test('changes: nothing after a prime, a stamp alone is no change, an edit in place is, removals are null', (t) => {
  const s = bigState(20);
  const p = new PublishedState();
  p.prime(structuredClone(s));
  const local = new Map(Object.entries(s.services));
  t.deepEqual(p.changes({ facts, services: local, intents: {} }), { facts });
  for (const v of local.values()) v.updated += 1000;
  t.deepEqual(p.changes({ facts, services: local, intents: {} }), { facts });
  // the daemon edits in place: what was handed over before must not change with it
  local.get('svc00003')!.monitor = 'starting';
  const c = p.changes({ facts, services: local, intents: {} });
  t.deepEqual(Object.keys(c.services ?? {}), ['svc00003']);
  const handed = c.services!.svc00003 as ServiceState;
  t.is(handed.monitor, 'starting');
  local.get('svc00003')!.monitor = 'idle';
  t.is(handed.monitor, 'starting', 'a copy');
  t.deepEqual(Object.keys(p.changes({ facts, services: local, intents: {} }).services ?? {}), ['svc00003']);
  local.delete('svc00004');
  local.set('new', serviceState());
  const d = p.changes({ facts, services: local, intents: { new: { id: 'i', svc: 'new', target: 'n2', by: 'n1', at: 1, done: false } } });
  t.deepEqual(d.services, { svc00004: null, new: local.get('new')! });
  t.deepEqual(Object.keys(d.intents ?? {}), ['new']);
  t.deepEqual(p.changes({ facts, services: local, intents: {} }).intents, { new: null });
});

test('a store fed change lists ends with the digest and items of one fed whole states', (t) => {
  const whole = new StateStore('1');
  const listed = new StateStore('1');
  const p = new PublishedState();
  const s: NodeState = { ...bigState(50), configs: {} };
  publishState(whole, s);
  publishState(listed, s);
  p.prime(structuredClone(s));
  const local = new Map(Object.entries(structuredClone(s.services)));
  const intents: NodeState['intents'] = {};
  const configs: NonNullable<NodeState['configs']> = {};
  for (let round = 0; round < 30; round++) {
    const names = [...local.keys()];
    const pick = names[(round * 7) % names.length]!;
    if (round % 5 === 0) local.delete(pick);
    else if (round % 5 === 1) local.set(`added${round}`, serviceState({ avail: 'down' }));
    else if (round % 5 === 2) intents[pick] = { id: `i${round}`, svc: pick, target: 'n2', by: 'n1', at: round, done: false };
    else if (round % 5 === 3) configs[pick] = { sum: `s${round}`, stamp: round, ancestors: [], nodes: ['n1'] } as unknown as NonNullable<NodeState['configs']>[string];
    else local.get(pick)!.frozen = !local.get(pick)!.frozen;
    for (const v of local.values()) v.updated++;
    const state: NodeState = { v: 1, frozen: false, services: Object.fromEntries(local), intents, configs };
    const a = publishState(whole, structuredClone(state));
    const b = publishChanges(listed, p.changes({ facts: { frozen: false }, services: local, intents, configs }));
    t.is(b.sc.digest, a.sc.digest, `round ${round}`);
    t.is(b.sc.n, a.sc.n);
  }
  t.is(listed.mark.n, stateItems({ services: Object.fromEntries(local), intents, configs }).length);
  // both answer a fresh peer with the same items
  const items = (st: StateStore) => new Map(st.answer(null, 0).flatMap((c) => c.set).map(([k, v]) => [k, JSON.stringify(v)]));
  const wi = items(whole);
  const li = items(listed);
  t.deepEqual(Object.fromEntries([...li].sort()), Object.fromEntries([...wi].sort()));
});
