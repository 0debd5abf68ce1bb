// svcmon and `nodemgr daemon status` run by a user who may not reach the daemon's control
// socket (its run directory is 0700 root): one line on stderr naming the socket and why,
// exit 1, and no table that would read as an empty cluster. Against a real daemon.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { distCli, makeFerryRoot, requireRoot, runCli, sh } from '../helpers/env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

test('svcmon as an unprivileged user with a daemon running: says it cannot reach the socket, exits 69', async (t) => {
  requireRoot();
  // the test means nothing if nobody cannot even run the CLI: fail, do not skip
  const canRun = await sh(asNobody[0]!, [...asNobody.slice(1), 'test', '-r', distCli('svcmon')], { reject: false });
  t.is(canRun.exitCode, 0, `user nobody cannot read ${distCli('svcmon')}: this test needs a checkout readable by nobody`);
  const r = makeFerryRoot('a');
  // as on a real node: the configuration readable by all, the run directory (made by the daemon) 0700
  fs.chmodSync(r.root, 0o755);
  for (const d of ['etc', 'etc/services']) fs.chmodSync(path.join(r.root, d), 0o755);
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  fs.writeFileSync(path.join(r.root, 'etc', 'cluster.conf'), ['[cluster]', 'name = access', 'nodes = a', `secret = ${'cd'.repeat(32)}`, '', '[hb#1]', 'type = unicast', 'addr@a = 127.0.0.1', `port = ${port}`, ''].join('\n'));
  fs.writeFileSync(path.join(r.services, 'web.env'), '[DEFAULT]\nnodes = a\norchestrate = no\n\n[app#1]\ncheck = /bin/true\n');
  const env = { ...r.env, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const daemon = execa(process.execPath, [distCli('nodemgr'), 'daemon', 'run'], { env, reject: false, stdin: 'ignore' });
  t.teardown(async () => {
    daemon.kill('SIGTERM');
    await Promise.race([daemon, sleep(15_000)]);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    r.cleanup();
  });
  // root reaches it
  let asRoot;
  for (let i = 0; i < 150; i++) {
    asRoot = await runCli('svcmon', ['--format', 'json'], env);
    if (asRoot.exitCode === 0 && (JSON.parse(asRoot.stdout) as { daemon: { running: boolean } }).daemon.running) break;
    if (daemon.exitCode !== null) break;
    await sleep(200);
  }
  const rootView = JSON.parse(asRoot!.stdout) as { daemon: { running: boolean }; services: Record<string, unknown> };
  t.true(rootView.daemon.running, `the daemon never answered root: ${asRoot!.stderr}`);
  t.deepEqual(Object.keys(rootView.services), ['web']);
  t.is((fs.statSync(path.join(r.root, 'run')).mode & 0o777), 0o700);

  const sock = path.join(r.root, 'run', 'nodemgr.sock');
  const want = `svcmon: cannot reach the daemon at ${sock}: permission denied (EACCES, run as root)`;
  for (const args of [[], ['--format', 'json'], ['--service', 'web']]) {
    const res = await execa(asNobody[0]!, [...asNobody.slice(1), process.execPath, distCli('svcmon'), ...args], { env, reject: false, stdin: 'ignore', timeout: 30_000 });
    t.is(res.exitCode, 69, `svcmon ${args.join(' ')}: ${res.stderr}`);
    t.is(String(res.stderr).trim(), want, `svcmon ${args.join(' ')}`);
    t.is(String(res.stdout), '', `svcmon ${args.join(' ')}: no table that would read as an empty cluster`);
  }
  const status = await execa(asNobody[0]!, [...asNobody.slice(1), process.execPath, distCli('nodemgr'), 'daemon', 'status'], { env, reject: false, stdin: 'ignore', timeout: 30_000 });
  t.is(status.exitCode, 69);
  t.is(String(status.stderr).trim(), `nodemgr: cannot reach the daemon at ${sock}: permission denied (EACCES, run as root)`);

  // print status works without the daemon, but says why its view is missing (issue 8).
  // (print status appends to the service log: let nobody do that, it is not what is tested)
  const logDir = path.join(r.root, 'log');
  fs.mkdirSync(logDir, { recursive: true });
  fs.chmodSync(logDir, 0o777);
  if (fs.existsSync(path.join(logDir, 'web.log'))) fs.chmodSync(path.join(logDir, 'web.log'), 0o666);
  const asRootStatus = await runCli('svcmgr', ['-s', 'web', 'print', 'status'], env);
  t.is(asRootStatus.stderr, '', 'root reaches the daemon: no note');
  for (const args of [[], ['--format', 'json']]) {
    const ps = await execa(asNobody[0]!, [...asNobody.slice(1), process.execPath, distCli('svcmgr'), '-s', 'web', 'print', 'status', ...args], { env, reject: false, stdin: 'ignore', timeout: 30_000 });
    t.is(String(ps.stderr), `svcmgr: note: cannot reach the daemon at ${sock}: permission denied (EACCES, run as root): this node's status only, without the daemon's view`, `print status ${args.join(' ')}`);
    t.not(String(ps.stdout), '', 'the local status tree is still printed');
    if (args.length > 0) t.is((JSON.parse(String(ps.stdout)) as { svcname: string }).svcname, 'web');
    else t.regex(String(ps.stdout), /^web\b/m);
  }
});
