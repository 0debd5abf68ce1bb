// Engine rules over an in-memory medium: up on any heartbeat, dead only when all time out,
// `left` on a graceful stop, payloads delivered once per change, forgeries counted only.
import test from 'ava';
import type { ClusterConfig, HbConfig } from '../../src/cluster/config.js';
import { Engine } from '../../src/heartbeat/engine.js';
import { deriveKey, seal } from '../../src/heartbeat/envelope.js';
import type { FromWorker } from '../../src/heartbeat/types.js';
import type { PeerState } from '../../src/vocab/peer-state.js';
import { MemoryBus } from '../helpers/hb-memory.js';

const SECRET = '5a'.repeat(32);
const hb = (id: string, interval = 50, timeout = 250): HbConfig => ({ id, type: 'multicast', interval, timeout, group: '239.0.0.1', port: 1, intf: undefined });
const cluster = (hbs: HbConfig[]): ClusterConfig => ({ file: 'x', name: 'lab', nodes: ['a', 'b'], secret: SECRET, quorum: false, splitAction: 'crash', heartbeats: hbs, stonith: [], arbitrators: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function node(bus: MemoryBus, c: ClusterConfig, name: string, payload = '{}', incarnation = BigInt(Date.now()) << 16n) {
  const events: { state: PeerState; at: number }[] = [];
  const payloads: string[] = [];
  const emit = (m: FromWorker) => {
    if (m.t === 'peer') events.push({ state: m.state, at: Date.now() });
    if (m.t === 'payload') payloads.push(m.json);
  };
  const engine = new Engine({ cluster: c, nodename: name, incarnation, payload, emit, makeTransport: (cfg, host) => bus.transport(cfg, host, name) });
  return { engine, events, payloads, states: () => events.map((e) => e.state) };
}

test('peers come up, exchange payloads once per change, and are dead only when every heartbeat timed out', async (t) => {
  const bus = new MemoryBus();
  const c = cluster([hb('hb#1'), hb('hb#2')]);
  const a = node(bus, c, 'a', '{"v":1}');
  const b = node(bus, c, 'b');
  await a.engine.start();
  await b.engine.start();
  t.teardown(() => Promise.all([a.engine.stop(false), b.engine.stop(false)]));
  await sleep(200);
  t.deepEqual(b.states(), ['up']);
  t.deepEqual(b.payloads, ['{"v":1}']);
  a.engine.setPayload('{"v":2}');
  await sleep(150);
  t.deepEqual(b.payloads, ['{"v":1}', '{"v":2}']);

  bus.cut.add('hb#1');
  await sleep(500);
  t.deepEqual(b.states(), ['up'], 'one heartbeat left is enough');
  const hb1 = b.engine.snapshot().heartbeats[0]!;
  t.is(hb1.peers.a!.rxState, 'down');
  t.is(b.engine.snapshot().heartbeats[1]!.peers.a!.rxState, 'up');

  const cutAt = Date.now();
  bus.cut.add('hb#2');
  await sleep(500);
  t.deepEqual(b.states(), ['up', 'down']);
  const took = b.events[1]!.at - cutAt;
  t.true(took <= 250 + 50 + 30, `detected in ${took}ms`);

  bus.cut.clear();
  await sleep(150);
  t.deepEqual(b.states(), ['up', 'down', 'up']);
});

test('graceful stop: the peer is left, not down; a restart brings it back', async (t) => {
  const bus = new MemoryBus();
  const c = cluster([hb('hb#1'), hb('hb#2')]);
  const a = node(bus, c, 'a');
  const b = node(bus, c, 'b');
  await a.engine.start();
  await b.engine.start();
  t.teardown(() => b.engine.stop(false));
  await sleep(150);
  await a.engine.stop(true);
  await sleep(500);
  t.deepEqual(b.states(), ['up', 'left']);
  t.is(b.engine.snapshot().heartbeats[0]!.peers.a!.rxState, 'left');
  const a2 = node(bus, c, 'a', '{}', (BigInt(Date.now()) << 16n) + 1000n);
  await a2.engine.start();
  t.teardown(() => a2.engine.stop(false));
  await sleep(150);
  t.deepEqual(b.states(), ['up', 'left', 'up']);
});

test('forged, foreign, replayed and garbage messages are counted and change nothing', async (t) => {
  const bus = new MemoryBus();
  const c = cluster([hb('hb#1', 50, 1000)]);
  const b = node(bus, c, 'b');
  await b.engine.start();
  t.teardown(() => b.engine.stop(false));
  const good = deriveKey(SECRET, 'lab');
  const m = (k = good, sender = 'a', incarnation = 5n, seq = 1n) => seal(k, { kind: 'beat', incarnation, seq, sender, hb: 'hb#1' }, Buffer.from('{"evil":true}'));
  bus.inject('hb#1', Buffer.from('garbage garbage garbage garbage garbage garbage garbage'));
  bus.inject('hb#1', m(deriveKey(SECRET, 'other')));
  bus.inject('hb#1', m(deriveKey('00'.repeat(32), 'lab')));
  bus.inject('hb#1', m(good, 'mallory'));
  const first = m(good, 'a', 5n, 1n);
  bus.inject('hb#1', first); // authentic (as if captured): accepted once
  bus.inject('hb#1', first); // replay
  bus.inject('hb#1', m(good, 'a', 4n, 99n)); // older incarnation
  await sleep(20);
  const s = b.engine.snapshot().heartbeats[0]!;
  t.deepEqual(s.drops, { malformed: 1, foreign: 1, forged: 1, replayed: 2, unknown: 1 });
  t.deepEqual(s.peers.a!.drops, { malformed: 0, foreign: 1, forged: 1, replayed: 2, unknown: 0 });
  t.is(s.peers.a!.rx, 1);
});
