// Idle cost of the daemon (docs/benchmarks.md, "Idle"): a 2-node lab (1 s / 3 s heartbeats,
// quorum off), IDLE_SERVICES services (default 100) on both nodes, each with one monitored app
// check, default status_interval / monitor_interval. All run on n1, n2 is the standby. Once
// every service is up and IDLE_SETTLE_S have passed, over IDLE_WINDOW_S (default 120) per node:
// the daemon's CPU as % of one core, its check processes included (utime + stime + cutime +
// cstime of /proc/<pid>/stat: node waits for its children; plus the same four of every live
// descendant: the command runner, src/util/command-runner.ts, is a live child whose own checks
// are in its cutime, not the daemon's, until it exits; its share is reported apart), its RSS (and peak), and the bytes
// per second its log directory grows by. Then the process of one monitored app is killed and
// the time until the daemon acts on it (event monitor_restart in n1's daemon log) is reported
// with the service's monitor_interval: the target is interval + 1 s.
//
//   npm run build && flock /tmp/ferry-heavy.lock node dist/bench/run.js idle
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab, defaultAgentCommand } from '../src/lab/lab.js';
import { cli, sleep } from './common.js';
import { defaultKeywords } from '../src/config/keywords.js';
import { findKeyword } from '../src/vocab/keywords.js';
import { DAEMON_NODE_FLAGS } from '../src/util/daemon-node-flags.js';

const SERVICES = Number(process.env.IDLE_SERVICES ?? 100);
const WINDOW_S = Number(process.env.IDLE_WINDOW_S ?? 120);
const SETTLE_S = Number(process.env.IDLE_SETTLE_S ?? 45);
const KILLS = Number(process.env.IDLE_KILLS ?? 2);
/** a directory: the agents run with --cpu-prof into <dir>/<node> (written at their graceful stop, the bench's end) */
const CPU_PROF = process.env.IDLE_CPU_PROF;
/** the agents' node flags instead of DAEMON_NODE_FLAGS (space separated), to measure others */
const NODE_FLAGS = process.env.IDLE_NODE_FLAGS;
const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14..17 of stat (utime stime cutime cstime), 0-based 11..14 after the comm
  return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0);
}

/** the live descendants of a process (/proc/<pid>/task/<tid>/children, recursively) */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const tid of tids) {
    let kids = '';
    try {
      kids = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.split(' ').filter(Boolean)) out.push(Number(k), ...descendants(Number(k)));
  }
  return out;
}

const ticksOrZero = (pid: number): number => {
  try {
    return cpuTicks(pid);
  } catch {
    return 0; // ended between the listing and the read: its time is in its parent's cutime now
  }
};

const isRunner = (pid: number): boolean => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('ferry-command-runner');
  } catch {
    return false;
  }
};

/**
 * The daemon's CPU ticks with its live descendants' (each counted with its reaped children,
 * none twice: a process's cutime holds only children it has waited for), and the command
 * runner's part of it (its pid, its ticks with its own descendants).
 */
function treeTicks(pid: number): { total: number; runnerPid: number | undefined; runner: number } {
  let total = cpuTicks(pid);
  let runnerPid: number | undefined;
  let runner = 0;
  for (const d of descendants(pid)) {
    total += ticksOrZero(d);
    if (runnerPid === undefined && isRunner(d)) {
      runnerPid = d;
      runner = ticksOrZero(d) + descendants(d).reduce((a, k) => a + ticksOrZero(k), 0);
    }
  }
  return { total, runnerPid, runner };
}

function memKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/**
 * From smaps_rollup (kB): Pss, the node binary's text pages shared with the other node
 * processes counted in part (it depends on how many run); Anonymous, the process's own memory
 * (V8 heaps, malloc), which does not.
 */
function rollupKb(pid: number, key: 'Pss' | 'Anonymous'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** CPU ticks (utime + stime) per thread: main thread, heartbeat worker, V8 platform threads, libuv's pool */
function threadTicks(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // every thread of node is named "node": the main one by its id, the others by theirs (the
    // heartbeat worker is the busiest of them)
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const key = Number(tid) === pid ? 'main' : `tid${tid}`;
    out[key] = (out[key] ?? 0) + Number(f[11]) + Number(f[12]);
  }
  return out;
}

function fileSizes(dir: string, out: Record<string, number> = {}, rel = ''): Record<string, number> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fileSizes(p, out, path.join(rel, e.name));
    else if (e.isFile()) out[path.join(rel, e.name)] = fs.statSync(p).size;
  }
  return out;
}

const dirBytes = (dir: string): number => Object.values(fileSizes(dir)).reduce((a, b) => a + b, 0);

/** the log lines written in [from, to) in the log dir, counted by file and event (bytes) */
function logBreakdown(dir: string, before: Record<string, number>): string[] {
  const rows: [string, number][] = [];
  const byEvent = new Map<string, number>();
  for (const [f, size] of Object.entries(fileSizes(dir))) {
    const grew = size - (before[f] ?? 0);
    if (grew <= 0) continue;
    rows.push([f, grew]);
    const fd = fs.openSync(path.join(dir, f), 'r');
    const buf = Buffer.alloc(Math.min(grew, 4 << 20));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    fs.closeSync(fd);
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue;
      const ev = /"event":"([^"]+)"/.exec(line)?.[1] ?? (line.startsWith('{') ? '(no event)' : `(text) ${line.slice(0, 60)}`);
      const key = `${f} ${ev}`;
      byEvent.set(key, (byEvent.get(key) ?? 0) + line.length + 1);
    }
  }
  rows.sort((a, b) => b[1] - a[1]);
  const top = [...byEvent].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return [...rows.slice(0, 6).map(([f, n]) => `file ${f}: ${n} B`), ...top.map(([k, n]) => `event ${k}: ${n} B`)];
}

const name = (i: number) => `idle${String(i).padStart(3, '0')}`;

// per node paths: the lab dir is shared by the nodes (no private /tmp), and a node that saw
// the peer's flag or pid would find the service up on itself too (multiple active). {nodename}
// keeps the file text the same on both (config replication compares them).
const pidFileOf = (lab: Lab, node: string) => `${lab.dir}/idle-app-${node}.pid`;

function serviceText(lab: Lab, i: number): string {
  const lines = ['[DEFAULT]', 'nodes = n1 n2', 'orchestrate = ha', ''];
  if (i === 0) {
    // the one whose app process is killed: a real process, checked by its pid, in its own
    // session (setsid: nothing that ends the start action's process group takes it along);
    // the pid written is the sleep's (exec). The check says down (exit 1) where there is no
    // pid file: a bare `kill -0` exits 2 there, a check's `warn`, which the standby counted as
    // active (multiple-active) and stopped once a second: its 1.4 KB/s of log and ~5 % of CPU
    const pid = pidFileOf(lab, '{nodename}');
    const script = `${lab.dir}/idle-app.sh`;
    fs.writeFileSync(script, `setsid sh -c 'echo $$ > "$0"; exec sleep 1000000' "$1" </dev/null >/dev/null 2>&1 &\n`);
    lines.push('[app#1]', `start = /bin/sh ${script} ${pid}`, `stop = /bin/sh -c "kill $(cat ${pid}) 2>/dev/null; rm -f ${pid}"`, `check = /bin/sh -c "test -s ${pid} && kill -0 $(cat ${pid}) 2>/dev/null"`, 'monitor = true', 'restart = 1000', '');
  } else {
    const flag = `${lab.dir}/idle-app-{nodename}-${i}`;
    lines.push('[app#1]', `start = /bin/touch ${flag}`, `stop = /bin/rm -f ${flag}`, `check = /usr/bin/test -e ${flag}`, 'monitor = true', '');
  }
  return lines.join('\n');
}

async function upOn(lab: Lab, node: string): Promise<number> {
  const r = await lab.exec(node, process.execPath, [cli('svcmon'), '--format', 'json'], { timeout: 30_000 });
  if (r.exitCode !== 0) return -1;
  const m = JSON.parse(r.stdout) as { services: Record<string, { instances: Record<string, { avail?: string }> }> };
  return Object.values(m.services).filter((s) => s.instances[node]?.avail === 'up').length;
}

interface LogLine {
  time: number;
  event?: string;
  svc?: string;
}

function events(file: string, since: number, event: string, svc: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((l) => l.time >= since && l.svc === svc);
}

export async function idle(): Promise<Record<string, number>> {
  const lab = await Lab.create({ nodes: 2, links: 2, prefix: 'fyidle', disks: { heartbeat: 8, data: 0 } });
  try {
    lab.writeClusterConf({ interval: '1s', timeout: '3s', cluster: ['quorum = false'] });
    for (const n of lab.nodeNames) for (let i = 0; i < SERVICES; i++) fs.writeFileSync(path.join(lab.root(n), 'etc', 'services', `${name(i)}.env`), serviceText(lab, i));
    const pids: Record<string, number> = {};
    for (const n of lab.nodeNames) {
      const [node, ...rest] = defaultAgentCommand();
      // rest: DAEMON_NODE_FLAGS, then the script and its arguments
      const script = rest.slice(DAEMON_NODE_FLAGS.length);
      const flags = NODE_FLAGS === undefined ? [...DAEMON_NODE_FLAGS] : NODE_FLAGS.split(' ').filter(Boolean);
      const prof = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(CPU_PROF, n)}`] : [];
      pids[n] = CPU_PROF || NODE_FLAGS !== undefined ? lab.startAgent(n, [node!, ...flags, ...prof, ...script]) : lab.startAgent(n);
    }
    const t0 = Date.now();
    while ((await upOn(lab, 'n1')) < SERVICES) {
      if (Date.now() - t0 > 300_000) throw new Error(`the ${SERVICES} services are not all up on n1 after 300 s`);
      await sleep(2_000);
    }
    const startedS = (Date.now() - t0) / 1000;
    await sleep(SETTLE_S * 1000);
    const logDir = (n: string) => path.join(lab.root(n), 'log');
    const before = Object.fromEntries(lab.nodeNames.map((n) => [n, { cpu: treeTicks(pids[n]!), log: dirBytes(logDir(n)), files: fileSizes(logDir(n)), threads: threadTicks(pids[n]!) }]));
    const load0 = os.loadavg()[0]!;
    const w0 = Date.now();
    await sleep(WINDOW_S * 1000);
    const secs = (Date.now() - w0) / 1000;
    const out: Record<string, number> = { services: SERVICES, window_s: Math.round(secs), all_up_after_s: startedS, load1_before: load0, load1_after: os.loadavg()[0]! };
    for (const n of lab.nodeNames) {
      const pid = pids[n]!;
      const cpu = treeTicks(pid);
      const pct = (ticks: number) => Math.round((ticks / CLK_TCK / secs) * 1000) / 10;
      out[`${n}_cpu_pct`] = pct(cpu.total - before[n]!.cpu.total);
      // the runner's share when one ran through the whole window (a new one since: its
      // predecessor's time is in the daemon's cutime, not told apart)
      if (cpu.runnerPid !== undefined && cpu.runnerPid === before[n]!.cpu.runnerPid) out[`${n}_runner_cpu_pct`] = pct(cpu.runner - before[n]!.cpu.runner);
      else if (cpu.runnerPid !== undefined || before[n]!.cpu.runnerPid !== undefined) out[`${n}_runner_restarted`] = 1;
      out[`${n}_rss_mb`] = Math.round(memKb(pid, 'VmRSS') / 102.4) / 10;
      out[`${n}_rss_peak_mb`] = Math.round(memKb(pid, 'VmHWM') / 102.4) / 10;
      out[`${n}_pss_mb`] = Math.round(rollupKb(pid, 'Pss') / 102.4) / 10;
      out[`${n}_anon_mb`] = Math.round(rollupKb(pid, 'Anonymous') / 102.4) / 10;
      out[`${n}_log_bytes_per_s`] = Math.round((dirBytes(logDir(n)) - before[n]!.log) / secs);
      const th = threadTicks(pid);
      const t0 = before[n]!.threads;
      const perThread = Object.entries(th)
        .map(([k, v]) => [k, Math.round(((v - (t0[k] ?? 0)) / CLK_TCK / secs) * 1000) / 10] as const)
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]);
      for (const [k, v] of perThread.slice(0, 4)) out[`${n}_thread_${k}_cpu_pct`] = v;
      console.error(`[idle] ${n} log growth in the window:\n  ${logBreakdown(logDir(n), before[n]!.files).join('\n  ')}`);
    }
    console.error(`[idle] node flags of the agents: ${(NODE_FLAGS ?? DAEMON_NODE_FLAGS.join(' ')) || '(none)'}${CPU_PROF ? ' --cpu-prof' : ''}`);
    // the idle figures first: they stand even if the detection part fails
    console.error(JSON.stringify({ bench: 'idle', part: 'idle', ...out }));
    // detection: kill the app process of idle000 (inside n1: its /tmp and pids are its own)
    const daemonLog = path.join(logDir('n1'), 'daemon.log');
    const pidFile = pidFileOf(lab, 'n1');
    const appPid = async (): Promise<string | undefined> => {
      const t = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
      return /^\d+$/.test(t) ? t : undefined;
    };
    const detect: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const t1 = Date.now();
      let pid = await appPid();
      while (!pid && Date.now() - t1 < 60_000) {
        await sleep(200);
        pid = await appPid();
      }
      if (!pid) throw new Error(`no ${pidFile} in n1`);
      await sleep(1_000 + Math.random() * 5_000);
      // the pid file may be a restart behind: read it again until a kill lands
      let killedAt = Date.now();
      for (let tries = 0; ; tries++) {
        killedAt = Date.now();
        const r = await lab.exec('n1', 'kill', ['-9', pid]);
        if (r.exitCode === 0) break;
        if (tries >= 30) throw new Error(`kill -9 ${pid} in n1: ${r.stderr.trim()}`);
        await sleep(1_000);
        pid = (await appPid()) ?? pid;
      }
      let seen: LogLine | undefined;
      while (!seen && Date.now() - killedAt < 180_000) {
        await sleep(100);
        seen = events(daemonLog, killedAt, 'monitor_restart', name(0))[0];
      }
      if (!seen) throw new Error('the killed app was not restarted within 180 s');
      detect.push(seen.time - killedAt);
      // the restart brings a new process (a new pid file)
      const t2 = Date.now();
      while (Date.now() - t2 < 60_000 && (await appPid()) === pid) await sleep(200);
    }
    // the services leave monitor_interval at its default
    const intervalS = Number(findKeyword(defaultKeywords, 'monitor_interval')!.default) / 1000;
    out.monitor_interval_s = intervalS;
    out.detect_max_s = Math.max(...detect) / 1000;
    out.detect_min_s = Math.min(...detect) / 1000;
    out.detect_max_over_interval_plus_1s = Math.round((Math.max(...detect) / 1000 / (intervalS + 1)) * 100) / 100;
    if (CPU_PROF) for (const n of lab.nodeNames) await lab.stopAgent(n, 20_000);
    return out;
  } finally {
    const problems = await lab.destroy();
    if (problems.length) console.error(`lab ${lab.id} teardown: ${problems.join('; ')}`);
  }
}
