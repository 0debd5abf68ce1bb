// The container driver against the real engines: every scenario runs for docker and podman.
// Each test names its containers from uniquePrefix() and removes them in t.teardown, so a
// failing test leaves nothing behind. No engine or no image is a failure, never a skip.
import test, { type ExecutionContext } from 'ava';
import { requireRoot, sh, testImage, uniquePrefix } from '../helpers/env.js';
import { engines, makeContainer, observe, removeContainers, requireEngine, type Cli } from '../helpers/container-engines.js';

type Scenario = (t: ExecutionContext, cli: Cli) => Promise<void>;

/** Root, a working engine, and a teardown for the names the scenario uses. */
async function prepare(t: ExecutionContext, cli: Cli, ...names: string[]): Promise<void> {
  requireRoot();
  await requireEngine(cli);
  t.teardown(() => removeContainers(cli, ...names));
}

const forBoth = (title: string, scenario: Scenario) => {
  const m = test.macro({
    exec: scenario,
    title: (_provided, cli: Cli) => `${cli}: ${title}`,
  });
  for (const cli of engines) test(m, cli);
};

forBoth('start runs the command intact under the default name, twice is idempotent, status is id@image', async (t, cli) => {
  const svc = uniquePrefix('ct');
  const name = `${svc}.container.1`; // OpenSVC naming: <svcname>.container.<index>
  await prepare(t, cli, name);
  const cmd = '/bin/sh -c "echo ready > /tmp/x; sleep 1000"';
  const res = makeContainer(cli, svc, 'container#1', { run_image: testImage, run_command: cmd, stop_timeout: '1s' });

  await res.start();
  const first = await observe(cli, name);
  t.truthy(first, 'container exists under the default name');
  t.true(first!.running);
  // the `;` and the quotes reached the engine as one argument, and the command really ran
  t.deepEqual(first!.cmd, ['/bin/sh', '-c', 'echo ready > /tmp/x; sleep 1000']);
  const cat = await sh(cli, ['exec', name, 'cat', '/tmp/x']);
  t.is(cat.stdout.trim(), 'ready');

  await res.start();
  const second = await observe(cli, name);
  t.is(second?.id, first!.id, 'second start left the running container alone');

  const st = await res.status();
  t.is(st.status, 'up');
  t.regex(st.label, /^[0-9a-f]{12}@/);
  t.is(st.label.slice(0, 12), first!.id.slice(0, 12));
  // podman reports the image with its localhost/ prefix
  t.true(st.label.endsWith(`@${testImage}`) || st.label.endsWith(`@localhost/${testImage}`), st.label);
  t.deepEqual(st.messages, []);
});

forBoth('kill shows down, start brings it back, stop removes it', async (t, cli) => {
  const name = uniquePrefix('ck');
  await prepare(t, cli, name);
  const res = makeContainer(cli, 'svc', 'container#2', {
    image: testImage, // v2 alias of run_image
    name,
    command: 'sleep 1000', // v2 alias of run_command
    run_args: '-e FOO="a b; c"',
    stop_timeout: '1s',
  });

  await res.start();
  t.is((await res.status()).status, 'up');

  await sh(cli, ['kill', name]);
  const killed = await res.status();
  t.is(killed.status, 'down');
  t.is(killed.label, testImage);

  await res.start();
  const back = await observe(cli, name);
  t.true(back?.running, 'running again after start');
  t.is((await res.status()).status, 'up');
  const env = await sh(cli, ['exec', name, 'sh', '-c', 'echo "$FOO"']);
  t.is(env.stdout.trim(), 'a b; c', 'run_args reached the engine intact');

  await res.stop();
  t.is(await observe(cli, name), undefined, 'stop removed the container');
  const stopped = await res.status();
  t.deepEqual(stopped, { status: 'down', label: testImage, messages: [] });
  await t.notThrowsAsync(res.stop(), 'stop of an absent container is a no-op');
});

forBoth('a bad image fails start with one clear line and leaves no container', async (t, cli) => {
  const name = uniquePrefix('cb');
  await prepare(t, cli, name);
  const image = `ferry/no-such-image-${name}:1`;
  const res = makeContainer(cli, 'svc', 'container#3', { run_image: image, name, start_timeout: '30s' });

  const err = await t.throwsAsync(res.start());
  t.log(err?.message);
  t.notRegex(err!.message, /\n/, 'one line');
  t.true(err!.message.includes(image), 'names the image');
  t.is(await observe(cli, name), undefined, 'no container left');
  t.is((await res.status()).status, 'down');
});

forBoth('a container that exits at once is a failed start with its last log line', async (t, cli) => {
  const name = uniquePrefix('ce');
  await prepare(t, cli, name);
  const res = makeContainer(cli, 'svc', 'container#4', {
    run_image: testImage,
    name,
    run_command: '/bin/sh -c "echo boom >&2; exit 3"',
  });

  const err = await t.throwsAsync(res.start());
  t.log(err?.message);
  t.regex(err!.message, /exit code 3.*boom/);
  t.is(await observe(cli, name), undefined, 'the dead container is removed');
});

forBoth('a container that exits soon after start, within start_settle, is a failed start with its last log lines', async (t, cli) => {
  const name = uniquePrefix('cs');
  await prepare(t, cli, name);
  // running at the first inspect after `run` on any machine: only the settle can catch it
  const res = makeContainer(cli, 'svc', 'container#6', {
    run_image: testImage,
    name,
    run_command: '/bin/sh -c "echo one; echo two >&2; sleep 1; echo late >&2; exit 4"',
    start_settle: '4s',
  });
  const t0 = Date.now();
  const err = await t.throwsAsync(res.start());
  t.log(`${err?.message} (${Date.now() - t0} ms)`);
  t.notRegex(err!.message, /\n/, 'one line');
  // (on a machine so loaded that the first inspect comes after the exit, it is seen exited at
  // once; the engine's own state name follows: podman says "stopped" once its cleanup ran)
  t.regex(err!.message, /exited (within start_settle \(4000 ms\) of its start|right after start) \((exited|stopped), exit code 4\): .*two.*late/);
  t.is(await observe(cli, name), undefined, 'the dead container is removed');
  t.is((await res.status()).status, 'down');
});

forBoth('a container the engine restarts (restart policy) within start_settle is a failed start', async (t, cli) => {
  const name = uniquePrefix('cr');
  await prepare(t, cli, name);
  const res = makeContainer(cli, 'svc', 'container#7', {
    run_image: testImage,
    name,
    run_args: '--restart=always',
    run_command: '/bin/sh -c "sleep 0.5; echo crash >&2; exit 5"',
    start_settle: '4s',
  });
  const err = await t.throwsAsync(res.start());
  t.log(err?.message);
  // seen restarted, or caught between two runs (the first inspect may come after the first exit)
  t.regex(err!.message, /restarted by the engine within start_settle \(4000 ms\)|exited (right after start|within start_settle \(4000 ms\) of its start) \(\w+, exit code 5\)/);
  t.is(await observe(cli, name), undefined, 'the container is removed');
});

forBoth('a container that stays up passes start_settle: start takes at least the settle time', async (t, cli) => {
  const name = uniquePrefix('cp');
  await prepare(t, cli, name);
  const res = makeContainer(cli, 'svc', 'container#8', { run_image: testImage, name, run_command: 'sleep 1000', start_settle: '1500ms', stop_timeout: '1s' });
  const t0 = Date.now();
  await res.start();
  t.true(Date.now() - t0 >= 1500, `start returned after ${Date.now() - t0} ms`);
  t.true((await observe(cli, name))?.running);
  await res.stop();
});

forBoth('an unreachable engine is down with the engine message', async (t, cli) => {
  const name = uniquePrefix('cu');
  await prepare(t, cli, name);
  const res = makeContainer(cli, 'svc', 'container#5', {
    run_image: testImage,
    name,
    docker_host: `unix:///nonexistent-${name}.sock`,
  });

  const st = await res.status();
  t.is(st.status, 'down');
  t.is(st.label, testImage);
  if (cli === 'docker') {
    t.deepEqual(st.messages, ['docker daemon is not running']);
  } else {
    t.is(st.messages.length, 1);
    t.regex(st.messages[0]!, /^unable to connect to Podman socket: .*nonexistent/);
  }
  const err = await t.throwsAsync(res.start());
  t.is(err?.message, st.messages[0]);
  await t.throwsAsync(res.stop(), undefined, 'stop cannot claim success without the engine');
});

forBoth('status of many containers at once: each gets its own answer', async (t, cli) => {
  const base = uniquePrefix('cm');
  const names = Array.from({ length: 20 }, (_, i) => `${base}.${i}`);
  await prepare(t, cli, ...names);
  const resources = names.map((name, i) =>
    makeContainer(cli, 'svc', `container#${i}`, { run_image: testImage, name, run_command: 'sleep 1000', stop_timeout: '1s' }),
  );
  // every other one running
  await Promise.all(resources.filter((_, i) => i % 2 === 0).map((r) => r.start()));

  const t0 = performance.now();
  const statuses = await Promise.all(resources.map((r) => r.status()));
  const ms = performance.now() - t0;
  t.log(`${cli}: status of 20 containers in ${ms.toFixed(0)} ms`);
  t.deepEqual(
    statuses.map((s) => s.status),
    names.map((_, i) => (i % 2 === 0 ? 'up' : 'down')),
  );
  for (const [i, s] of statuses.entries()) {
    if (i % 2 !== 0) continue;
    const seen = await observe(cli, names[i]!);
    t.is(s.label.slice(0, 12), seen?.id.slice(0, 12) ?? 'absent', `${names[i]} label carries its own id`);
  }
  t.true(ms < 5_000, `status of 20 containers took ${ms} ms`);
});
