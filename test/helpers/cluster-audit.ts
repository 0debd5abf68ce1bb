// Where does a failover service really run? Asked of every living lab node, by four
// independent witnesses: the service's own status (`svcmgr print status --format json` in the
// node), the kernel's addresses (`ip -n <netns> addr`), the node's mount table
// (/proc/<init pid>/mountinfo) and the docker engine (containers labelled ferry.svc=<svc>).
// `audit` is the after-scenario check; `Sampler` watches continuously during a scenario that
// the service is never up on two nodes at once.
import fs from 'node:fs';
import type { ExecutionContext } from 'ava';
import { run } from '../../src/util/exec.js';
import type { Lab } from '../../src/lab/lab.js';
import { SVC_ADDR, cli, sleep, type ClusterLab } from './cluster-lab.js';

export interface Placement {
  /** avail per living node, from `print status` there */
  avail: Record<string, string>;
  /** nodes holding the service address */
  ip: string[];
  /** nodes with the service fs mounted */
  fs: string[];
  /** nodes with a running container of the service (label ferry.node) */
  container: string[];
}

function living(lab: Lab): string[] {
  return lab.nodeNames.filter((n) => lab.isUp(n));
}

async function ipHolders(lab: Lab): Promise<string[]> {
  const out: string[] = [];
  await Promise.all(
    living(lab).map(async (n) => {
      const r = await run('ip', ['-n', lab.netns(n), '-o', '-4', 'addr', 'show'], { timeout: 5_000 });
      if (r.ok && r.stdout.includes(` ${SVC_ADDR}/`)) out.push(n);
    }),
  );
  return out.sort();
}

function fsHolders(lab: Lab, mnt: string | undefined): string[] {
  if (!mnt) return [];
  const out: string[] = [];
  for (const n of living(lab)) {
    const init = lab.record.nodes.find((x) => x.name === n)?.initPid;
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${init}/mountinfo`, 'utf8');
    } catch {
      continue; // the node died between the two reads
    }
    if (text.split('\n').some((l) => l.split(' ')[4] === mnt)) out.push(n);
  }
  return out;
}

async function containerHolders(lab: Lab, svc: string): Promise<string[]> {
  const r = await run('docker', ['ps', '--filter', `label=ferry.svc=${svc}`, '--filter', `label=ferry.lab=${lab.id}`, '--format', '{{.Label "ferry.node"}}'], { timeout: 15_000 });
  if (!r.ok) throw new Error(`docker ps: ${r.stderr.trim()}`);
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
}

/** The kernel/engine witnesses only (cheap: used by the sampler). */
export async function resourcePlacement(cl: ClusterLab): Promise<Omit<Placement, 'avail'>> {
  // the addresses and containers are read by commands that take a while under load; the mounts
  // are read before and after them and a node counts as holding the fs only when both reads
  // say so: a mount made just after a fence completed must not pair with an address read
  // before it (a sample spanning a move is not two owners at once)
  const fsBefore = fsHolders(cl.lab, cl.mnt);
  const [ip, container] = await Promise.all([ipHolders(cl.lab), containerHolders(cl.lab, cl.svc)]);
  const fsAfter = fsHolders(cl.lab, cl.mnt);
  return { ip, fs: fsBefore.filter((n) => fsAfter.includes(n)), container };
}

export async function placement(cl: ClusterLab): Promise<Placement> {
  const avail: Record<string, string> = {};
  await Promise.all(
    living(cl.lab).map(async (n) => {
      const r = await cli(cl.lab, n, 'svcmgr', ['-s', cl.svc, 'print', 'status', '--format', 'json'], 30_000);
      try {
        avail[n] = (JSON.parse(r.stdout) as { avail: string }).avail;
      } catch {
        avail[n] = `? (${r.stderr.trim().split('\n')[0]})`;
      }
    }),
  );
  return { avail, ...(await resourcePlacement(cl)) };
}

/**
 * The after-scenario audit: the service is up on exactly one node (`expected` if given), and
 * every witness agrees on that node; every other living node reports it down.
 */
export async function audit(t: ExecutionContext, cl: ClusterLab, expected?: string): Promise<string> {
  const p = await placement(cl);
  const up = Object.entries(p.avail).filter(([, a]) => a === 'up').map(([n]) => n);
  const where = `audit ${JSON.stringify(p)}`;
  t.is(up.length, 1, `${cl.svc} must be up on exactly one node: ${where}`);
  const owner = up[0] ?? '?';
  if (expected) t.is(owner, expected, where);
  t.deepEqual(p.ip, [owner], `address: ${where}`);
  if (cl.mnt) t.deepEqual(p.fs, [owner], `fs: ${where}`);
  t.deepEqual(p.container, [owner], `container: ${where}`);
  for (const [n, a] of Object.entries(p.avail)) if (n !== owner) t.is(a, 'down', `${n}: ${where}`);
  t.log(`audit: ${cl.svc} up on ${owner} only (${Object.entries(p.avail).map(([n, a]) => `${n}=${a}`).join(' ')})`);
  return owner;
}

export interface SampleReport {
  samples: number;
  /** samples where some witness saw the service on two nodes, or witnesses on different nodes */
  violations: string[];
  /** every node seen holding something, in order of first appearance */
  seen: string[];
}

/** Continuous sampling (every periodMs) that the service is never up on two nodes at once. */
export class Sampler {
  private stopped = false;
  private readonly loop: Promise<void>;
  private readonly report: SampleReport = { samples: 0, violations: [], seen: [] };

  constructor(t: ExecutionContext, private readonly cl: ClusterLab, periodMs = 150) {
    t.teardown(() => this.stop().then(() => undefined));
    this.loop = (async () => {
      while (!this.stopped) {
        const t0 = Date.now();
        try {
          const p = await resourcePlacement(this.cl);
          this.report.samples++;
          const nodes = [...new Set([...p.ip, ...p.fs, ...p.container])];
          for (const n of nodes) if (!this.report.seen.includes(n)) this.report.seen.push(n);
          if (nodes.length > 1) this.report.violations.push(`${new Date().toISOString()} ${JSON.stringify(p)}`);
        } catch {
          // a node dying between two reads: the next sample tells
        }
        await sleep(Math.max(0, periodMs - (Date.now() - t0)));
      }
    })();
  }

  async stop(): Promise<SampleReport> {
    this.stopped = true;
    await this.loop;
    return this.report;
  }
}
