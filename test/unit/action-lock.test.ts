// The per-service action lock across real processes: a stale lock raced for by many waiters
// is taken by exactly one at a time, a SIGKILLed holder's lock is taken over, and a live
// holder past the wait gives the one-line error naming its action and pid.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { acquireActionLock } from '../../src/service/lock.js';
import { UserError } from '../../src/vocab/errors.js';

const lockModule = fileURLToPath(new URL('../../src/service/lock.js', import.meta.url));
const scratch: string[] = [];
const children: ChildProcess[] = [];
test.after.always(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-actionlock-'));
  scratch.push(dir);
  return dir;
}

// waits until `startAt`, then `rounds` times: take the lock, log enter/exit around a short hold
const worker = `
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
const { acquireActionLock } = await import(process.env.LOCK_MODULE);
const [dir, journal, startAt, rounds] = process.argv.slice(1);
await sleep(Math.max(0, Number(startAt) - Date.now()));
for (let i = 0; i < Number(rounds); i++) {
  const lock = await acquireActionLock(dir, 'svc', 'act' + process.pid, 120000);
  fs.appendFileSync(journal, 'enter ' + process.pid + '\\n');
  await sleep(5);
  fs.appendFileSync(journal, 'exit ' + process.pid + '\\n');
  lock.release();
}
`;

function run(args: string[]): ChildProcess {
  const c = spawn(process.execPath, ['--input-type=module', '-e', worker, ...args], { env: { ...process.env, LOCK_MODULE: lockModule }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(c);
  return c;
}

const exited = (c: ChildProcess): Promise<number | null> => new Promise((resolve) => {
  if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode);
  else c.once('exit', (code) => resolve(code));
});

test('a stale lock raced for by many processes: exactly one holder at a time', async (t) => {
  t.timeout(120_000);
  const dir = stateDir();
  const journal = path.join(dir, 'journal');
  // a lock left by a dead holder (pid above pid_max's ceiling: never a process)
  fs.writeFileSync(path.join(dir, 'action.lock'), JSON.stringify({ pid: 2 ** 22 + 1, start: '1', boot: '', pidns: '', purpose: 'start', since: new Date().toISOString(), token: 'dead' }));
  const n = 8;
  const rounds = 5;
  const startAt = Date.now() + 1500; // all start together, after node is up in every child
  const procs = Array.from({ length: n }, () => run([dir, journal, String(startAt), String(rounds)]));
  const codes = await Promise.all(procs.map(exited));
  t.deepEqual(codes, Array(n).fill(0));
  const lines = fs.readFileSync(journal, 'utf8').trim().split('\n');
  t.is(lines.length, 2 * n * rounds);
  for (let i = 0; i < lines.length; i += 2) {
    const [enter, exit] = [lines[i]!.split(' '), lines[i + 1]!.split(' ')];
    t.is(enter[0], 'enter', `line ${i}: ${lines[i]}`);
    t.deepEqual(exit, ['exit', enter[1]], `line ${i + 1}: another holder entered while ${enter[1]} held the lock`);
  }
  t.false(fs.existsSync(path.join(dir, 'action.lock')), 'the last holder released the lock');
});

test('a SIGKILLed holder\'s lock is taken over; a live holder past the wait is named in one line', async (t) => {
  t.timeout(60_000);
  const dir = stateDir();
  const journal = path.join(dir, 'journal');
  const holderScript = `
const { acquireActionLock } = await import(process.env.LOCK_MODULE);
await acquireActionLock(process.argv[1], 'svc', 'start', 0);
console.log('held');
setInterval(() => {}, 1000);
`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', holderScript, dir], { env: { ...process.env, LOCK_MODULE: lockModule }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(holder);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('held')) resolve(); });
    holder.once('exit', () => reject(new Error('holder exited before taking the lock')));
  });
  const err = await t.throwsAsync(acquireActionLock(dir, 'svc', 'stop', 300));
  t.true(err instanceof UserError);
  t.regex(err!.message, new RegExp(`^service svc: another action is running \\(start, pid ${holder.pid}, since \\S+\\); retry later or raise --waitlock$`));
  holder.kill('SIGKILL');
  await exited(holder);
  t.true(fs.existsSync(path.join(dir, 'action.lock')), 'the killed holder left its lock behind');
  const lock = await acquireActionLock(dir, 'svc', 'stop', 0);
  lock.release();
  // and a worker process takes it too (nothing left wedged)
  t.is(await exited(run([dir, journal, '0', '1'])), 0);
});
