// The one schedule parser (tasks and rsync syncs) and the due computation, as pure functions.
import test from 'ava';
import { isDue, nextRun, parseSchedule, type Schedule } from '../../src/resources/schedule.js';

const sched = (v: string): Schedule => {
  const s = parseSchedule(v);
  if (!s || 'error' in s) throw new Error(`not a schedule: ${v}`);
  return s;
};
/** local time today */
const at = (h: number, m: number, s = 0): number => new Date(2026, 5, 10, h, m, s).getTime();

test('intervals', (t) => {
  t.is(parseSchedule(''), undefined);
  t.is(parseSchedule('   '), undefined);
  t.deepEqual(sched('@5m').rules, [{ window: undefined, intervalMs: 300_000 }]);
  t.deepEqual(sched(' @1m30s ').rules, [{ window: undefined, intervalMs: 90_000 }]);
  t.is(sched('@2h').rules[0]!.intervalMs, 7_200_000);
  t.is(sched('@10s').rules[0]!.intervalMs, 10_000);
});

test('windows', (t) => {
  t.deepEqual(sched('02:00-04:00@30m').rules, [{ window: { start: 120, end: 240 }, intervalMs: 1_800_000 }]);
  // no interval: once per window
  t.deepEqual(sched('02:00-02:59').rules, [{ window: { start: 120, end: 179 }, intervalMs: 3_600_000 }]);
  t.deepEqual(sched('22:00-01:59').rules[0]!.window, { start: 1320, end: 119 });
  t.is(sched('08:00-12:00@10m 14:00-18:00@1h').rules.length, 2);
});

test('bad schedules name the rule', (t) => {
  for (const bad of ['5m', '@10ms', '@', '@x', '25:00-26:00', '02:00', '02:00-', '2-3@5m', '02:00-03:00-04:00', '02:60-03:00@1m']) {
    const r = parseSchedule(bad);
    t.true(r !== undefined && 'error' in r, bad);
    if (r && 'error' in r) t.regex(r.error, /^bad schedule ".*": expected @<interval>/, bad);
  }
  t.like(parseSchedule('@5m 5m'), { error: 'bad schedule "@5m 5m": "5m": expected @<interval> (at least 1s, like @5m) or HH:MM-HH:MM[@<interval>]' });
});

test('an interval: due at once when never run, then one interval after the last run', (t) => {
  const s = sched('@5m');
  t.true(isDue(s, undefined, at(10, 0)));
  t.false(isDue(s, at(10, 0), at(10, 4, 59)));
  t.true(isDue(s, at(10, 0), at(10, 5)));
  t.is(nextRun(s, at(10, 0), at(10, 1)), at(10, 5));
  // far overdue (a daemon down for an hour): due now, not once per missed interval
  t.is(nextRun(s, at(9, 0), at(10, 1)), at(10, 1));
});

test('a window: only inside it, and at its start when the interval passed outside it', (t) => {
  const s = sched('02:00-04:00@30m');
  t.false(isDue(s, undefined, at(1, 59)));
  t.is(nextRun(s, undefined, at(1, 0)), at(2, 0));
  t.true(isDue(s, undefined, at(2, 0)));
  t.true(isDue(s, undefined, at(4, 0, 59)), 'end minute included');
  t.false(isDue(s, undefined, at(4, 1)));
  t.false(isDue(s, at(2, 0), at(2, 29)));
  t.true(isDue(s, at(2, 0), at(2, 30)));
  // after the window: next day's start
  t.is(nextRun(s, at(3, 50), at(4, 30)), new Date(2026, 5, 11, 2, 0).getTime());
});

test('once per window; a window across midnight', (t) => {
  const once = sched('02:00-02:59');
  t.true(isDue(once, at(2, 5) - 86_400_000, at(2, 0)), 'yesterday\'s run: due at today\'s window start');
  t.false(isDue(once, at(2, 5), at(2, 30)), 'already run in this window');
  const night = sched('22:00-01:59@1h');
  t.true(isDue(night, undefined, at(23, 0)));
  t.true(isDue(night, undefined, at(0, 30)));
  t.false(isDue(night, undefined, at(12, 0)));
  t.is(nextRun(night, undefined, at(12, 0)), at(22, 0));
});

test('several rules: the earliest wins', (t) => {
  const s = sched('08:00-12:00@10m 14:00-18:00@1h');
  t.is(nextRun(s, at(11, 55), at(12, 30)), at(14, 0));
  t.is(nextRun(s, at(9, 0), at(9, 5)), at(9, 10));
});
