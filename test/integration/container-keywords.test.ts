// The container run-option keywords against the real engines: each one set through the driver
// and read back from `docker inspect` / `podman inspect`, for both engines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { requireRoot, sh, testImage, uniquePrefix } from '../helpers/env.js';
import { engines, makeContainer, removeContainers, requireEngine, type Cli } from '../helpers/container-engines.js';

interface Inspected {
  Id: string;
  Config: { Env: string[]; Entrypoint: string[] | string | null; Cmd: string[] | null; Hostname: string; OpenStdin: boolean; Tty: boolean; User: string };
  HostConfig: {
    NetworkMode: string;
    Binds: string[] | null;
    Privileged: boolean;
    AutoRemove: boolean;
    Devices: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] | null;
  };
  State: { Running: boolean };
}

async function inspect(cli: Cli, name: string): Promise<Inspected> {
  const r = await sh(cli, ['inspect', '--type', 'container', '--', name]);
  const [c] = JSON.parse(r.stdout) as Inspected[];
  if (!c) throw new Error(`${cli} inspect ${name}: nothing`);
  return c;
}

/** Docker's privileged asks runc for every capability of the kernel: on a host whose bounding
 *  set lacks one (this machine lacks CAP_SYS_RESOURCE) it cannot run at all. */
function hostHasEveryCapability(): boolean {
  const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return BigInt(`0x${bnd}`) === (1n << BigInt(last + 1)) - 1n;
}

/** podman writes a one-word entrypoint as a string, docker as a list */
const entrypointOf = (c: Inspected): string[] => (Array.isArray(c.Config.Entrypoint) ? c.Config.Entrypoint : c.Config.Entrypoint ? [c.Config.Entrypoint] : []);

for (const cli of engines) {
  test.serial(`${cli}: volume_mounts, environment, entrypoint, hostname, interactive, tty, rm, devices, user, then privileged and netns = container#N, seen in inspect`, async (t) => {
    requireRoot();
    await requireEngine(cli);
    const svc = uniquePrefix('ck');
    const main = `${svc}.container.1`;
    const side = `${svc}.container.2`;
    t.teardown(() => removeContainers(cli, side, main));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${svc}-`));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'hello'), 'from the host\n', { mode: 0o644 });
    fs.chmodSync(dir, 0o755); // readable by the container user

    const res = makeContainer(cli, svc, 'container#1', {
      run_image: testImage,
      volume_mounts: `${dir}:/data:ro`,
      environment: 'A=1 "B=x y; z"',
      entrypoint: '/bin/sh -c',
      run_command: '"sleep 1000"',
      hostname: 'kw-host',
      interactive: true,
      tty: true,
      rm: true,
      devices: '/dev/null:/dev/kwnull:rw',
      user: '1000:1000',
      stop_timeout: '1s',
    });
    await res.start();
    const c = await inspect(cli, main);
    t.true(c.State.Running);
    // (podman does not report a device's permissions)
    t.true((c.HostConfig.Binds ?? []).some((b) => b.startsWith(`${dir}:/data:ro`)), JSON.stringify(c.HostConfig.Binds));
    t.true(c.Config.Env.includes('A=1') && c.Config.Env.includes('B=x y; z'), JSON.stringify(c.Config.Env));
    t.deepEqual(entrypointOf(c), ['/bin/sh']);
    t.deepEqual(c.Config.Cmd, ['-c', 'sleep 1000']);
    t.is(c.Config.Hostname, 'kw-host');
    t.false(c.HostConfig.Privileged);
    t.true(c.Config.OpenStdin);
    t.true(c.Config.Tty);
    t.true(c.HostConfig.AutoRemove);
    t.true((c.HostConfig.Devices ?? []).some((d) => d.PathOnHost === '/dev/null' && d.PathInContainer === '/dev/kwnull' && (d.CgroupPermissions === 'rw' || cli === 'podman')), JSON.stringify(c.HostConfig.Devices));
    t.is(c.Config.User, '1000:1000');
    // and they took effect inside
    const inside = await sh(cli, ['exec', main, 'sh', '-c', 'cat /data/hello; id -u; hostname; echo "$B"']);
    t.deepEqual(inside.stdout.trim().split('\n'), ['from the host', '1000', 'kw-host', 'x y; z']);

    // (podman gives a privileged container every host device and lists none: privileged is tested here)
    const privileged = cli === 'podman' || hostHasEveryCapability();
    if (!privileged) {
      // the flag reached runc, which cannot grant what the host does not have
      const p = makeContainer(cli, svc, 'container#2', { run_image: testImage, run_command: 'sleep 1000', privileged: true });
      await t.throwsAsync(p.start(), { message: /unable to apply caps: operation not permitted/ });
      t.log('docker privileged: runc refused (host bounding set lacks a capability)');
    }
    const shared = makeContainer(cli, svc, 'container#2', { run_image: testImage, run_command: 'sleep 1000', netns: 'container#1', privileged, stop_timeout: '1s' });
    await shared.start();
    const s = await inspect(cli, side);
    t.is(s.HostConfig.Privileged, privileged);
    t.is(s.HostConfig.NetworkMode, `container:${c.Id}`);
    const ns = async (n: string) => (await sh(cli, ['exec', n, 'readlink', '/proc/self/ns/net'])).stdout.trim();
    t.is(await ns(side), await ns(main), 'one network namespace');

    await shared.stop();
    // rm: stop finds the engine already removing it
    await res.stop();
    t.is((await res.status()).status, 'down');
    t.is((await sh(cli, ['inspect', '--type', 'container', '--', main], { reject: false })).exitCode === 0, false, 'removed');
  });

  test.serial(`${cli}: netns as a named network namespace path`, async (t) => {
    requireRoot();
    await requireEngine(cli);
    const name = uniquePrefix('cn');
    const nsname = uniquePrefix('kn');
    await sh('ip', ['netns', 'add', nsname]);
    t.teardown(async () => {
      await removeContainers(cli, name);
      await sh('ip', ['netns', 'delete', nsname], { reject: false });
    });
    const res = makeContainer(cli, 'svc', 'container#1', { name, run_image: testImage, run_command: 'sleep 1000', netns: `/var/run/netns/${nsname}`, stop_timeout: '1s' });
    if (cli === 'docker') {
      await t.throwsAsync(res.start(), { message: /docker cannot join a network namespace by path/ });
      return;
    }
    await res.start();
    const c = await inspect(cli, name);
    t.is(c.HostConfig.NetworkMode, `ns:/var/run/netns/${nsname}`);
    const inside = (await sh(cli, ['exec', name, 'readlink', '/proc/self/ns/net'])).stdout.trim();
    const want = (await sh('ip', ['netns', 'exec', nsname, 'readlink', '/proc/self/ns/net'])).stdout.trim();
    t.is(inside, want);
    await res.stop();
  });
}

test('netns = container#N with no running container for it fails the start with one line', async (t) => {
  requireRoot();
  await requireEngine('docker');
  const svc = uniquePrefix('cz');
  t.teardown(() => removeContainers('docker', `${svc}.container.2`));
  const res = makeContainer('docker', svc, 'container#2', { run_image: testImage, run_command: 'sleep 1000', netns: 'container#1' });
  await t.throwsAsync(res.start(), { message: 'netns container#1: no running container for it (it must start first)' });
});
