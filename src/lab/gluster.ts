// Real GlusterFS in a lab: one glusterd per lab node, each in its node's network and mount
// namespaces, with the node's own /var/lib/glusterd, /var/log/glusterfs and /run/gluster
// (bind mounts of <lab dir>/gluster/<node>/{lib,log,run}, made inside the node's mount
// namespace, so the host and the other nodes never see them). glusterd's CLI socket, by
// default /var/run/glusterd.socket (shared by every namespace), is moved into the node's
// /run/gluster by a per-node glusterd.vol. The nodes are probed into one trusted pool and a
// volume is created with one brick per node (a directory <lab dir>/gluster/<node>/brick),
// replicated, and started.
//
// Every gluster process (glusterd, the glusterfsd bricks, the self-heal daemon, FUSE clients)
// is started inside a node through the lab, so it carries the node's mark and dies with the
// node (killNode) or the lab (destroy); destroy() here kills them first explicitly.
import fs from 'node:fs';
import path from 'node:path';
import type { Lab } from './lab.js';
import { signal } from './processes.js';

const SOCK = '/run/gluster/glusterd.socket';
/** what the Debian package ships in /var/lib/glusterd (option groups, hook scripts) */
const PACKAGE_STATE = ['groups', 'hooks'];

export interface GlusterOptions {
  /** nodes that run glusterd and hold a brick, in brick order */
  nodes: string[];
  volume: string;
  /** replica count (default: one replica per node) */
  replica?: number;
  /** volume options set before the start (gluster volume set) */
  options?: Record<string, string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class GlusterLab {
  private constructor(
    private readonly lab: Lab,
    readonly volume: string,
    readonly nodes: string[],
  ) {}

  /** Start glusterd on the nodes, pool them, create and start the volume. Undone on failure. */
  static async create(lab: Lab, o: GlusterOptions): Promise<GlusterLab> {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(o.volume)) throw new Error(`bad gluster volume name "${o.volume}"`);
    const g = new GlusterLab(lab, o.volume, [...o.nodes]);
    try {
      for (const n of o.nodes) await g.startGlusterd(n);
      const [first, ...rest] = o.nodes;
      if (!first) throw new Error('no gluster node');
      for (const n of rest) await g.cli(first, ['peer', 'probe', lab.address(n)]);
      await g.waitFor('every peer in the pool and connected', async () => {
        for (const n of o.nodes) {
          const r = await g.run(n, ['pool', 'list']);
          if (!r.ok) return false;
          const connected = r.stdout.split('\n').filter((l) => /\bConnected\b/.test(l)).length;
          if (connected !== o.nodes.length) return false;
        }
        return true;
      }, 60_000);
      const bricks = o.nodes.map((n) => `${lab.address(n)}:${g.brick(n)}`);
      const replica = o.replica ?? o.nodes.length;
      // force: the bricks are directories on the root filesystem, which gluster refuses otherwise
      await g.cli(first, ['volume', 'create', o.volume, ...(replica > 1 ? ['replica', String(replica)] : []), ...bricks, 'force']);
      for (const [k, v] of Object.entries(o.options ?? {})) await g.cli(first, ['volume', 'set', o.volume, k, v]);
      await g.cli(first, ['volume', 'start', o.volume]);
      await g.waitFor(`every brick of ${o.volume} online`, async () => {
        const r = await g.run(first, ['volume', 'status', o.volume, 'detail']);
        const online = [...r.stdout.matchAll(/^Online\s*:\s*(\S+)/gm)].map((m) => m[1]);
        return r.ok && online.length === o.nodes.length && online.every((x) => x === 'Y');
      }, 60_000);
    } catch (e) {
      await g.destroy();
      throw e;
    }
    return g;
  }

  /** <lab dir>/gluster/<node> */
  dir(node: string): string {
    return path.join(this.lab.dir, 'gluster', node);
  }

  /** the brick directory of a node (on the host filesystem: readable from the test) */
  brick(node: string): string {
    return path.join(this.dir(node), 'brick');
  }

  /** `gluster --mode=script ...` in a node, against that node's glusterd. */
  run(node: string, args: string[], timeout = 60_000) {
    return this.lab.exec(node, 'gluster', ['--mode=script', `--glusterd-sock=${SOCK}`, ...args], { timeout });
  }

  async cli(node: string, args: string[]): Promise<string> {
    const r = await this.run(node, args);
    if (!r.ok) throw new Error(`gluster ${args.join(' ')} on ${node}: ${(r.stderr.trim() || r.stdout.trim()).split('\n').pop() ?? `exit ${r.exitCode}`}`);
    return r.stdout;
  }

  /** Pids of the gluster processes (glusterd, glusterfsd, glusterfs) of a node. */
  async pids(node: string, match?: RegExp): Promise<number[]> {
    if (!this.lab.isUp(node)) return [];
    const out: number[] = [];
    for (const pid of await this.lab.pids(node)) {
      let comm = '';
      let cmdline = '';
      try {
        comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        continue;
      }
      if (/^gluster/.test(comm) && (!match || match.test(cmdline))) out.push(pid);
    }
    return out;
  }

  /** Kill every gluster process this helper's nodes run; never throws. Returns what is left. */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    for (const n of this.nodes) {
      try {
        for (let i = 0; i < 50; i++) {
          const pids = await this.pids(n);
          if (pids.length === 0) break;
          signal(pids, 'SIGKILL');
          await sleep(100);
        }
        const left = await this.pids(n);
        if (left.length) problems.push(`${n}: gluster processes survived SIGKILL: ${left.join(' ')}`);
      } catch (e) {
        problems.push(`${n}: ${(e as Error).message}`);
      }
    }
    return problems;
  }

  private async startGlusterd(node: string): Promise<void> {
    const d = this.dir(node);
    for (const sub of ['lib', 'log', 'run', 'brick']) fs.mkdirSync(path.join(d, sub), { recursive: true });
    for (const s of PACKAGE_STATE) {
      if (fs.existsSync(`/var/lib/glusterd/${s}`)) fs.cpSync(`/var/lib/glusterd/${s}`, path.join(d, 'lib', s), { recursive: true });
    }
    const vol = fs.readFileSync('/etc/glusterfs/glusterd.vol', 'utf8').replace(/^end-volume/m, `    option glusterd-sockfile ${SOCK}\nend-volume`);
    fs.writeFileSync(path.join(d, 'glusterd.vol'), vol);
    // the bind mounts exist in the node's mount namespace only
    const binds = [
      ['lib', '/var/lib/glusterd'],
      ['log', '/var/log/glusterfs'],
      ['run', '/run/gluster'],
    ].map(([from, to]) => `mkdir -p ${to} && mount --bind ${path.join(d, from!)} ${to}`);
    const r = await this.lab.exec(node, 'sh', ['-ec', binds.join('\n')], { timeout: 30_000 });
    if (!r.ok) throw new Error(`gluster bind mounts in ${node}: ${r.stderr.trim()}`);
    this.lab.spawn(node, 'glusterd', ['-N', '-f', path.join(d, 'glusterd.vol'), `--log-file=${path.join(d, 'log', 'glusterd.log')}`], { logFile: path.join(d, 'glusterd.out') });
    await this.waitFor(`glusterd on ${node}`, async () => (await this.run(node, ['pool', 'list'], 10_000)).ok, 30_000);
  }

  private async waitFor(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`gluster lab: timed out waiting for ${what}`);
      await sleep(250);
    }
  }
}
