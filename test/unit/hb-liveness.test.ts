// The liveness instants: down when every heartbeat is silent past its timeout (the latest of
// their down instants), suspect before that, and the engine's one timer due at the next change.
import test, { type ExecutionContext } from 'ava';
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

/** Two engines over an in-memory medium; b's messages are recorded with their arrival time. */
async function pair(t: ExecutionContext, intervalMs: number, timeoutMs: number) {
  const bus = new MemoryBus();
  const c = cluster([hb('hb#1', intervalMs, timeoutMs), hb('hb#2', intervalMs, timeoutMs)]);
  const got: { m: FromWorker; at: number }[] = [];
  const mk = (name: string, emit: (m: FromWorker) => void) =>
    new Engine({ cluster: c, nodename: name, incarnation: BigInt(Date.now()) << 16n, payload: '{}', emit, makeTransport: (cfg, host) => bus.transport(cfg, host, name) });
  const a = mk('a', () => undefined);
  const b = mk('b', (m) => got.push({ m, at: performance.now() }));
  await a.start();
  await b.start();
  t.teardown(() => Promise.all([a.stop(false), b.stop(false)]));
  const until = async (f: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!f() && performance.now() < end) await sleep(2);
    return f();
  };
  t.true(await until(() => got.some((g) => g.m.t === 'peer' && g.m.state === 'up'), 5_000), 'peer up');
  // every heartbeat has heard the peer (a peer some heartbeat never heard is never suspect)
  t.true(await until(() => b.snapshot().heartbeats.every((h) => h.peers.a?.lastSeen !== undefined), 5_000), 'heard on both');
  await sleep(2 * intervalMs);
  return { bus, got, b, until };
}

// The bounds on lateness are loose on purpose (a loaded 2-core machine delays any timer): what
// is exact is the rule, never before last message + timeout, and suspicion before the verdict.
test('the engine declares the peer down at its last message + timeout (a timer, not a poll), suspect before', async (t) => {
  const { bus, got, b, until } = await pair(t, 100, 300);
  bus.cut.add('hb#1');
  bus.cut.add('hb#2');
  const cutAt = performance.now();
  t.true(await until(() => got.some((g) => g.m.t === 'peer' && g.m.state === 'down'), 5_000), 'down');
  const down = got.find((g) => g.m.t === 'peer' && g.m.state === 'down');
  const suspect = got.find((g) => g.m.t === 'suspect' && g.m.suspect);
  t.truthy(suspect);
  // never before the last accepted message + timeout; after it by a timer's delay only
  const last = Math.max(...b.snapshot().heartbeats.map((h) => h.peers.a!.lastSeen ?? 0));
  const late = (down!.m as { at: number }).at - last;
  // (both instants are whole Date.now() ms, the verdict is taken on the monotonic clock,
  // strictly after last + timeout: their floors can differ by exactly the timeout)
  t.true(late >= 300 && late <= 300 + 1_000, `down ${late} ms after the last accepted message`);
  t.true(suspect!.at < down!.at && suspect!.at - cutAt <= 120 + 1_000, `suspect ${(suspect!.at - cutAt).toFixed(1)} ms after the cut`);
  t.falsy(got.find((g) => g.m.t === 'suspect' && !g.m.suspect), 'going down is no "no longer suspect"');
});

test('a suspect peer heard again is no longer suspect, and never down', async (t) => {
  // a long timeout (suspect at 40 % = 1.2 s, down at 3 s): the test's own reaction to the
  // suspicion has seconds of margin before the verdict, even on a loaded machine
  const { bus, got, until } = await pair(t, 100, 3_000);
  got.length = 0;
  bus.cut.add('hb#1');
  bus.cut.add('hb#2');
  t.true(await until(() => got.some((g) => g.m.t === 'suspect' && g.m.suspect), 5_000), 'suspect');
  bus.cut.clear();
  t.true(await until(() => got.some((g) => g.m.t === 'suspect' && !g.m.suspect), 5_000), 'no longer suspect once heard again');
  t.falsy(got.find((g) => g.m.t === 'peer' && g.m.state === 'down'));
});
