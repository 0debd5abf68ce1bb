// The puller's retry rule (src/statechan/retry.ts), then the rule at work over real TCP on
// 127.0.0.1: a peer that accepts connections but does not answer the handshake (its main
// thread busy) for more attempts than `statechan_unreachable` needs, then answers: the puller
// keeps trying, a beat with a new generation cuts the backoff, and the success is logged.
import net from 'node:net';
import test from 'ava';
import { deriveChannelKeys } from '../../src/statechan/crypto.js';
import { stateItems } from '../../src/statechan/facts.js';
import { Puller } from '../../src/statechan/puller.js';
import { BACKOFF_MS, retryDelay, retryNow, UNREACHABLE_AFTER } from '../../src/statechan/retry.js';
import { ChannelServer, emptyChanDrops } from '../../src/statechan/server.js';
import { StateStore } from '../../src/statechan/store.js';
import { bigState } from '../helpers/node-states.js';

const keys = deriveChannelKeys('5a'.repeat(32), 'lab');
const NODES = ['n1', 'n2'];

test('retryDelay: doubles from the first wait, capped, never stops', (t) => {
  t.is(retryDelay(1), BACKOFF_MS.first);
  t.is(retryDelay(2), BACKOFF_MS.first * 2);
  t.is(retryDelay(3), BACKOFF_MS.first * 4);
  t.is(retryDelay(UNREACHABLE_AFTER + 1), Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** UNREACHABLE_AFTER));
  for (const n of [10, 100, 5000, 1e9]) t.is(retryDelay(n), BACKOFF_MS.max);
  t.is(retryDelay(0), BACKOFF_MS.first, 'below one failure: the first wait');
  for (let n = 1; n < 50; n++) t.true(retryDelay(n + 1) >= retryDelay(n), 'monotonic');
  t.is(retryDelay(3, { first: 10, max: 25 }), 25);
});

test('retryNow: a new generation or incarnation cuts the wait, the same one does not', (t) => {
  t.false(retryNow({ inc: '1', gen: 4 }, { inc: '1', gen: 4 }));
  t.true(retryNow({ inc: '1', gen: 4 }, { inc: '1', gen: 5 }));
  t.true(retryNow({ inc: '1', gen: 4 }, { inc: '1', gen: 3 }), 'any other generation');
  t.true(retryNow({ inc: '1', gen: 4 }, { inc: '2', gen: 4 }), 'the peer restarted');
  t.true(retryNow(undefined, { inc: '1', gen: 0 }), 'scheduled before any beat');
});

const until = async (what: string, f: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a peer silent for more than the unreachable attempts: retried, recovered, logged', async (t) => {
  const store = new StateStore('100');
  const state = bigState(20);
  store.update(stateItems(state));
  const server = new ChannelServer({ keys, self: 'n1', nodes: NODES, store, log: () => undefined, drops: emptyChanDrops(), timeouts: { handshakeMs: 2000, idleMs: 10_000 } });
  t.true(await server.listen('127.0.0.1', 0));
  t.teardown(() => server.close());
  const target = server.addresses()[0]!.port;
  // the "busy peer": accepts, reads nothing back, for the first SILENT connections; then a pipe to the real server
  const SILENT = UNREACHABLE_AFTER + 2;
  let accepted = 0;
  const held: net.Socket[] = [];
  const proxy = net.createServer((s) => {
    if (++accepted <= SILENT) {
      held.push(s);
      s.on('error', () => undefined);
      return;
    }
    const up = net.connect({ host: '127.0.0.1', port: target });
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of held) s.destroy();
    proxy.close();
  });
  const port = (proxy.address() as net.AddressInfo).port;
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const p = new Puller({
    keys, self: 'n2', peer: 'n1', nodes: NODES, drops: emptyChanDrops(), onUpdate: () => undefined,
    log: (_l, event, _m, data = {}) => events.push({ event, data }), timeouts: { handshakeMs: 150, idleMs: 10_000 },
  });
  t.teardown(() => p.stop());
  p.setRoutes([{ hb: 'hb#1', addr: '127.0.0.1', port }]);
  p.announce(store.mark);
  await until('unreachable', () => events.some((e) => e.event === 'statechan_unreachable'));
  t.false(p.synced);
  // the peer goes on publishing, its beats announce each generation: the backoff is cut short
  const t0 = Date.now();
  let k = 0;
  while (!p.synced) {
    const name = Object.keys(state.services)[k++ % 20]!;
    store.apply(stateItems({ services: { [name]: { ...state.services[name]!, frozen: k % 2 === 0 } }, intents: {} }), []);
    p.announce(store.mark);
    await new Promise((r) => setTimeout(r, 50));
    if (Date.now() - t0 > 30_000) break;
  }
  t.true(p.synced, 'pulled once the peer answers');
  t.true(accepted > SILENT, `${accepted} connections`);
  const rec = events.find((e) => e.event === 'statechan_recovered');
  t.truthy(rec, 'recovery logged');
  t.true(Number(rec!.data.attempts) >= SILENT, `attempts ${String(rec!.data.attempts)}`);
  // the silent attempts after the warning did not wait out the 5 s cap: each was retried at the next beat
  t.true(Date.now() - t0 < 5_000, `${Date.now() - t0} ms after the warning`);
});
