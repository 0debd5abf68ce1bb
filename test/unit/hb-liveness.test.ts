// The liveness instants: down when every heartbeat is silent past its timeout (the latest of
// their down instants), suspect before that, and the engine's one timer due at the next change.
import test from 'ava';
import { isSuspect, nextChange, peerDownAt, peerSuspectAt, rxDownAt, suspectAfter, type RxView } from '../../src/heartbeat/liveness.js';
import type { ClusterConfig, HbConfig } from '../../src/cluster/config.js';
import { Engine } from '../../src/heartbeat/engine.js';
import type { FromWorker } from '../../src/heartbeat/types.js';
import { MemoryBus } from '../helpers/hb-memory.js';

const v = (lastMono: number | undefined, timeout = 300, interval = 100, startMono = 0): RxView => ({ lastMono, startMono, interval, timeout });

test('a heartbeat is down strictly after last message + timeout; never heard: start + timeout', (t) => {
  t.is(rxDownAt(v(1000)), 1300);
  t.is(rxDownAt(v(undefined, 300, 100, 50)), 350);
});

test('the peer is down when every heartbeat is: the latest down instant', (t) => {
  t.is(peerDownAt([v(1000), v(1040, 300), v(900, 500)]), 1400);
  t.is(peerDownAt([]), undefined);
});

test('suspect after max(40 % of the timeout, 1.2 intervals) of silence on every heartbeat, never past the timeout', (t) => {
  t.is(suspectAfter({ interval: 100, timeout: 300 }), 120);
  t.is(suspectAfter({ interval: 1000, timeout: 3000 }), 1200);
  t.is(suspectAfter({ interval: 100, timeout: 500 }), 200);
  t.is(suspectAfter({ interval: 100, timeout: 100 }), 100);
  t.is(peerSuspectAt([v(1000), v(1050)]), 1170);
  t.is(peerSuspectAt([v(1000), v(undefined)]), undefined, 'a heartbeat that never heard the peer: no suspicion');
  const views = [v(1000), v(1050)];
  t.false(isSuspect(views, 1170));
  t.true(isSuspect(views, 1171));
  t.true(isSuspect(views, 1350));
  t.false(isSuspect(views, 1351), 'past every timeout it is down, not suspect');
});

test('the next change: the earliest future down or suspect instant', (t) => {
  const views = [v(1000), v(1050)];
  t.is(nextChange(views, 1100), 1170);
  t.is(nextChange(views, 1200), 1300);
  t.is(nextChange(views, 1320), 1350);
  t.is(nextChange(views, 1400), undefined);
});

const SECRET = '5a'.repeat(32);
const hb = (id: string, interval: number, timeout: number): HbConfig => ({ id, type: 'multicast', interval, timeout, group: '239.0.0.1', port: 1, intf: undefined });
const cluster = (hbs: HbConfig[]): ClusterConfig => ({ file: 'x', name: 'lab', nodes: ['a', 'b'], secret: SECRET, quorum: false, splitAction: 'crash', heartbeats: hbs, stonith: [], arbitrators: [] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the engine declares the peer down at its last message + timeout (a timer, not a poll), suspect before, and not suspect when heard again', async (t) => {
  const bus = new MemoryBus();
  const c = cluster([hb('hb#1', 100, 300), hb('hb#2', 100, 300)]);
  const got: { m: FromWorker; at: number }[] = [];
  const mk = (name: string, emit: (m: FromWorker) => void) =>
    new Engine({ cluster: c, nodename: name, incarnation: BigInt(Date.now()) << 16n, payload: '{}', emit, makeTransport: (cfg, host) => bus.transport(cfg, host, name) });
  const a = mk('a', () => undefined);
  const b = mk('b', (m) => got.push({ m, at: performance.now() }));
  await a.start();
  await b.start();
  t.teardown(() => Promise.all([a.stop(false), b.stop(false)]));
  await sleep(400);
  t.truthy(got.find((g) => g.m.t === 'peer' && g.m.state === 'up'));
  // the last message b accepts from a: read from b's own view when the cut happens
  bus.cut.add('hb#1');
  bus.cut.add('hb#2');
  const cutAt = performance.now();
  await sleep(600);
  const down = got.find((g) => g.m.t === 'peer' && g.m.state === 'down');
  const suspect = got.find((g) => g.m.t === 'suspect' && g.m.suspect);
  t.truthy(down);
  t.truthy(suspect);
  // never before the last accepted message + timeout; just after it (a timer; generous for a loaded machine)
  const last = Math.max(...b.snapshot().heartbeats.map((h) => h.peers.a!.lastSeen ?? 0));
  const late = (down!.m as { at: number }).at - last;
  t.true(late > 300 && late <= 300 + 150, `down ${late} ms after the last accepted message`);
  t.true(suspect!.at < down!.at && suspect!.at - cutAt <= 120 + 150, `suspect ${(suspect!.at - cutAt).toFixed(1)} ms after the cut`);
  t.falsy(got.find((g) => g.m.t === 'suspect' && !g.m.suspect), 'going down is no "no longer suspect"');
  // heard again while suspect: suspicion ends with a message, no down
  got.length = 0;
  bus.cut.clear();
  await sleep(400);
  got.length = 0;
  bus.cut.add('hb#1');
  bus.cut.add('hb#2');
  const until = async (f: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!f() && performance.now() < end) await sleep(2);
    return f();
  };
  t.true(await until(() => got.some((g) => g.m.t === 'suspect' && g.m.suspect), 2_000), 'suspect');
  bus.cut.clear();
  t.true(await until(() => got.some((g) => g.m.t === 'suspect' && !g.m.suspect), 2_000), 'no longer suspect once heard again');
  t.falsy(got.find((g) => g.m.t === 'peer' && g.m.state === 'down'));
});
