// The daemon's ring of recent events: bounded in count and record size, numbered, followers
// told in batches outside the logger's call; and the log tap that feeds it from real loggers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { EventRing, MAX_EVENT_BYTES } from '../../src/daemon/event-ring.js';
import { nodeLogger, serviceLogger, tapEvents } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';

const tick = () => new Promise((r) => setImmediate(r));

test('keeps the last `capacity` events, numbered, and ignores records without an event', (t) => {
  const ring = new EventRing(3);
  for (let i = 0; i < 5; i++) ring.pushLine(JSON.stringify({ level: 30, time: i, event: 'x.y', i }));
  ring.pushLine(JSON.stringify({ level: 30, time: 9, msg: 'no event' }));
  ring.pushLine('not json');
  ring.pushLine('[1]');
  t.deepEqual(ring.snapshot().map((r) => [r.seq, r.i]), [[3, 2], [4, 3], [5, 4]]);
});

test('a record too large is kept as its small fields, marked truncated', (t) => {
  const ring = new EventRing();
  ring.pushLine(JSON.stringify({ level: 50, time: 1, event: 'big', svc: 'web', err: 'e'.repeat(MAX_EVENT_BYTES), msg: 'm'.repeat(5000) }));
  const [r] = ring.snapshot();
  t.is(r?.event, 'big');
  t.is(r?.svc, 'web');
  t.is(r?.err, undefined);
  t.is(r?.truncated, true);
  t.true(JSON.stringify(r).length < 2048);
});

test('followers get what is pushed after they subscribed, in one batch per turn, outside the push', async (t) => {
  const ring = new EventRing();
  ring.pushLine(JSON.stringify({ level: 30, time: 1, event: 'before' }));
  const got: string[][] = [];
  const stop = ring.follow((batch) => got.push(batch.map((r) => r.event)));
  ring.pushLine(JSON.stringify({ level: 30, time: 2, event: 'a' }));
  ring.pushLine(JSON.stringify({ level: 30, time: 3, event: 'b' }));
  t.deepEqual(got, [], 'not inside the push');
  await tick();
  t.deepEqual(got, [['a', 'b']]);
  stop();
  ring.pushLine(JSON.stringify({ level: 30, time: 4, event: 'c' }));
  await tick();
  t.deepEqual(got, [['a', 'b']]);
  // a follower that throws is removed, the others go on
  const other: string[] = [];
  ring.follow(() => {
    throw new Error('boom');
  });
  ring.follow((b) => other.push(...b.map((r) => r.event)));
  ring.pushLine(JSON.stringify({ level: 30, time: 5, event: 'd' }));
  await tick();
  ring.pushLine(JSON.stringify({ level: 30, time: 6, event: 'e' }));
  await tick();
  t.deepEqual(other, ['d', 'e']);
  t.is(ring.followerCount, 1);
});

test('the log tap: node and service loggers (and children) give their event records to the ring, with their bindings', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-evtap-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const paths = ferryPaths({ FERRY_ROOT: root });
  const ring = new EventRing();
  const untap = tapEvents((l) => ring.pushLine(l));
  t.teardown(untap);
  const node = nodeLogger(paths, 'n1', 'daemon');
  node.info({ event: 'peer.up', peer: 'n2' }, 'peer n2 up');
  node.info({ peer: 'n2' }, 'not an event');
  serviceLogger(paths, 'evtapsvc', 'n1').child({ rid: 'app#1' }).info({ event: 'resource.end', ok: true }, 'resource started');
  untap();
  node.info({ event: 'peer.down', peer: 'n2' }, 'after untap');
  const recs = ring.snapshot();
  t.deepEqual(recs.map((r) => r.event), ['peer.up', 'resource.end']);
  t.like(recs[0], { node: 'n1', peer: 'n2', msg: 'peer n2 up', level: 30 });
  t.like(recs[1], { svc: 'evtapsvc', rid: 'app#1', node: 'n1', ok: true });
  // and the records still reach the files
  t.regex(fs.readFileSync(path.join(paths.log, 'daemon.log'), 'utf8'), /"event":"peer.down"/);
});
