// A service's private engine (docker_data_dir) against the real engines: its data on a real
// loop-device ext4 of the service, a container run in it, an image loaded into it still there
// after stop, umount, mount and start (the relocate of a shared fs, on one node).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { makeFerryRoot, repoRoot, requireRoot, runCli, sh, testImage, uniquePrefix } from '../helpers/env.js';
import { makeNetNs } from '../helpers/host.js';
import { createLoop } from '../helpers/loop-dev.js';
import { engines, makeContainer, observe, removeContainers, requireEngine, testPaths, type Cli } from '../helpers/container-engines.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';
import { DOCKER_NOT_RUNNING, PODMAN_INACTIVE, privateEngine, type PrivateEngine } from '../../src/resources/container-private.js';
import { pidAlive as alive } from '../../src/util/pid-alive.js';

const log = silentLogger();

/** the CLI words that reach the private engine */
function cliPrefix(pe: PrivateEngine): string[] {
  return pe.target.host !== undefined ? ['-H', pe.target.host] : [...(pe.target.globalArgs ?? [])];
}

async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** a fresh ext4 on a loop device, mounted: the service's fs */
async function serviceFs(t: ExecutionContext, prefix: string): Promise<{ mnt: string; mount(): Promise<void>; umount(): Promise<void> }> {
  const loop = await createLoop(prefix, 512);
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-mnt-`));
  let mounted = false;
  t.teardown(async () => {
    if (mounted) await sh('umount', ['-l', mnt], { reject: false });
    await loop.detach();
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  await sh('mkfs.ext4', ['-q', loop.dev]);
  const fsOps = {
    mnt,
    async mount() {
      await sh('mount', ['-t', 'ext4', '--', loop.dev, mnt]);
      mounted = true;
    },
    async umount() {
      await sh('umount', ['--', mnt]);
      mounted = false;
    },
  };
  await fsOps.mount();
  return fsOps;
}

function pidOf(pe: PrivateEngine, svc: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(testPaths.run, svc, 'docker.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

for (const cli of engines) {
  test.serial(`${cli}: private engine on the service fs: container in it, loaded image kept over stop, remount and start`, async (t) => {
    requireRoot();
    await requireEngine(cli);
    const svc = uniquePrefix('pe');
    const name = `${svc}.container.1`;
    const svcfs = await serviceFs(t, svc);
    const dataDir = path.join(svcfs.mnt, 'dockerdata');
    const service = { docker_data_dir: dataDir, docker_daemon_args: `--label=ferry.test=${svc}` };
    const pe = privateEngine(cli, svc, testPaths, dataDir, service.docker_daemon_args);
    if ('error' in pe) throw new Error(pe.error);
    const res = makeContainer(cli, svc, 'container#1', { run_image: testImage, run_command: 'sleep 1000', stop_timeout: '1s' }, service);
    t.teardown(async () => {
      // whatever happened: nothing of the test left running
      if (pe.active()) await sh(cli, [...cliPrefix(pe), 'rm', '-f', '--', name], { reject: false });
      await pe.stopIfIdle(log).catch(() => undefined);
      const pid = pidOf(pe, svc);
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
      await removeContainers(cli, name);
      fs.rmSync(path.join(testPaths.run, svc), { recursive: true, force: true });
    });
    const message = cli === 'docker' ? DOCKER_NOT_RUNNING : PODMAN_INACTIVE;

    // the standby's view: no engine here
    t.deepEqual(await res.status(), { status: 'down', label: testImage, messages: [message] });
    await t.notThrowsAsync(res.stop(), 'stop where the engine does not run is a no-op');

    // an operator loads the image into the service's engine
    await pe.ensure(log);
    const tar = path.join(os.tmpdir(), `${svc}.tar`);
    t.teardown(() => fs.rmSync(tar, { force: true }));
    await sh(cli, ['save', '-o', tar, testImage]);
    await sh(cli, [...cliPrefix(pe), 'load', '-i', tar]);

    // its storage is the service fs
    if (cli === 'docker') {
      const info = JSON.parse((await sh('docker', [...cliPrefix(pe), 'info', '--format', '{{json .}}'])).stdout) as { DockerRootDir: string; Labels: string[] | null };
      t.is(info.DockerRootDir, dataDir);
      t.true((info.Labels ?? []).includes(`ferry.test=${svc}`), 'docker_daemon_args reached dockerd');
      const pid = pidOf(pe, svc)!;
      t.true(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--bridge=none'));
    } else {
      const graph = (await sh('podman', [...cliPrefix(pe), 'info', '--format', '{{.Store.GraphRoot}}'])).stdout.trim();
      t.is(graph, dataDir);
    }
    t.is(fs.statSync(dataDir).dev, fs.statSync(svcfs.mnt).dev, 'data root on the service fs');
    t.not(fs.statSync(dataDir).dev, fs.statSync(os.tmpdir()).dev);

    await res.start();
    const inPrivate = await sh(cli, [...cliPrefix(pe), 'inspect', '--type', 'container', '--', name]);
    t.true((JSON.parse(inPrivate.stdout) as { State: { Running: boolean } }[])[0]!.State.Running);
    t.is(await observe(cli, name), undefined, 'not in the node engine');
    const up = await res.status();
    t.is(up.status, 'up');

    const pid = pidOf(pe, svc);
    await res.stop();
    t.false(pe.active(), 'stopped after the last container');
    if (cli === 'docker') {
      await waitFor('the private dockerd to exit', () => !alive(pid!));
      t.false(fs.existsSync(path.join(testPaths.run, svc, 'docker.sock')));
    }
    t.deepEqual(await res.status(), { status: 'down', label: testImage, messages: [message] });

    // the service fs leaves and comes back (a relocate over shared storage, on one node)
    await svcfs.umount();
    t.deepEqual(await res.status(), { status: 'down', label: testImage, messages: [message] });
    await svcfs.mount();
    // no registry is reachable: the run can only use the image loaded before
    await res.start();
    t.is((await res.status()).status, 'up');
    await sh(cli, [...cliPrefix(pe), 'image', 'inspect', testImage]);
    await res.stop();
    t.false(pe.active());
  });
}

test.serial('docker: a failed first start stops the private dockerd it started', async (t) => {
  requireRoot();
  await requireEngine('docker');
  const svc = uniquePrefix('pf');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${svc}-data-`));
  const pe = privateEngine('docker', svc, testPaths, dataDir, '');
  if ('error' in pe) throw new Error(pe.error);
  t.teardown(async () => {
    const pid = pidOf(pe, svc);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    await waitFor('the dockerd to exit', () => pid === undefined || !alive(pid)).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(path.join(testPaths.run, svc), { recursive: true, force: true });
  });
  // an image the fresh engine does not have, and no registry to pull it from
  const res = makeContainer('docker', svc, 'container#1', { run_image: `${svc}/missing:1`, start_timeout: '30s' }, { docker_data_dir: dataDir });
  await t.throwsAsync(res.start(), { message: new RegExp(`${svc}/missing:1`) });
  t.false(pe.active(), 'no private dockerd left running');
  t.deepEqual((await res.status()).messages, [DOCKER_NOT_RUNNING]);
});

test.serial('docker: containers of a parallel subset share one private dockerd, started once and stopped after the last', async (t) => {
  requireRoot();
  await requireEngine('docker');
  const svc = uniquePrefix('pp');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${svc}-data-`));
  const pe = privateEngine('docker', svc, testPaths, dataDir, '');
  if ('error' in pe) throw new Error(pe.error);
  const names = [1, 2, 3].map((i) => `${svc}.container.${i}`);
  t.teardown(async () => {
    if (pe.active()) await sh('docker', [...cliPrefix(pe), 'rm', '-f', '--', ...names], { reject: false });
    const pid = pidOf(pe, svc);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    await waitFor('the dockerd to exit', () => pid === undefined || !alive(pid)).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(path.join(testPaths.run, svc), { recursive: true, force: true });
  });
  await pe.ensure(log);
  const tar = path.join(os.tmpdir(), `${svc}.tar`);
  t.teardown(() => fs.rmSync(tar, { force: true }));
  await sh('docker', ['save', '-o', tar, testImage]);
  await sh('docker', [...cliPrefix(pe), 'load', '-i', tar]);
  await pe.stopIfIdle(log);
  t.false(pe.active());

  const service = { docker_data_dir: dataDir };
  const res = [1, 2, 3].map((i) => makeContainer('docker', svc, `container#${i}`, { run_image: testImage, run_command: 'sleep 1000', stop_timeout: '1s' }, service));
  await Promise.all(res.map((r) => r.start()));
  const pid = pidOf(pe, svc)!;
  t.deepEqual((await Promise.all(res.map((r) => r.status()))).map((s) => s.status), ['up', 'up', 'up']);
  // one daemon for the three
  const daemons = (await sh('pgrep', ['-f', `--pidfile=${path.join(testPaths.run, svc, 'docker.pid')}`], { reject: false })).stdout.trim().split('\n').filter((l) => l.length > 0);
  t.deepEqual(daemons, [String(pid)]);
  // one stopped: the daemon stays for the two others
  await res[0]!.stop();
  t.true(pe.active());
  await Promise.all(res.slice(1).map((r) => r.stop()));
  t.false(pe.active());
  t.false(alive(pid));
});

test('bad private engine settings fail start and show in status, with no engine started', async (t) => {
  const res = makeContainer('docker', 'svc', 'container#1', { run_image: testImage }, { docker_data_dir: 'relative/dir' });
  const st = await res.status();
  t.deepEqual(st.messages, ['docker_data_dir "relative/dir" is not an absolute path']);
  await t.throwsAsync(res.start(), { message: st.messages[0] });
});

test.serial("registry.opensvc.com on its standby: the seed's engine message under container#1, and no engine started", async (t) => {
  requireRoot();
  const root = makeFerryRoot('deb2.opensvc.com');
  const ns = await makeNetNs('eth0');
  t.teardown(async () => {
    await ns.remove();
    root.cleanup();
  });
  fs.copyFileSync(path.join(repoRoot, 'services', 'registry.opensvc.com.env'), path.join(root.services, 'registry.opensvc.com.env'));
  // no DOCKER_HOST: the service's own engine, which does not run here
  const r = await runCli('svcmgr', ['-s', 'registry.opensvc.com', 'print', 'status'], root.env, { wrap: ns.wrap });
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) => /container#1\s+\.\.\.\.\s+down\s+de9a91835513$/.test(l));
  t.true(at > 0, r.stdout);
  t.is(lines[at + 1], '|  |  |                            # docker daemon is not running');
  const json = JSON.parse((await runCli('svcmgr', ['-s', 'registry.opensvc.com', 'print', 'status', '--format', 'json'], root.env, { wrap: ns.wrap })).stdout) as {
    resources: { rid: string; status: string; messages?: string[] }[];
  };
  const c = json.resources.find((x) => x.rid === 'container#1');
  t.is(c?.status, 'down');
  t.false(fs.existsSync(path.join(root.root, 'run', 'registry.opensvc.com', 'docker.sock')), 'status started no engine');
});

test.serial('svcmgr start/stop of fs + docker container with docker_data_dir: the engine starts after the fs and is gone before its umount', async (t) => {
  requireRoot();
  await requireEngine('docker');
  const svc = uniquePrefix('ps');
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const svcfs = await serviceFs(t, svc);
  const dev = (await sh('findmnt', ['-n', '-o', 'SOURCE', '--', svcfs.mnt])).stdout.trim();
  const dataDir = path.join(svcfs.mnt, 'dockerdata');
  const paths = ferryPaths({ FERRY_ROOT: root.root });
  const pe = privateEngine('docker', svc, paths, dataDir, '');
  if ('error' in pe) throw new Error(pe.error);
  const name = `${svc}.container.1`;
  t.teardown(async () => {
    const pid = (() => {
      try {
        return Number(fs.readFileSync(path.join(paths.run, svc, 'docker.pid'), 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    })();
    if (pe.active()) await sh('docker', [...cliPrefix(pe), 'rm', '-f', '--', name], { reject: false });
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  // the service's engine gets its image once, on its fs
  await pe.ensure(log);
  const tar = path.join(os.tmpdir(), `${svc}.tar`);
  t.teardown(() => fs.rmSync(tar, { force: true }));
  await sh('docker', ['save', '-o', tar, testImage]);
  await sh('docker', [...cliPrefix(pe), 'load', '-i', tar]);
  await pe.stopIfIdle(log);
  t.false(pe.active());
  await svcfs.umount();

  fs.writeFileSync(
    path.join(root.services, `${svc}.env`),
    `[DEFAULT]\nnodes = node1\ndocker_data_dir = ${dataDir}\n\n[fs#1]\ntype = ext4\ndev = ${dev}\nmnt = ${svcfs.mnt}\n\n[container#1]\ntype = docker\nrun_image = ${testImage}\nrun_command = sleep 1000\nstop_timeout = 1s\n`,
  );
  const start = await runCli('svcmgr', ['-s', svc, 'start'], root.env, { timeoutMs: 180_000 });
  t.is(start.exitCode, 0, start.stderr);
  t.true(pe.active(), 'the private dockerd runs');
  const c = await sh('docker', [...cliPrefix(pe), 'inspect', '--type', 'container', '--', name]);
  t.true((JSON.parse(c.stdout) as { State: { Running: boolean } }[])[0]!.State.Running);

  const stop = await runCli('svcmgr', ['-s', svc, 'stop'], root.env, { timeoutMs: 180_000 });
  t.is(stop.exitCode, 0, stop.stderr);
  t.false(pe.active(), 'the private dockerd is gone');
  const mounted = await sh('findmnt', ['-n', '--', svcfs.mnt], { reject: false });
  t.not(mounted.exitCode, 0, 'the service fs is unmounted');
  const st = await runCli('svcmgr', ['-s', svc, 'print', 'status', '--format', 'json'], root.env);
  const json = JSON.parse(st.stdout) as { resources: { rid: string; status: string }[] };
  t.is(json.resources.find((r) => r.rid === 'container#1')?.status, 'down');
});
