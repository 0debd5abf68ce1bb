// Issue 8: a daemon loading a service file built to blow up reference resolution (the 22-level
// fan-out) kept its event loop busy for tens of seconds: no control socket, pings timing out,
// SIGTERM ignored. Now the file is refused at once: the daemon answers and the service shows
// its config error. A single-node cluster without heartbeats: no network, no root needed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { distCli, makeFerryRoot, repoRoot, runCli } from '../helpers/env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ServiceView {
  error?: string;
}

test('a daemon with the fan-out service file keeps answering; the service shows a config error', async (t) => {
  const root = makeFerryRoot('node1');
  fs.writeFileSync(path.join(root.root, 'etc', 'cluster.conf'), `[cluster]\nname = cfgref\nnodes = node1\nsecret = ${'ef'.repeat(32)}\n`);
  const file = path.join(root.services, 'fanout.env');
  const fixture = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'malformed', '26_reference_fanout.env'), 'utf8');
  fs.writeFileSync(file, fixture.replace('@MARKER@', path.join(root.root, 'marker')));
  // `daemon run` as our own child, so it is ended by its pid even when it never answers
  const out = fs.openSync(path.join(root.root, 'daemon.out'), 'a');
  const daemon = spawn(process.execPath, [distCli('nodemgr'), 'daemon', 'run'], { env: { ...process.env, ...root.env }, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  t.teardown(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      const gone = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!gone) daemon.kill('SIGKILL');
      await exited;
    }
    root.cleanup();
  });

  // the control socket answers within 15 s of the start (it took 33 s)
  const deadline = Date.now() + 15_000;
  let up = false;
  while (!up && daemon.exitCode === null && Date.now() < deadline) {
    up = (await runCli('nodemgr', ['daemon', 'status'], root.env, 30_000)).exitCode === 0;
    if (!up) await sleep(500);
  }
  t.true(up, `the daemon does not answer: ${fs.readFileSync(path.join(root.root, 'daemon.out'), 'utf8')}`);

  const askStatus = async (): Promise<number> => {
    const t0 = performance.now();
    const st = await runCli('nodemgr', ['daemon', 'status'], root.env, 30_000);
    const ms = performance.now() - t0;
    t.is(st.exitCode, 0, st.stdout + st.stderr);
    t.regex(st.stdout, /daemon running/);
    return ms;
  };
  const first = await askStatus();
  t.log(`daemon status answered in ${first.toFixed(0)} ms`);
  t.true(first < 5_000, `${first} ms`);

  // the service's published state carries the error, file:line first
  let error: string | undefined;
  for (let i = 0; i < 60 && error === undefined; i++) {
    const mon = await runCli('svcmon', ['--format', 'json'], root.env, 30_000);
    if (mon.exitCode === 0) {
      const view = JSON.parse(mon.stdout) as { nodes?: Record<string, { payload?: { services?: Record<string, ServiceView> } }> };
      error = view.nodes?.node1?.payload?.services?.fanout?.error;
    }
    if (error === undefined) await sleep(500);
  }
  t.is(error, `config: ${file}:12: value expands to more than the limit of 65536 characters`);

  // refreshed every tick, the file does not slow the daemon down
  const again = await askStatus();
  t.log(`daemon status answered again in ${again.toFixed(0)} ms`);
  t.true(again < 5_000, `${again} ms`);
});
