// Heartbeats between real processes in separate network namespaces, over real UDP (and a
// loop device for the disk heartbeat). Every address lives in namespaces these tests create.
import path from 'node:path';
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import test from 'ava';
import { repoRoot } from '../helpers/env.js';
import { crashDetection, multicast, setup, sleep, unicast } from '../helpers/hb-scenario.js';
import { createLoop } from '../helpers/loop-dev.js';

test.serial('unicast 1s/3s: peers see each other, exchange state, a crash is detected within timeout + interval', async (t) => {
  const took = await crashDetection(t, unicast('hb#1', '1s', '3s'), 1000, 3000);
  t.log(`unicast 1s/3s: crash detected after ${took}ms`);
});

test.serial('unicast 100ms/500ms: crash detected within timeout + interval', async (t) => {
  const took = await crashDetection(t, unicast('hb#1', '100ms', '500ms'), 100, 500);
  t.log(`unicast 100ms/500ms: crash detected after ${took}ms`);
});

test.serial('multicast 100ms/500ms: peers see each other, a crash is detected within timeout + interval', async (t) => {
  const took = await crashDetection(t, multicast('hb#1', '100ms', '500ms'), 100, 500);
  t.log(`multicast 100ms/500ms: crash detected after ${took}ms`);
});

test.serial('multicast 1s/3s: crash detected within timeout + interval', async (t) => {
  const took = await crashDetection(t, multicast('hb#1', '1s', '3s'), 1000, 3000);
  t.log(`multicast 1s/3s: crash detected after ${took}ms`);
});

test.serial('graceful stop: the peer is marked left, never down', async (t) => {
  const l = await setup(t, ['n1', 'n2'], (lab) => unicast('hb#1', '100ms', '500ms')(lab) + multicast('hb#2', '100ms', '500ms')());
  const a = l.start('n1');
  const b = l.start('n2');
  await b.waitPeer('n1', 'up', 10_000);
  await a.waitPeer('n2', 'up', 10_000);
  a.send({ cmd: 'stop', graceful: true });
  await b.waitPeer('n1', 'left', 3000);
  await sleep(1500);
  t.deepEqual(b.peerStates('n1'), ['up', 'left']);
  const s = await b.snapshot();
  for (const h of s.snap!.heartbeats) t.is(h.peers.n1!.rxState, 'left', h.id);
});

test.serial('a busy main loop for 2 x timeout does not make the node look dead', async (t) => {
  const l = await setup(t, ['n1', 'n2'], (lab) => unicast('hb#1', '200ms', '1s')(lab) + multicast('hb#2', '200ms', '1s')());
  const a = l.start('n1');
  const b = l.start('n2');
  await a.waitPeer('n2', 'up', 10_000);
  await b.waitPeer('n1', 'up', 10_000);
  a.send({ cmd: 'block', ms: 2000 });
  const unblocked = await a.waitFor((e) => e.ev === 'unblocked', 10_000, 'unblocked');
  await sleep(1500);
  t.deepEqual(b.peerStates('n1'), ['up'], 'n2 never saw n1 down');
  t.deepEqual(a.peerStates('n2'), ['up'], 'n1 never saw n2 down either');
  // and n1 really was stuck: its main loop answered only after the block
  const sent = a.events.find((e) => e.ev === 'ready')!.at;
  t.true(unblocked.at - sent >= 2000);
  const s = await b.snapshot();
  for (const h of s.snap!.heartbeats) t.true(Date.now() - (h.peers.n1!.lastSeen ?? 0) < 1000, h.id);
});

test.serial('disk heartbeat on a loop device alone keeps a peer alive when the network is cut', async (t) => {
  const loop = await createLoop('ferry-hbdisk', 4);
  t.teardown(() => loop.detach());
  // a 2 s timeout: an O_DSYNC beat on a loop device can stall past 1 s when the machine is saturated
  const l = await setup(t, ['n1', 'n2'], (lab) =>
    unicast('hb#1', '200ms', '2s')(lab) + ['[hb#2]', 'type = disk', `dev = ${loop.dev}`, 'interval = 200ms', 'timeout = 2s', ''].join('\n'),
  );
  const a = l.start('n1');
  const b = l.start('n2');
  await a.waitPeer('n2', 'up', 30_000);
  await b.waitPeer('n1', 'up', 30_000);
  // the first read of a slot is a baseline (it may be stale): the disk needs a second beat of n1
  let s = await b.snapshot();
  for (let i = 0; i < 100 && s.snap!.heartbeats[1]!.peers.n1!.rxState !== 'up'; i++) {
    await sleep(200);
    s = await b.snapshot();
  }
  t.is(s.snap!.heartbeats[1]!.peers.n1!.rxState, 'up', 'disk sees n1');
  t.is(s.snap!.heartbeats[1]!.txState, 'up');
  await l.lab.cutUdp(l.lab.nodes[0]!, true);
  await sleep(4000);
  s = await b.snapshot();
  t.is(s.snap!.heartbeats[0]!.peers.n1!.rxState, 'down', 'network heartbeat is down');
  t.is(s.snap!.heartbeats[1]!.peers.n1!.rxState, 'up', 'disk heartbeat still up');
  t.deepEqual(b.peerStates('n1'), ['up']);
  t.deepEqual(a.peerStates('n2'), ['up']);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const killedAt = await a.kill();
  const down = await b.waitPeer('n1', 'down', 10_000, killedAt);
  lag.disable();
  const took = (down.verdictAt ?? down.at) - killedAt;
  const slack = Math.ceil(lag.max / 1e6);
  t.log(`disk 200ms/2s (network cut): crash detected after ${took}ms (${slack} ms scheduling delay measured)`);
  // timeout + interval, plus one liveness check period (100ms): a slot change is only seen on our own read
  t.true(took <= 2300 + slack, `${took}ms`);
});

test.serial('forged, foreign, replayed, unknown and garbage datagrams are dropped, counted and change nothing', async (t) => {
  // n3 is never started: the injector runs in its namespace with its address, so it receives n1's genuine beats to replay them
  const l = await setup(t, ['n1', 'n2', 'n3'], (lab) => unicast('hb#1', '200ms', '1s')(lab));
  const n3 = l.lab.nodes[2]!;
  const a = l.start('n1');
  const b = l.start('n2');
  await b.waitPeer('n1', 'up', 10_000);
  await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1', 5000, 'payload');
  await b.waitPeer('n3', 'down', 5000);
  const before = (await b.snapshot()).snap!.heartbeats[0]!;
  const script = path.join(repoRoot, 'dist', 'test', 'helpers', 'hb-inject.js');
  const spec = { etc: path.join(l.root, 'etc'), cluster: 'lab', hb: 'hb#1', listen: { addr: n3.addr, port: 10001 }, from: l.lab.nodes[0]!.addr, target: { addr: l.lab.nodes[1]!.addr, port: 10001 } };
  const inj = spawn('ip', ['netns', 'exec', n3.ns, process.execPath, script, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  inj.stdout.on('data', (d: Buffer) => (out += d.toString()));
  inj.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => inj.on('exit', r));
  t.is(code, 0, err);
  const sent = JSON.parse(out) as Record<string, number>;
  t.deepEqual(sent, { malformed: 2, foreign: 1, forged: 2, unknown: 1, replayed: 2 });
  // the snapshot is the worker's periodic report (every 250ms): wait for one that has them all
  const total = (d: Record<string, number>) => Object.values(d).reduce((x, y) => x + y, 0);
  let after = await b.snapshot();
  for (let i = 0; i < 30 && total(after.snap!.heartbeats[0]!.drops) - total(before.drops) < 8; i++) {
    await sleep(100);
    after = await b.snapshot();
  }
  const h = after.snap!.heartbeats[0]!;
  for (const r of ['malformed', 'foreign', 'forged', 'unknown', 'replayed'] as const) {
    t.is(h.drops[r] - before.drops[r], sent[r], r);
  }
  t.deepEqual(b.peerStates('n1'), ['up'], 'n1 state unchanged');
  t.deepEqual(b.peerStates('n3'), ['down'], 'n3 never came up: capturing its traffic gives no life to it');
  t.false(b.events.some((e) => e.ev === 'payload' && JSON.stringify(e.payload).includes('evil')), 'no injected payload delivered');
  t.is(after.peers!.n1!.state, 'up');
  await a.kill();
});
