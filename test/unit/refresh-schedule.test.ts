import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileSig } from '../../src/service/config-cache.js';
import { changeSignature, phaseOf, RefreshSchedule, refreshDue, type DueInput } from '../../src/daemon/refresh-schedule.js';

const base: DueInput = { now: 100_000, lastFull: 90_000, lastMonitor: 90_000, statusMs: 60_000, monitorMs: 30_000, monitors: true, changed: false, tickMs: 1_000 };

test('nothing due between the intervals', (t) => {
  t.is(refreshDue(base), undefined);
});

test('a full read when never read, when changed, or when status_interval elapsed', (t) => {
  t.is(refreshDue({ ...base, lastFull: undefined, lastMonitor: undefined }), 'full');
  t.is(refreshDue({ ...base, changed: true }), 'full');
  t.is(refreshDue({ ...base, now: 90_000 + 60_000 }), 'full');
  // within half a tick of the due time: now, not a whole tick late
  t.is(refreshDue({ ...base, now: 90_000 + 60_000 - 500 }), 'full');
  t.not(refreshDue({ ...base, now: 90_000 + 60_000 - 501 }), 'full');
});

test('a monitor read every monitor_interval, only where monitors apply', (t) => {
  t.is(refreshDue({ ...base, now: 120_000 }), 'monitor');
  t.is(refreshDue({ ...base, now: 119_499 }), undefined);
  t.is(refreshDue({ ...base, now: 120_000, monitors: false }), undefined);
  t.is(refreshDue({ ...base, now: 125_000, lastMonitor: 110_000 }), undefined);
});

test('the schedule spreads the first monitor reads and follows the signature', (t) => {
  const s = new RefreshSchedule(1_000);
  const o = { statusMs: 60_000, monitorMs: 30_000, monitors: true, sig: 'a' };
  t.is(s.due('x', 0, o), 'full');
  s.done('x', 'full', 0, 'a', 30_000);
  const first = Math.ceil((1 - phaseOf('x')) * 30_000);
  t.is(s.due('x', first - 600, o), undefined);
  t.is(s.due('x', first, o), 'monitor');
  t.is(s.due('x', 1_000, { ...o, sig: 'b' }), 'full');
  s.done('x', 'full', 1_000, 'b', 30_000);
  t.is(s.due('x', 1_000 + 29_000, { ...o, sig: 'b' }), undefined);
  t.is(s.due('x', 1_000 + 30_000, { ...o, sig: 'b' }), 'monitor');
});

test('the signature changes with the file and with entries of the var dir', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-sig-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's.env');
  const v = path.join(dir, 'var');
  fs.mkdirSync(v);
  fs.writeFileSync(file, '[DEFAULT]\n');
  const a = changeSignature(fileSig(file), fileSig(v));
  t.is(changeSignature(fileSig(file), fileSig(v)), a);
  fs.writeFileSync(path.join(v, 'frozen'), 'x');
  const b = changeSignature(fileSig(file), fileSig(v));
  t.not(b, a);
  fs.appendFileSync(file, 'nodes = n1\n');
  t.not(changeSignature(fileSig(file), fileSig(v)), b);
});
