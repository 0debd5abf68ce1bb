// Machine output of the commands that had none (issue 12 item 4), run for real: svcmgr get,
// nodemgr nodename, nodemgr daemon start/stop around a real daemon, nodemgr events; each JSON
// output validated against its schema. And for every printing command of the three trees
// (test/helpers/command-outputs.ts): `--format yaml` is a usage error, one line, nothing done.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { makeFerryRoot, runCli, uniquePrefix, type FerryRoot } from '../helpers/env.js';
import { schemaErrors } from '../helpers/schemas.js';
import { allLeaves, OUTPUTS } from '../helpers/command-outputs.js';

function root(t: { teardown(f: () => void): void }, nodename = 'n1'): FerryRoot {
  const r = makeFerryRoot(nodename);
  t.teardown(() => r.cleanup());
  return r;
}

function json(t: { is(a: unknown, b: unknown, m?: string): void }, schema: string, stdout: string): unknown {
  const v = JSON.parse(stdout) as unknown;
  t.is(schemaErrors(schema, v), '', `${schema}: ${stdout.slice(0, 2000)}`);
  return v;
}

test('--format yaml on every printing command: exit 64, one line on stderr, nothing printed or done', async (t) => {
  const r = root(t);
  const svc = uniquePrefix('mo');
  fs.writeFileSync(path.join(r.services, `${svc}.env`), `[DEFAULT]\nnodes = n1\n\n[app#1]\nstart = /bin/touch ${r.root}/started\ncheck = /bin/false\n`);
  const before = fs.readdirSync(r.root).sort();
  const leaves = allLeaves().filter((l) => 'schema' in (OUTPUTS[l.words.join(' ')] ?? {}));
  t.true(leaves.length >= 20, `${leaves.length} printing commands`);
  for (const { words } of leaves) {
    const [prog, ...cmd] = words as ['svcmgr' | 'svcmon' | 'nodemgr', ...string[]];
    const args = [...(prog === 'svcmgr' ? ['-s', svc] : []), ...cmd, '--format', 'yaml'];
    const res = await runCli(prog, args, r.env, 30_000);
    const what = `${prog} ${args.join(' ')}`;
    t.is(res.exitCode, 64, `${what}: ${res.stderr}`);
    t.is(res.stdout, '', `${what}: nothing on stdout`);
    t.is(res.stderr.trim().split('\n').length, 1, `${what}: one line: ${res.stderr}`);
    t.regex(res.stderr, new RegExp(`^${prog}: .*'yaml'.*text, json`), what);
  }
  t.deepEqual(fs.readdirSync(r.root).sort(), before, 'nothing was started, written or logged');
});

test('svcmgr get and nodemgr nodename --format json', async (t) => {
  const r = root(t, 'n1');
  const svc = uniquePrefix('mo');
  fs.writeFileSync(path.join(r.services, `${svc}.env`), `[DEFAULT]\nnodes = n1\n\n[env]\nv = 3\n\n[app#1]\nstart = /bin/echo {env.v}\n`);
  const raw = await runCli('svcmgr', ['-s', svc, 'get', 'app#1.start', '--format', 'json'], r.env);
  t.is(raw.exitCode, 0, raw.stderr);
  t.deepEqual(json(t, 'svcmgr-get', raw.stdout), { svcname: svc, param: 'app#1.start', evaluated: false, value: '/bin/echo {env.v}' });
  const ev = await runCli('svcmgr', ['-s', svc, 'get', '--param', 'app#1.start', '--eval', '--format', 'json'], r.env);
  t.is(ev.exitCode, 0, ev.stderr);
  t.like(json(t, 'svcmgr-get', ev.stdout), { evaluated: true, value: '/bin/echo 3' });
  t.is((await runCli('svcmgr', ['-s', svc, 'get', 'app#1.start'], r.env)).stdout, '/bin/echo {env.v}', 'text unchanged');
  const missing = await runCli('svcmgr', ['-s', svc, 'get', 'app#1.stop', '--format', 'json'], r.env);
  t.is(missing.exitCode, 1);
  t.is(missing.stdout, '', 'an error is no document');

  const n = await runCli('nodemgr', ['nodename', '--format', 'json'], r.env);
  t.is(n.exitCode, 0, n.stderr);
  t.deepEqual(json(t, 'nodemgr-nodename', n.stdout), { nodename: 'n1' });
  t.is((await runCli('nodemgr', ['nodename'], r.env)).stdout, 'n1');
});

test('nodemgr daemon start, events and stop --format json around a real daemon', async (t) => {
  const r = root(t, 'n1');
  fs.writeFileSync(path.join(r.root, 'etc', 'cluster.conf'), ['[cluster]', 'name = mo', 'nodes = n1', `secret = ${'6f'.repeat(32)}`, ''].join('\n'));
  let pid: number | undefined;
  t.teardown(() => {
    // the daemon this test started, by its pid, even when an assertion failed
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  });
  const started = await runCli('nodemgr', ['daemon', 'start', '--format', 'json'], r.env, 30_000);
  t.is(started.exitCode, 0, started.stderr);
  const s = json(t, 'nodemgr-daemon-start', started.stdout) as { started: boolean; pid?: number };
  pid = s.pid;
  t.true(s.started);
  t.true(typeof s.pid === 'number');
  const again = await runCli('nodemgr', ['daemon', 'start', '--format', 'json'], r.env, 30_000);
  t.is(again.exitCode, 0, again.stderr);
  t.deepEqual(json(t, 'nodemgr-daemon-start', again.stdout), { running: true, started: false });

  const ev = await runCli('nodemgr', ['events', '--format', 'json'], r.env, 30_000);
  t.is(ev.exitCode, 0, ev.stderr);
  const lines = ev.stdout.split('\n').filter((l) => l.trim());
  t.true(lines.length > 0, 'the daemon logged its start');
  for (const l of lines) t.is(schemaErrors('nodemgr-events', JSON.parse(l)), '', l);

  const stopped = await runCli('nodemgr', ['daemon', 'stop', '--format', 'json'], r.env, 30_000);
  t.is(stopped.exitCode, 0, stopped.stderr);
  t.deepEqual(json(t, 'nodemgr-daemon-stop', stopped.stdout), { running: false, stopped: true });
  pid = undefined;
  const none = await runCli('nodemgr', ['daemon', 'stop', '--format', 'json'], r.env, 30_000);
  t.is(none.exitCode, 0, none.stderr);
  t.deepEqual(json(t, 'nodemgr-daemon-stop', none.stdout), { running: false, stopped: false });
  t.is((await runCli('nodemgr', ['daemon', 'stop'], r.env, 30_000)).stdout, 'nodemgr: the daemon is not running', 'text unchanged');
});
