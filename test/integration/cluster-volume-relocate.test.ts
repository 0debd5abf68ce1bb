// Issue 10 item 4: a Docker volume follows its service on relocate. Two lab nodes, each with
// its own /run/docker/plugins (a tmpfs in the node's mount namespace) where its daemon serves
// the volume plugin; the service's private dockerd (docker_data_dir) and its volumes_dir are on
// its fs on the lab's shared data disk. On n1: the container resource's declared volume
// (`volumes`, `volume_mounts`) is created through the plugin at start, an operator's
// `docker volume create -d <plugin> -o service=<svc>` volume is used by a `docker run`. After
// `relocate --to n2`, the data written on n1 is read by containers on n2, n2's
// `docker volume ls`/`inspect` agree with the plugin's own list, and n1's plugin refuses the
// volume and new ones (the service runs on n2).
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { requireRoot, sh, testImage } from '../helpers/env.js';
import { cli, startAgentIn, startCluster, waitFor, waitRunning } from '../helpers/cluster-lab.js';
import type { Lab } from '../../src/lab/lab.js';
import { ferryPaths } from '../../src/paths.js';
import { dockerdArgs } from '../../src/resources/container-private.js';

const sockOf = (lab: Lab, n: string, svc: string) => `unix://${path.join(ferryPaths({ FERRY_ROOT: lab.root(n) }).run, svc, 'docker.sock')}`;

async function ok(lab: Lab, node: string, cmd: string, args: string[], timeout = 60_000): Promise<string> {
  const r = await lab.exec(node, cmd, args, { timeout });
  if (!r.ok) throw new Error(`${node}: ${cmd} ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** a request to the node's volume plugin, as dockerd sends it */
async function pluginCall(lab: Lab, node: string, plugin: string, endpoint: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await lab.exec(node, 'curl', ['-s', '--max-time', '10', '--unix-socket', `/run/docker/plugins/${plugin}.sock`, '-X', 'POST', '-d', JSON.stringify(body), `http://plugin/${endpoint}`], { timeout: 20_000 });
  if (!r.ok && r.stdout.trim() === '') throw new Error(`${node}: plugin ${endpoint}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test.serial('a docker volume of the service follows it: written on n1, read on n2 after relocate; docker volume ls/inspect agree with the plugin', async (t) => {
  requireRoot();
  const cl = await startCluster(t, {
    nodes: 2,
    agents: [],
    expectOn: null,
    service: { defaults: ['volumes = pgdata'], container: ['volume_mounts = pgdata:/data'] },
    clusterLines: [],
  });
  const { lab, svc } = cl;
  const mnt = cl.mnt!;
  const plugin = `ferry-${lab.id}`;
  const dataDir = `${mnt}/dockerdata`;
  const volumesDir = `${mnt}/volumes`;
  const cname = `${svc}.container.1`;
  for (const n of lab.nodeNames) {
    const f = `${lab.root(n)}/etc/services/${svc}.env`;
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('orchestrate = ha\n', `orchestrate = ha\ndocker_data_dir = ${dataDir}\nvolumes_dir = ${volumesDir}\n`));
    const c = `${lab.root(n)}/etc/cluster.conf`;
    fs.writeFileSync(c, fs.readFileSync(c, 'utf8').replace('[cluster]\n', `[cluster]\nvolume_plugin = ${plugin}\n`));
  }
  t.teardown(async () => {
    const up = lab.nodeNames.filter((n) => lab.isUp(n));
    for (const n of up) await cli(lab, n, 'nodemgr', ['freeze'], 30_000).catch(() => undefined);
    for (const n of up) {
      const r = await cli(lab, n, 'svcmgr', ['-s', svc, 'stop'], 90_000).catch((e: unknown) => ({ exitCode: -1, stderr: String(e) }));
      if (r.exitCode !== 0) console.error(`${n}: svcmgr stop: ${r.stderr.trim()}`);
    }
  });

  // the image into the service engine's data root, on n1 with the fs mounted there
  const tar = path.join(lab.dir, 'image.tar');
  await sh('docker', ['save', '-o', tar, testImage]);
  const seed = path.join(lab.root('n1'), 'seed');
  fs.mkdirSync(seed, { recursive: true });
  await ok(lab, 'n1', 'mkdir', ['-p', mnt]);
  await ok(lab, 'n1', 'mount', [lab.dataDisk!, mnt]);
  const argv = dockerdArgs(seed, dataDir, []).map((a) => `'${a}'`).join(' ');
  const pid = (await ok(lab, 'n1', 'sh', ['-c', `dockerd ${argv} >${seed}/dockerd.log 2>&1 </dev/null & echo $!`])).trim();
  const seedSock = `unix://${seed}/docker.sock`;
  await waitFor('the seed dockerd to answer', async () => (await lab.exec('n1', 'docker', ['-H', seedSock, 'info'], { timeout: 10_000 })).ok, 60_000, 500);
  await ok(lab, 'n1', 'docker', ['-H', seedSock, 'load', '-i', tar], 120_000);
  await ok(lab, 'n1', 'kill', [pid]);
  await waitFor('the seed dockerd to exit', async () => !(await lab.exec('n1', 'kill', ['-0', pid])).ok, 60_000, 200);
  await ok(lab, 'n1', 'umount', [mnt]);

  // each node its own plugin directory: its daemon's socket, where its dockerd looks
  for (const n of lab.nodeNames) {
    await ok(lab, n, 'mkdir', ['-p', '/run/docker/plugins']);
    await ok(lab, n, 'mount', ['-t', 'tmpfs', '-o', 'mode=0755,size=1m', 'tmpfs', '/run/docker/plugins']);
  }
  for (const n of lab.nodeNames) startAgentIn(lab, n);
  await waitRunning(cl, 'n1', 90_000);
  t.false(fs.existsSync(`/run/docker/plugins/${plugin}.sock`), 'the host never sees a node\'s plugin socket');

  const dk = (n: string, args: string[], timeout?: number) => ok(lab, n, 'docker', ['-H', sockOf(lab, n, svc), ...args], timeout);
  // the container resource's declared volume: created through n1's plugin at start
  t.is((await dk('n1', ['volume', 'inspect', '--format', '{{.Driver}} {{.Mountpoint}}', 'pgdata'])).trim(), `${plugin} ${volumesDir}/pgdata`);
  await dk('n1', ['exec', cname, 'sh', '-c', 'echo written-on-n1 > /data/f']);
  // an operator's volume of the service, used by a one-off container
  await dk('n1', ['volume', 'create', '-d', plugin, '-o', `service=${svc}`, 'extra']);
  await dk('n1', ['run', '--rm', '--network', 'none', '-v', 'extra:/x', testImage, 'sh', '-c', 'echo extra-on-n1 > /x/g'], 60_000);

  const rel = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'relocate', '--to', 'n2', '--wait', '90'], 120_000);
  t.is(rel.exitCode, 0, rel.stderr);
  await waitRunning(cl, 'n2', 60_000);

  t.is((await dk('n2', ['exec', cname, 'cat', '/data/f'])).trim(), 'written-on-n1', 'the container on n2 reads what n1 wrote');
  t.is((await dk('n2', ['run', '--rm', '--network', 'none', '-v', 'extra:/x', testImage, 'cat', '/x/g'], 60_000)).trim(), 'extra-on-n1');

  const ls = (await dk('n2', ['volume', 'ls', '--filter', `driver=${plugin}`, '--format', '{{.Name}}'])).trim().split('\n').sort();
  const list = await pluginCall(lab, 'n2', plugin, 'VolumeDriver.List', {});
  const ferry = ((list.Volumes ?? []) as { Name: string; Mountpoint: string }[]).map((v) => v.Name).sort();
  t.deepEqual(ls, ['extra', 'pgdata']);
  t.deepEqual(ferry, ls, 'docker volume ls on n2 = the plugin\'s list');
  const info = (JSON.parse(await dk('n2', ['volume', 'inspect', 'pgdata'])) as { Driver: string; Mountpoint: string; Status: { service: string } }[])[0]!;
  t.is(info.Driver, plugin);
  t.is(info.Mountpoint, `${volumesDir}/pgdata`);
  t.is(info.Status.service, svc);
  // the old owner's plugin no longer serves it (its copy of the fs is gone), nor makes volumes for it
  const p1 = await pluginCall(lab, 'n1', plugin, 'VolumeDriver.Path', { Name: 'pgdata' });
  t.regex(String(p1.Err), /volume pgdata not found on the services running here/);
  const c1 = await pluginCall(lab, 'n1', plugin, 'VolumeDriver.Create', { Name: 'other', Opts: { service: svc } });
  t.regex(String(c1.Err), new RegExp(`service ${svc} does not run on this node \\(it runs on n2\\)`));
});
