// A service's private container engine (docker_data_dir), as OpenSVC v1 ran it: its images,
// containers and volumes live in the data directory on the service's own filesystem, so they
// move with the service, and the engine only runs where the service does.
//
// docker: one dockerd per service, data root = docker_data_dir, exec root, pid file and socket
//   under <run>/<svc>/, started before the first container and stopped (SIGTERM, bounded wait,
//   then SIGKILL) once the last one is gone. Unless docker_daemon_args sets them itself, it gets
//   --bridge=none --iptables=false: the host engine owns docker0 and the iptables chains, a
//   second daemon on them would fight it (its containers use host, none, container:... or
//   networks created in it).
// podman: no daemon; every command gets --root=docker_data_dir and its own --runroot and
//   --tmpdir under <run>/<svc>/, which exist only while containers may run here (the standby
//   never touches the data directory).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import { shlexSplit } from '../util/shlex.js';
import { pidAlive } from '../util/pid-alive.js';
import { engine, engineErrorLine, type EngineCli, type EngineTarget } from './container-engine.js';

const START_TIMEOUT = 60_000;
const STOP_GRACE = 30_000;
const POLL = 200;
// sun_path is 108 bytes with its NUL
const MAX_SOCKET_PATH = 107;
// the flags that tie a daemon to the host's bridge and iptables
const NETWORK_FLAGS = /^(-b|--bridge|--bip|--iptables|--ip-masq|--fixed-cidr)(=|$)/;

export const DOCKER_NOT_RUNNING = 'docker daemon is not running';
export const PODMAN_INACTIVE = 'podman private storage is not active here';

export interface PrivateEngine {
  /** what the service's containers talk to */
  readonly target: EngineTarget;
  /** status message while it does not run on this node */
  readonly inactiveMessage: string;
  /** does it run here (cheap: files and a pid, no engine call) */
  active(): boolean;
  /** run it if it does not (idempotent, serialised per service) */
  ensure(log: Logger): Promise<void>;
  /** stop it if no container is left in it */
  stopIfIdle(log: Logger): Promise<void>;
}

/** The private engine of a service, or the reason its settings cannot be used. */
export function privateEngine(cli: EngineCli, svcname: string, paths: FerryPaths, dataDir: string, daemonArgs: string): PrivateEngine | { error: string } {
  if (!path.isAbsolute(dataDir)) return { error: `docker_data_dir "${dataDir}" is not an absolute path` };
  let extra: string[];
  try {
    extra = shlexSplit(daemonArgs);
  } catch (e) {
    return { error: `bad docker_daemon_args: ${e instanceof Error ? e.message : String(e)}` };
  }
  const dir = path.join(paths.run, svcname);
  if (cli === 'podman') return new PodmanStorage(dir, path.resolve(dataDir));
  const socket = path.join(dir, 'docker.sock');
  if (socket.length > MAX_SOCKET_PATH) return { error: `private docker socket path ${socket} is longer than ${MAX_SOCKET_PATH} bytes` };
  return new PrivateDockerd(svcname, dir, path.resolve(dataDir), extra, path.join(paths.log, `${svcname}.dockerd.log`));
}

/** the argv of a private dockerd */
export function dockerdArgs(dir: string, dataDir: string, extra: readonly string[]): string[] {
  const own = [`--data-root=${dataDir}`, `--exec-root=${path.join(dir, 'docker')}`, `--pidfile=${path.join(dir, 'docker.pid')}`, `--host=unix://${path.join(dir, 'docker.sock')}`];
  const network = extra.some((a) => NETWORK_FLAGS.test(a)) ? [] : ['--bridge=none', '--iptables=false'];
  return [...own, ...network, ...extra];
}

// one start or stop at a time per engine: parallel subsets ask together
const locks = new Map<string, Promise<void>>();
function serialised(key: string, fn: () => Promise<void>): Promise<void> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  locks.set(key, settled);
  void settled.then(() => {
    if (locks.get(key) === settled) locks.delete(key);
  });
  return next;
}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** containers left in the engine (any: it is the service's own) */
async function leftContainers(t: EngineTarget, log: Logger): Promise<string[] | { error: string }> {
  const r = await engine(t, ['ps', '-a', '-q'], 30_000, log);
  if (!r.ok) return { error: engineErrorLine(r) };
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

class PrivateDockerd implements PrivateEngine {
  readonly target: EngineTarget;
  readonly inactiveMessage = DOCKER_NOT_RUNNING;
  private readonly socket: string;
  private readonly pidFile: string;

  constructor(
    private readonly svcname: string,
    private readonly dir: string,
    private readonly dataDir: string,
    private readonly extra: readonly string[],
    private readonly logFile: string,
  ) {
    this.socket = path.join(dir, 'docker.sock');
    this.pidFile = path.join(dir, 'docker.pid');
    this.target = { cli: 'docker', host: `unix://${this.socket}` };
  }

  private pid(): number | undefined {
    try {
      const n = Number.parseInt(fs.readFileSync(this.pidFile, 'utf8').slice(0, 32).trim(), 10);
      return Number.isInteger(n) && n > 1 && pidAlive(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  active(): boolean {
    return this.pid() !== undefined && fs.existsSync(this.socket);
  }

  private async answers(log: Logger): Promise<boolean> {
    return (await engine(this.target, ['version', '--format', '{{.Server.Version}}'], 10_000, log)).ok;
  }

  ensure(log: Logger): Promise<void> {
    return serialised(this.socket, async () => {
      if (this.active() && (await this.answers(log))) return;
      const running = this.pid();
      if (running === undefined) {
        // a daemon killed hard leaves its socket and pid file: dockerd refuses to start over them
        fs.rmSync(this.socket, { force: true });
        fs.rmSync(this.pidFile, { force: true });
      }
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
      let exited: string | undefined;
      if (running === undefined) {
        const argv = dockerdArgs(this.dir, this.dataDir, this.extra);
        log.info({ event: 'private-engine-start', svcname: this.svcname, engine: 'docker', argv }, 'starting the private docker daemon');
        const out = fs.openSync(this.logFile, 'a');
        try {
          // its own session: it outlives the ferry command that started it, as a daemon
          const child = spawn('dockerd', argv, { detached: true, stdio: ['ignore', out, out] });
          child.on('error', (e) => (exited = e.message));
          child.on('exit', (code, sig) => (exited = `exit ${code ?? sig ?? '?'}`));
          child.unref();
        } finally {
          fs.closeSync(out);
        }
      }
      const deadline = Date.now() + START_TIMEOUT;
      for (;;) {
        if (fs.existsSync(this.socket) && (await this.answers(log))) break;
        if (exited !== undefined) throw new Error(`private docker daemon of ${this.svcname} did not start (${exited}): ${this.lastLogLine()}`);
        if (Date.now() >= deadline) throw new Error(`private docker daemon of ${this.svcname} not answering after ${START_TIMEOUT / 1000}s: ${this.lastLogLine()}`);
        await sleep(POLL);
      }
      log.info({ event: 'private-engine-started', svcname: this.svcname, engine: 'docker', pid: this.pid(), dataRoot: this.dataDir, socket: this.socket }, 'private docker daemon running');
    });
  }

  private lastLogLine(): string {
    try {
      const fd = fs.openSync(this.logFile, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const buf = Buffer.alloc(Math.min(size, 4096));
        fs.readSync(fd, buf, 0, buf.length, size - buf.length);
        const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
        return (lines.at(-1) ?? '').slice(0, 300) || `see ${this.logFile}`;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return `see ${this.logFile}`;
    }
  }

  stopIfIdle(log: Logger): Promise<void> {
    return serialised(this.socket, async () => {
      const pid = this.pid();
      if (pid === undefined) return;
      const left = await leftContainers(this.target, log);
      if (!('error' in left) && left.length > 0) {
        log.info({ event: 'private-engine-kept', svcname: this.svcname, engine: 'docker', containers: left.length }, 'private docker daemon still has containers');
        return;
      }
      log.info({ event: 'private-engine-stop', svcname: this.svcname, engine: 'docker', pid }, 'stopping the private docker daemon');
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
      const deadline = Date.now() + STOP_GRACE;
      while (pidAlive(pid) && Date.now() < deadline) await sleep(POLL);
      if (pidAlive(pid)) {
        log.warn({ event: 'private-engine-kill', svcname: this.svcname, engine: 'docker', pid, graceMs: STOP_GRACE }, 'private docker daemon did not stop: killed');
        // the daemon and its containerd, which it started in its own process group
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          process.kill(pid, 'SIGKILL');
        }
        while (pidAlive(pid)) await sleep(POLL);
      }
      fs.rmSync(this.socket, { force: true });
      fs.rmSync(this.pidFile, { force: true });
      log.info({ event: 'private-engine-stopped', svcname: this.svcname, engine: 'docker' }, 'private docker daemon stopped');
    });
  }
}

class PodmanStorage implements PrivateEngine {
  readonly target: EngineTarget;
  readonly inactiveMessage = PODMAN_INACTIVE;
  private readonly runroot: string;
  private readonly tmpdir: string;

  constructor(dir: string, dataDir: string) {
    this.runroot = path.join(dir, 'podman');
    this.tmpdir = path.join(dir, 'podman-tmp');
    this.target = { cli: 'podman', host: undefined, globalArgs: [`--root=${dataDir}`, `--runroot=${this.runroot}`, `--tmpdir=${this.tmpdir}`] };
  }

  active(): boolean {
    return fs.existsSync(this.runroot);
  }

  ensure(log: Logger): Promise<void> {
    return serialised(this.runroot, async () => {
      if (this.active()) return;
      fs.mkdirSync(this.runroot, { recursive: true, mode: 0o700 });
      fs.mkdirSync(this.tmpdir, { recursive: true, mode: 0o700 });
      log.info({ event: 'private-engine-started', engine: 'podman', runroot: this.runroot }, 'private podman storage active');
    });
  }

  stopIfIdle(log: Logger): Promise<void> {
    return serialised(this.runroot, async () => {
      if (!this.active()) return;
      const left = await leftContainers(this.target, log);
      if ('error' in left || left.length > 0) {
        log.info({ event: 'private-engine-kept', engine: 'podman', containers: 'error' in left ? left.error : left.length }, 'private podman storage still has containers');
        return;
      }
      fs.rmSync(this.runroot, { recursive: true, force: true });
      fs.rmSync(this.tmpdir, { recursive: true, force: true });
      log.info({ event: 'private-engine-stopped', engine: 'podman' }, 'private podman storage inactive');
    });
  }
}
