// Issue 9 end to end: two nodes in their own network namespaces over real UDP beats and the
// TCP state channel. One publishes 1500 services; the other sees them all, complete, while
// every beat stays under 1 KiB; a change moves as a delta; a restart of the publisher is a
// new incarnation, pulled again from scratch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { sh } from '../helpers/env.js';
import type { HbEvent } from '../helpers/hb-proc.js';
import { multicast, setup, sleep, unicast } from '../helpers/hb-scenario.js';

const SC = { FERRY_HB_STATECHAN: '1' };
const N = 1500;
type Summary = { complete?: boolean; services: number; down: string[] };
const summaryOf = (e: HbEvent): Summary | undefined => e.payload as Summary | undefined;

test.serial('1500 services cross the state channel; beats stay under 1 KiB; changes are deltas', async (t) => {
  const l = await setup(t, ['n1', 'n2'], (lab) => unicast('hb#1', '200ms', '1s')(lab) + multicast('hb#2', '200ms', '1s')());
  const a = l.start('n1', SC);
  const b = l.start('n2', SC);
  await b.waitPeer('n1', 'up', 15_000);
  await a.waitPeer('n2', 'up', 15_000);
  a.send({ cmd: 'services', n: N });
  const full = await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && summaryOf(e)?.services === N && summaryOf(e)?.complete === true, 30_000, `${N} services, complete`);
  t.deepEqual(summaryOf(full)?.down, []);

  a.send({ cmd: 'services', n: N, down: [7, 1234] });
  await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && summaryOf(e)?.complete === true && summaryOf(e)?.down.length === 2, 30_000, 'the change');
  await sleep(1000);
  const sa = await a.snapshot();
  for (const h of sa.snap!.heartbeats) t.true((h.maxBytes ?? Infinity) <= 1024, `${h.id}: largest beat ${h.maxBytes} bytes`);
  t.log(`largest beat: ${Math.max(...sa.snap!.heartbeats.map((h) => h.maxBytes ?? 0))} bytes for ${N} services`);
  t.is(sa.statechan!.items, N);
  const sb = await b.snapshot();
  t.deepEqual(sb.peers!.n1!.payload, { complete: true, services: N, down: ['svc00007', 'svc01234'] });
  const peer = sb.statechan!.peers.n1!;
  t.true(peer.synced);
  t.is(peer.items, N);
  t.true(peer.pulls >= 2 && peer.pulls <= 6, `${peer.pulls} pulls`);
  t.is(Object.values(sb.statechan!.drops).reduce((x, y) => x + y, 0), 0, 'no dropped connection');

  // a restarted publisher is a new incarnation: pulled from scratch, and incomplete until then
  await a.kill();
  await b.waitPeer('n1', 'down', 10_000);
  const a2 = l.start('n1', SC);
  const restarted = Date.now();
  await b.waitPeer('n1', 'up', 15_000, restarted);
  a2.send({ cmd: 'services', n: 10 });
  await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && e.at >= restarted && summaryOf(e)?.complete === true && summaryOf(e)?.services === 10, 30_000, 'state of the new incarnation');
});

test.serial('networks cut, disk heartbeat alive: the peer stays up but its changed state is incomplete until the channel is back', async (t) => {
  const l = await setup(t, ['n1', 'n2'], (lab) => unicast('hb#1', '200ms', '1s')(lab) + ['[hb#2]', 'type = disk', `dev = ${path.join(os.tmpdir(), `${lab.bridgeNs}-disk`)}`, 'interval = 200ms', 'timeout = 2s', ''].join('\n'));
  const disk = path.join(os.tmpdir(), `${l.lab.bridgeNs}-disk`);
  t.teardown(() => fs.rmSync(disk, { force: true }));
  const a = l.start('n1', SC);
  const b = l.start('n2', SC);
  await b.waitPeer('n1', 'up', 15_000);
  a.send({ cmd: 'services', n: 200 });
  await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && summaryOf(e)?.complete === true && summaryOf(e)?.services === 200, 30_000, 'first sync');
  // wait until the disk heartbeat sees n1 on its own (its first read of a slot is a baseline)
  for (let i = 0; i < 50; i++) {
    const s = await b.snapshot();
    if (s.snap!.heartbeats[1]!.peers.n1!.rxState === 'up') break;
    await sleep(200);
  }
  const ns = l.lab.nodes[0]!.ns;
  const cut = async (on: boolean) => {
    for (const chain of ['INPUT', 'OUTPUT']) await sh('ip', ['netns', 'exec', ns, 'iptables', on ? '-I' : '-D', chain, '-j', 'DROP']);
  };
  await cut(true);
  const cutAt = Date.now();
  t.teardown(() => cut(false).catch(() => undefined));
  a.send({ cmd: 'services', n: 200, down: [3] });
  const behind = await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && e.at >= cutAt && summaryOf(e)?.complete === false, 15_000, 'state marked incomplete');
  t.is(summaryOf(behind)?.services, 200);
  t.deepEqual(summaryOf(behind)?.down, [], 'what is held is the old state...');
  await sleep(3000);
  const s = await b.snapshot();
  t.is(s.snap!.heartbeats[0]!.peers.n1!.rxState, 'down', 'network heartbeat is down');
  t.deepEqual(b.peerStates('n1'), ['up'], 'n1 stays alive through the disk');
  t.is((s.peers!.n1!.payload as Summary).complete, false, '...and it is never taken as current');
  await cut(false);
  const back = await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && e.at > behind.at && summaryOf(e)?.complete === true, 60_000, 'state pulled again');
  t.deepEqual(summaryOf(back)?.down, ['svc00003']);
});

test.serial('multicast only: the channel dials the address the peer\'s beats come from', async (t) => {
  const l = await setup(t, ['n1', 'n2'], () => multicast('hb#1', '200ms', '1s')());
  const a = l.start('n1', SC);
  const b = l.start('n2', SC);
  await b.waitPeer('n1', 'up', 15_000);
  a.send({ cmd: 'services', n: 300, down: [1] });
  const got = await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1' && summaryOf(e)?.complete === true && summaryOf(e)?.services === 300, 30_000, '300 services over multicast routes');
  t.deepEqual(summaryOf(got)?.down, ['svc00001']);
});
