// app driver, type forking: real commands, real processes, marker files in a temp dir.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { requireRoot, repoRoot } from '../helpers/env.js';
import { isRunning, makeApp, makeAppFixture, readPid, waitFor } from '../helpers/app-context.js';
import type { AppFixture } from '../helpers/app-context.js';

function setup(t: ExecutionContext): AppFixture {
  requireRoot();
  const fx = makeAppFixture();
  t.teardown(() => fx.cleanup());
  return fx;
}

test('start, check and stop drive the app, and start is idempotent', async (t) => {
  const fx = setup(t);
  const marker = path.join(fx.dir, 'up');
  const count = path.join(fx.dir, 'count');
  const app = makeApp(fx, {
    start: `/bin/sh -c "echo started >> ${count}; touch ${marker}"`,
    check: `test -f ${marker}`,
    stop: `rm -f ${marker}`,
  });
  t.is((await app.status()).status, 'down');
  await app.start();
  t.true(fs.existsSync(marker));
  const st = await app.status();
  t.is(st.status, 'up');
  t.is(st.label, `/bin/sh -c "echo started >> ${count}; touch ${marker}"`.slice(0, 47) + '...');
  await app.start(); // already up: the start command must not run again
  t.is(fs.readFileSync(count, 'utf8'), 'started\n');
  await app.stop();
  t.false(fs.existsSync(marker));
  t.is((await app.status()).status, 'down');
  await app.stop(); // already down
});

test('a command line reaches the program byte for byte: ; and # are data, both commands run', async (t) => {
  const fx = setup(t);
  const a = path.join(fx.dir, 'a');
  const b = path.join(fx.dir, 'b');
  const app = makeApp(fx, { start: `/bin/sh -c "echo 'x;#y  z' > ${a}; echo b > ${b}"` });
  await app.start();
  t.is(fs.readFileSync(a, 'utf8'), 'x;#y  z\n');
  t.is(fs.readFileSync(b, 'utf8'), 'b\n');
  t.is((await app.status()).status, 'n/a', 'no check: n/a');
});

test('check exit codes: 0 up, 1 down, 3 warn naming the code', async (t) => {
  const fx = setup(t);
  const check = async (code: number) => makeApp(fx, { check: `/bin/sh -c "echo why-${code} >&2; exit ${code}"` }).status();
  t.is((await check(0)).status, 'up');
  t.is((await check(1)).status, 'down');
  const warn = await check(3);
  t.is(warn.status, 'warn');
  t.is(warn.messages.length, 1);
  t.regex(warn.messages[0]!, /exit 3: why-3$/);
});

test('a check that hangs is warn, within check_timeout', async (t) => {
  const fx = setup(t);
  const app = makeApp(fx, { check: 'sleep 30', check_timeout: '500ms' });
  const started = Date.now();
  const st = await app.status();
  t.is(st.status, 'warn');
  t.regex(st.messages[0]!, /timed out after 500ms/);
  t.true(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
});

test('a failed start throws one line naming the exit code and the last stderr line', async (t) => {
  const fx = setup(t);
  const app = makeApp(fx, { start: `/bin/sh -c "echo first >&2; echo 'disk full' >&2; exit 3"` });
  const e = await t.throwsAsync(app.start());
  t.regex(e!.message, /app#1 start failed: .*exit 3: disk full$/);
  t.false(e!.message.includes('\n'));
  // the output is kept in the app's log
  const err = fs.readFileSync(path.join(fx.root.root, 'log', 'app', `${fx.svcname}.app_1.err`), 'utf8');
  t.is(err, 'first\ndisk full\n');
});

test('a missing program is a clear start error', async (t) => {
  const fx = setup(t);
  const e = await t.throwsAsync(makeApp(fx, { start: '/nonexistent/ferry-app start' }).start());
  t.regex(e!.message, /cannot run \/nonexistent\/ferry-app: command not found/);
});

test('a start that hangs fails within start_timeout and its process group is killed', async (t) => {
  const fx = setup(t);
  const pidFile = path.join(fx.dir, 'child.pid');
  const app = makeApp(fx, { start: `/bin/sh -c "sleep 60 & echo \\$! > ${pidFile}; wait"`, start_timeout: '1s', timeout: '30s' });
  const started = Date.now();
  const e = await t.throwsAsync(app.start());
  const took = Date.now() - started;
  t.regex(e!.message, /timed out after 1s/);
  t.true(took >= 900 && took < 5000, `took ${took} ms`);
  const pid = readPid(pidFile);
  fx.pids.add(pid);
  t.true(await waitFor(() => !isRunning(pid), 4000), 'the sleep started by the timed-out command is gone');
});

test('environment reaches the command, with the service variables', async (t) => {
  const fx = setup(t);
  const out = path.join(fx.dir, 'env');
  const app = makeApp(fx, {
    environment: 'FOO=bar "BAZ=two words" EMPTY=',
    start: `/bin/sh -c 'echo "$FOO|$BAZ|$EMPTY|$FERRY_SVCNAME|$FERRY_RID" > ${out}'`,
  });
  await app.start();
  t.is(fs.readFileSync(out, 'utf8'), `bar|two words||${fx.svcname}|app#1\n`);
});

test('user = nobody runs the commands as nobody; an unknown user fails start', async (t) => {
  const fx = setup(t);
  const out = path.join(fx.dir, 'ids');
  const app = makeApp(fx, { user: 'nobody', cwd: fx.dir, start: `/bin/sh -c 'echo "$(id -u) $(id -g) $(id -G) $HOME $(pwd)" > ids'` });
  await app.start();
  const uid = (await execa('id', ['-u', 'nobody'])).stdout.trim();
  const gid = (await execa('id', ['-g', 'nobody'])).stdout.trim();
  // id -G: no root group left over from ferry
  t.is(fs.readFileSync(out, 'utf8'), `${uid} ${gid} ${gid} /nonexistent ${fx.dir}\n`);

  const ghost = makeApp(fx, { user: 'ferry-no-such-user', start: '/bin/true', check: '/bin/true' });
  const e = await t.throwsAsync(ghost.start());
  t.is(e!.message, 'app#1 start failed: unknown user ferry-no-such-user');
  const st = await ghost.status();
  t.is(st.status, 'warn');
  t.regex(st.messages[0]!, /unknown user ferry-no-such-user/);
});

test('a backgrounded daemon does not block start and outlives the ferry process that started it', async (t) => {
  const fx = setup(t);
  const pidFile = path.join(fx.dir, 'daemon.pid');
  // the daemon keeps the inherited stdout/stderr open and keeps writing to them
  const kw = {
    start: `/bin/sh -c "(while true; do echo tick; echo tock >&2; sleep 0.2; done) & echo \\$! > ${pidFile}"`,
    // not kill -0: a killed daemon may linger as a zombie until init reaps it
    check: `/bin/sh -c "ps -o stat= -p \\$(cat ${pidFile}) | grep -qv Z"`,
    stop: `/bin/sh -c "kill \\$(cat ${pidFile})"`,
    start_timeout: '20s',
  };
  const started = Date.now();
  const child = await execa(process.execPath, [
    path.join(repoRoot, 'dist', 'test', 'helpers', 'app-start-child.js'),
    JSON.stringify({ ferryRoot: fx.root.root, svcname: fx.svcname, kw }),
  ], { reject: false, timeout: 30_000 });
  const took = Date.now() - started;
  t.is(child.exitCode, 0, child.stderr);
  t.true(took < 8000, `start returned after ${took} ms, not at its timeout`);
  const pid = readPid(pidFile);
  fx.pids.add(pid);

  // ferry (the child node process) is gone; the daemon is not, and still writes its log
  const outLog = path.join(fx.root.root, 'log', 'app', `${fx.svcname}.app_1.out`);
  const before = fs.readFileSync(outLog, 'utf8').length;
  await new Promise((r) => setTimeout(r, 1000));
  t.true(isRunning(pid), 'daemon alive after ferry exit');
  t.true(fs.readFileSync(outLog, 'utf8').length > before, 'daemon still writing its stdout');
  t.regex(fs.readFileSync(outLog.replace(/\.out$/, '.err'), 'utf8'), /tock/);

  // and the same resource, in this process, sees it and stops it
  const app = makeApp(fx, kw);
  t.is((await app.status()).status, 'up');
  await app.stop();
  t.true(await waitFor(() => !isRunning(pid), 3000));
  t.is((await app.status()).status, 'down');
});

test('v1 launcher: script with start = 10, check/info = true, relative path under <svc>.dir', async (t) => {
  const fx = setup(t);
  const up = path.join(fx.dir, 'v1.up');
  const dir = path.join(fx.root.services, `${fx.svcname}.dir`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'launcher'), [
    '#!/bin/sh',
    'case "$1" in',
    `start) echo "$OPENSVC_SVCNAME" > ${up} ;;`,
    `stop) rm -f ${up} ;;`,
    `status) test -f ${up} ;;`,
    'info) echo "version: 1.2"; echo "port: 8080" ;;',
    '*) exit 2 ;;',
    'esac',
    '',
  ].join('\n'), { mode: 0o755 });
  const app = makeApp(fx, { script: 'launcher', start: '10', stop: '90', check: 'true', info: 'true' });
  t.is((await app.status()).status, 'down');
  await app.start();
  t.is(fs.readFileSync(up, 'utf8'), `${fx.svcname}\n`);
  const st = await app.status();
  t.is(st.status, 'up');
  t.is(st.label, path.join(dir, 'launcher'));
  t.deepEqual(await app.info(), { version: '1.2', port: '8080' });
  await app.stop();
  t.false(fs.existsSync(up));
  t.is((await app.status()).status, 'down');
});

test('start = true without a script is a configuration problem', async (t) => {
  const fx = setup(t);
  const app = makeApp(fx, { start: 'true', check: `test -f ${fx.dir}/x` });
  const e = await t.throwsAsync(app.start());
  t.regex(e!.message, /start = true needs a script/);
  const st = await app.status();
  t.is(st.status, 'warn');
  t.regex(st.messages[0]!, /needs a script/);
});
