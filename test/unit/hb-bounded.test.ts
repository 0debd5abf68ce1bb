// Issue 9: a beat carries the facts only, so its size does not grow with the services. With
// 10,000 services (and as many intents, and long error texts) the sealed beat stays under
// 1 KiB and fits the smallest disk slot.
import test from 'ava';
import type { NodeState } from '../../src/cluster/node-state.js';
import { encodeSlot } from '../../src/heartbeat/disk.js';
import { deriveKey, seal } from '../../src/heartbeat/envelope.js';
import { BEAT_FACTS_MAX } from '../../src/statechan/facts.js';
import { CLUSTER_SUM_CHARS } from '../../src/statechan/facts.js';
import { publishState, StateStore } from '../../src/statechan/store.js';
import { bigState } from '../helpers/node-states.js';

const SECRET = '5a'.repeat(32);
const BOUND = 1024;

function sealedBeat(state: NodeState): { json: string; sealed: Buffer; store: StateStore } {
  // what the daemon's state becomes on its way to the heartbeats (src/statechan/index.ts)
  const store = new StateStore((BigInt(Date.now()) << 16n).toString());
  const json = JSON.stringify(publishState(store, state));
  const sealed = seal(deriveKey(SECRET, 'prod-cluster'), { kind: 'beat', incarnation: 1n << 60n, seq: 1n << 40n, sender: 'node-with-a-rather-long-name-01', hb: 'hb#1' }, Buffer.from(json));
  return { json, sealed, store };
}

test('10,000 services and intents: the sealed beat is under 1 KiB and fits a 4 KiB disk slot', (t) => {
  const state = bigState(10_000, { intents: true, error: 'x'.repeat(500) });
  // the cluster file's digest rides in every beat, truncated (CLUSTER_SUM_CHARS)
  state.cluster_sum = 'f'.repeat(64);
  t.true(JSON.stringify(state).length > 5_000_000, 'the state itself is megabytes');
  const { json, sealed, store } = sealedBeat(state);
  t.true(Buffer.byteLength(json) <= BEAT_FACTS_MAX, `facts ${json.length} bytes`);
  t.true(sealed.length <= BOUND, `sealed beat ${sealed.length} bytes`);
  t.notThrows(() => encodeSlot(sealed, 4096));
  t.true(encodeSlot(sealed, 4096).length <= 4096, 'one 4 KiB block of the slot');
  t.is(store.mark.n, 20_000, 'every service and intent is an item of the channel instead');
  t.log(`10,000 services: beat ${sealed.length} bytes sealed`);
});

test('the bound holds with many fenced peers, arbitrators and long texts', (t) => {
  const state = bigState(10);
  state.cluster_sum = 'f'.repeat(64);
  const long = 'e'.repeat(10_000);
  state.quorum = { state: 'lost', votes: 1, total: 40, needed: 21, why: long, arbitrators: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`arbitrator#${i}`, { granted: false, error: long }])) };
  state.fence = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`node-${i}`, { state: 'failed' as const, at: Date.now(), failures: 9, error: long, nextAt: Date.now() }]));
  const { json, sealed } = sealedBeat(state);
  t.true(Buffer.byteLength(json) <= BEAT_FACTS_MAX, `facts ${json.length} bytes`);
  t.true(sealed.length <= BOUND, `sealed ${sealed.length}`);
  const facts = JSON.parse(json) as { quorum?: { state: string; votes: number } };
  t.is(facts.quorum?.state, 'lost', 'the quorum verdict itself is never shed');
  t.is(facts.quorum?.votes, 1);
  t.is((facts as { cf?: string }).cf, 'f'.repeat(CLUSTER_SUM_CHARS), 'the cluster file digest is never shed');
});

test('a small cluster keeps its quorum and fencing detail in the beat', (t) => {
  const state = bigState(3);
  state.quorum = { state: 'quorate', votes: 3, total: 3, needed: 2, why: 'quorate: 3 of 3 votes', arbitrators: { 'arbitrator#1': { granted: true } } };
  state.fence = { n3: { state: 'fenced', at: 1234 } };
  state.frozen = true;
  const facts = JSON.parse(sealedBeat(state).json) as Record<string, unknown>;
  t.deepEqual(facts.quorum, state.quorum);
  t.deepEqual(facts.fence, state.fence);
  t.is(facts.frozen, true);
  t.false('services' in facts);
  t.false('intents' in facts);
});

test('10,000 services handed over at once (a drain): the releases ride in the room left, the sealed beat still under 1 KiB', (t) => {
  const state = bigState(10_000, { intents: true });
  state.cluster_sum = 'f'.repeat(64);
  for (const [name, s] of Object.entries(state.services)) {
    s.monitor = 'stopping';
    s.handover = { intent: state.intents[name]!.id, to: 'n2', released: ['app', 'fs'], done: false };
  }
  const { json, sealed } = sealedBeat(state);
  t.true(Buffer.byteLength(json) <= BEAT_FACTS_MAX, `facts ${json.length} bytes`);
  t.true(sealed.length <= BOUND, `sealed beat ${sealed.length} bytes`);
  const ho = (JSON.parse(json) as { ho?: Record<string, unknown> }).ho ?? {};
  t.deepEqual(Object.keys(ho), Object.keys(state.services).sort().slice(0, Object.keys(ho).length), 'the first names, whole entries');
  t.true(Object.keys(ho).length > 0);
  t.log(`10,000 handovers: ${Object.keys(ho).length} carried, beat ${sealed.length} bytes sealed`);
});
