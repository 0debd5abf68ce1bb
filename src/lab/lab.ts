// A lab cluster on one machine: N nodes, each a network + mount + UTS namespace plugged into
// one or two bridged networks, sharing two loop devices (disk heartbeat, service filesystem),
// with its own FERRY_ROOT, an agent, and fault helpers (kill, crash, pause, cut, drop).
// The lab's whole state lives in its registry record, so a Lab can be re-attached from
// another process (the ferry-lab CLI) and torn down after its creator crashed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../util/exec.js';
import { labFenceAgent, writeClusterConf, type ClusterConfOptions } from './cluster-conf.js';
import { pauseContainers, removeContainers } from './containers.js';
import { createDisk } from './disks.js';
import { createSwitch, cutPort, healPort, networkPlan, nodeAddress, plugNode, portConnected, unplugPort, type CutMode } from './links.js';
import { addNetns, delNetns, nsenterArgv, startInit } from './namespaces.js';
import { clearLoss, setLoss, type LossOptions } from './packet-loss.js';
import { setBlocked } from './partition.js';
import { isAlive, nodePids, nsOf, startTime } from './procfs.js';
import { killAll, signal, signalAll, spawnIn, waitGone, type Spawned } from './processes.js';
import { isOrphan, listRecords, loadRecord, saveRecord } from './registry.js';
import { teardown, withNode } from './teardown.js';
import type { LabDisk, LabNode, LabOptions, LabRecord, NodeEnv } from './types.js';
import { DAEMON_NODE_FLAGS } from '../util/daemon-node-flags.js';

export type { LabOptions, LabRecord, LabNode, NodeEnv } from './types.js';
export type { CutMode } from './links.js';
export type { LossOptions } from './packet-loss.js';
export type { ClusterConfOptions } from './cluster-conf.js';

/** repo root, from dist/src/lab/lab.js */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The agent a node runs unless told otherwise. */
export function defaultAgentCommand(): string[] {
  return [process.execPath, ...DAEMON_NODE_FLAGS, path.join(repoRoot, 'dist', 'src', 'cli', 'nodemgr.js'), 'daemon', 'run'];
}

/**
 * A lab agent's crash or reboot (monitor_action, split_action) powers its own lab node off,
 * never the machine: the lab fence agent, detached (setsid) so that it outlives the daemon,
 * run from inside the node (killNode spares the process that runs it). A reboot is an
 * off too: a node cannot be booted from inside one (see fence-agent.ts).
 */
export function selfFenceEnv(lab: string, node: string): Record<string, string> {
  const off = `setsid -f ${labFenceAgent} -o off -n ${node} --lab=${lab} </dev/null >/dev/null 2>&1`;
  return { FERRY_CRASH_CMD: off, FERRY_REBOOT_CMD: off };
}

export interface ExecOptions {
  env?: Record<string, string>;
  /** ms, default 60 s */
  timeout?: number;
  input?: string;
  /** working directory; default the node's FERRY_ROOT */
  cwd?: string;
}

/**
 * The environment of a node process: the caller's, minus node_modules/.bin on PATH (under
 * npx it shadows system tools: @vercel/nft installs a do-nothing `nft`), plus the node's
 * FERRY_* variables, plus the caller's extras.
 */
function processEnv(nodeEnv: NodeEnv, extra: Record<string, string> = {}): Record<string, string> {
  const PATH = (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .filter((p) => !p.includes(`${path.sep}node_modules${path.sep}.bin`))
    .join(':');
  return { PATH, ...nodeEnv, ...extra };
}

const DEFAULT_DISKS = { heartbeat: 16, data: 64 };

function newId(prefix: string): string {
  // ids end up in netns names "<id>n<k>" and "<id>sw", which must fit in 15 characters
  if (!/^fy[a-z0-9]{0,4}$/.test(prefix)) throw new Error(`lab prefix must match fy[a-z0-9]{0,4}, got "${prefix}"`);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = prefix;
  for (const b of crypto.randomBytes(10 - prefix.length)) id += alphabet[b % alphabet.length];
  return id;
}

export class Lab {
  private constructor(private rec: LabRecord) {}

  /** Build a lab. On any failure everything created so far is removed and the error rethrown. */
  static async create(opts: LabOptions): Promise<Lab> {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 9) throw new Error(`nodes must be 1..9, got ${opts.nodes}`);
    const links = opts.links ?? 2;
    if (links !== 1 && links !== 2) throw new Error(`links must be 1 or 2, got ${String(links)}`);
    const sizes = { ...DEFAULT_DISKS, ...(opts.disks ?? {}) };
    const id = newId(opts.prefix ?? 'fyl');
    const dir = `/tmp/ferry-lab-${id}`;
    const ownerPid = opts.owner === undefined ? process.pid : opts.owner;
    const ownerStart = ownerPid === null ? null : startTime(ownerPid);
    const disks: LabDisk[] = [];
    if (sizes.heartbeat > 0) disks.push({ role: 'heartbeat', file: path.join(dir, 'disks', 'heartbeat.img'), dev: null });
    if (sizes.data > 0) disks.push({ role: 'data', file: path.join(dir, 'disks', 'data.img'), dev: null });
    const rec: LabRecord = {
      version: 1,
      id,
      dir,
      switchNs: `${id}sw`,
      networks: networkPlan(links),
      nodes: Array.from({ length: opts.nodes }, (_, i) => ({
        name: `n${i + 1}`,
        index: i + 1,
        netns: `${id}n${i + 1}`,
        root: path.join(dir, `n${i + 1}`),
        initPid: null,
        initStart: null,
        mntNs: null,
        agentPid: null,
        agentStart: null,
        state: 'down' as const,
      })),
      disks,
      owner: ownerPid === null || ownerStart === null ? null : { pid: ownerPid, start: ownerStart },
      createdAt: new Date().toISOString(),
    };
    // recorded before anything exists: a crash from here on leaves a record cleanup can use
    saveRecord(rec);
    const lab = new Lab(rec);
    try {
      fs.mkdirSync(path.join(dir, 'disks'), { recursive: true });
      for (const d of rec.disks) {
        d.dev = await createDisk(d, d.role === 'heartbeat' ? sizes.heartbeat : sizes.data);
        lab.save();
      }
      await addNetns(rec.switchNs);
      await createSwitch(rec.switchNs, rec.networks);
      for (const node of rec.nodes) await lab.bootNode(node);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  /** Re-open a lab made by another process (the CLI, a crashed test). */
  static attach(id: string): Lab {
    const rec = loadRecord(id);
    if (!rec) throw new Error(`no lab ${id}`);
    return new Lab(rec);
  }

  static list(): LabRecord[] {
    return listRecords();
  }

  /**
   * Tear down every lab whose owner process is gone (all labs with `all`). Returns the ids
   * removed and the problems met; never throws.
   */
  static async cleanup(opts: { all?: boolean } = {}): Promise<{ removed: string[]; problems: string[] }> {
    const removed: string[] = [];
    const problems: string[] = [];
    for (const rec of listRecords()) {
      if (!opts.all && !isOrphan(rec)) continue;
      const p = await teardown(rec);
      if (p.length === 0) removed.push(rec.id);
      problems.push(...p.map((x) => `${rec.id}: ${x}`));
    }
    return { removed, problems };
  }

  get id(): string {
    return this.rec.id;
  }
  get dir(): string {
    return this.rec.dir;
  }
  /** a copy of the record: read it, do not keep it */
  get record(): LabRecord {
    return structuredClone(this.rec);
  }
  get nodeNames(): string[] {
    return this.rec.nodes.map((n) => n.name);
  }
  /** /dev/loopN of the shared disk-heartbeat device, or null if the lab has none */
  get heartbeatDisk(): string | null {
    return this.rec.disks.find((d) => d.role === 'heartbeat')?.dev ?? null;
  }
  /** /dev/loopN holding the ext4 service filesystem, or null */
  get dataDisk(): string | null {
    return this.rec.disks.find((d) => d.role === 'data')?.dev ?? null;
  }
  get networkCount(): number {
    return this.rec.networks.length;
  }

  /** FERRY_ROOT of a node (<lab dir>/<node>) */
  root(node: string): string {
    return this.node(node).root;
  }

  /** name of the node's network namespace (/run/netns/<name>), for `ip -n` and `ip netns exec` */
  netns(node: string): string {
    return this.node(node).netns;
  }

  /** Address of node on network net (0-based), e.g. 10.215.0.1. */
  address(node: string, net = 0): string {
    const n = this.rec.networks[net];
    if (!n) throw new Error(`no network ${net} in lab ${this.id}`);
    return nodeAddress(n, this.node(node));
  }

  /** FERRY_* variables of a node's processes. */
  env(node: string): NodeEnv {
    const n = this.node(node);
    return {
      FERRY_ROOT: n.root,
      FERRY_NODENAME: n.name,
      FERRY_LAB: this.id,
      FERRY_LAB_NODE: `${this.id}:${n.name}`,
      FERRY_CONTAINER_LABELS: `ferry.lab=${this.id}`,
    };
  }

  isUp(node: string): boolean {
    const n = this.node(node);
    return n.state === 'up' && isAlive(n.initPid, n.initStart);
  }

  /** Run a command to completion inside the node (its network, mount and UTS namespaces). */
  async exec(node: string, cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<RunResult> {
    const n = this.upNode(node);
    return run('nsenter', [...nsenterArgv(n.initPid, opts.cwd ?? n.root), cmd, ...args], {
      env: processEnv(this.env(node), opts.env),
      timeout: opts.timeout,
      input: opts.input,
    });
  }

  /** argv + env that run cmd in the node, for callers that spawn it themselves (stdio inherit). */
  execArgv(node: string, cmd: string, args: readonly string[] = [], cwd?: string): { file: string; args: string[]; env: Record<string, string> } {
    const n = this.upNode(node);
    return { file: 'nsenter', args: [...nsenterArgv(n.initPid, cwd ?? n.root), cmd, ...args], env: processEnv(this.env(node)) };
  }

  /** Start a long-running process in the node; output appended to logFile if given. */
  spawn(node: string, cmd: string, args: readonly string[] = [], opts: { env?: Record<string, string>; logFile?: string; cwd?: string } = {}): Spawned {
    const n = this.upNode(node);
    return spawnIn(n.initPid, cmd, args, { env: processEnv(this.env(node), opts.env), logFile: opts.logFile, cwd: opts.cwd ?? n.root });
  }

  /** Processes currently in the node (by namespace and lab mark). */
  async pids(node: string): Promise<number[]> {
    return withNode(this.rec, this.node(node), (m) => nodePids(m));
  }

  /**
   * Write the same cluster.conf (a unicast heartbeat per network, the disk heartbeat) and
   * secret into every node's etc, so agents can start. Returns the file's text.
   */
  writeClusterConf(opts: ClusterConfOptions = {}): string {
    return writeClusterConf(this.rec, opts);
  }

  // ---- the agent ----------------------------------------------------------------------

  agentLog(node: string): string {
    return path.join(this.node(node).root, 'log', 'agent.out');
  }

  agentPid(node: string): number | null {
    const n = this.node(node);
    return isAlive(n.agentPid, n.agentStart) ? n.agentPid : null;
  }

  /** Start the node's agent (default: nodemgr daemon run); stdout+stderr to <root>/log/agent.out. */
  startAgent(node: string, cmd: readonly string[] = defaultAgentCommand(), env: Record<string, string> = {}): number {
    const n = this.upNode(node);
    if (this.agentPid(node) !== null) throw new Error(`the agent of ${node} is already running (pid ${n.agentPid})`);
    const [file, ...args] = cmd;
    if (!file) throw new Error('empty agent command');
    const p = this.spawn(node, file, args, { env: { ...selfFenceEnv(this.id, node), ...env }, logFile: this.agentLog(node) });
    n.agentPid = p.pid;
    n.agentStart = p.start;
    this.save();
    return p.pid;
  }

  /** SIGTERM the agent and wait for it; SIGKILL after timeoutMs. True if it stopped on TERM. */
  async stopAgent(node: string, timeoutMs = 10_000): Promise<boolean> {
    const n = this.node(node);
    const pid = this.agentPid(node);
    let clean = true;
    if (pid !== null) {
      // CONT after TERM: a paused agent must be able to act on the TERM
      signal([pid], 'SIGTERM');
      signal([pid], 'SIGCONT');
      clean = await waitGone(pid, n.agentStart, timeoutMs);
      if (!clean) {
        signal([pid], 'SIGKILL');
        await waitGone(pid, n.agentStart, 5_000);
      }
    }
    n.agentPid = null;
    n.agentStart = null;
    this.save();
    return clean;
  }

  /** SIGKILL the agent process only: the node, its other processes and its mounts stay. */
  async crashAgent(node: string): Promise<void> {
    const n = this.node(node);
    const pid = this.agentPid(node);
    if (pid !== null) {
      signal([pid], 'SIGKILL');
      await waitGone(pid, n.agentStart, 5_000);
    }
    n.agentPid = null;
    n.agentStart = null;
    this.save();
  }

  // ---- node faults ----------------------------------------------------------------------

  /** SIGSTOP every process of the node (and pause its containers): a frozen machine. */
  async pauseNode(node: string): Promise<void> {
    const n = this.upNode(node);
    await withNode(this.rec, n, (m) => signalAll(m, 'SIGSTOP'));
    await pauseContainers(this.id, n.name, true);
  }

  async resumeNode(node: string): Promise<void> {
    const n = this.upNode(node);
    await pauseContainers(this.id, n.name, false);
    await withNode(this.rec, n, (m) => signalAll(m, 'SIGCONT'));
  }

  /**
   * Power the node off: its links go dark first (so it stops answering at once, even ARP for
   * addresses its agent had added), its processes are stopped, its containers are removed, every process in its
   * namespaces is SIGKILLed (init included, so its mounts go with its mount namespace), and
   * its network namespace is deleted. restartNode boots it again, fresh.
   */
  async killNode(node: string): Promise<void> {
    const n = this.node(node);
    const disks = this.mountedDisks(n);
    for (const net of this.rec.networks) await cutPort(this.rec.switchNs, n, net.index, 'down').catch(() => undefined);
    // stop the whole node first: a machine losing power does not see its containers go and
    // react (monitor restart, freezestop published over the disk heartbeat)
    await withNode(this.rec, n, (m) => signalAll(m, 'SIGSTOP'));
    await removeContainers(this.id, n.name);
    const left = await withNode(this.rec, n, (m) => killAll(m));
    // again: a `docker run` the engine had received before the stop may have completed since
    await removeContainers(this.id, n.name);
    // the kernel drops a dead mount namespace's mounts asynchronously (a second or more for an
    // ext4 on a loop device under load): a peer's fsck/mount of the shared disk must not find
    // it still in use by a machine that is off
    // (unless this process is in the node: the lab fence agent run by the node's own crash
    // holds the node's mount namespace until it exits, right after this)
    if (nsOf(process.pid, 'mnt') !== n.mntNs) await this.waitDisksReleased(disks, node, 10_000);
    // delete the legs explicitly: a namespace is freed asynchronously, and a reboot must be
    // able to plug new legs of the same names at once
    for (const net of this.rec.networks) await unplugPort(this.rec.switchNs, n, net.index);
    await delNetns(n.netns);
    Object.assign(n, { initPid: null, initStart: null, mntNs: null, agentPid: null, agentStart: null, state: 'down' });
    this.save();
    if (left.length) throw new Error(`${node}: processes survived SIGKILL: ${left.join(' ')}`);
  }

  /** The lab's shared disks mounted in a node's mount namespace. */
  private mountedDisks(n: LabNode): string[] {
    if (!isAlive(n.initPid, n.initStart)) return [];
    const devs = this.rec.disks.map((d) => d.dev).filter((d): d is string => Boolean(d));
    try {
      const text = fs.readFileSync(`/proc/${n.initPid}/mountinfo`, 'utf8');
      return devs.filter((d) => text.split('\n').some((l) => l.split(' - ')[1]?.split(' ')[1] === d));
    } catch {
      return [];
    }
  }

  /** Wait until no one holds these devices exclusively (a mount does), unless a living node mounts them. */
  private async waitDisksReleased(devs: string[], killed: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const dev of devs) {
      for (;;) {
        if (this.rec.nodes.some((o) => o.name !== killed && this.mountedDisks(o).includes(dev))) break;
        try {
          fs.closeSync(fs.openSync(dev, fs.constants.O_RDONLY | fs.constants.O_EXCL));
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Boot a killed node again: new namespaces, links plugged and healthy, no agent. */
  async restartNode(node: string): Promise<void> {
    const n = this.node(node);
    if (n.state === 'up') await this.killNode(node);
    await this.bootNode(n);
  }

  /** Disconnect the node from network `which` (0-based) or from all of them. */
  async cutLinks(node: string, which: 'all' | number = 'all', mode: CutMode = 'silent'): Promise<void> {
    const n = this.upNode(node);
    for (const net of this.selectNets(which)) await cutPort(this.rec.switchNs, n, net, mode);
  }

  async healLinks(node: string, which: 'all' | number = 'all'): Promise<void> {
    const n = this.upNode(node);
    for (const net of this.selectNets(which)) await healPort(this.rec.switchNs, this.rec.networks, n, net);
  }

  async linkConnected(node: string, net: number): Promise<boolean> {
    return portConnected(this.rec.switchNs, this.node(node), net);
  }

  /** Drop a random fraction (0..1) of the node's IP packets; 0 clears. */
  async dropPackets(node: string, fraction: number, opts: LossOptions = {}): Promise<void> {
    const n = this.upNode(node);
    if (opts.net !== undefined) this.selectNets(opts.net);
    await setLoss(n.netns, fraction, opts);
  }

  async clearDrops(node: string): Promise<void> {
    await clearLoss(this.upNode(node).netns);
  }

  /**
   * Split the listed nodes into groups that cannot reach each other on any lab network;
   * every node keeps reaching the nodes of its group and the lab nodes not listed (e.g. an
   * arbitrator host). Replaces a previous partition; `heal` removes it.
   */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    for (const group of groups) {
      const others = groups.filter((g) => g !== group).flat();
      const addrs = others.flatMap((o) => this.rec.networks.map((net) => this.address(o, net.index)));
      for (const n of group) await setBlocked(this.upNode(n).netns, addrs);
    }
  }

  async heal(): Promise<void> {
    for (const n of this.rec.nodes) if (this.isUp(n.name)) await setBlocked(n.netns, []);
  }

  /**
   * Remove everything: containers, processes, namespaces, mounts, loop devices, the lab
   * directory and the record. Idempotent; never throws; returns what could not be removed.
   */
  async destroy(): Promise<string[]> {
    const rec = loadRecord(this.id) ?? this.rec;
    return teardown(rec);
  }

  // ---- internals ----------------------------------------------------------------------

  private node(name: string): LabNode {
    const n = this.rec.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in lab ${this.id} (nodes: ${this.nodeNames.join(' ')})`);
    return n;
  }

  private upNode(name: string): LabNode & { initPid: number } {
    const n = this.node(name);
    if (n.state !== 'up' || n.initPid === null) throw new Error(`node ${name} of lab ${this.id} is down`);
    return n as LabNode & { initPid: number };
  }

  private selectNets(which: 'all' | number): number[] {
    if (which === 'all') return this.rec.networks.map((n) => n.index);
    if (!this.rec.networks[which]) throw new Error(`no network ${which} in lab ${this.id} (it has ${this.rec.networks.length})`);
    return [which];
  }

  private async bootNode(node: LabNode): Promise<void> {
    for (const d of ['etc/services', 'log', 'var', 'run']) fs.mkdirSync(path.join(node.root, d), { recursive: true });
    await addNetns(node.netns);
    await plugNode(this.rec.switchNs, this.rec.networks, node);
    const init = await startInit(node.netns, node.name, { ...this.env(node.name) }, path.join(node.root, 'log', 'init.out'));
    Object.assign(node, { initPid: init.pid, initStart: init.start, mntNs: init.mntNs, state: 'up' });
    this.save();
  }

  private save(): void {
    saveRecord(this.rec);
  }
}
