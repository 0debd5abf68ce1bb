// Configured values given to docker/podman are operands, never options (issue 8's hardening
// for the container driver): every verb puts them after `--`, and the image follows run_args.
// Each check runs the real engine with a hostile value and fails if it was read as an option.
import test from 'ava';
import { requireRoot, sh, testImage, uniquePrefix } from '../helpers/env.js';
import { engines, makeContainer, observe, removeContainers, requireEngine } from '../helpers/container-engines.js';
import {
  engine,
  forceRemoveArgs,
  inspectArgs,
  inspectMany,
  logsArgs,
  runArgs,
  stopArgs,
  type EngineTarget,
} from '../../src/resources/container-engine.js';

test('argv builders put -- before every configured value', (t) => {
  const d: EngineTarget = { cli: 'docker', host: undefined };
  const p: EngineTarget = { cli: 'podman', host: undefined };
  t.deepEqual(forceRemoveArgs(d, '-a'), ['rm', '-f', '--', '-a']);
  t.deepEqual(forceRemoveArgs(p, '-a'), ['rm', '-f', '-t', '0', '--', '-a']);
  t.deepEqual(stopArgs('--all', 3), ['stop', '-t', '3', '--', '--all']);
  t.deepEqual(inspectArgs(['-a', 'x']), ['inspect', '--type', 'container', '--', '-a', 'x']);
  t.deepEqual(logsArgs('-f', 3), ['logs', '--tail', '3', '--', '-f']);
  t.deepEqual(runArgs(['--name', 'n'], ['-e'], 'img', ['sh']), ['run', '-d', '--name', 'n', '-e', '--', 'img', 'sh']);
});

for (const cli of engines) {
  test.serial(`${cli}: inspect, stop, rm and logs of "-a" / "--all" ask about a container of that name`, async (t) => {
    requireRoot();
    await requireEngine(cli);
    const target: EngineTarget = { cli, host: undefined };
    // without `--`: "unknown shorthand flag" (an engine that could not answer) or `--all` semantics
    const seen = await inspectMany(target, ['-a', '--all'], 30_000);
    t.deepEqual(seen.get('-a'), { kind: 'absent' });
    t.deepEqual(seen.get('--all'), { kind: 'absent' });
    for (const argv of [stopArgs('--all', 1), forceRemoveArgs(target, '-a'), logsArgs('--help', 1)]) {
      const r = await engine(target, argv, 30_000);
      const out = `${r.stdout}\n${r.stderr}`;
      t.notRegex(out, /unknown (shorthand )?flag|Usage:/i, `${argv.join(' ')}: ${out}`);
      // podman's rm -f of a missing name is a success; everything else names the missing container
      if (!r.ok) t.regex(r.stderr, /no such (container|object)/i, `${argv.join(' ')}: ${r.stderr}`);
    }
  });

  test.serial(`${cli}: a run_image that reads as an option is an image, and run_args cannot swallow the image`, async (t) => {
    requireRoot();
    await requireEngine(cli);
    const hostile = uniquePrefix('oi');
    const swallow = uniquePrefix('os');
    t.teardown(() => removeContainers(cli, hostile, swallow));

    // without `--`: `run ... --privileged ferry/busybox sleep 1000`, a privileged container
    const res = makeContainer(cli, 'svc', 'container#1', { name: hostile, run_image: '--privileged', run_command: `${testImage} sleep 1000`, start_timeout: '30s' });
    const err = await t.throwsAsync(res.start());
    t.log(err?.message);
    t.regex(err!.message, /--privileged/);
    t.is(await observe(cli, hostile), undefined, 'no container was created');

    // run_args ending with an option that takes a value: it takes the `--`, never the image
    const ok = makeContainer(cli, 'svc', 'container#2', { name: swallow, run_image: testImage, run_args: '--label', run_command: 'sleep 1000', stop_timeout: '1s' });
    await ok.start();
    const r = await sh(cli, ['inspect', '--type', 'container', '--', swallow]);
    const [c] = JSON.parse(r.stdout) as { Config: { Image: string; Cmd: string[] } }[];
    t.true(c!.Config.Image === testImage || c!.Config.Image === `localhost/${testImage}`, c!.Config.Image);
    t.deepEqual(c!.Config.Cmd, ['sleep', '1000']);
    await ok.stop();
  });
}

test('run_args holding a bare "--" is refused: it would turn the image into a word of run_args', async (t) => {
  const res = makeContainer('docker', 'svc', 'container#1', { run_image: testImage, run_args: '-e A=1 -- other' });
  const st = await res.status();
  t.deepEqual(st.messages, ['run_args must not hold a bare "--": the image and run_command follow it']);
  await t.throwsAsync(res.start(), { message: st.messages[0] });
});
