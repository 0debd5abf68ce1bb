// Triggers and requirements on a real svcmgr: app resources whose commands and triggers append
// to one record file through a small script, so order and environment are read from what
// the commands themselves wrote; failures from the exit code, the one stderr line and the
// marker files the apps leave.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { makeFerryRoot, requireRoot, runCli, uniquePrefix, type FerryRoot } from '../helpers/env.js';

interface World {
  root: FerryRoot;
  svc: string;
  dir: string;
  /** the record script: `rec <tag>` appends "<tag> <svcname> <rid or -> <action>" */
  rec: string;
  write(body: string): void;
  cli(args: string[]): ReturnType<typeof runCli>;
  records(): string[];
  events(name: string): Record<string, unknown>[];
}

function world(t: ExecutionContext): World {
  requireRoot();
  const root = makeFerryRoot('node1');
  const svc = `${uniquePrefix('tr')}.test`;
  const dir = fs.mkdtempSync(path.join(root.root, 'work-'));
  const rec = path.join(dir, 'rec');
  fs.writeFileSync(rec, `#!/bin/sh\necho "$1 $OPENSVC_SVCNAME \${OPENSVC_RID:--} $OPENSVC_ACTION" >> ${dir}/records\nexit \${2:-0}\n`, { mode: 0o755 });
  const w: World = {
    root,
    svc,
    dir,
    rec,
    write: (body) => fs.writeFileSync(path.join(root.services, `${svc}.env`), body),
    cli: (args) => runCli('svcmgr', ['-s', svc, ...args], root.env),
    records: () => (fs.existsSync(path.join(dir, 'records')) ? fs.readFileSync(path.join(dir, 'records'), 'utf8').trim().split('\n') : []),
    events: (name) =>
      fs.readFileSync(path.join(root.root, 'log', `${svc}.log`), 'utf8').trim().split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.event === name),
  };
  t.teardown(async () => {
    await w.cli(['stop']).catch(() => undefined);
    root.cleanup();
  });
  return w;
}

/** an app that records its own start/stop and is up while its marker exists */
function app(w: World, rid: string, extra: string[] = []): string {
  const marker = path.join(w.dir, `${rid.replace('#', '_')}.up`);
  return [
    `[${rid}]`,
    `start = /bin/sh -c "${w.rec} START; touch ${marker}"`,
    `stop = /bin/sh -c "${w.rec} STOP; rm -f ${marker}"`,
    `check = test -e ${marker}`,
    ...extra,
    '',
  ].join('\n');
}

const up = (w: World, rid: string): boolean => fs.existsSync(path.join(w.dir, `${rid.replace('#', '_')}.up`));

const allTriggers = (w: World, actions: string[] = ['start', 'stop']): string[] =>
  actions.flatMap((a) => ['pre', 'blocking_pre', 'post', 'blocking_post'].map((k) => `${k}_${a} = ${w.rec} ${k}_${a}`));

test('triggers run in order around each resource and the whole action, with the v1 environment', async (t) => {
  const w = world(t);
  w.write(
    `[DEFAULT]\nnodes = node1\n${allTriggers(w).join('\n')}\n\n` + app(w, 'app#1', allTriggers(w)) + app(w, 'app#2', allTriggers(w)),
  );
  const s = w.svc;
  const start = await w.cli(['start']);
  t.is(start.exitCode, 0, start.stderr);
  const around = (rid: string, a: 'start' | 'stop') => [
    `pre_${a} ${s} ${rid} ${a}`, `blocking_pre_${a} ${s} ${rid} ${a}`,
    `${a.toUpperCase()} ${s} ${rid} ${a}`,
    `post_${a} ${s} ${rid} ${a}`, `blocking_post_${a} ${s} ${rid} ${a}`,
  ];
  const whole = (a: 'start' | 'stop', inner: string[]) => [
    `pre_${a} ${s} - ${a}`, `blocking_pre_${a} ${s} - ${a}`, ...inner, `post_${a} ${s} - ${a}`, `blocking_post_${a} ${s} - ${a}`,
  ];
  // the app's own start command sees OPENSVC_RID too (the app driver's environment) but no OPENSVC_ACTION: drop the field
  const norm = (lines: string[]) => lines.map((l) => (l.startsWith('START ') || l.startsWith('STOP ') ? l.split(' ').slice(0, 3).join(' ') : l));
  const expectStart = whole('start', [...around('app#1', 'start'), ...around('app#2', 'start')]);
  t.deepEqual(norm(w.records()), norm(expectStart));
  t.true(up(w, 'app#1') && up(w, 'app#2'));
  t.is(w.events('service.trigger.run').length, 12, '4 of the service, 4 of each resource');

  // already up: no resource runs its triggers, the service's still do
  fs.rmSync(path.join(w.dir, 'records'));
  t.is((await w.cli(['start'])).exitCode, 0);
  t.deepEqual(w.records(), whole('start', []));

  fs.rmSync(path.join(w.dir, 'records'));
  const stop = await w.cli(['stop']);
  t.is(stop.exitCode, 0, stop.stderr);
  t.deepEqual(norm(w.records()), norm(whole('stop', [...around('app#2', 'stop'), ...around('app#1', 'stop')])));
  t.false(up(w, 'app#1') || up(w, 'app#2'));

  // a --rid action runs that resource's triggers, not the service's
  fs.rmSync(path.join(w.dir, 'records'));
  t.is((await w.cli(['start', '--rid', 'app#2'])).exitCode, 0);
  t.deepEqual(norm(w.records()), norm(around('app#2', 'start')));
});

test('a blocking pre_start failure aborts before the resource starts, and what started is rolled back', async (t) => {
  const w = world(t);
  w.write(`[DEFAULT]\nnodes = node1\n\n` + app(w, 'app#1') + app(w, 'app#2', [`blocking_pre_start = ${w.rec} blocked 3`, `post_start = ${w.rec} never`]));
  const r = await w.cli(['start']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /start failed at app#2: blocking_pre_start failed: .*rec blocked 3: exit 3; rolled back app#1/);
  t.false(up(w, 'app#2'));
  t.false(up(w, 'app#1'), 'app#1 was rolled back');
  t.deepEqual(w.records().map((l) => l.split(' ').slice(0, 3).join(' ')), [`START ${w.svc} app#1`, `blocked ${w.svc} app#2`, `STOP ${w.svc} app#1`], 'app#2 never started');
  const failed = w.events('service.trigger.failed');
  t.is(failed.length, 1);
  t.like(failed[0], { rid: 'app#2', trigger: 'blocking_pre_start', blocking: true, level: 50 });
});

test('a blocking post_start failure fails the start and the resource is rolled back down', async (t) => {
  const w = world(t);
  w.write(`[DEFAULT]\nnodes = node1\n\n` + app(w, 'app#1', [`blocking_post_start = /bin/sh -c "echo no quorum for the app >&2; exit 4"`]));
  const r = await w.cli(['start']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /start failed at app#1: blocking_post_start failed: .*exit 4: no quorum for the app; rolled back app#1/);
  t.false(up(w, 'app#1'));
  t.deepEqual(w.records().map((l) => l.split(' ')[0]), ['START', 'STOP']);
});

test('a blocking post_start of the service fails the start and rolls every resource back', async (t) => {
  const w = world(t);
  w.write(`[DEFAULT]\nnodes = node1\nblocking_post_start = /bin/false\n\n` + app(w, 'app#1') + app(w, 'app#2'));
  const r = await w.cli(['start']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /start failed at DEFAULT: blocking_post_start failed: \/bin\/false: exit 1; rolled back app#2, app#1/);
  t.false(up(w, 'app#1') || up(w, 'app#2'));
});

test('non-blocking failures are logged and the action succeeds', async (t) => {
  const w = world(t);
  w.write(`[DEFAULT]\nnodes = node1\npre_stop = /nonexistent/hook\n\n` + app(w, 'app#1', [`pre_start = ${w.rec} soft 2`, 'post_start = /nonexistent/hook']));
  const r = await w.cli(['start']);
  t.is(r.exitCode, 0, r.stderr);
  t.true(up(w, 'app#1'));
  const s = await w.cli(['stop']);
  t.is(s.exitCode, 0, s.stderr);
  t.false(up(w, 'app#1'));
  const failed = w.events('service.trigger.failed');
  t.deepEqual(failed.map((e) => [e.rid ?? '-', e.trigger, e.blocking, e.level]), [
    ['app#1', 'pre_start', false, 40],
    ['app#1', 'post_start', false, 40],
    ['-', 'pre_stop', false, 40],
  ]);
  t.regex(String(failed[1]!.err), /cannot run \/nonexistent\/hook: command not found/);
});

test('a trigger past trigger_timeout is killed and blocks', async (t) => {
  const w = world(t);
  w.write(`[DEFAULT]\nnodes = node1\ntrigger_timeout = 500ms\n\n` + app(w, 'app#1', ['blocking_pre_start = sleep 30']));
  const began = Date.now();
  const r = await w.cli(['start']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /blocking_pre_start failed: sleep 30: timed out after 500ms/);
  t.true(Date.now() - began < 15_000);
  t.false(up(w, 'app#1'));
});

test('start_requires / stop_requires: met in plan order, unmet fails with the message before anything runs', async (t) => {
  const w = world(t);
  w.write(
    `[DEFAULT]\nnodes = node1\n\n` +
      app(w, 'app#1', ['stop_requires = app#2(down)']) +
      app(w, 'app#2', ['start_requires = app#1(up)', `pre_start = ${w.rec} pre2`]),
  );
  t.is((await w.cli(['start'])).exitCode, 0);
  t.true(up(w, 'app#1') && up(w, 'app#2'));
  t.is((await w.cli(['stop'])).exitCode, 0);
  t.false(up(w, 'app#1') || up(w, 'app#2'));
  fs.rmSync(path.join(w.dir, 'records'));
  // app#1 stays down: app#2 alone may not start
  const r = await w.cli(['start', '--rid', 'app#2']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /start failed at app#2: start requires app#1 in state up, current state down$/m);
  t.false(up(w, 'app#2'));
  t.deepEqual(w.records(), [], 'neither its trigger nor its start ran');
  t.like(w.events('service.requires.unmet')[0], { rid: 'app#2', action: 'start', requires: 'app#1', states: ['up'], current: 'down' });
});

test('a requirement on an unknown resource is refused at load with file:line, nothing runs', async (t) => {
  const w = world(t);
  w.write(`[DEFAULT]\nnodes = node1\n\n` + app(w, 'app#1', ['start_requires = fs#1(up)']));
  const r = await w.cli(['start']);
  t.not(r.exitCode, 0);
  t.regex(r.stderr, new RegExp(`${w.svc.replace(/\./g, '\\.')}\\.env:8: start_requires of \\[app#1\\]: no resource fs#1 in this service`));
  t.false(up(w, 'app#1'));
  t.deepEqual(w.records(), []);
});
