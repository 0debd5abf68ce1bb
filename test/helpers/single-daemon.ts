// One real agent (`nodemgr daemon run`) of a one-node cluster in a private FERRY_ROOT, outside
// any lab: for tests of the daemon's own interfaces (the control socket). No heartbeat, no
// service; stopped (SIGTERM, then SIGKILL) and its root removed by close().
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { askDaemon, DaemonUnreachable } from '../../src/daemon/control-client.js';
import { controlSocketPath } from '../../src/daemon/control-protocol.js';
import { ferryPaths, type FerryPaths } from '../../src/paths.js';
import { distCli, makeFerryRoot, type FerryRoot } from './env.js';

export interface SingleDaemon {
  root: FerryRoot;
  paths: FerryPaths;
  socket: string;
  pid: number;
  /** the process has not exited */
  alive(): boolean;
  /** resident memory of the daemon process, bytes (from /proc) */
  rss(): number;
  /** its stdout and stderr so far */
  output(): string;
  /** pino lines of <log>/daemon.log */
  logEntries(): Record<string, unknown>[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** clusterLines: more [cluster] keywords (e.g. metrics_listen) */
export async function startSingleDaemon(nodename = 'a', env: Record<string, string> = {}, clusterLines: string[] = []): Promise<SingleDaemon> {
  const root = makeFerryRoot(nodename);
  fs.writeFileSync(path.join(root.root, 'etc', 'cluster.conf'), ['[cluster]', 'name = single', `nodes = ${nodename}`, `secret = ${'5e'.repeat(32)}`, ...clusterLines, ''].join('\n'));
  const paths = ferryPaths({ FERRY_ROOT: root.root });
  const child = spawn(process.execPath, [distCli('nodemgr'), 'daemon', 'run'], { env: { ...process.env, ...root.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const d: SingleDaemon = {
    root,
    paths,
    socket: controlSocketPath(paths),
    pid: child.pid ?? -1,
    alive,
    rss() {
      if (!alive()) throw new Error(`the daemon (pid ${child.pid}) has exited: ${out.slice(-2000)}`);
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (!m) throw new Error(`no VmRSS for pid ${child.pid}`);
      return Number(m[1]) * 1024;
    },
    output: () => out,
    logEntries() {
      const f = path.join(paths.log, 'daemon.log');
      if (!fs.existsSync(f)) return [];
      return fs.readFileSync(f, 'utf8').split('\n').flatMap((l) => {
        try {
          return l.trim() ? [JSON.parse(l) as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });
    },
    async close() {
      if (alive()) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 15_000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5_000);
        }
      }
      root.cleanup();
    },
  };
  const t0 = Date.now();
  for (;;) {
    if (!alive()) {
      root.cleanup();
      throw new Error(`nodemgr daemon run exited (${child.exitCode ?? child.signalCode}): ${out.trim()}`);
    }
    try {
      if ((await askDaemon(paths, { op: 'ping' }, 2_000)).ok) return d;
    } catch (e) {
      if (!(e instanceof DaemonUnreachable)) throw e;
    }
    if (Date.now() - t0 > 30_000) {
      await d.close();
      throw new Error(`the daemon did not answer a ping within 30 s: ${out.trim()}`);
    }
    await sleep(100);
  }
}
