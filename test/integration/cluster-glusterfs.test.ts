// A failover service on GlusterFS: [fs#1] type = glusterfs on a volume replicated across two
// lab nodes (a real glusterd in each node's namespaces, src/lab/gluster.ts: one brick per
// node, replica 2), real agents, an app appending numbered records to a file on the mount.
// Killing the owner (power off: its glusterd, its brick and its FUSE client die with it)
// fails the service over to n2, which mounts the volume from its own glusterd, finds every
// record n1 had written (served by n2's brick alone) and carries on from them.
// Then the stop is bounded with the FUSE client frozen (SIGSTOP: every stat of the mount
// blocks, as on a hard NFS mount whose server is gone): status answers, the stop kills the
// users found from /proc and unmounts.
import fs from 'node:fs';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { GlusterLab } from '../../src/lab/gluster.js';
import { signal } from '../../src/lab/processes.js';
import { sh } from '../helpers/env.js';
import type { ClusterLab } from '../helpers/cluster-lab.js';
import { cli, serviceText, startAgentIn, startCluster, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';

const VOL = 'ferryvol';

function sections(mnt: string, runDir: string): string[] {
  // the writer's pid file lives in the node's own FERRY_ROOT ({nodename}), not on the volume
  const pid = `${runDir}/{nodename}/writer.pid`;
  const loop = `n=$(cat ${mnt}/records 2>/dev/null | wc -l); cd ${mnt}; while :; do n=$((n+1)); echo $n:$(hostname) >> ${mnt}/records; sleep 0.2; done`;
  return [
    '[fs#1]',
    'type = glusterfs',
    `dev = 127.0.0.1:/${VOL}`,
    `mnt = ${mnt}`,
    'stop_timeout = 3s',
    '',
    '[app#1]',
    'type = forking',
    `start = /bin/sh -c "(${loop}) </dev/null >/dev/null 2>&1 & echo $! > ${pid}"`,
    `stop = /bin/sh -c "kill $(cat ${pid}) 2>/dev/null; rm -f ${pid}"`,
    `check = /bin/sh -c "test -f ${pid} && kill -0 $(cat ${pid})"`,
    '',
  ];
}

const fsStatus = (json: string): string | undefined =>
  (JSON.parse(json) as { resources: { rid: string; status: string }[] }).resources.find((r) => r.rid === 'fs#1')?.status;

function records(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

async function readOn(cl: ClusterLab, node: string, file: string): Promise<string[]> {
  const r = await cl.lab.exec(node, 'cat', [file], { timeout: 20_000 });
  return r.ok ? records(r.stdout) : [];
}

function logs(t: ExecutionContext, cl: ClusterLab, g: GlusterLab | undefined): void {
  if (t.passed) return;
  for (const n of cl.lab.nodeNames) {
    const f = `${cl.lab.root(n)}/log/${cl.svc}.log`;
    if (fs.existsSync(f)) console.error(`[${n}] ${cl.svc}.log:\n${fs.readFileSync(f, 'utf8').split('\n').slice(-15).join('\n')}`);
    const m = g ? `${g.dir(n)}/log` : '';
    if (m && fs.existsSync(m)) {
      for (const l of fs.readdirSync(m).filter((x) => x.endsWith('.log') && x.includes('mnt'))) {
        console.error(`[${n}] ${l}:\n${fs.readFileSync(`${m}/${l}`, 'utf8').split('\n').filter((x) => / [EW] \[/.test(x)).slice(-10).join('\n')}`);
      }
    }
  }
}

test.serial('glusterfs: a service on a replica 2 volume fails over with its data; stop is bounded with the FUSE client frozen', async (t) => {
  t.timeout(240_000);
  // the agents start once the volume exists: the service file is rewritten with the lab's paths first
  const cl = await startCluster(t, { nodes: 2, links: 1, agents: [], expectOn: null, service: { noFs: true } });
  const { lab, svc } = cl;
  let g: GlusterLab | undefined;
  t.teardown(async () => {
    logs(t, cl, g);
    const p = g ? await g.destroy() : [];
    if (p.length) console.error(`gluster teardown: ${p.join('; ')}`);
  });
  const t0 = Date.now();
  g = await GlusterLab.create(lab, {
    nodes: ['n1', 'n2'],
    volume: VOL,
    replica: 2,
    options: {
      // two replicas, no arbiter: the survivor must stay writable (the default client quorum
      // of replica 2 makes the volume read-only when the first brick is gone)
      'cluster.quorum-type': 'none',
      'network.ping-timeout': '5',
      // a write returns once both bricks have it: what n1 wrote is on n2's brick when n1 dies
      'performance.write-behind': 'off',
    },
  });
  t.log(`gluster volume ${VOL} (replica 2 on n1, n2) started in ${Date.now() - t0} ms`);

  const mnt = `${lab.dir}/mnt-${svc}`;
  const text = serviceText(lab, { name: svc, nodes: ['n1', 'n2'], noFs: true, sections: sections(mnt, lab.dir) });
  for (const n of lab.nodeNames) fs.writeFileSync(`${lab.root(n)}/etc/services/${svc}.env`, text);
  for (const n of lab.nodeNames) startAgentIn(lab, n);
  await waitRunning(cl, 'n1', 90_000);

  const st = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'print', 'status', '--format', 'json'], 30_000);
  t.is(st.exitCode, 0, st.stderr);
  t.is(fsStatus(st.stdout), 'up');
  const mi = await lab.exec('n1', 'cat', ['/proc/self/mountinfo']);
  t.regex(mi.stdout, new RegExp(` ${mnt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .* - fuse\\.glusterfs 127\\.0\\.0\\.1:/${VOL} `));

  await waitFor('n1 to write 15 records through the mount', async () => (await readOn(cl, 'n1', `${mnt}/records`)).length >= 15, 60_000, 250);
  const before = await readOn(cl, 'n1', `${mnt}/records`);
  t.true(before.every((l, i) => l === `${i + 1}:n1`), `n1's records: ${before.slice(0, 3).join(',')}...`);

  const k0 = Date.now();
  await lab.killNode('n1');
  // n1's brick process is dead: only n2's brick serves from now on
  await waitRunning(cl, 'n2', 120_000);
  t.log(`n2 took over ${Date.now() - k0} ms after n1 was killed`);
  await waitFor('n2 to write on', async () => (await readOn(cl, 'n2', `${mnt}/records`)).length > before.length + 5, 60_000, 250);
  const after = await readOn(cl, 'n2', `${mnt}/records`);
  t.deepEqual(after.slice(0, before.length), before, 'every record n1 had written is there on n2');
  const nums = after.map((l) => Number(l.split(':')[0]));
  t.true(nums.every((v, i) => v === i + 1), `records 1..n: ...${after.slice(before.length - 2, before.length + 3).join(',')}...`);
  t.true(after.slice(before.length).some((l) => l.endsWith(':n2')), 'n2 carries on');
  // physically on n2's brick (the replica), not only in a cache
  const onBrick = records(fs.readFileSync(`${g.brick('n2')}/records`, 'utf8'));
  t.deepEqual(onBrick.slice(0, before.length), before);
  t.log(`n1 wrote ${before.length} records; n2 found them all and carried on (now ${after.length})`);

  // the bounded stop: freeze n2's FUSE client (its stat()s block), a user holds the mount
  const clients = await g.pids('n2', /--process-name fuse/);
  t.is(clients.length, 1, `one FUSE client on n2: ${clients.join(' ')}`);
  const freeze = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'freeze'], 30_000);
  t.is(freeze.exitCode, 0, freeze.stderr);
  const holder = lab.spawn('n2', 'sleep', ['1000'], { cwd: mnt });
  const inMount = (): boolean => {
    try {
      return fs.readlinkSync(`/proc/${holder.pid}/cwd`) === mnt && fs.readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() === 'sleep';
    } catch {
      return false;
    }
  };
  await waitFor('the holder to sit in the mount', inMount, 10_000);
  // and a holder no signal removes: a loop device on a file of the volume (a kernel
  // reference, no process): the plain umount stays busy, only the forced detach ends the stop
  const img = await lab.exec('n2', 'sh', ['-ec', `dd if=/dev/zero of=${mnt}/loop.img bs=1M count=4 2>/dev/null; losetup -f --show ${mnt}/loop.img`], { timeout: 30_000 });
  t.is(img.exitCode, 0, img.stderr);
  const loopDev = img.stdout.trim();
  // loop devices are the host's: detached from the host, whatever state the lab is in
  t.teardown(async () => {
    if (/^\/dev\/loop\d+$/.test(loopDev)) await sh('losetup', ['-d', loopDev], { reject: false });
  });
  const logFile = `${lab.root('n2')}/log/${svc}.log`;
  const forcedBefore = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"event":"fs_forced_umount"')).length;
  signal(clients, 'SIGSTOP');
  try {
    const s0 = Date.now();
    const status = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'print', 'status', '--format', 'json'], 30_000);
    t.is(status.exitCode, 0, status.stderr);
    t.is(fsStatus(status.stdout), 'up');
    t.log(`status with the FUSE client frozen: ${Date.now() - s0} ms`);
    const s1 = Date.now();
    const stop = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'stop'], 120_000);
    const ms = Date.now() - s1;
    t.log(`stop with the FUSE client frozen: exit ${stop.exitCode} in ${ms} ms`);
    t.is(stop.exitCode, 0, stop.stderr);
    t.true(ms < 90_000);
    const left = await lab.exec('n2', 'cat', ['/proc/self/mountinfo']);
    t.false(left.stdout.includes(` ${mnt} `), 'unmounted');
    const forced = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"event":"fs_forced_umount"'));
    t.is(forced.length, forcedBefore + 1, 'the loop device kept it busy: detached with umount -f -l');
    await waitFor('the holder to be gone', () => !fs.existsSync(`/proc/${holder.pid}`) || fs.readFileSync(`/proc/${holder.pid}/stat`, 'utf8').split(' ')[2] === 'Z', 10_000);
  } finally {
    signal(clients, 'SIGCONT');
  }
  const detach = await sh('losetup', ['-d', loopDev], { reject: false });
  t.is(detach.exitCode, 0, detach.stderr);
  t.truthy((await view(lab, 'n2')).nodes.n2);
});
