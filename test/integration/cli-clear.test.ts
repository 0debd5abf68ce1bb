// svcmgr clear through a real daemon: a service whose start keeps failing backs off (5, 10,
// 20 s...); once the cause is fixed, clear lets the daemon start it now, not after the backoff.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { requireRoot, runCli } from '../helpers/env.js';
import { startSingleDaemon } from '../helpers/single-daemon.js';
import { schemaErrors } from '../helpers/schemas.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('clear resets a start failed: the daemon starts the service at once instead of after its backoff', async (t) => {
  requireRoot();
  const d = await startSingleDaemon('a');
  t.teardown(() => d.close());
  const env = d.root.env;
  const attempts = path.join(d.root.root, 'attempts');
  const ok = path.join(d.root.root, 'ok');
  const up = path.join(d.root.root, 'up');
  fs.writeFileSync(
    path.join(d.root.services, 'cl.env'),
    `[DEFAULT]\nnodes = a\norchestrate = ha\n\n[app#1]\nstart = /bin/sh -c "echo x >> ${attempts}; test -e ${ok} && touch ${up}"\nstop = /bin/rm -f ${up}\ncheck = /bin/test -e ${up}\n`,
  );
  const count = () => (fs.existsSync(attempts) ? fs.readFileSync(attempts, 'utf8').split('\n').filter(Boolean).length : 0);
  const monitor = async (): Promise<string | undefined> => {
    const r = await runCli('svcmon', ['--service', 'cl', '--format', 'json'], env);
    const m = JSON.parse(r.stdout) as { services: Record<string, { instances: Record<string, { monitor?: string }> }> };
    t.is(schemaErrors('svcmon', m), '');
    return m.services.cl?.instances.a?.monitor;
  };
  // three failures: the next try is 20 s away
  const deadline = Date.now() + 120_000;
  while (!(count() >= 3 && (await monitor()) === 'start failed') && Date.now() < deadline) await sleep(300);
  t.true(count() >= 3, `attempts: ${count()}`);
  const before = count();
  fs.writeFileSync(ok, '');
  const cleared = Date.now();
  const c = await runCli('svcmgr', ['-s', 'cl', 'clear', '--format', 'json'], env);
  t.is(c.exitCode, 0, c.stderr);
  const out = JSON.parse(c.stdout) as { daemon: boolean; was: string; error?: string };
  t.is(schemaErrors('svcmgr-clear', out), '');
  t.true(out.daemon);
  t.is(out.was, 'start failed');
  t.regex(out.error ?? '', /start failed at app#1/);
  while (!fs.existsSync(up) && Date.now() - cleared < 15_000) await sleep(200);
  t.true(fs.existsSync(up), 'started well before the 20 s backoff ended');
  t.is(count(), before + 1, 'one more attempt, the one after the clear');
  t.true(d.logEntries().some((e) => e.event === 'clear' && e.svc === 'cl' && e.was === 'start failed'));
  // a service the daemon does not have: the error, one line
  const none = await runCli('svcmgr', ['-s', 'nosuch', 'clear'], env);
  t.is(none.exitCode, 66);
  await runCli('svcmgr', ['-s', 'cl', 'freeze'], env);
  await runCli('svcmgr', ['-s', 'cl', 'stop'], env);
});
