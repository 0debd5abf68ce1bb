// The lab cluster: real namespaces, real UDP between them, real loop devices and mounts.
// Every lab is destroyed in t.teardown, even when the test failed; the crash test checks that
// `ferry-lab cleanup` alone removes a lab whose creator died. Only 10.215.x.x addresses inside
// the lab's own namespaces are ever sent to.
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { Lab, type LabOptions, type LabRecord } from '../../src/lab/lab.js';
import { isAlive, mountedAnywhere, procState } from '../../src/lab/procfs.js';
import { loadRecord } from '../../src/lab/registry.js';
import { distCli, repoRoot, requireRoot, sh, testImage } from '../helpers/env.js';

const udp = path.join(repoRoot, 'dist', 'test', 'helpers', 'lab-udp.js');
const PORT = 7000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function newLab(t: ExecutionContext, opts: LabOptions): Promise<Lab> {
  requireRoot();
  const lab = await Lab.create(opts);
  t.teardown(async () => {
    const problems = await lab.destroy();
    if (problems.length) console.error(`lab ${lab.id} teardown: ${problems.join('; ')}`);
  });
  return lab;
}

async function waitFor(what: string, f: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Start the UDP echo server in node as its agent and wait until it listens. */
async function serveAsAgent(lab: Lab, node: string): Promise<number> {
  // the log is appended to across agent restarts: only a "ready" written after this start counts
  const log = lab.agentLog(node);
  const offset = fs.existsSync(log) ? fs.statSync(log).size : 0;
  const pid = lab.startAgent(node, [process.execPath, udp, 'serve', String(PORT)]);
  await waitFor(`${node} echo server`, () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').slice(offset).includes('ready'));
  return pid;
}

/** Ping from one node to an address, n datagrams: how many came back. */
async function pings(lab: Lab, from: string, to: string, n = 5, waitMs = 400): Promise<number> {
  const r = await lab.exec(from, process.execPath, [udp, 'ping', to, String(PORT), String(n), '10', String(waitMs)]);
  if (!r.ok) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { received: number }).received;
}

/** After a heal, the sender's ARP entry may need its next retry (1 s) before traffic flows. */
async function pingsAfterHeal(lab: Lab, from: string, to: string): Promise<number> {
  await waitFor(`${from} -> ${to} to answer`, async () => (await pings(lab, from, to, 1, 200)) === 1, 5_000);
  return pings(lab, from, to);
}

/** Everything of a lab still on the machine: must be empty after destroy/cleanup. */
async function leftovers(rec: LabRecord): Promise<string[]> {
  const out: string[] = [];
  const netns = (await sh('ip', ['netns', 'list'])).stdout;
  for (const line of netns.split('\n')) if (line.startsWith(rec.id)) out.push(`netns ${line}`);
  const loops = (await sh('losetup', ['-a'])).stdout;
  for (const line of loops.split('\n')) if (line.includes(rec.dir)) out.push(`loop ${line}`);
  for (const d of rec.disks) {
    if (d.dev && mountedAnywhere((src) => src === d.dev)) out.push(`mount of ${d.dev}`);
  }
  if (mountedAnywhere((_s, target) => target.startsWith(rec.dir))) out.push(`mount under ${rec.dir}`);
  if (fs.existsSync(rec.dir)) out.push(`dir ${rec.dir}`);
  if (loadRecord(rec.id)) out.push('registry record');
  for (const n of rec.nodes) {
    if (isAlive(n.initPid, n.initStart)) out.push(`init of ${n.name}`);
    if (isAlive(n.agentPid, n.agentStart)) out.push(`agent of ${n.name}`);
  }
  return out;
}

test.serial('2 nodes: UDP over each network, hostname and env per node', async (t) => {
  const lab = await newLab(t, { nodes: 2, links: 2, disks: { heartbeat: 8, data: 32 } });
  t.deepEqual(lab.nodeNames, ['n1', 'n2']);
  t.is((await lab.exec('n1', 'hostname')).stdout.trim(), 'n1');
  t.is((await lab.exec('n2', 'hostname')).stdout.trim(), 'n2');
  const env = (await lab.exec('n2', 'sh', ['-c', 'echo "$FERRY_ROOT $FERRY_NODENAME $FERRY_CONTAINER_LABELS"'])).stdout.trim();
  t.is(env, `${lab.dir}/n2 n2 ferry.lab=${lab.id}`);
  // interface names and addresses inside the node
  const addrs = (await lab.exec('n2', 'ip', ['-o', '-4', 'addr', 'show'])).stdout;
  t.regex(addrs, /eth0\s+inet 10\.215\.0\.2\/24/);
  t.regex(addrs, /eth1\s+inet 10\.215\.1\.2\/24/);
  await serveAsAgent(lab, 'n1');
  t.is(await pings(lab, 'n2', lab.address('n1', 0)), 5);
  t.is(await pings(lab, 'n2', lab.address('n1', 1)), 5);
});

test.serial('3 nodes: every node reaches every other one', async (t) => {
  const lab = await newLab(t, { nodes: 3, links: 1, disks: { heartbeat: 0, data: 0 } });
  t.is(lab.networkCount, 1);
  for (const n of lab.nodeNames) await serveAsAgent(lab, n);
  for (const from of lab.nodeNames) {
    for (const to of lab.nodeNames) if (from !== to) t.is(await pings(lab, from, lab.address(to)), 5, `${from} -> ${to}`);
  }
});

test.serial('mounts are private to a node and persist between execs; the loop devices are shared', async (t) => {
  const lab = await newLab(t, { nodes: 2, disks: { heartbeat: 8, data: 32 } });
  const data = lab.dataDisk!;
  const hb = lab.heartbeatDisk!;
  const mnt = path.join(lab.dir, 'n1', 'mnt');
  t.true((await lab.exec('n1', 'mkdir', ['-p', mnt])).ok);
  const m = await lab.exec('n1', 'mount', [data, mnt]);
  t.true(m.ok, m.stderr);
  // a later exec in n1 still sees the mount, and can write through it
  t.true((await lab.exec('n1', 'sh', ['-c', `grep -q " ${mnt} " /proc/mounts && echo hi > ${mnt}/file`])).ok);
  t.false((await lab.exec('n2', 'grep', ['-q', ` ${mnt} `, '/proc/mounts'])).ok, 'n2 must not see n1 mount');
  t.false(fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} `), 'the host must not see n1 mount');
  // both nodes see both block devices; bytes written on the heartbeat disk by n1 are read by n2
  for (const n of ['n1', 'n2']) t.true((await lab.exec(n, 'test', ['-b', data])).ok && (await lab.exec(n, 'test', ['-b', hb])).ok);
  t.true((await lab.exec('n1', 'sh', ['-c', `printf 'beat-n1' | dd of=${hb} bs=512 count=1 conv=sync,fsync oflag=direct 2>/dev/null`])).ok);
  t.is((await lab.exec('n2', 'sh', ['-c', `dd if=${hb} bs=512 count=1 iflag=direct 2>/dev/null | head -c 7`])).stdout, 'beat-n1');
});

test.serial('cut all links stops traffic, heal restores it; cutting one of two networks leaves the other', async (t) => {
  const lab = await newLab(t, { nodes: 2, links: 2, disks: { heartbeat: 0, data: 0 } });
  await serveAsAgent(lab, 'n1');
  const a0 = lab.address('n1', 0);
  const a1 = lab.address('n1', 1);
  await lab.cutLinks('n1', 'all');
  t.is(await pings(lab, 'n2', a0), 0);
  t.is(await pings(lab, 'n2', a1), 0);
  // a silent cut: the node keeps its carrier
  t.notRegex((await lab.exec('n1', 'ip', ['link', 'show', 'eth0'])).stdout, /NO-CARRIER/);
  await lab.healLinks('n1', 'all');
  t.is(await pingsAfterHeal(lab, 'n2', a0), 5);
  t.is(await pingsAfterHeal(lab, 'n2', a1), 5);
  await lab.cutLinks('n1', 0);
  t.false(await lab.linkConnected('n1', 0));
  t.true(await lab.linkConnected('n1', 1));
  t.is(await pings(lab, 'n2', a0), 0);
  t.is(await pings(lab, 'n2', a1), 5);
  await lab.healLinks('n1', 0);
  t.is(await pingsAfterHeal(lab, 'n2', a0), 5);
  // the "cable pulled" variant: the node sees NO-CARRIER
  await lab.cutLinks('n1', 1, 'down');
  await waitFor('carrier loss', async () => /NO-CARRIER/.test((await lab.exec('n1', 'ip', ['link', 'show', 'eth1'])).stdout));
  t.is(await pings(lab, 'n2', a1), 0);
  await lab.healLinks('n1', 1);
  await waitFor('carrier', async () => !/NO-CARRIER/.test((await lab.exec('n1', 'ip', ['link', 'show', 'eth1'])).stdout));
  t.is(await pingsAfterHeal(lab, 'n2', a1), 5);
});

test.serial('dropPackets(0.5) drops roughly half of 200 packets; 0 clears', async (t) => {
  const lab = await newLab(t, { nodes: 2, links: 1, disks: { heartbeat: 0, data: 0 } });
  await serveAsAgent(lab, 'n1');
  const blast = async (): Promise<number> => {
    const r = await lab.exec('n2', process.execPath, [udp, 'blast', lab.address('n1'), String(PORT), '200', '2']);
    t.true(r.ok, r.stderr);
    return (JSON.parse(r.stdout) as { counted: number }).counted;
  };
  await lab.dropPackets('n1', 0.5);
  const got = await blast();
  t.true(got >= 50 && got <= 150, `expected 25-75% of 200 to arrive, got ${got}`);
  await lab.dropPackets('n1', 0);
  t.is(await blast(), 200);
});

test.serial('pause stops replies, resume restores them', async (t) => {
  const lab = await newLab(t, { nodes: 2, links: 1, disks: { heartbeat: 0, data: 0 } });
  const agent = await serveAsAgent(lab, 'n1');
  t.is(await pings(lab, 'n2', lab.address('n1')), 5);
  await lab.pauseNode('n1');
  t.is(procState(agent), 'T');
  t.is(await pings(lab, 'n2', lab.address('n1')), 0);
  await lab.resumeNode('n1');
  t.not(procState(agent), 'T');
  t.is(await pings(lab, 'n2', lab.address('n1')), 5);
});

test.serial('crashAgent kills the agent only; stopAgent stops it with SIGTERM', async (t) => {
  const lab = await newLab(t, { nodes: 2, links: 1, disks: { heartbeat: 0, data: 32 } });
  const mnt = path.join(lab.dir, 'n1', 'mnt');
  await lab.exec('n1', 'mkdir', ['-p', mnt]);
  t.true((await lab.exec('n1', 'mount', [lab.dataDisk!, mnt])).ok);
  const helper = lab.spawn('n1', 'sleep', ['1000']);
  const agent = await serveAsAgent(lab, 'n1');
  await lab.crashAgent('n1');
  t.false(isAlive(agent));
  t.is(lab.agentPid('n1'), null);
  t.true(isAlive(helper.pid, helper.start), 'other processes of the node survive an agent crash');
  t.true(lab.isUp('n1'));
  t.true((await lab.exec('n1', 'grep', ['-q', ` ${mnt} `, '/proc/mounts'])).ok, 'the mount survives an agent crash');
  const again = await serveAsAgent(lab, 'n1');
  t.not(again, agent);
  t.is(await pings(lab, 'n2', lab.address('n1')), 5);
  t.true(await lab.stopAgent('n1'), 'the agent exits on SIGTERM');
  t.false(isAlive(again));
  t.is(await pings(lab, 'n2', lab.address('n1')), 0);
});

test.serial('killNode leaves no process of the node and no mount; restartNode boots it again', async (t) => {
  const lab = await newLab(t, { nodes: 3, links: 2, disks: { heartbeat: 8, data: 32 } });
  for (const n of lab.nodeNames) await serveAsAgent(lab, n);
  const mnt = path.join(lab.dir, 'n1', 'mnt');
  await lab.exec('n1', 'mkdir', ['-p', mnt]);
  t.true((await lab.exec('n1', 'mount', [lab.dataDisk!, mnt])).ok);
  // a grandchild in its own session, as a daemonising agent would leave behind
  t.true((await lab.exec('n1', 'sh', ['-c', 'setsid sleep 1000 >/dev/null 2>&1 < /dev/null &'])).ok);
  const before = await lab.pids('n1');
  t.true(before.length >= 3, `n1 processes: ${before.join(' ')}`);
  await lab.killNode('n1');
  t.deepEqual(before.filter((p) => isAlive(p)), []);
  t.deepEqual(await lab.pids('n1'), []);
  t.false(lab.isUp('n1'));
  const dev = lab.dataDisk!;
  await waitFor('the data disk to be unmounted everywhere', () => !mountedAnywhere((src) => src === dev));
  await waitFor('the ext4 superblock to go', () => !fs.existsSync(`/sys/fs/ext4/${path.basename(dev)}`));
  t.is(await pings(lab, 'n2', lab.address('n1', 0)), 0);
  t.is(await pings(lab, 'n2', lab.address('n3', 0)), 5, 'the rest of the cluster still talks');
  await t.throwsAsync(() => lab.exec('n1', 'true'), { message: /is down/ });
  // the disk is free: another node can mount it now
  const mnt2 = path.join(lab.dir, 'n2', 'mnt');
  await lab.exec('n2', 'mkdir', ['-p', mnt2]);
  t.true((await lab.exec('n2', 'sh', ['-c', `mount ${dev} ${mnt2} && umount ${mnt2}`])).ok);
  await lab.restartNode('n1');
  t.is((await lab.exec('n1', 'hostname')).stdout.trim(), 'n1');
  t.false((await lab.exec('n1', 'grep', ['-q', ` ${mnt} `, '/proc/mounts'])).ok, 'a rebooted node starts without mounts');
  await serveAsAgent(lab, 'n1');
  t.is(await pings(lab, 'n2', lab.address('n1', 1)), 5);
});

test.serial('killNode removes the containers the node started', async (t) => {
  const docker = await sh('docker', ['info'], { reject: false });
  if (docker.exitCode !== 0) {
    t.fail('docker engine not running: scripts/setup.sh starts it');
    return;
  }
  const lab = await newLab(t, { nodes: 2, links: 1, disks: { heartbeat: 0, data: 0 } });
  const name = `${lab.id}c1`;
  t.teardown(() => sh('docker', ['rm', '-f', name], { reject: false }).then(() => undefined));
  // what the container driver does: ferry.node=<nodename> plus FERRY_CONTAINER_LABELS
  const r = await lab.exec('n1', 'sh', [
    '-c',
    `docker run -d --name ${name} --network none --label ferry.node=$FERRY_NODENAME --label "$FERRY_CONTAINER_LABELS" ${testImage} sleep 1000`,
  ]);
  t.true(r.ok, r.stderr);
  await lab.killNode('n1');
  const ps = await sh('docker', ['ps', '-aq', '--filter', `name=${name}`]);
  t.is(ps.stdout.trim(), '');
});

test.serial('destroy leaves no namespace, loop device, mount, process or directory; twice is fine', async (t) => {
  requireRoot();
  const lab = await Lab.create({ nodes: 2, disks: { heartbeat: 8, data: 32 } });
  t.teardown(() => lab.destroy().then(() => undefined));
  const mnt = path.join(lab.dir, 'n2', 'mnt');
  await lab.exec('n2', 'mkdir', ['-p', mnt]);
  t.true((await lab.exec('n2', 'mount', [lab.dataDisk!, mnt])).ok);
  await serveAsAgent(lab, 'n1');
  await lab.dropPackets('n2', 0.1);
  await lab.cutLinks('n1', 1);
  const rec = lab.record;
  t.true((await leftovers(rec)).length > 0);
  t.deepEqual(await lab.destroy(), []);
  t.deepEqual(await leftovers(rec), []);
  t.false(fs.readFileSync('/proc/self/mounts', 'utf8').includes(rec.dir));
  t.deepEqual(await lab.destroy(), [], 'destroy is idempotent');
});

test.serial('a crashed creator: `ferry-lab cleanup` removes everything it left', async (t) => {
  requireRoot();
  const crash = await execa(process.execPath, [path.join(repoRoot, 'dist', 'test', 'helpers', 'lab-crash.js')], { reject: false });
  t.is(crash.signal, 'SIGKILL', crash.stderr);
  const id = crash.stdout.trim();
  t.regex(id, /^fyx/);
  t.teardown(async () => {
    if (loadRecord(id)) await Lab.attach(id).destroy();
  });
  const rec = loadRecord(id);
  if (!rec) throw new Error(`lab ${id} left no record`);
  const before = await leftovers(rec);
  t.true(before.some((l) => l.startsWith('netns')) && before.includes('agent of n1') && before.includes(`mount of ${rec.disks[1]!.dev}`), before.join(', '));
  const r = await execa(process.execPath, [distCli('ferry-lab'), 'cleanup'], { reject: false });
  t.is(r.exitCode, 0, r.stderr);
  t.true(r.stdout.split('\n').includes(`removed ${id}`), r.stdout);
  t.deepEqual(await leftovers(rec), []);
});

test.serial('ferry-lab CLI: create, list, exec, kill, destroy', async (t) => {
  requireRoot();
  const cli = (...args: string[]) => execa(process.execPath, [distCli('ferry-lab'), ...args], { reject: false });
  const c = await cli('create', '--nodes', '2', '--links', '1', '--hb-mb', '0', '--data-mb', '0', '--quiet');
  t.is(c.exitCode, 0, c.stderr);
  const id = c.stdout.trim();
  t.teardown(async () => {
    if (loadRecord(id)) await Lab.attach(id).destroy();
  });
  t.regex((await cli('list')).stdout, new RegExp(`lab ${id}[\\s\\S]*n2\\s+up`));
  const e = await cli('exec', id, 'n2', '--', 'sh', '-c', 'hostname; exit 3');
  t.is(e.exitCode, 3);
  t.is(e.stdout.trim(), 'n2');
  t.is((await cli('kill', id, 'n2')).exitCode, 0);
  t.regex((await cli('list')).stdout, /n2\s+down/);
  const rec = loadRecord(id)!;
  t.is((await cli('destroy', id)).exitCode, 0);
  t.deepEqual(await leftovers(rec), []);
});

test.serial('real agents: writeClusterConf + startAgent give a cluster whose nodes see each other; a killed node goes down', async (t) => {
  const lab = await newLab(t, { nodes: 2, links: 2, disks: { heartbeat: 8, data: 0 } });
  // STONITH for both nodes with the lab agent: the two-node tie-breaker a cluster file needs
  const conf = lab.writeClusterConf({ interval: '1s', timeout: '3s', stonith: true });
  t.regex(conf, /addr@n2 = 10\.215\.1\.2/);
  t.regex(conf, /^\[stonith#n2\]\nagent = \/.*\/scripts\/fence_ferry_lab$/m);
  t.regex(conf, new RegExp(`type = disk\\ndev = ${lab.heartbeatDisk!}`));
  for (const n of lab.nodeNames) lab.startAgent(n);
  const status = async (): Promise<string> => (await lab.exec('n1', process.execPath, [distCli('nodemgr'), 'daemon', 'status'])).stdout;
  await waitFor('n1 to see n2 up', async () => /^\s*n2\s+up\b/m.test(await status()), 15_000);
  await lab.killNode('n2');
  await waitFor('n1 to see n2 down', async () => /^\s*n2\s+down\b/m.test(await status()), 15_000);
  t.not(lab.agentPid('n1'), null);
  t.true(await lab.stopAgent('n1'));
});
