// `nodemgr events` against a real daemon (issue 9 item 7): the ring shows the daemon's own
// action (begin/end, per resource) on a service it starts, and an operator's svcmgr stop as
// the status change its refresh sees; `--follow` gets a new event live; a follower that never
// reads is dropped (control-drop, slow-client) while the daemon keeps answering and a reading
// follower keeps getting every event.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { askDaemon } from '../../src/daemon/control-client.js';
import { distCli, requireRoot, runCli, uniquePrefix } from '../helpers/env.js';
import { startSingleDaemon, type SingleDaemon } from '../helpers/single-daemon.js';
import { schemaErrors } from '../helpers/schemas.js';

interface Ev {
  seq: number;
  event: string;
  svc?: string;
  [k: string]: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

async function events(d: SingleDaemon): Promise<Ev[]> {
  const r = await runCli('nodemgr', ['events', '--format', 'json'], d.root.env, 30_000);
  if (r.exitCode !== 0) throw new Error(`nodemgr events: exit ${r.exitCode}: ${r.stderr}`);
  const evs = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Ev);
  for (const e of evs) {
    const bad = schemaErrors('nodemgr-events', e);
    if (bad) throw new Error(`nodemgr events --format json: ${bad}: ${JSON.stringify(e)}`);
  }
  return evs;
}

/**
 * A service of `n` app resources: checked ones hold a marker file (start creates it, check
 * tests it, stop removes it); the others do nothing (no check: status n/a, the last start counts).
 */
function writeService(d: SingleDaemon, name: string, n: number, checked: boolean): void {
  const lines = ['[DEFAULT]', 'nodes = a', 'orchestrate = ha', ''];
  for (let i = 1; i <= n; i++) {
    const f = path.join(d.root.root, `${name}-${i}.up`);
    lines.push(`[app#${i}]`, ...(checked ? [`start = /bin/touch ${f}`, `check = /bin/test -f ${f}`, `stop = /bin/rm -f ${f}`] : ['start = /bin/true']), '');
  }
  fs.writeFileSync(path.join(d.root.services, `${name}.env`), lines.join('\n'));
}

async function followers(d: SingleDaemon): Promise<number> {
  const r = await runCli('nodemgr', ['daemon', 'status', '--format', 'json'], d.root.env, 30_000);
  return (JSON.parse(r.stdout) as { control?: { followers?: number } }).control?.followers ?? -1;
}

test('events: the daemon\'s action on a service, an operator\'s stop, --follow live, text format', async (t) => {
  requireRoot();
  const d = await startSingleDaemon('a', { FERRY_TICK_MS: '300' });
  t.teardown(() => d.close());
  const svc = uniquePrefix('ev');
  writeService(d, svc, 2, true);
  // the daemon starts it (orchestrate = ha): its action and the service layer's records
  const seen = await waitFor('daemon.action.end of the start', async () => {
    const evs = await events(d);
    return evs.some((e) => e.event === 'daemon.action.end' && e.svc === svc) ? evs : undefined;
  }, 60_000);
  const mine = seen.filter((e) => e.svc === svc);
  const names = mine.map((e) => e.event);
  for (const n of ['service.decision', 'daemon.action.begin', 'action.begin', 'resource.begin', 'resource.end', 'action.end', 'daemon.action.end']) t.true(names.includes(n), `${n} in ${names.join(' ')}`);
  t.true(names.indexOf('daemon.action.begin') < names.indexOf('action.begin') && names.indexOf('action.end') < names.indexOf('daemon.action.end'), names.join(' '));
  t.like(mine.find((e) => e.event === 'daemon.action.end'), { kind: 'start', ok: true });
  t.deepEqual(mine.filter((e) => e.event === 'resource.end').map((e) => e.rid).sort(), ['app#1', 'app#2']);
  t.true(seen.every((e, i) => i === 0 || e.seq > seen[i - 1]!.seq), 'numbered in order');
  t.truthy(seen.find((e) => e.event === 'daemon.started'));

  // --follow: connected, then an operator's stop shows live as the status change
  const child = execa(process.execPath, [distCli('nodemgr'), 'events', '--follow', '--format', 'json'], { env: d.root.env, reject: false, buffer: false, stdin: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  const live: Ev[] = [];
  let pending = '';
  child.stdout!.on('data', (b: Buffer) => {
    pending += b.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) live.push(JSON.parse(l) as Ev);
  });
  await waitFor('the follower connected', async () => (await followers(d)) === 1 || undefined, 30_000);
  const backlog = Math.max(...live.map((e) => e.seq));
  t.true(backlog >= seen[seen.length - 1]!.seq, 'the follower got the backlog first');
  const stop = await runCli('svcmgr', ['-s', svc, 'stop'], d.root.env, 60_000);
  t.is(stop.exitCode, 0, stop.stderr);
  // (a refresh during the stop may see it half-way: warn first)
  const change = await waitFor('service.status down, live', () => live.find((e) => e.seq > backlog && e.event === 'service.status' && e.svc === svc && e.avail === 'down'), 30_000);
  t.true(['up', 'warn'].includes(String(change.prev)));
  // svcmgr's own action ran in svcmgr: in the service log, not in the daemon's events
  t.false(live.some((e) => e.seq > backlog && e.event === 'action.begin' && e.svc === svc && e.action === 'stop'));

  // the text format: one line per event, with the event name and the service
  const text = await runCli('nodemgr', ['events'], d.root.env, 30_000);
  t.is(text.exitCode, 0);
  const line = text.stdout.split('\n').find((l) => l.includes(' daemon.action.end ') && l.includes(`svc=${svc}`));
  t.regex(line ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {2}daemon\.action\.end svc=\S+ kind=start ok=true ms=\d+ : /);
  // a bad option: one line, non-zero
  const bad = await runCli('nodemgr', ['events', '--format', 'yaml'], d.root.env, 30_000);
  t.not(bad.exitCode, 0);
});

test('events --follow: a follower that never reads is dropped, the daemon and a reading follower go on', async (t) => {
  requireRoot();
  // a small backlog so that the test needs little traffic (the kernel's socket buffer comes first)
  const d = await startSingleDaemon('a', { FERRY_TICK_MS: '300', FERRY_CONTROL_STREAM_BACKLOG: '8192' });
  t.teardown(() => d.close());
  const svc = uniquePrefix('evs');
  writeService(d, svc, 20, false);
  await waitFor('the first start', async () => ((await events(d)).some((e) => e.event === 'daemon.action.end' && e.svc === svc) ? true : undefined), 60_000);

  const slow = net.connect(d.socket, () => slow.write('{"op":"events","follow":true}\n'));
  slow.pause();
  slow.on('error', () => undefined);
  t.teardown(() => slow.destroy());
  const got: Ev[] = [];
  const reader = net.connect(d.socket, () => reader.write('{"op":"events","follow":true}\n'));
  let buf = '';
  let answered = false;
  reader.on('data', (b: Buffer) => {
    buf += b.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      // the answer line (the backlog), then one record per line
      if (answered) got.push(JSON.parse(l) as Ev);
      answered = true;
    }
  });
  reader.on('error', () => undefined);
  t.teardown(() => reader.destroy());
  await waitFor('two followers', async () => (await followers(d)) === 2 || undefined, 30_000);

  // traffic: the operator stops it, the daemon starts it again on a relocation request: each
  // round is some 50 events, written one batch at a time
  let rounds = 0;
  let worstPingMs = 0;
  const t0 = Date.now();
  // (the paused client itself would not see its connection closed: the reader sees the drop)
  const dropSeen = () => got.some((e) => e.event === 'control-drop' && e.reason === 'slow-client');
  while (!dropSeen() && Date.now() - t0 < 150_000) {
    rounds++;
    const stop = await runCli('svcmgr', ['-s', svc, 'stop'], d.root.env, 60_000);
    t.is(stop.exitCode, 0, stop.stderr);
    const r = await askDaemon(d.paths, { op: 'relocate', svc, to: 'a' });
    t.true(r.ok, JSON.stringify(r));
    const ends = got.filter((e) => e.event === 'daemon.action.end' && e.svc === svc).length;
    await waitFor(`start ${rounds} done`, () => got.filter((e) => e.event === 'daemon.action.end' && e.svc === svc).length > ends || undefined, 60_000);
    const p0 = Date.now();
    t.deepEqual(await askDaemon(d.paths, { op: 'ping' }, 10_000), { ok: true, nodename: 'a' });
    worstPingMs = Math.max(worstPingMs, Date.now() - p0);
  }
  t.log(`slow follower dropped after ${rounds} rounds; worst ping ${worstPingMs} ms; the reader got ${got.length} events`);
  t.true(dropSeen(), 'the slow follower was dropped');
  t.true(d.alive());
  const drops = d.logEntries().filter((e) => e.event === 'control-drop' && e.reason === 'slow-client');
  t.is(drops.length, 1);
  t.is(await followers(d), 1, 'the reading follower is still there');
  // the reader missed nothing: its sequence numbers have no gap
  t.true(got.length > 50);
  t.true(got.every((e, i) => i === 0 || e.seq === got[i - 1]!.seq + 1), 'no gap in what the reader got');
});
