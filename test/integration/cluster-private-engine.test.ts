// Issue 13: a service's private docker engine (docker_data_dir on its fs, on the lab's shared
// data disk) moves with the service. An image loaded into the engine's data root on n1 is
// listed by n2's private engine after a relocate and its container runs there; the standby
// shows `# docker daemon is not running` for the container. The node engine never sees it.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { requireRoot, sh, testImage } from '../helpers/env.js';
import { cli, startAgentIn, startCluster, waitFor, waitRunning } from '../helpers/cluster-lab.js';
import type { Lab } from '../../src/lab/lab.js';
import { ferryPaths } from '../../src/paths.js';
import { dockerdArgs } from '../../src/resources/container-private.js';

/** the socket of the service's private dockerd in node n */
const sockOf = (lab: Lab, n: string, svc: string) => `unix://${path.join(ferryPaths({ FERRY_ROOT: lab.root(n) }).run, svc, 'docker.sock')}`;

async function ok(lab: Lab, node: string, cmd: string, args: string[], timeout = 60_000): Promise<string> {
  const r = await lab.exec(node, cmd, args, { timeout });
  if (!r.ok) throw new Error(`${node}: ${cmd} ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

test.serial('private dockerd on the service fs: an image loaded on n1 is there on n2 after a relocate, the container runs in it; the standby says the engine is not running', async (t) => {
  requireRoot();
  // agents started by hand: the image has to be in the engine's data root before the first start
  const cl = await startCluster(t, { nodes: 2, agents: [], expectOn: null, service: { defaults: [] } });
  const { lab, svc } = cl;
  const mnt = cl.mnt!;
  const dataDir = `${mnt}/dockerdata`;
  // the service file with docker_data_dir on its fs
  for (const n of lab.nodeNames) {
    const f = `${lab.root(n)}/etc/services/${svc}.env`;
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('orchestrate = ha\n', `orchestrate = ha\ndocker_data_dir = ${dataDir}\n`));
  }
  t.teardown(async () => {
    // stop the service where it runs so its dockerd lets the fs go before the lab is destroyed
    // (a killed dockerd would leave its containers running, holding the lab's data disk)
    const up = lab.nodeNames.filter((n) => lab.isUp(n));
    for (const n of up) await cli(lab, n, 'nodemgr', ['freeze'], 30_000).catch(() => undefined);
    for (const n of up) {
      const r = await cli(lab, n, 'svcmgr', ['-s', svc, 'stop'], 90_000).catch((e: unknown) => ({ exitCode: -1, stderr: String(e) }));
      if (r.exitCode !== 0) console.error(`${n}: svcmgr stop: ${r.stderr.trim()}`);
    }
  });

  // an operator's load into the service's engine, done on n1 with the fs mounted there
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

  for (const n of lab.nodeNames) startAgentIn(lab, n);
  await waitRunning(cl, 'n1', 90_000);
  const images = async (n: string) => ok(lab, n, 'docker', ['-H', sockOf(lab, n, svc), 'images', '--format', '{{.Repository}}:{{.Tag}}']);
  const running = async (n: string) => ok(lab, n, 'docker', ['-H', sockOf(lab, n, svc), 'ps', '--format', '{{.Names}}']);
  t.true((await images('n1')).split('\n').includes(testImage));
  t.is((await running('n1')).trim(), `${svc}.container.1`);
  t.is((await sh('docker', ['ps', '-q', '--filter', `name=^${svc}.container.1$`])).stdout.trim(), '', 'not in the node engine');
  const info = await ok(lab, 'n1', 'docker', ['-H', sockOf(lab, 'n1', svc), 'info', '--format', '{{.DockerRootDir}}']);
  t.is(info.trim(), dataDir, 'data root on the service fs');

  const st2 = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'print', 'status']);
  t.regex(st2.stdout, /# docker daemon is not running/, 'the standby shows the engine message');

  const rel = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'relocate', '--to', 'n2', '--wait', '90'], 120_000);
  t.is(rel.exitCode, 0, rel.stderr);
  await waitRunning(cl, 'n2', 60_000);
  t.true((await images('n2')).split('\n').includes(testImage), 'the image came along on the shared fs');
  t.is((await running('n2')).trim(), `${svc}.container.1`);
  const st1 = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'print', 'status']);
  t.regex(st1.stdout, /# docker daemon is not running/, 'the old owner now shows the engine message');
  t.false((await lab.exec('n1', 'docker', ['-H', sockOf(lab, 'n1', svc), 'info'], { timeout: 10_000 })).ok, 'n1 engine stopped');
});
