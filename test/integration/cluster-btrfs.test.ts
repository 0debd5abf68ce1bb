// Data that follows its service without a shared disk, block-level: [sync#1] type = btrfs
// between two lab nodes, each with its own btrfs filesystem on a loop device (no shared
// storage), real agents, real btrfs send/receive over the state channel, a busybox container
// writing numbered records into the subvolume. relocate keeps every record written before the
// stop and the target carries on from them (its src is the received snapshot made writable);
// back again with an incremental send (the record names the parent); a peer that lost its
// snapshots gets a full send; killing the owner fails over to the last received snapshot. A src that is not a
// subvolume is one file:line line and changes nothing.
import fs from 'node:fs';
import test from 'ava';
import { requireRoot, sh } from '../helpers/env.js';
import type { ClusterLab } from '../helpers/cluster-lab.js';
import { cli, startCluster, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';
import { createLoop, type LoopDev } from '../helpers/loop-dev.js';
import type { RelocateResult } from '../../src/cli/relocate.js';
import { readRecord } from '../../src/resources/sync-rsync-state.js';
import { logEvents } from '../helpers/service-log.js';

const ROOT = `/var/tmp/ferry-btrfs-test-${process.pid}`;
const mnt = (node: string): string => `${ROOT}/${node}`;
const dataDir = (node: string): string => `${mnt(node)}/data`;

function lines(node: string): string[] {
  const f = `${dataDir(node)}/records`;
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0);
}
const records = (node: string): number[] => lines(node).map((l) => Number(l.split(':')[0]));
const sequential = (r: number[]): boolean => r.every((v, i) => v === i + 1);

async function copyOf(cl: ClusterLab, node: string) {
  return (await view(cl.lab, node)).nodes[node]?.payload?.services[cl.svc]?.data?.['sync#1'];
}
const record = (cl: ClusterLab, node: string) => readRecord(`${cl.lab.root(node)}/var/services/${cl.svc}/sync_1.rsync.json`);

async function relocateJson(cl: ClusterLab, from: string, args: string[]): Promise<RelocateResult> {
  const r = await cli(cl.lab, from, 'svcmgr', ['--format', 'json', '-s', cl.svc, ...args, '--wait', '120'], 150_000);
  if (r.exitCode !== 0) throw new Error(`relocate from ${from}: exit ${r.exitCode}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as RelocateResult;
}

async function keptAndContinued(t: { log: (s: string) => void }, from: string, to: string): Promise<void> {
  const before = records(from);
  if (before.length === 0) throw new Error(`no record on ${from}`);
  await waitFor(`${to} to write after record ${before.length}`, () => records(to).length > before.length + 5, 30_000);
  const after = records(to);
  if (!sequential(after)) throw new Error(`records on ${to} not 1..n: ${after.slice(0, 5).join(',')}...${after.slice(-5).join(',')}`);
  if (!sequential(before)) throw new Error(`records on ${from} not 1..n`);
  t.log(`${from} stopped at record ${before.length}; ${to} carried on from it (now ${after.length})`);
}


test.serial('btrfs sync: two-phase relocate there and back keeps every record, incremental the second time', async (t) => {
  requireRoot();
  const loops: LoopDev[] = [];
  t.teardown(async () => {
    for (const n of ['n1', 'n2']) {
      await sh('umount', ['-l', mnt(n)], { reject: false });
    }
    for (const l of loops) await l.detach();
    fs.rmSync(ROOT, { recursive: true, force: true });
  });
  for (const n of ['n1', 'n2']) {
    const l = await createLoop(`btrfs-${n}`, 256);
    loops.push(l);
    await sh('mkfs.btrfs', ['-q', '-f', l.dev]);
    fs.mkdirSync(mnt(n), { recursive: true });
    await sh('mount', [l.dev, mnt(n)]);
  }
  await sh('btrfs', ['subvolume', 'create', dataDir('n1')]);
  // a plain directory where a subvolume is expected: the file:line error
  fs.mkdirSync(`${mnt('n2')}/plain`);

  const cl = await startCluster(t, {
    nodes: 2, links: 1,
    service: {
      noFs: true,
      container: [
        'run_args = --network none -v {env.data}:/data',
        `run_command = /bin/sh -c "trap 'exit 0' TERM; n=$(cat /data/records 2>/dev/null | wc -l); while :; do n=$((n+1)); echo $n:{nodename} >> /data/records; sleep 0.1; done"`,
      ],
      sections: ['[env]', `data = ${ROOT}/{nodename}/data`, '', '[sync#1]', 'type = btrfs', 'src = {env.data}', 'schedule = @3s', 'keep = 2', ''],
    },
  });
  t.teardown(() => {
    if (t.passed) return;
    for (const n of cl.lab.nodeNames) {
      const f = `${cl.lab.root(n)}/log/${cl.svc}.log`;
      if (!fs.existsSync(f)) continue;
      const ev = fs.readFileSync(f, 'utf8').split('\n').filter((l) => /btrfs_|relocate_/.test(l)).slice(-10);
      console.error(`[${n}] ${cl.svc}.log sync events:\n${ev.join('\n')}`);
    }
  });
  const { lab, svc } = cl;

  // bad input: src not a subvolume
  const bad = `${lab.root('n1')}/bad-${svc}.env`;
  fs.writeFileSync(bad, `[DEFAULT]\nnodes = n1 n2\n\n[sync#1]\ntype = btrfs\nsrc = ${mnt('n2')}/plain\n`);
  const r = await cli(lab, 'n1', 'svcmgr', ['-s', bad, 'start']);
  t.not(r.exitCode, 0);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr.trim(), /bad-.*\.env:6: \[sync#1\] src \S+\/plain is not a btrfs subvolume: a plain directory, not a subvolume/);
  fs.rmSync(bad);

  // scheduled: n2 received a snapshot (full the first time)
  await waitFor('n2 to hold a scheduled copy', async () => (await copyOf(cl, 'n2'))?.received?.from === 'n1', 60_000);
  t.truthy(record(cl, 'n2').received?.snap);
  t.is(record(cl, 'n1').sent.n2?.parent, undefined, 'the first send is full');

  const there = await relocateJson(cl, 'n1', ['relocate', '--to', 'n2']);
  t.log(`relocate to n2: ${JSON.stringify(there)}`);
  // the final push's stream was opened before the stop, and the final push went through it
  t.true(logEvents(lab.root('n1'), svc, 'relocate_final_preopened').length >= 1, 'final stream pre-opened');
  t.true(logEvents(lab.root('n1'), svc, 'btrfs_push').some((e) => e.final === true && e.preopened === true), 'final push through the pre-opened stream');
  t.truthy(there.transfer);
  t.true(there.transfer!.phase2.bytes > 0);
  t.truthy(record(cl, 'n1').sent.n2?.parent, 'phase 2 is incremental from phase 1');
  await keptAndContinued(t, 'n1', 'n2');
  t.like(await copyOf(cl, 'n2'), { current: true });

  const back = await relocateJson(cl, 'n2', ['giveback']);
  t.log(`giveback to n1: ${JSON.stringify(back)}`);
  t.truthy(back.transfer);
  await keptAndContinued(t, 'n2', 'n1');
  const sentBack = record(cl, 'n2').sent.n1;
  t.log(`n2 -> n1: ${JSON.stringify(sentBack)}`);
  t.truthy(sentBack?.parent, 'the way back is incremental: from a snapshot both hold');
  // n2 loses its snapshots: the next scheduled push from n1 falls back to a full send
  // (a scheduled push in flight during the deletion lands a snapshot the next one may build
  // on, legitimately: delete again then)
  for (let round = 0; round < 4; round++) {
    for (const n of fs.readdirSync(mnt('n2')).filter((x) => x.startsWith('data@'))) await sh('btrfs', ['subvolume', 'delete', `${mnt('n2')}/${n}`]);
    const lostAt = Date.now();
    await waitFor('a push to n2 after it lost its snapshots', () => (record(cl, 'n1').sent.n2?.at ?? 0) > lostAt, 30_000);
    if (record(cl, 'n1').sent.n2?.parent === undefined) break;
  }
  t.is(record(cl, 'n1').sent.n2?.parent, undefined, 'a peer without the common snapshot gets a full send');
  t.is(record(cl, 'n2').received?.snap, record(cl, 'n1').sent.n2?.snap);
  t.true(fs.existsSync(`${mnt('n2')}/${record(cl, 'n2').received!.snap}`));

  // pruned: at most keep + the ones in common with a peer
  const snaps = fs.readdirSync(mnt('n1')).filter((n) => n.startsWith('data@'));
  t.true(snaps.length <= 4, snaps.join(' '));

  // failover: n2 starts from the last snapshot it received, made writable at src
  const held = record(cl, 'n2').received!;
  const copy = fs.readFileSync(`${mnt('n2')}/${held.snap}/records`, 'utf8').split('\n').filter((l) => l);
  const inCopy = copy.length;
  await lab.killNode('n1');
  await waitRunning(cl, 'n2', 60_000);
  await waitFor('n2 to write on', () => records('n2').length > inCopy + 5, 30_000);
  const after = records('n2');
  t.true(sequential(after), 'n2 carried on from the last record of its copy');
  t.log(`n2's copy (${held.snap}) held ${inCopy} records; n2 took over, now ${after.length}`);
  t.deepEqual(lines('n2').slice(0, inCopy), copy, 'n2 runs on the received snapshot');
  t.true(lines('n2').slice(inCopy).every((l) => l.endsWith(':n2')));
  t.like(await copyOf(cl, 'n2'), { current: true });
});
