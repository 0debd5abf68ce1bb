// Removing a lab from its record, whatever state it is in: half created, running, or left
// behind by a crashed process. Each step is independent and tolerant of missing objects, so
// one failure never stops the rest; what could not be removed is reported, never thrown.
import fs from 'node:fs';
import { run } from '../util/exec.js';
import { removeContainers } from './containers.js';
import { detachDisk, loopsOf } from './disks.js';
import { delNetns, netnsExists } from './namespaces.js';
import { killAll } from './processes.js';
import { holdNs, isAlive, mountedAnywhere, type NodeMatch } from './procfs.js';
import { removeRecord } from './registry.js';
import type { LabNode, LabRecord } from './types.js';

/**
 * Run f with the means to recognise a node's processes, from its record alone: its network
 * namespace (from /run/netns), its mount namespace (only while the recorded init is provably
 * the same process) and its environment mark. Both namespaces stay pinned while f runs.
 */
export async function withNode<T>(rec: LabRecord, node: LabNode, f: (m: NodeMatch) => Promise<T> | T): Promise<T> {
  const net = holdNs(`/run/netns/${node.netns}`, 'net');
  let mnt = isAlive(node.initPid, node.initStart) ? holdNs(`/proc/${node.initPid}/ns/mnt`, 'mnt') : null;
  if (mnt && !isAlive(node.initPid, node.initStart)) {
    mnt.release();
    mnt = null;
  }
  try {
    return await f({ netNs: net?.id ?? null, mntNs: mnt?.id ?? null, envMark: `FERRY_LAB_NODE=${rec.id}:${node.name}` });
  } finally {
    net?.release();
    mnt?.release();
  }
}

export async function teardown(rec: LabRecord): Promise<string[]> {
  const problems: string[] = [];
  const step = async (what: string, f: () => Promise<void> | void): Promise<void> => {
    try {
      await f();
    } catch (e) {
      problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  await step('containers', () => removeContainers(rec.id));
  for (const node of rec.nodes) {
    await step(`processes of ${node.name}`, async () => {
      const left = await withNode(rec, node, (m) => killAll(m));
      if (left.length) throw new Error(`still alive: ${left.join(' ')}`);
    });
  }
  // any process started through the lab and escaped both namespaces (it keeps the lab mark)
  await step('lab processes', async () => {
    const left = await killAll({ envMark: `FERRY_LAB=${rec.id}` });
    if (left.length) throw new Error(`still alive: ${left.join(' ')}`);
  });
  // again, now that no agent is left: between the first sweep and their end, agents saw their
  // containers gone and started them again (monitor restart, takeover)
  await step('containers', () => removeContainers(rec.id));
  for (const ns of [...rec.nodes.map((n) => n.netns), rec.switchNs]) {
    await step(`netns ${ns}`, async () => {
      await delNetns(ns);
      if (await netnsExists(ns)) throw new Error('still listed');
    });
  }
  // host-side mounts under the lab dir (someone mounted there from the host): deepest first
  await step('host mounts', async () => {
    const mounts = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m === rec.dir || m.startsWith(`${rec.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m], { timeout: 10_000 });
  });
  for (const disk of rec.disks) {
    await step(`disk ${disk.role}`, async () => {
      // a node's mount namespace is released a moment after its last process died, and a
      // busy loop device is only marked autoclear: retry briefly before calling it a leftover
      let left: string[] = [];
      for (let i = 0; i < 50; i++) {
        await detachDisk(disk.file);
        left = await loopsOf(disk.file);
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (left.length) throw new Error(`loop device still attached: ${left.join(' ')}`);
      if (disk.dev && mountedAnywhere((src) => src === disk.dev)) throw new Error(`${disk.dev} still mounted somewhere`);
    });
  }
  await step('directory', () => fs.rmSync(rec.dir, { recursive: true, force: true }));
  // the record goes last and only if nothing is left: a retry must still find what failed
  if (problems.length === 0) removeRecord(rec.id);
  return problems;
}
