// The daemon's command runner (src/util/command-runner.ts) against the direct spawn of
// src/resources/app-command.ts: real perl, real /bin/sh, real processes. The module's state is
// per process, so the tests run one at a time, each enabling it and disabling it at its end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { runAppCommand, type CommandResult } from '../../src/resources/app-command.js';
import { commandRunnerPid, decodeWaitStatus, disableCommandRunner, enableCommandRunner, encodeRequest } from '../../src/util/command-runner.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(t: ExecutionContext): { dir: string; events: Record<string, unknown>[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-runner-'));
  const events: Record<string, unknown>[] = [];
  enableCommandRunner(pino({ level: 'debug' }, { write: (l: string) => void events.push(JSON.parse(l) as Record<string, unknown>) }));
  t.teardown(() => {
    disableCommandRunner();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, events };
}

interface RunOpts {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  killGraceMs?: number;
}

const baseEnv = (): Record<string, string> => ({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' });

/** readOnly: through the runner when it is enabled; not: the direct spawn */
function run(dir: string, argv: string[], viaRunner: boolean, o: RunOpts = {}): Promise<CommandResult> {
  return runAppCommand(argv, {
    timeoutMs: o.timeoutMs ?? 30_000,
    killGraceMs: o.killGraceMs,
    env: o.env ?? baseEnv(),
    cwd: o.cwd ?? '/',
    output: { mode: 'scratch', dir: path.join(dir, 'scratch'), tag: 'test' },
    readOnly: viaRunner,
  });
}

/** what a caller sees of a run, without its duration */
const seen = (r: CommandResult) => ({ exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, spawnError: r.spawnError, stdout: r.stdout, stderr: r.stderr });

/** The command's parent: the runner, or this process for a direct spawn. */
const PARENT = ['/bin/sh', '-c', 'tr "\\0" " " < /proc/$PPID/cmdline'];

async function both(t: ExecutionContext, dir: string, argv: string[], o: RunOpts = {}): Promise<CommandResult> {
  const viaRunner = await run(dir, argv, true, o);
  const direct = await run(dir, argv, false, o);
  t.deepEqual(seen(viaRunner), seen(direct), `same result both ways for ${JSON.stringify(argv)}`);
  return viaRunner;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(50);
  }
  return cond();
}

test.serial('a read-only scratch command goes through the runner; the direct spawn, a command not read-only and a disabled runner do not', async (t) => {
  const { dir, events } = setup(t);
  const r = await run(dir, PARENT, true);
  t.is(r.exitCode, 0);
  t.regex(r.stdout, /^ferry-command-runner/);
  t.true((await run(dir, PARENT, false)).stdout.includes(process.argv[1] ?? 'node'), 'direct: the parent is this process');
  t.is(events.filter((e) => e.event === 'command-runner.started').length, 1);
  const pid = commandRunnerPid();
  t.truthy(pid);
  // the scratch files are removed once read
  t.deepEqual(fs.readdirSync(path.join(dir, 'scratch')), []);
  disableCommandRunner();
  t.false((await run(dir, PARENT, true)).stdout.startsWith('ferry-command-runner'), 'disabled: spawned directly');
  t.true(await until(() => !alive(pid!)), 'EOF on its stdin ends the runner');
  enableCommandRunner(pino({ level: 'silent' }));
});

test.serial('exit codes 0, 1, 3 and a signal the command got (not a timeout) are reported as by the direct spawn', async (t) => {
  const { dir } = setup(t);
  for (const code of [0, 1, 3, 130]) t.is((await both(t, dir, ['/bin/sh', '-c', `exit ${code}`])).exitCode, code);
  const killed = await both(t, dir, ['/bin/sh', '-c', 'kill -KILL $$']);
  t.is(killed.exitCode, undefined);
  t.is(killed.signal, 'SIGKILL');
  t.is((await both(t, dir, ['/bin/sh', '-c', 'kill -SEGV $$'])).signal, 'SIGSEGV');
});

test.serial('the environment is exactly the given one, in its order; nothing of ours leaks in', async (t) => {
  const { dir } = setup(t);
  process.env.FERRY_RUNNER_TEST_LEAK = 'leak';
  t.teardown(() => delete process.env.FERRY_RUNNER_TEST_LEAK);
  const env = { ZED: 'last letter first', PATH: '/usr/bin:/bin', EMPTY: '', MULTI: 'a\nb\n', QUOTE: `it's "x" $HOME *`, EQ: 'a=b=c', 'DOT.NAME': 'odd but legal' };
  const r = await both(t, dir, ['/usr/bin/env'], { env });
  t.is(r.stdout, Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
  t.false(r.stdout.includes('FERRY_RUNNER_TEST_LEAK'));
});

test.serial('cwd, through a symlink and .., is the one chdir(2) gives', async (t) => {
  const { dir } = setup(t);
  fs.mkdirSync(path.join(dir, 'real', 'sub'), { recursive: true });
  fs.symlinkSync(path.join(dir, 'real', 'sub'), path.join(dir, 'link'));
  t.is((await both(t, dir, ['/bin/pwd', '-P'], { cwd: dir })).stdout, `${fs.realpathSync(dir)}\n`);
  // chdir resolves the link then .., a lexical normalisation would not
  t.is((await both(t, dir, ['/bin/pwd', '-P'], { cwd: `${dir}/link/..` })).stdout, `${fs.realpathSync(path.join(dir, 'real'))}\n`);
});

test.serial('words with spaces, quotes, $, *, newlines, backslashes, empty ones and UTF-8 arrive intact', async (t) => {
  const { dir } = setup(t);
  const words = ['a b', "it's", '"dq"', '$HOME', '$(id)', '*', 'l1\nl2', '', '\\n', '-n', '--', 'é ü', '\t', "'"];
  const r = await both(t, dir, ['/bin/sh', '-c', 'for a in "$@"; do printf "[%s]\\n" "$a"; done', 'sh', ...words]);
  t.is(r.stdout, words.map((w) => `[${w}]\n`).join(''));
  // argv[0] is the file as given, found through the environment's PATH
  t.is((await both(t, dir, ['sh', '-c', 'echo "$0"'])).stdout, 'sh\n');
});

test.serial('stdout and stderr are captured; stdin is /dev/null; fds 0-2 only; no signal ignored or blocked; own session', async (t) => {
  const { dir } = setup(t);
  const r = await both(t, dir, ['/bin/sh', '-c', 'echo out; echo err >&2; cat; exit 3']);
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'err\n');
  t.is(r.exitCode, 3);
  await both(t, dir, ['/bin/ls', '/proc/self/fd']);
  t.is((await both(t, dir, ['/bin/grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status'])).stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  // pid = process group = session
  const ids = (await run(dir, ['/bin/sh', '-c', 'ps -o pid=,pgid=,sid= -p $$'], true)).stdout.trim().split(/\s+/);
  t.is(new Set(ids).size, 1, ids.join(' '));
});

test.serial('a timeout kills the whole process group: SIGTERM, then SIGKILL after the grace delay', async (t) => {
  const { dir } = setup(t);
  const pidFile = path.join(dir, 'child.pid');
  const r = await run(dir, ['/bin/sh', '-c', `sleep 300 & echo $! > ${pidFile}; wait`], true, { timeoutMs: 500 });
  t.true(r.timedOut);
  t.is(r.signal, 'SIGTERM');
  t.is(r.exitCode, undefined);
  const child = Number(fs.readFileSync(pidFile, 'utf8'));
  t.true(await until(() => !alive(child)), 'the check\'s sleep child is gone too');
  // one that ignores SIGTERM (and its children with it) is killed after the grace delay
  const stubborn = await both(t, dir, ['/bin/sh', '-c', `trap '' TERM; sleep 300 & echo $! > ${pidFile}; wait`], { timeoutMs: 300, killGraceMs: 300 });
  t.true(stubborn.timedOut);
  t.is(stubborn.signal, 'SIGKILL');
  const child2 = Number(fs.readFileSync(pidFile, 'utf8'));
  t.true(await until(() => !alive(child2)));
});

test.serial('a timeout due before the runner has even answered with the pid still kills the command', async (t) => {
  const { dir } = setup(t);
  await run(dir, ['/bin/true'], true); // the runner is up
  const started = Date.now();
  // 30 at once: most timers fire before the runner got to their fork; the SIGTERM then goes when the pid comes (a grace delay longer than the test: SIGKILL would be too late)
  const rs = await Promise.all(Array.from({ length: 30 }, () => run(dir, ['/bin/sleep', '300'], true, { timeoutMs: 1, killGraceMs: 120_000 })));
  for (const r of rs) {
    t.true(r.timedOut);
    t.is(r.signal, 'SIGTERM');
  }
  t.true(Date.now() - started < 30_000);
});

test.serial('30 concurrent requests are each answered with their own result', async (t) => {
  const { dir } = setup(t);
  const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => run(dir, ['/bin/sh', '-c', `sleep 0.$((${i} % 3)); echo "$0"; echo "e$0" >&2; exit $((${i} % 7))`, `n${i}`], true)));
  rs.forEach((r, i) => {
    t.is(r.stdout, `n${i}\n`);
    t.is(r.stderr, `en${i}\n`);
    t.is(r.exitCode, i % 7);
  });
  t.is(new Set(rs.map((r) => r.stdout)).size, 30);
});

test.serial('the runner killed with requests pending: all answered (spawned directly), the next request starts a new runner', async (t) => {
  const { dir, events } = setup(t);
  t.regex((await run(dir, PARENT, true)).stdout, /^ferry-command-runner/);
  const first = commandRunnerPid()!;
  const pending = Array.from({ length: 5 }, (_, i) => run(dir, ['/bin/sh', '-c', 'sleep 1; echo "done $0"', String(i)], true));
  await sleep(300);
  process.kill(first, 'SIGKILL');
  const rs = await Promise.all(pending);
  rs.forEach((r, i) => t.deepEqual([r.exitCode, r.stdout, r.timedOut], [0, `done ${i}\n`, false]));
  const lost = events.find((e) => e.event === 'command-runner.lost');
  t.truthy(lost);
  t.is(lost?.pending, 5);
  t.regex((await run(dir, PARENT, true)).stdout, /^ferry-command-runner/);
  t.not(commandRunnerPid(), first);
  t.is(events.filter((e) => e.event === 'command-runner.started').length, 2);
});

test.serial('runners that keep dying: the daemon spawns directly for a while (logged once)', async (t) => {
  const { dir, events } = setup(t);
  for (let i = 0; i < 3; i++) {
    t.regex((await run(dir, PARENT, true)).stdout, /^ferry-command-runner/);
    const pid = commandRunnerPid()!;
    process.kill(pid, 'SIGKILL');
    t.true(await until(() => commandRunnerPid() === undefined));
  }
  t.is(events.filter((e) => e.event === 'command-runner.fallback').length, 1);
  const r = await run(dir, PARENT, true);
  t.is(r.exitCode, 0);
  t.false(r.stdout.startsWith('ferry-command-runner'), 'spawned directly');
  t.is(commandRunnerPid(), undefined);
});

test.serial('what the runner cannot start gets the direct spawn\'s error, word for word', async (t) => {
  const { dir } = setup(t);
  const missing = await both(t, dir, ['no-such-command-ferry'], {});
  t.is(missing.spawnError, 'cannot run no-such-command-ferry: command not found');
  const badCwd = await both(t, dir, ['/bin/true'], { cwd: path.join(dir, 'nope') });
  t.regex(badCwd.spawnError ?? '', /working directory .* does not exist/);
  const notExec = path.join(dir, 'not-exec');
  fs.writeFileSync(notExec, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  if (process.getuid?.() !== 0) t.is((await both(t, dir, [notExec])).spawnError, `cannot run ${notExec}: permission denied`);
  else await both(t, dir, [notExec]);
  // no #! line: execvp(3) runs it with /bin/sh, both ways
  const noShebang = path.join(dir, 'no-shebang');
  fs.writeFileSync(noShebang, 'echo "from a script without #!"\n', { mode: 0o755 });
  t.is((await both(t, dir, [noShebang])).stdout, 'from a script without #!\n');
  // a NUL in a word: not for the runner (the direct spawn's own error)
  await both(t, dir, ['/bin/echo', 'a\0b']);
});

test.serial('disabled with requests running: they are answered by the runner, then it ends', async (t) => {
  const { dir } = setup(t);
  const p = run(dir, ['/bin/sh', '-c', 'sleep 0.5; tr "\\0" " " < /proc/$PPID/cmdline'], true);
  await sleep(200);
  const pid = commandRunnerPid()!;
  disableCommandRunner();
  t.regex((await p).stdout, /^ferry-command-runner/);
  t.true(await until(() => !alive(pid)));
  enableCommandRunner(pino({ level: 'silent' }));
});

test('the wait status is read as the exit event gives it: exit code, or signal (core dumped or not)', (t) => {
  t.deepEqual(decodeWaitStatus(0), { code: 0, signal: null });
  t.deepEqual(decodeWaitStatus(3 << 8), { code: 3, signal: null });
  t.deepEqual(decodeWaitStatus(255 << 8), { code: 255, signal: null });
  t.deepEqual(decodeWaitStatus(9), { code: null, signal: 'SIGKILL' });
  t.deepEqual(decodeWaitStatus(0x80 | 11), { code: null, signal: 'SIGSEGV' });
});

test('a request the runner cannot carry exactly is left to the direct spawn', (t) => {
  const r = { file: '/bin/true', args: [], env: { PATH: '/bin' }, cwd: '/', stdoutPath: '/o', stderrPath: '/e', timeoutMs: 1, killGraceMs: 1 };
  const bytes = encodeRequest(7, r);
  const body = ['7', '/', '/o', '/e', '1', 'PATH=/bin', '/bin/true'].join('\0');
  t.is(bytes?.toString(), `${body.length}\n${body}`);
  t.is(encodeRequest(7, { ...r, file: '' }), undefined);
  t.is(encodeRequest(7, { ...r, args: ['a\0b'] }), undefined);
  t.is(encodeRequest(7, { ...r, env: { 'A=B': 'x' } }), undefined);
  t.is(encodeRequest(7, { ...r, env: { A: 'x\0' } }), undefined);
  t.is(encodeRequest(7, { ...r, args: ['x'.repeat(2 << 20)] }), undefined);
  t.regex(encodeRequest(7, { ...r, cwd: 'rel' })!.toString(), new RegExp(`\0${process.cwd()}/rel\0`));
});
