// [task#N] run on demand through the real svcmgr: real commands, their exit codes, a timeout
// that kills the command and what it started, the confirmation refusal, user = nobody, the
// refusal where the service is not up, no overlapping runs, and print schedule.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { makeFerryRoot, requireRoot, runCli, uniquePrefix, type FerryRoot } from '../helpers/env.js';
import { schemaErrors } from '../helpers/schemas.js';
import { pidAlive } from '../../src/util/pid-alive.js';

interface World {
  root: FerryRoot;
  svc: string;
  dir: string;
  cli(args: string[]): ReturnType<typeof runCli>;
  log(): { event?: string; rid?: string; line?: string; code?: number; timedOut?: boolean }[];
}

/** A service whose app is up while `<dir>/up` exists, with the given task sections. */
function world(t: { teardown(fn: () => void): void }, tasks: string): World {
  requireRoot();
  const root = makeFerryRoot('node1');
  const svc = `${uniquePrefix('task')}.test`;
  // nobody reaches the work dir (user = nobody writes there)
  fs.chmodSync(root.root, 0o711);
  const dir = fs.mkdtempSync(path.join(root.root, 'work-'));
  fs.chmodSync(dir, 0o777);
  fs.writeFileSync(
    path.join(root.services, `${svc}.env`),
    `[DEFAULT]\nnodes = node1\n\n[app#1]\nstart = /usr/bin/touch ${dir}/up\nstop = /bin/rm -f ${dir}/up\ncheck = /usr/bin/test -e ${dir}/up\n\n${tasks.replaceAll('@DIR@', dir)}`,
  );
  t.teardown(() => root.cleanup());
  return {
    root,
    svc,
    dir,
    cli: (args) => runCli('svcmgr', ['-s', svc, ...args], root.env),
    log: () =>
      fs
        .readFileSync(path.join(root.root, 'log', `${svc}.log`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ReturnType<World['log']>[number]),
  };
}

test('run: a real command on the node running the service, its exit code and output', async (t) => {
  const w = world(t, `[task#1]\ncommand = /bin/sh -c "echo ran > @DIR@/out; echo to-stdout; echo to-stderr >&2; exit 3"\n`);
  const refused = await w.cli(['run', '--rid', 'task#1']);
  t.is(refused.exitCode, 1, 'the service is not up here');
  t.regex(refused.stderr, /is not up on this node/);
  t.false(fs.existsSync(path.join(w.dir, 'out')), 'nothing ran');

  t.is((await w.cli(['start'])).exitCode, 0);
  const r = await w.cli(['run', '--rid', 'task#1']);
  t.is(r.exitCode, 3, r.stderr);
  t.is(fs.readFileSync(path.join(w.dir, 'out'), 'utf8'), 'ran\n');
  t.regex(r.stdout, /to-stdout/);
  t.regex(r.stderr, /to-stderr/);
  const log = w.log().filter((e) => e.rid === 'task#1');
  const seq = log.map((e) => e.event).filter((e) => e?.startsWith('task.'));
  t.deepEqual(seq, ['task.run.begin', 'task.output', 'task.output', 'task.run.end']);
  t.deepEqual(log.filter((e) => e.event === 'task.output').map((e) => e.line).sort(), ['to-stderr', 'to-stdout']);
  t.like(log.find((e) => e.event === 'task.run.end'), { code: 3, timedOut: false });

  const st = await w.cli(['print', 'status']);
  t.regex(st.stdout, /task#1 .* n\/a .*\n.*# last run \d+s ago: exit 3/);
  const json = await w.cli(['run', '--rid', 'task#1', '--format', 'json']);
  t.is(json.exitCode, 3);
  const rep = JSON.parse(json.stdout) as unknown;
  t.is(schemaErrors('svcmgr-run', rep), '');
  t.like(rep, { rid: 'task#1', code: 3, timedOut: false });
  t.is((await w.cli(['run', '--rid', 'app#1'])).exitCode, 64, 'only tasks run');
  t.is((await w.cli(['run', '--rid', 'task#9'])).exitCode, 64);
});

test('run: a task is neither started nor stopped with the service', async (t) => {
  const w = world(t, `[task#1]\ncommand = /usr/bin/touch @DIR@/ran\n`);
  t.is((await w.cli(['start'])).exitCode, 0);
  t.is((await w.cli(['stop'])).exitCode, 0);
  t.false(fs.existsSync(path.join(w.dir, 'ran')));
  const forced = await w.cli(['run', '--rid', 'task#1', '--force']);
  t.is(forced.exitCode, 0, forced.stderr);
  t.true(fs.existsSync(path.join(w.dir, 'ran')), '--force runs it where the service is down');
});

test('run: timeout kills the command and what it started', async (t) => {
  const w = world(t, `[task#1]\ncommand = /bin/sh -c "sleep 60 & echo $! > @DIR@/child; wait"\ntimeout = 1s\n`);
  t.is((await w.cli(['start'])).exitCode, 0);
  const t0 = Date.now();
  const r = await w.cli(['run', '--rid', 'task#1']);
  t.is(r.exitCode, 124, r.stderr);
  t.true(Date.now() - t0 < 15_000);
  const child = Number(fs.readFileSync(path.join(w.dir, 'child'), 'utf8'));
  // gone, or a zombie waiting for init to reap it: not running
  const state = (): string => {
    try {
      return fs.readFileSync(`/proc/${child}/stat`, 'utf8').replace(/^.*\) /, '')[0]!;
    } catch {
      return 'gone';
    }
  };
  t.true(!pidAlive(child) || state() === 'Z', `the sleep the task started is killed with it (state ${state()})`);
  t.like(w.log().find((e) => e.event === 'task.run.end'), { timedOut: true });
});

test('run: confirmation = true refuses without --confirm', async (t) => {
  const w = world(t, `[task#1]\ncommand = /usr/bin/touch @DIR@/restored\nconfirmation = true\n`);
  t.is((await w.cli(['start'])).exitCode, 0);
  const r = await w.cli(['run', '--rid', 'task#1']);
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /needs confirmation/);
  t.is(r.stderr.trim().split('\n').length, 1, 'one line');
  t.false(fs.existsSync(path.join(w.dir, 'restored')));
  t.is((await w.cli(['run', '--rid', 'task#1', '--confirm'])).exitCode, 0);
  t.true(fs.existsSync(path.join(w.dir, 'restored')));
});

test('run: user = nobody runs the command as nobody', async (t) => {
  const w = world(t, `[task#1]\ncommand = /bin/sh -c "id -un > @DIR@/who; id -u >> @DIR@/who"\nuser = nobody\n`);
  t.is((await w.cli(['start'])).exitCode, 0);
  const r = await w.cli(['run', '--rid', 'task#1']);
  t.is(r.exitCode, 0, r.stderr);
  const file = path.join(w.dir, 'who');
  t.is(fs.readFileSync(file, 'utf8').split('\n')[0], 'nobody');
  t.not(fs.statSync(file).uid, 0, 'the file belongs to nobody');
});

test('run: two runs of one task never overlap', async (t) => {
  const w = world(t, `[task#1]\ncommand = /bin/sleep 10\n`);
  t.is((await w.cli(['start'])).exitCode, 0);
  const first = w.cli(['run', '--rid', 'task#1']);
  const lock = path.join(w.root.root, 'var', 'services', w.svc, 'task#1.task.lock');
  for (let i = 0; i < 300 && !fs.existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
  const second = await w.cli(['run', '--rid', 'task#1']);
  t.is(second.exitCode, 1);
  t.regex(second.stderr, /already running/);
  t.is((await first).exitCode, 0);
});

test('print schedule: tasks with their schedule, last and next run; json by its schema', async (t) => {
  const w = world(t, `[task#1]\ncommand = /bin/true\nschedule = @10m\n\n[task#2]\ncommand = /bin/true\n\n[task#3]\ncommand = /bin/true\nschedule = 02:00-04:00@30m\n`);
  const before = await w.cli(['print', 'schedule']);
  t.is(before.exitCode, 0, before.stderr);
  t.regex(before.stdout, /^SERVICE +ACTION +RID +LAST RUN +NEXT RUN +SCHEDULE$/m);
  t.regex(before.stdout, new RegExp(`${w.svc.replace('.', '\\.')} +run +task#1 +- +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +@10m`));
  t.regex(before.stdout, /run +task#2 +- +- +-$/m);
  t.is((await w.cli(['start'])).exitCode, 0);
  t.is((await w.cli(['run', '--rid', 'task#1'])).exitCode, 0);
  const j = await w.cli(['print', 'schedule', '--format', 'json']);
  const rows = JSON.parse(j.stdout) as { rid: string; schedule: string; last_run: string | null; next_run: string | null }[];
  t.is(schemaErrors('svcmgr-print-schedule', rows), '');
  const r1 = rows.find((r) => r.rid === 'task#1')!;
  t.is(r1.schedule, '@10m');
  t.is(Date.parse(r1.next_run!) - Date.parse(r1.last_run!), 600_000);
  t.like(rows.find((r) => r.rid === 'task#2'), { schedule: '', last_run: null, next_run: null });
  const r3 = rows.find((r) => r.rid === 'task#3')!;
  const h = new Date(Date.parse(r3.next_run!));
  t.true(h.getHours() >= 2 && h.getHours() <= 4, 'the next run is inside the window');
});
