// Task rules as pure functions: who may run a task, which scheduled tasks are due, the exit
// code of svcmgr run, and the validation of [task#N] sections.
import test from 'ava';
import { refuseRun, runsHereForTasks } from '../../src/service/tasks.js';
import { dueTasks } from '../../src/daemon/task-scheduler.js';
import { runExitCode } from '../../src/cli/commands/run.js';
import { parseSchedule, type Schedule } from '../../src/resources/schedule.js';
import { driver } from '../../src/resources/task.js';
import { TableValues } from '../../src/config/values.js';
import { commonResourceKeywords, defaultKeywords } from '../../src/config/keywords.js';

const sched = (v: string): Schedule => parseSchedule(v) as Schedule;

test('a task runs only where the service runs, confirmed when it asks for it', (t) => {
  const plain = { confirmation: false, disabled: false };
  t.is(refuseRun(plain, { confirm: false, force: false, runsHere: true }, 's', 'task#1'), undefined);
  t.regex(refuseRun(plain, { confirm: false, force: false, runsHere: false }, 's', 'task#1')!, /not up on this node/);
  t.is(refuseRun(plain, { confirm: false, force: true, runsHere: false }, 's', 'task#1'), undefined, '--force');
  const danger = { confirmation: true, disabled: false };
  t.regex(refuseRun(danger, { confirm: false, force: true, runsHere: true }, 's', 'task#1')!, /needs confirmation: .*--confirm/);
  t.is(refuseRun(danger, { confirm: true, force: false, runsHere: true }, 's', 'task#1'), undefined);
  t.regex(refuseRun({ confirmation: false, disabled: true }, { confirm: true, force: true, runsHere: true }, 's', 'task#1')!, /disabled/);
});

test('runs here: up, warn, standby up, or nothing to report after a start', (t) => {
  for (const a of ['up', 'warn', 'stdby up'] as const) t.true(runsHereForTasks(a, false), a);
  for (const a of ['down', 'stdby down', 'undef'] as const) t.false(runsHereForTasks(a, true), a);
  t.true(runsHereForTasks('n/a', true));
  t.false(runsHereForTasks('n/a', false));
});

test('due tasks: scheduled, enabled, not needing confirmation, due by their schedule', (t) => {
  const now = 1_000_000_000;
  const base = { disabled: false, confirmation: false };
  const tasks = [
    { ...base, rid: 'task#1', schedule: sched('@1m'), lastAt: undefined },
    { ...base, rid: 'task#2', schedule: sched('@1m'), lastAt: now - 30_000 },
    { ...base, rid: 'task#3', schedule: sched('@1m'), lastAt: now - 60_000 },
    { ...base, rid: 'task#4', schedule: undefined, lastAt: undefined },
    { ...base, rid: 'task#5', schedule: sched('@1m'), lastAt: undefined, disabled: true },
    { ...base, rid: 'task#6', schedule: sched('@1m'), lastAt: undefined, confirmation: true },
  ];
  t.deepEqual(dueTasks(tasks, now), ['task#1', 'task#3']);
});

test('svcmgr run exit code: the command\'s, 124 on timeout, 128+n on a signal, 1 not started', (t) => {
  t.is(runExitCode({ code: 0, timedOut: false }), 0);
  t.is(runExitCode({ code: 3, timedOut: false }), 3);
  t.is(runExitCode({ code: undefined, signal: 'SIGKILL', timedOut: true }), 124);
  t.is(runExitCode({ code: undefined, signal: 'SIGTERM', timedOut: false }), 143);
  t.is(runExitCode({ code: undefined, timedOut: false, error: 'unknown user x' }), 1);
});

test('task checks: command required, schedule parsed, no schedule with confirmation', (t) => {
  const kw = (v: Record<string, string>) => TableValues.from([...driver.keywords, ...commonResourceKeywords], v);
  const check = (v: Record<string, string>) => driver.check!(kw(v), { type: 'host', nodes: ['n1'], rid: 'task#1', defaults: TableValues.from(defaultKeywords, {}) }).map((c) => c.message);
  t.deepEqual(check({ command: '/bin/true', schedule: '@5m' }), []);
  t.deepEqual(check({ schedule: '@5m' }), ['missing required keyword "command" for a task']);
  t.regex(check({ command: '/bin/true', schedule: '5m' })[0]!, /^bad schedule "5m"/);
  t.regex(check({ command: '/bin/true', schedule: '@5m', confirmation: 'true' })[0]!, /cannot have a schedule/);
});
