// Logs of the real daemon (`nodemgr daemon run`, a one-node cluster, no root needed):
// - logrotate's way: the service log and daemon.log renamed, SIGHUP, and the next records of
//   the daemon land in new files of the old names; nothing more goes to the renamed ones;
// - the shipped logrotate file run by logrotate itself (paths under the test's root, the
//   postrotate's systemctl reload replaced by the kill -HUP it runs);
// - under systemd (JOURNAL_STREAM naming its stdout) every stdout line is a `<priority>` JSON
//   record; with FERRY_LOG_STDOUT=1 plain JSON lines; otherwise no log line on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { askDaemon, DaemonUnreachable } from '../../src/daemon/control-client.js';
import { ferryPaths } from '../../src/paths.js';
import { distCli, makeFerryRoot, repoRoot, uniquePrefix, type FerryRoot } from '../helpers/env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Rec = Record<string, unknown>;
const records = (file: string): Rec[] =>
  fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Rec)
    : [];

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

interface Running {
  root: FerryRoot;
  child: ChildProcess;
  stdoutFile: string;
}

/** `nodemgr daemon run` of a one-node cluster, stdout to a file; stopped and removed at teardown */
async function startDaemon(t: ExecutionContext, env: (stdoutFile: string) => Record<string, string>, service?: string): Promise<Running> {
  const root = makeFerryRoot('a');
  fs.writeFileSync(path.join(root.root, 'etc', 'cluster.conf'), ['[cluster]', 'name = logs', 'nodes = a', `secret = ${'6c'.repeat(32)}`, ''].join('\n'));
  if (service) fs.writeFileSync(path.join(root.services, `${uniquePrefix('lg')}.env`), service.replaceAll('@ROOT@', root.root));
  const stdoutFile = path.join(root.root, 'daemon.stdout');
  const fd = fs.openSync(stdoutFile, 'a');
  const child = spawn(process.execPath, [distCli('nodemgr'), 'daemon', 'run'], { env: { ...process.env, ...root.env, FERRY_TICK_MS: '300', ...env(stdoutFile) }, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]))) child.kill('SIGKILL');
      await exited;
    }
    root.cleanup();
  });
  const paths = ferryPaths({ FERRY_ROOT: root.root });
  await until('the daemon to answer', async () => {
    if (child.exitCode !== null) throw new Error(`the daemon exited: ${fs.readFileSync(stdoutFile, 'utf8')}`);
    try {
      return (await askDaemon(paths, { op: 'ping' }, 2_000)).ok;
    } catch (e) {
      if (e instanceof DaemonUnreachable) return false;
      throw e;
    }
  });
  return { root, child, stdoutFile };
}

test('rotated by rename and SIGHUP: the daemon writes its next records to new files', async (t) => {
  const marker = '@ROOT@/app-up';
  const service = [
    '[DEFAULT]',
    'nodes = a',
    'orchestrate = ha',
    // the test waits for a monitor restart: not the default 30 s
    'monitor_interval = 1s',
    '',
    '[app#1]',
    `start = /bin/touch ${marker}`,
    `stop = /bin/rm -f ${marker}`,
    `check = /usr/bin/test -f ${marker}`,
    'monitor = true',
    'restart = 100',
    '',
  ].join('\n');
  const d = await startDaemon(t, () => ({ FERRY_LOG_STDOUT: '0' }), service);
  const svcname = path.basename(fs.readdirSync(d.root.services)[0]!, '.env');
  const logDir = path.join(d.root.root, 'log');
  const svcLog = path.join(logDir, `${svcname}.log`);
  const daemonLog = path.join(logDir, 'daemon.log');
  const up = path.join(d.root.root, 'app-up');
  await until('the daemon to start the service', () => fs.existsSync(up) && records(svcLog).length > 0);

  // logrotate without copytruncate: rename, then postrotate's SIGHUP
  fs.renameSync(svcLog, `${svcLog}.1`);
  fs.renameSync(daemonLog, `${daemonLog}.1`);
  d.child.kill('SIGHUP');
  await until('the log-reopen record in the new daemon.log', () => records(daemonLog).some((r) => r.event === 'log-reopen'));
  t.true(d.child.exitCode === null && d.child.signalCode === null, 'SIGHUP must not end the daemon');
  const reopen = records(daemonLog).find((r) => r.event === 'log-reopen')!;
  t.deepEqual(reopen.failed, []);
  const oldSvc = fs.statSync(`${svcLog}.1`).size;
  const oldDaemon = fs.statSync(`${daemonLog}.1`).size;

  // the app goes down: the daemon's monitor restarts it, logging in both files
  fs.rmSync(up);
  await until('the monitor restart in the new daemon.log', () => records(daemonLog).some((r) => r.event === 'monitor_restart'));
  await until('the service log to be recreated with the restart', () => records(svcLog).length > 0 && fs.existsSync(up));
  t.true(records(svcLog).every((r) => r.svc === svcname));
  t.is(fs.statSync(`${svcLog}.1`).size, oldSvc, 'nothing more in the renamed service log');
  t.is(fs.statSync(`${daemonLog}.1`).size, oldDaemon, 'nothing more in the renamed daemon.log');
});

test('JOURNAL_STREAM naming stdout: every stdout line is <priority> and a JSON record', async (t) => {
  const d = await startDaemon(t, (stdoutFile) => {
    fs.writeFileSync(stdoutFile, '');
    const s = fs.statSync(stdoutFile);
    return { JOURNAL_STREAM: `${s.dev}:${s.ino}`, INVOCATION_ID: 'f'.repeat(32) };
  });
  await until('daemon started on stdout', () => fs.readFileSync(d.stdoutFile, 'utf8').includes('"daemon started"'));
  const lines = fs.readFileSync(d.stdoutFile, 'utf8').split('\n').filter((l) => l.length > 0);
  for (const l of lines) {
    const m = /^<(\d)>(\{.*\})$/.exec(l);
    t.truthy(m, `not a journal line: ${l}`);
    const rec = JSON.parse(m![2]!) as Rec;
    t.is(typeof rec.level, 'number');
  }
  // the same records are in the file
  t.true(records(path.join(d.root.root, 'log', 'daemon.log')).some((r) => r.msg === 'daemon started'));
});

test('FERRY_LOG_STDOUT=1: plain JSON lines on stdout; without it and outside systemd: none', async (t) => {
  const j = await startDaemon(t, () => ({ FERRY_LOG_STDOUT: '1', JOURNAL_STREAM: '', INVOCATION_ID: '' }));
  await until('daemon started on stdout', () => fs.readFileSync(j.stdoutFile, 'utf8').includes('"daemon started"'));
  for (const l of fs.readFileSync(j.stdoutFile, 'utf8').split('\n').filter((x) => x.length > 0)) t.notThrows(() => JSON.parse(l), l);
  const p = await startDaemon(t, () => ({ JOURNAL_STREAM: '', INVOCATION_ID: '' }));
  await until('the human start line', () => fs.readFileSync(p.stdoutFile, 'utf8').includes('daemon running'));
  t.false(fs.readFileSync(p.stdoutFile, 'utf8').includes('"level"'));
});

test('logrotate with the shipped packaging/logrotate/ferry: rotated files, the daemon writes to the new ones', async (t) => {
  if (!fs.existsSync('/usr/sbin/logrotate')) throw new Error('logrotate missing: install the logrotate Debian package (scripts/setup.sh)');
  const d = await startDaemon(t, () => ({ FERRY_LOG_STDOUT: '0' }));
  const logDir = path.join(d.root.root, 'log');
  const daemonLog = path.join(logDir, 'daemon.log');
  await until('daemon.log', () => records(daemonLog).length > 0);
  const shipped = fs.readFileSync(path.join(repoRoot, 'packaging', 'logrotate', 'ferry'), 'utf8');
  t.regex(shipped, /^\/var\/log\/ferry\/\*\.log \{$/m);
  t.regex(shipped, /systemctl reload "\$u"/);
  t.notRegex(shipped, /^\s*copytruncate/m);
  const conf = path.join(d.root.root, 'logrotate.conf');
  fs.writeFileSync(conf, shipped.replace('/var/log/ferry/', `${logDir}/`).replace(/^\t\tif \[ -d \/run\/systemd.*$/m, `\t\t/bin/kill -HUP ${d.child.pid}`));
  // -f: rotate now (weekly otherwise); logrotate wants its config not writable by others
  fs.chmodSync(conf, 0o644);
  const r = await execa('/usr/sbin/logrotate', ['-f', '-s', path.join(d.root.root, 'logrotate.state'), conf], { reject: false, stdin: 'ignore' });
  t.is(r.exitCode, 0, String(r.stderr));
  t.true(fs.existsSync(`${daemonLog}.1`), fs.readdirSync(logDir).join(' '));
  await until('the log-reopen record in the new daemon.log', () => records(daemonLog).some((x) => x.event === 'log-reopen'));
  t.false(records(`${daemonLog}.1`).some((x) => x.event === 'log-reopen'));
});
