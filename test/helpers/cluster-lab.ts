// A running ferry cluster in a lab: real agents (nodemgr daemon run) in 2 or 3 lab nodes, real
// UDP heartbeats (200ms / 1s) on every lab network plus the disk heartbeat, and one failover
// service made of a real address, a real ext4 mount of the lab's data disk and a real docker
// container. The lab is destroyed in t.teardown, even when the test failed.
import fs from 'node:fs';
import type { ExecutionContext } from 'ava';
import { Lab } from '../../src/lab/lab.js';
import type { RunResult } from '../../src/util/exec.js';
import type { ClusterView } from '../../src/daemon/control-protocol.js';
import { distCli, requireRoot, testImage, uniquePrefix } from './env.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The service address: inside the lab's first network, never used by a node. */
export const SVC_ADDR = '10.215.0.100';
/** Agent refresh period in the tests. */
export const TICK_MS = 500;
export const HB = { interval: '200ms', timeout: '1s' };

export interface ServiceSpec {
  name: string;
  nodes: string[];
  /** extra lines of the [DEFAULT] section */
  defaults?: string[];
  /** extra lines of the [container#1] section (e.g. restart = 1) */
  container?: string[];
  /** extra lines of the [ip#1] section (e.g. monitor = true) */
  ip?: string[];
  /** leave the fs out (e.g. when two services would share the data disk) */
  noFs?: boolean;
  /** whole sections appended to the file (e.g. a [sync#1]) */
  sections?: string[];
}

export interface ClusterLab {
  lab: Lab;
  svc: string;
  /** where the service's fs is mounted (same path in every node) */
  mnt: string | undefined;
  /** nodes whose agent was started */
  agents: string[];
}

export function serviceText(lab: Lab, s: ServiceSpec): string {
  // these tests time failovers and monitor detections, and read views right after changes made
  // behind ferry's back: reads at the lab's pace, not the defaults (60 s / 30 s, docs/monitoring.md)
  const intervals = ['status_interval = 1s', 'monitor_interval = 1s'].filter((l) => !(s.defaults ?? []).some((d) => d.startsWith(l.split(' ')[0]!)));
  const lines = ['[DEFAULT]', `nodes = ${s.nodes.join(' ')}`, 'orchestrate = ha', ...intervals, ...(s.defaults ?? []), ''];
  lines.push('[ip#1]', `ipname = ${SVC_ADDR}`, 'ipdev = eth0', 'netmask = 24', ...(s.ip ?? []), '');
  if (!s.noFs) lines.push('[fs#1]', `dev = ${lab.dataDisk}`, `mnt = ${lab.dir}/mnt-${s.name}`, 'type = ext4', '');
  lines.push(
    '[container#1]',
    'type = docker',
    `run_image = ${testImage}`,
    'run_args = --network none',
    `run_command = /bin/sh -c "trap 'exit 0' TERM; sleep 100000 & wait"`,
    'stop_timeout = 5s',
    'monitor = true',
    ...(s.container ?? []),
    '',
    ...(s.sections ?? []),
  );
  return lines.join('\n');
}

export interface ClusterOptions {
  nodes: 2 | 3;
  links?: 1 | 2;
  /** nodes listed in the service (default: all lab nodes) */
  svcNodes?: string[];
  /** nodes whose agent is started (default: all) */
  agents?: string[];
  /** disk heartbeat (default true) */
  disk?: boolean;
  service?: Partial<ServiceSpec>;
  /** wait for the service to run on this node before returning (default: the first of svcNodes) */
  expectOn?: string | null;
  /** extra cluster file: [cluster] lines and whole sections (e.g. [stonith#n1]) */
  clusterLines?: string[];
  clusterExtra?: string;
  /** cluster members (default: every lab node; the others may host an arbitrator) */
  members?: string[];
  /** [stonith#<node>] with the lab fence agent for every member */
  stonith?: boolean;
}

/**
 * [cluster] lines: the caller's, after defaults for tests that are not about quorum (those
 * set `quorum` themselves): two nodes without a tie-breaker must choose, and these tests are
 * about failover, so quorum is off; with three nodes quorum stays on with a short split grace
 * (nodes here are killed, not split, and the tests measure the takeover).
 */
function clusterLines(o: ClusterOptions): string[] {
  const lines = o.clusterLines ?? [];
  if (lines.some((l) => /^\s*quorum\s*=/.test(l))) return lines;
  return [...((o.members?.length ?? o.nodes) === 2 ? ['quorum = false'] : ['split_grace = 2s']), ...lines];
}

/** Create the lab, write the cluster and service files, start the agents, wait for placement. */
export async function startCluster(t: ExecutionContext, o: ClusterOptions): Promise<ClusterLab> {
  requireRoot();
  const lab = await Lab.create({ nodes: o.nodes, links: o.links ?? 2, prefix: uniquePrefix('c').slice(0, 6), disks: { heartbeat: o.disk === false ? 0 : 8, data: 32 } });
  t.teardown(async () => {
    if (!t.passed) await diagnose(lab).then((d) => console.error(d), () => undefined);
    const problems = await lab.destroy();
    if (problems.length) console.error(`lab ${lab.id} teardown: ${problems.join('; ')}`);
  });
  const nets = lab.networkCount;
  // the disk heartbeat at the network's pace: a node is dead 1 s after its last beat anywhere
  const disk = o.disk === false ? '' : ['[hb#' + (nets + 1) + ']', 'type = disk', `dev = ${lab.heartbeatDisk}`, `interval = ${HB.interval}`, `timeout = ${HB.timeout}`].join('\n');
  const members = o.members ?? lab.nodeNames;
  lab.writeClusterConf({ ...HB, disk: false, extra: [disk, o.clusterExtra ?? ''].join('\n'), cluster: clusterLines(o), members, stonith: o.stonith ?? false });
  // named after the lab: the docker engine (container names) is shared with concurrent tests
  const spec: ServiceSpec = { name: `s${lab.id}`, nodes: o.svcNodes ?? members, ...o.service };
  const text = serviceText(lab, spec);
  for (const n of lab.nodeNames) fs.writeFileSync(`${lab.root(n)}/etc/services/${spec.name}.env`, text);
  const agents = o.agents ?? members;
  for (const n of agents) startAgentIn(lab, n);
  const cl: ClusterLab = { lab, svc: spec.name, mnt: spec.noFs ? undefined : `${lab.dir}/mnt-${spec.name}`, agents };
  const expectOn = o.expectOn === undefined ? spec.nodes[0]! : o.expectOn;
  const t0 = Date.now();
  await waitFor(`cluster formed (${agents.join(', ')} see each other up)`, async () => {
    for (const n of agents) {
      const v = await view(lab, n).catch(() => undefined);
      if (!v || agents.some((p) => p !== n && v.nodes[p]?.state !== 'up')) return false;
    }
    return true;
  }, 20_000);
  if (expectOn) await waitRunning(cl, expectOn, 30_000);
  t.log(`lab ${lab.id}: cluster of ${agents.join(', ')} formed${expectOn ? `, ${spec.name} up on ${expectOn}` : ''} in ${Date.now() - t0} ms`);
  return cl;
}

export function startAgentIn(lab: Lab, node: string): number {
  return lab.startAgent(node, undefined, { FERRY_TICK_MS: String(TICK_MS) });
}

/** Run one of our CLIs inside a lab node. */
export function cli(lab: Lab, node: string, name: 'svcmgr' | 'svcmon' | 'nodemgr', args: string[], timeout = 60_000): Promise<RunResult> {
  return lab.exec(node, process.execPath, [distCli(name), ...args], { timeout });
}

/** The cluster view of a node's daemon (svcmon --format json). */
export async function view(lab: Lab, node: string): Promise<ClusterView> {
  const r = await cli(lab, node, 'svcmon', ['--format', 'json'], 15_000);
  if (!r.ok) throw new Error(`svcmon on ${node}: ${r.stderr.trim() || r.stdout.trim()}`);
  // svcmon's model (src/daemon/svcmon-model.ts) carries the daemon's node view: a down, left or
  // unknown node's service statuses are under `last`, not `avail`/`overall`
  const v = JSON.parse(r.stdout) as ClusterView & { daemon: { running: boolean; error?: string } };
  if (!v.daemon.running) throw new Error(`svcmon on ${node}: no daemon answers (${v.daemon.error ?? '?'})`);
  return v;
}

/** The text svcmon of a node (table + notes + heartbeats). */
export async function svcmonText(lab: Lab, node: string): Promise<string> {
  return (await cli(lab, node, 'svcmon', [], 15_000)).stdout;
}

export async function waitFor(what: string, f: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await f()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Wait until node's daemon reports the service up and idle there. */
export async function waitRunning(cl: ClusterLab, node: string, timeoutMs: number): Promise<number> {
  return waitFor(`${cl.svc} up on ${node}`, async () => {
    const v = await view(cl.lab, node).catch(() => undefined);
    const s = v?.nodes[node]?.payload?.services[cl.svc];
    return s?.avail === 'up' && s.monitor === 'idle';
  }, timeoutMs);
}

export interface LogLine {
  time: number;
  msg: string;
  [k: string]: unknown;
}

/** Entries of a node's daemon log (pino JSON lines) whose msg matches re. */
export async function daemonLog(lab: Lab, node: string, re: RegExp = /./): Promise<LogLine[]> {
  const f = `${lab.root(node)}/log/daemon.log`;
  if (!fs.existsSync(f)) return [];
  const out: LogLine[] = [];
  for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    try {
      const e = JSON.parse(l) as LogLine;
      if (typeof e.msg === 'string' && re.test(e.msg)) out.push(e);
    } catch {
      // a line being written
    }
  }
  return out;
}

/** Records of a node's daemon log with these fields: an `event` (docs/events.md) and any others. */
export async function daemonEvents(lab: Lab, node: string, want: Record<string, unknown>): Promise<LogLine[]> {
  return (await daemonLog(lab, node)).filter((e) => Object.entries(want).every(([k, v]) => e[k] === v));
}

/** What each living node says, for a failed test's output: svcmon and the daemon's last decisions. */
export async function diagnose(lab: Lab): Promise<string> {
  const out = [`--- lab ${lab.id} at failure`];
  for (const n of lab.nodeNames) {
    if (!lab.isUp(n)) {
      out.push(`[${n}] node down`);
      continue;
    }
    out.push(`[${n}] svcmon:`, (await svcmonText(lab, n).catch((e: Error) => e.message)).trimEnd());
    const log = (await daemonLog(lab, n)).slice(-25).map((e) => `  ${new Date(e.time).toISOString().slice(11, 23)} ${e.msg}`);
    out.push(`[${n}] daemon log (last ${log.length}):`, ...log);
  }
  return out.join('\n');
}
