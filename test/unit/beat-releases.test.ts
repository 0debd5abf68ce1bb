// Issue 11: a relocation's release rides in the owner's beat (BeatFacts.ho), so the target
// reads it with the beat rather than a state-channel pull later. The field only takes the room
// the other facts leave (never displacing them), is shed whole entries at a time in a fixed
// order, and is checked on receipt like anything from the network.
import test from 'ava';
import type { HandoverProgress, NodeState } from '../../src/cluster/node-state.js';
import { handoversNow } from '../../src/cluster/handover.js';
import { BEAT_FACTS_MAX, RELEASES_MAX, assemble, beatFacts, beatReleases, readBeatFacts, type BeatFacts, type ChannelMark, type FactsSource } from '../../src/statechan/facts.js';
import { publishState, StateStore } from '../../src/statechan/store.js';
import { bigState, serviceState } from '../helpers/node-states.js';

const mark: ChannelMark = { inc: '123456789012345', gen: 42, digest: 'ab'.repeat(16), n: 7 };
const uuid = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const progress = (i: number, over: Partial<HandoverProgress> = {}): HandoverProgress => ({ intent: uuid(i), to: 'n2', released: ['app', 'fs'], done: false, ...over });
const plain: FactsSource = {
  frozen: false, cluster_sum: 'f'.repeat(64),
  quorum: { state: 'quorate', votes: 2, total: 3, needed: 2, why: 'quorate: 2 of 3 votes', arbitrators: { 'arbitrator#1': { granted: true } } },
  fence: { n3: { state: 'fenced', at: 1234 } },
};
const size = (f: BeatFacts): number => Buffer.byteLength(JSON.stringify(f), 'utf8');
/** what a peer reads: the JSON of the facts, parsed and checked */
const wire = (f: BeatFacts): BeatFacts | undefined => readBeatFacts(JSON.parse(JSON.stringify(f)) as unknown);

test('encode / decode: the releases cross in compact form; the peer assembles them with both incarnations', (t) => {
  const f = beatFacts({ ...plain, handovers: { web: progress(1), db: progress(2, { released: ['app', 'fs', 'ip'], done: true, held: ['disk'] }) } }, mark);
  t.deepEqual(f.ho, { db: { i: uuid(2), r: ['app', 'fs', 'ip'], d: 1, h: ['disk'] }, web: { i: uuid(1), r: ['app', 'fs'] } });
  const got = wire(f)!;
  t.deepEqual(got, f);
  const s = assemble(got, new Map(), false, 'older-process');
  t.deepEqual(s.beat_handovers, { inc: mark.inc, pulledInc: 'older-process', releases: f.ho! });
  t.is(assemble(got, new Map(), false, null).beat_handovers?.pulledInc, undefined, 'nothing pulled yet');
  t.false('beat_handovers' in assemble(beatFacts(plain, mark), new Map(), true, mark.inc), 'no releases: no field');
  t.false('ho' in beatFacts(plain, mark), 'normally absent');
  t.false('ho' in beatFacts({ ...plain, handovers: {} }, mark));
});

test('the releases never displace the other facts; many services: a sorted prefix within the bound', (t) => {
  const without = beatFacts(plain, mark);
  const handovers = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`svc${String(999 - i).padStart(4, '0')}`, progress(i, { released: ['app', 'fs', 'disk'] })]));
  const f = beatFacts({ ...plain, handovers }, mark);
  t.true(size(f) <= BEAT_FACTS_MAX, `${size(f)} bytes`);
  const { ho, ...rest } = f;
  t.deepEqual(rest, without, 'the other facts exactly as without handovers');
  const kept = Object.keys(ho ?? {});
  t.true(kept.length >= 3, `${kept.length} entries carried`);
  t.deepEqual(kept, Object.keys(handovers).sort().slice(0, kept.length), 'the first names, whole entries');
  // the next entry would not have fit: the room is used
  const next = Object.keys(handovers).sort()[kept.length]!;
  t.true(size(f) + Buffer.byteLength(`,${JSON.stringify(next)}:${JSON.stringify(f.ho![kept[0]!])}`) > BEAT_FACTS_MAX);
  // deterministic whatever the order the services come in
  const reversed = Object.fromEntries(Object.entries(handovers).reverse());
  t.deepEqual(beatFacts({ ...plain, handovers: reversed }, mark), f);
  t.deepEqual(wire(f), f, 'what fits is read back whole');
});

test('facts shed down to their floor: the releases take the room left, the facts exactly as without', (t) => {
  const long = 'e'.repeat(10_000);
  const big: FactsSource = {
    frozen: false, cluster_sum: 'f'.repeat(64),
    quorum: { state: 'lost', votes: 1, total: 40, needed: 21, why: long, arbitrators: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`arbitrator#${i}`, { granted: false, error: long }])) },
    fence: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`node-${i}`, { state: 'failed' as const, at: 1, failures: 9, error: long, nextAt: 2 }])),
  };
  const handovers = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${String(i).padStart(2, '0')}`, progress(i)]));
  const f = beatFacts({ ...big, handovers }, mark);
  t.true(size(f) <= BEAT_FACTS_MAX, `${size(f)} bytes`);
  const { ho, ...rest } = f;
  t.deepEqual(rest, beatFacts(big, mark));
  t.true(Object.keys(ho ?? {}).length > 0 && Object.keys(ho ?? {}).length < 50, `${Object.keys(ho ?? {}).length} of 50 carried`);
  // an entry a peer would refuse is not sent, the next ones still go
  const g = beatFacts({ ...plain, handovers: { [`a${'x'.repeat(300)}`]: progress(1), b: progress(2) } }, mark);
  t.deepEqual(Object.keys(g.ho ?? {}), ['b'], 'a name over the bound');
  const h = beatFacts({ ...plain, handovers: { a: progress(1, { intent: 'i'.repeat(65) }), b: progress(2) } }, mark);
  t.deepEqual(Object.keys(h.ho ?? {}), ['b'], 'an entry a peer would refuse is not sent');
});

test('on receipt: a bad field is dropped, a bad entry left out, the beat kept; garbage never throws', (t) => {
  const base = beatFacts(plain, mark) as unknown as Record<string, unknown>;
  const read = (ho: unknown): BeatFacts | undefined => readBeatFacts({ ...base, ho });
  const good = { i: uuid(1), r: ['ip'] };
  t.deepEqual(read({ web: good })?.ho, { web: good });
  for (const bad of [null, 'x', 7, [good], true]) {
    const f = read(bad);
    t.truthy(f, `the beat is kept (${JSON.stringify(bad)})`);
    t.false('ho' in f!, `a field ${JSON.stringify(bad)} is dropped`);
  }
  const many = Object.fromEntries(Array.from({ length: RELEASES_MAX + 1 }, (_, i) => [`s${i}`, good]));
  t.false('ho' in read(many)!, 'too many entries: dropped whole');
  const entries: Record<string, unknown> = {
    ok: good,
    noIntent: { r: ['ip'] },
    intentNumber: { i: 5, r: ['ip'] },
    intentEmpty: { i: '', r: ['ip'] },
    intentLong: { i: 'x'.repeat(65), r: ['ip'] },
    groupsString: { i: 'a', r: 'ip' },
    groupsMany: { i: 'a', r: Array.from({ length: 9 }, () => 'ip') },
    groupLong: { i: 'a', r: ['x'.repeat(17)] },
    groupNumber: { i: 'a', r: [1] },
    doneTrue: { i: 'a', r: [], d: true },
    heldBad: { i: 'a', r: [], d: 1, h: 'fs' },
    array: [good],
    nul: null,
    [`n${'x'.repeat(255)}`]: good,
    done: { i: 'b', r: ['ip'], d: 1, h: ['fs'], extra: 'dropped' },
  };
  t.deepEqual(read(entries)?.ho, { ok: good, done: { i: 'b', r: ['ip'], d: 1, h: ['fs'] } });
  t.is(readBeatFacts({ v: 1, frozen: false }), undefined, 'no channel mark: no beat facts');
  // random JSON: never a throw, and whatever is kept passes the bounds
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const gen = (depth: number): unknown => {
    const k = Math.floor(rnd() * 7);
    if (depth > 3 || k === 0) return [null, 1, 'ip', '', true, 'x'.repeat(40)][Math.floor(rnd() * 6)];
    if (k < 3) return Array.from({ length: Math.floor(rnd() * 10) }, () => gen(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 6) }, () => [['i', 'r', 'd', 'h', 'web', 'db'][Math.floor(rnd() * 6)]!, gen(depth + 1)]));
  };
  for (let n = 0; n < 2000; n++) {
    const x = gen(0);
    t.notThrows(() => beatReleases(x));
    for (const r of Object.values(beatReleases(x) ?? {})) t.true(typeof r.i === 'string' && Array.isArray(r.r) && r.r.length <= 8);
  }
});

test('a whole-state publish carries the handovers under way, not a failed stop nor a plain one', (t) => {
  const state: NodeState = bigState(3);
  state.services.svc00000 = serviceState({ monitor: 'stopping', handover: progress(1, { released: ['app'] }) });
  state.services.svc00001 = serviceState({ monitor: 'idle', avail: 'up', handover: progress(2, { done: true }) });
  state.services.svc00002 = serviceState({ monitor: 'stop failed', handover: progress(3) });
  state.services.plain = serviceState({ monitor: 'stopping' });
  const f = publishState(new StateStore('9'), state);
  t.deepEqual(f.ho, { svc00000: { i: uuid(1), r: ['app'] }, svc00001: { i: uuid(2), r: ['app', 'fs'], d: 1 } });
  t.deepEqual(Object.keys(handoversNow(Object.entries(state.services)) ?? {}), ['svc00000', 'svc00001']);
  t.is(handoversNow(Object.entries(bigState(5).services)), undefined, 'normally none');
});
