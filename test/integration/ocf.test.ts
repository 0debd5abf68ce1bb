// app driver, type ocf: the real agents of the resource-agents package.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { requireRoot } from '../helpers/env.js';
import { isRunning, makeApp, makeAppFixture, readPid, waitFor } from '../helpers/app-context.js';
import type { AppFixture } from '../helpers/app-context.js';
import { parseAgent } from '../../src/resources/app-ocf.js';

function setup(t: ExecutionContext): AppFixture {
  requireRoot();
  const fx = makeAppFixture();
  t.teardown(() => fx.cleanup());
  return fx;
}

test('ocf:heartbeat:Dummy: start -> monitor up (state file), stop -> down, stop again is fine', async (t) => {
  const fx = setup(t);
  const state = path.join(fx.dir, 'dummy.state');
  const app = makeApp(fx, { agent: 'ocf:heartbeat:Dummy', ocf_params: `state=${state}` }, 'ocf');
  t.deepEqual(await app.status(), { status: 'down', label: 'ocf:heartbeat:Dummy', messages: [] });
  await app.start();
  t.true(fs.existsSync(state));
  t.is((await app.status()).status, 'up');
  await app.start(); // OCF start is idempotent
  await app.stop();
  t.false(fs.existsSync(state));
  t.is((await app.status()).status, 'down');
  await app.stop();
});

test('heartbeat:Dummy (short form) gets OCF_RESOURCE_INSTANCE = <svcname>_<rid> and HA_RSCTMP under ferry run', async (t) => {
  const fx = setup(t);
  // without a state parameter Dummy keeps $HA_RSCTMP/Dummy-$OCF_RESOURCE_INSTANCE.state,
  // and HA_RSCTMP is ferry's own run directory
  const state = path.join(fx.root.root, 'run', 'ocf', `Dummy-${fx.svcname}_app_1.state`);
  const app = makeApp(fx, { agent: 'heartbeat:Dummy' }, 'ocf');
  await app.start();
  t.true(fs.existsSync(state), `${state} exists`);
  t.is((await app.status()).status, 'up');
  await app.stop();
  t.false(fs.existsSync(state));
});

test('ocf:heartbeat:anything runs a real process and stops it', async (t) => {
  const fx = setup(t);
  const pidfile = path.join(fx.dir, 'anything.pid');
  const app = makeApp(fx, {
    agent: 'ocf:heartbeat:anything',
    ocf_params: `binfile=/bin/sleep cmdline_options=1000 pidfile=${pidfile}`,
    stop_timeout: '20s',
  }, 'ocf');
  t.is((await app.status()).status, 'down');
  await app.start();
  const pid = readPid(pidfile);
  fx.pids.add(pid);
  t.true(isRunning(pid));
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  t.is(path.basename(argv[0]!), 'sleep');
  t.is(argv[1], '1000');
  t.is((await app.status()).status, 'up');
  await app.stop();
  t.true(await waitFor(() => !isRunning(pid), 5000), 'the process is gone after stop');
  t.is((await app.status()).status, 'down');
});

test('a missing agent: clear error on start, status down with the reason', async (t) => {
  const fx = setup(t);
  const app = makeApp(fx, { agent: 'ocf:heartbeat:FerryNoSuchAgent' }, 'ocf');
  const e = await t.throwsAsync(app.start());
  t.is(e!.message, 'app#1 start failed: ocf agent ocf:heartbeat:FerryNoSuchAgent not found: /usr/lib/ocf/resource.d/heartbeat/FerryNoSuchAgent is missing or not executable');
  const st = await app.status();
  t.is(st.status, 'down');
  t.regex(st.messages[0]!, /ocf agent ocf:heartbeat:FerryNoSuchAgent not found/);

  const none = makeApp(fx, {}, 'ocf');
  await t.throwsAsync(none.start(), { message: /agent is required for type ocf/ });
  t.is((await none.status()).status, 'down');
});

test('a monitor exit code other than 0/7 is warn naming its OCF meaning and the exit reason', async (t) => {
  const fx = setup(t);
  // Filesystem without its device parameter: OCF_ERR_CONFIGURED
  const app = makeApp(fx, { agent: 'ocf:heartbeat:Filesystem' }, 'ocf');
  const st = await app.status();
  t.is(st.status, 'warn');
  t.regex(st.messages[0]!, /^monitor exit 6 \(not configured\): Please set OCF_RESKEY_device/);
  const e = await t.throwsAsync(app.start());
  t.regex(e!.message, /Filesystem start: exit 6 \(not configured\)/);
});

test('agent names are checked', (t) => {
  t.is(parseAgent('ocf:heartbeat:Dummy').file, '/usr/lib/ocf/resource.d/heartbeat/Dummy');
  t.is(parseAgent('heartbeat:IPaddr2').spec, 'ocf:heartbeat:IPaddr2');
  t.throws(() => parseAgent('Dummy'), { message: /expected ocf:<provider>:<type>/ });
  t.throws(() => parseAgent('ocf:../..:sh'), { message: /expected/ });
  t.throws(() => parseAgent('lsb:heartbeat:Dummy'), { message: /expected/ });
});
