// The per-file write lock: which holders are stale, and that a live one is waited for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { acquireFileLock, FOREIGN_NS_STALE_MS, holderAlive, lockFileOf, LockTimeout, processStart, withFileLock } from '../../src/util/file-lock.js';
import type { LockHolder } from '../../src/util/file-lock.js';

const scratch: string[] = [];
test.after.always(() => {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

function target(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-lock-'));
  scratch.push(dir);
  const file = path.join(dir, 'svc.env');
  fs.writeFileSync(file, '[DEFAULT]\n');
  return file;
}

const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const pidns = fs.readlinkSync('/proc/self/ns/pid');
const holder = (over: Partial<LockHolder>): LockHolder => ({
  pid: process.pid,
  start: processStart(process.pid),
  boot,
  pidns,
  purpose: 'test',
  since: new Date().toISOString(),
  token: 'abc',
  ...over,
});

test('holderAlive: this process is alive; a reused pid, another boot or a dead pid are not', (t) => {
  t.true(holderAlive(holder({}), 0));
  t.true(holderAlive(holder({}), 10 * FOREIGN_NS_STALE_MS), 'a live holder is live however long it holds');
  t.not(processStart(process.pid), '');
  // pid 1 is alive, but it is not the process that took the lock (other start time)
  t.false(holderAlive(holder({ pid: 1, start: '1' === processStart(1) ? '2' : '1' }), 0));
  t.false(holderAlive(holder({ boot: '00000000-0000-0000-0000-000000000000' }), 0));
  t.false(holderAlive(holder({ pid: 2 ** 22 + 1 }), 0)); // above pid_max's ceiling: never a process
});

test('holderAlive: a holder in another pid namespace is live until its lock is old', (t) => {
  // its pid means nothing here: even a pid that does not exist in our namespace
  const foreign = holder({ pidns: 'pid:[1]', pid: 2 ** 22 + 1 });
  t.true(holderAlive(foreign, 1_000));
  t.false(holderAlive(foreign, FOREIGN_NS_STALE_MS + 1));
});

for (const [what, content] of [
  ['a dead holder', JSON.stringify(holder({ pid: 2 ** 22 + 1 }))],
  ['a reused pid', JSON.stringify(holder({ pid: 1, start: 'not-init' }))],
  ['unreadable content', 'garbage{'],
  ['an empty file (power loss before the data reached the disk)', ''],
] as const) {
  test(`a lock left by ${what} is broken at once`, async (t) => {
    const file = target();
    fs.writeFileSync(lockFileOf(file), content);
    const started = Date.now();
    const lock = await acquireFileLock(file, { waitMs: 0, purpose: 'next' });
    t.true(Date.now() - started < 5_000);
    t.is((JSON.parse(fs.readFileSync(lockFileOf(file), 'utf8')) as LockHolder).pid, process.pid);
    t.true(lock.release());
    t.deepEqual(fs.readdirSync(path.dirname(file)), ['svc.env']);
  });
}

test('a live holder is waited for, then LockTimeout names it; the waiter leaves no file', async (t) => {
  const file = target();
  const first = await acquireFileLock(file, { waitMs: 0, purpose: 'first writer' });
  const started = Date.now();
  const e = await t.throwsAsync(acquireFileLock(file, { waitMs: 300, purpose: 'second' }), { instanceOf: LockTimeout });
  t.true(Date.now() - started >= 300);
  t.is(e?.holder.pid, process.pid);
  t.is(e?.holder.purpose, 'first writer');
  t.true(first.release());
  t.deepEqual(fs.readdirSync(path.dirname(file)), ['svc.env']);
});

test('the waiter gets the lock as soon as the holder releases it', async (t) => {
  const file = target();
  const first = await acquireFileLock(file, { waitMs: 0, purpose: 'first' });
  const order: string[] = [];
  const second = withFileLock(file, { waitMs: 30_000, purpose: 'second' }, () => order.push('second'));
  await new Promise((r) => setTimeout(r, 200));
  order.push('first done');
  first.release();
  await second;
  t.deepEqual(order, ['first done', 'second']);
});

test('release never removes a lock that is not its own', async (t) => {
  const file = target();
  const lock = await acquireFileLock(file, { waitMs: 0, purpose: 'mine' });
  const other = JSON.stringify(holder({ token: 'someone-else' }));
  fs.writeFileSync(lockFileOf(file), other);
  t.false(lock.release());
  t.is(fs.readFileSync(lockFileOf(file), 'utf8'), other);
});
