// container resources: one container run by the node's Docker or Podman engine (`type`), as the
// OpenSVC v1 docker driver did. Stop removes the container, so every start runs a fresh one
// from the current configuration; the container name ties a resource to its container.
import type { Resource, ResourceContext, StartResult, StatusReport } from './types.js';
import { shlexSplit } from '../util/shlex.js';
import { checkRunArgs, keywords } from './container-driver.js';
import { EVENT } from '../events.js';
import { ensureVolume, mountedVolumes, nodeVolumePlugin, undeclaredVolumeProblems } from './container-volumes.js';
import { inspectBatched } from './container-batch.js';
import { privateEngine, type PrivateEngine } from './container-private.js';
import {
  NAME_RE,
  networkOption,
  parseNetns,
  runOptionArgs,
  type NetnsSpec,
  type RunOptions,
} from './container-args.js';
import {
  engine,
  engineErrorLine,
  forceRemoveArgs,
  EngineUnreachableError,
  runArgs,
  stopArgs,
  lastLogLines,
  unreachableMessage,
  type EngineCli,
  type EngineTarget,
  type InspectResult,
  type ContainerState,
} from './container-engine.js';

// lines of the container's output quoted in a failed start
const FAILED_START_LOG_LINES = 3;
// status must stay cheap, but a busy engine can take a few seconds to answer inspect
const STATUS_TIMEOUT = 10_000;
const POLL_INTERVAL = 100;
// lines of `ps` a rid lookup reads (one is expected)
const MAX_PS_LINES = 16;


interface Settings {
  target: EngineTarget;
  name: string;
  image: string;
  args: string[];
  command: string[];
  /** keyword run options; `network` is filled at start when netns is a rid */
  run: RunOptions;
  netns: NetnsSpec | undefined;
  /** the service's own engine (docker_data_dir), run by this driver around its containers */
  private: PrivateEngine | undefined;
  /** declared volumes ([DEFAULT] volumes) the container mounts: made sure of before run */
  volumes: string[];
  startTimeout: number;
  startSettle: number;
  stopTimeout: number;
}

/** Read the keywords once; a bad value becomes an error string that start and status report,
 *  so one broken section never breaks the status of the whole service. */
function readSettings(ctx: ResourceContext): Settings | { error: string } {
  const cli: EngineCli = ctx.type === 'podman' ? 'podman' : 'docker';
  const image = ctx.kw.string('run_image') ?? '';
  if (image.length === 0) return { error: 'run_image is not set' };
  const index = ctx.rid.slice(ctx.rid.indexOf('#') + 1);
  const name = ctx.kw.string('name') || `${ctx.svcname}.container.${index}`;
  if (!NAME_RE.test(name)) return { error: `invalid container name "${name}": letters, digits, _ . - only` };
  let args: string[];
  let command: string[];
  try {
    args = shlexSplit(ctx.kw.string('run_args') ?? '');
    command = shlexSplit(ctx.kw.string('run_command') ?? '');
  } catch (e) {
    return { error: `bad run_args or run_command: ${e instanceof Error ? e.message : String(e)}` };
  }
  const bad = checkRunArgs(args);
  if (bad !== undefined) return { error: bad };
  const problem = firstProblem(ctx);
  if (problem !== undefined) return { error: problem };
  const mounts = shlexSplit(ctx.kw.string('volume_mounts') ?? '');
  const undeclared = undeclaredVolumeProblems(mounts, ctx.service?.list('volumes') ?? [], ctx.service?.string('volumes_dir') ?? '');
  if (undeclared[0] !== undefined) return { error: undeclared[0] };
  const word = (k: string): string | undefined => ctx.kw.string(k) || undefined;
  const entry = shlexSplit(ctx.kw.string('entrypoint') ?? '');
  const netnsRaw = word('netns');
  const netns = netnsRaw === undefined ? undefined : parseNetns(netnsRaw);
  if (netns !== undefined && 'error' in netns) return { error: `bad value for netns: ${netns.error}` };
  if (netns?.kind === 'rid' && netns.rid === ctx.rid) return { error: `netns ${netns.rid}: a container cannot share its own namespace` };
  let network: string | undefined;
  if (netns !== undefined && netns.kind !== 'rid') {
    const n = networkOption(cli, netns);
    if (typeof n !== 'string') return n;
    network = n;
  }
  const host = ctx.kw.string('docker_host') || undefined;
  const dataDir = ctx.service?.string('docker_data_dir') ?? '';
  let own: PrivateEngine | undefined;
  if (dataDir.length > 0 && host === undefined) {
    const pe = privateEngine(cli, ctx.svcname, ctx.paths, dataDir, ctx.service?.string('docker_daemon_args') ?? '');
    if ('error' in pe) return pe;
    own = pe;
  }
  return {
    target: own?.target ?? { cli, host },
    private: own,
    name,
    image,
    args,
    command: [...entry.slice(1), ...command],
    run: {
      ...(network !== undefined ? { network } : {}),
      volumeMounts: mounts,
      environment: shlexSplit(ctx.kw.string('environment') ?? ''),
      ...(entry[0] !== undefined ? { entrypoint: entry[0] } : {}),
      entrypointArgs: entry.slice(1),
      ...(word('hostname') !== undefined ? { hostname: word('hostname') } : {}),
      privileged: ctx.kw.boolean('privileged'),
      interactive: ctx.kw.boolean('interactive'),
      tty: ctx.kw.boolean('tty'),
      rm: ctx.kw.boolean('rm'),
      devices: shlexSplit(ctx.kw.string('devices') ?? ''),
      ...(word('user') !== undefined ? { user: word('user') } : {}),
    },
    netns,
    volumes: mountedVolumes(mounts),
    startTimeout: ctx.kw.mustDuration('start_timeout'),
    startSettle: ctx.kw.mustDuration('start_settle'),
    stopTimeout: ctx.kw.mustDuration('stop_timeout'),
  };
}

/** A resource of this driver (its schema, the keyword table: container-driver.ts). */
export function createResource(ctx: ResourceContext): Resource {
  const s = readSettings(ctx);
  if ('error' in s) return brokenResource(ctx, s.error);
  return new ContainerResource(ctx, s);
}

class ContainerResource implements Resource {
  readonly kind = 'container' as const;
  readonly rid: string;

  constructor(
    private readonly ctx: ResourceContext,
    private readonly s: Settings,
  ) {
    this.rid = ctx.rid;
  }

  /** started by another node on an engine this node shares with it */
  private foreign(c: ContainerState): boolean {
    return c.node !== undefined && c.node !== this.ctx.nodename;
  }

  private inspect(timeoutMs = STATUS_TIMEOUT): Promise<InspectResult> {
    return inspectBatched(this.s.target, this.s.name, timeoutMs, this.ctx.log);
  }

  /** inspect for an action: an unreachable engine is a failure of the action */
  private async inspectForAction(): Promise<Exclude<InspectResult, { kind: 'unreachable' }>> {
    const r = await this.inspect();
    if (r.kind === 'unreachable') throw new EngineUnreachableError(r.message);
    return r;
  }

  async start(): Promise<StartResult> {
    const own = this.s.private;
    if (!own) return this.startContainer();
    await own.ensure(this.ctx.log);
    try {
      return await this.startContainer();
    } catch (e) {
      // a failed first container must not leave the service's engine holding its fs
      await own.stopIfIdle(this.ctx.log).catch((err: unknown) => this.ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'private engine stop after a failed start'));
      throw e;
    }
  }

  private async startContainer(): Promise<StartResult> {
    const { target, name, image } = this.s;
    const deadline = Date.now() + this.s.startTimeout;
    const cur = await this.inspectForAction();
    if (cur.kind === 'found' && cur.container.running && this.foreign(cur.container)) {
      // an engine shared by several nodes (lab, remote docker_host): another node's container is not ours to adopt
      throw new Error(`container ${name} already runs for node ${cur.container.node}: refusing to start it twice`);
    }
    if (cur.kind === 'found' && cur.container.running) {
      this.ctx.log.info({ name, id: cur.container.id.slice(0, 12) }, 'container already running');
      return {};
    }
    // a stopped leftover holds the name and an old configuration: replace it
    if (cur.kind === 'found') await this.remove();
    if (this.s.volumes.length > 0) await this.ensureVolumes();
    const own = ['--name', name, '--label', `ferry.svc=${this.ctx.svcname}`, '--label', `ferry.rid=${this.rid}`, '--label', `ferry.node=${this.ctx.nodename}`, ...extraLabels()];
    const run = this.s.netns?.kind === 'rid' ? { ...this.s.run, network: `container:${await this.sharedNetns(this.s.netns.rid)}` } : this.s.run;
    const argv = runArgs([...own, ...runOptionArgs(run)], this.s.args, image, this.s.command);
    this.ctx.log.info({ name, argv }, 'container run');
    const r = await engine(target, argv, Math.max(1_000, deadline - Date.now()), this.ctx.log);
    if (!r.ok) {
      // `run` may have created the container before failing (bad mount, runtime error)
      await this.removeQuietly();
      throw new Error(unreachableMessage(target, r) ?? `${target.cli} run ${image} failed: ${engineErrorLine(r)}`);
    }
    return { servingAt: await this.waitRunning(deadline) };
  }

  /** the declared volumes it mounts exist in the engine, served by this node's volume plugin */
  private async ensureVolumes(): Promise<void> {
    const plugin = nodeVolumePlugin(this.ctx.paths, this.ctx.nodename);
    if (typeof plugin !== 'string') throw new Error(`volume_mounts: volume ${this.s.volumes.join(', ')}: ${plugin.error}`);
    for (const v of this.s.volumes) {
      if ((await ensureVolume(this.s.target, plugin, this.ctx.svcname, v, this.ctx.log)) === 'created') {
        this.ctx.log.info({ event: EVENT.containerVolumeCreated, rid: this.rid, volume: v, plugin }, `volume ${v} created through the volume plugin ${plugin}`);
      }
    }
  }

  /** netns = container#N: the id of that resource's running container on this node */
  private async sharedNetns(rid: string): Promise<string> {
    const { target } = this.s;
    const filters = [`label=ferry.svc=${this.ctx.svcname}`, `label=ferry.rid=${rid}`, `label=ferry.node=${this.ctx.nodename}`].flatMap((f) => ['--filter', f]);
    const r = await engine(target, ['ps', '-q', '--no-trunc', ...filters], STATUS_TIMEOUT, this.ctx.log);
    if (!r.ok) throw new Error(unreachableMessage(target, r) ?? `netns ${rid}: ${target.cli} ps failed: ${engineErrorLine(r)}`);
    const ids = r.stdout.split('\n').slice(0, MAX_PS_LINES).map((l) => l.trim()).filter((l) => /^[0-9a-f]{12,64}$/.test(l));
    if (ids.length !== 1) throw new Error(`netns ${rid}: ${ids.length === 0 ? 'no running container for it (it must start first)' : 'several running containers for it'}`);
    return ids[0]!;
  }

  /**
   * `run -d` returns once the process is started, which says nothing of a command that fails
   * at once: on a loaded machine its exit reaches the engine after our first inspect. The
   * container must be running, then still be running, the same run of it, start_settle later.
   */
  /** Resolves with the epoch ms it was first seen running (the settle check comes after). */
  private async waitRunning(deadline: number): Promise<number> {
    const { name, startSettle } = this.s;
    let first: { startedAt: string; at: number } | undefined;
    for (;;) {
      const r = await this.inspect();
      let why: string | undefined;
      if (r.kind === 'found' && r.container.running) {
        const c = r.container;
        if (!first) {
          first = { startedAt: c.startedAt, at: Date.now() };
          this.ctx.log.info({ name, id: c.id.slice(0, 12) }, 'container running');
        }
        if (c.startedAt !== first.startedAt) {
          why = `restarted by the engine within start_settle (${startSettle} ms) of its start (restart policy in run_args?)`;
        } else {
          const left = first.at + startSettle - Date.now();
          if (left <= 0) {
            if (startSettle > 0) this.ctx.log.info({ name, settleMs: startSettle }, 'container settled');
            return first.at;
          }
          await sleep(left);
          continue;
        }
      } else if (r.kind === 'absent') {
        why = 'disappeared right after start (run_args --rm?)';
      } else if (r.kind === 'found' && r.container.state !== 'created' && r.container.state !== 'configured') {
        const when = first ? `within start_settle (${startSettle} ms) of its start` : 'right after start';
        why = `exited ${when} (${r.container.state}, exit code ${r.container.exitCode})`;
      } else if (Date.now() >= deadline) {
        why = `not running after ${Math.round(this.s.startTimeout / 1000)}s (start_timeout)`;
      }
      if (why !== undefined) {
        const lines = r.kind === 'found' ? await lastLogLines(this.s.target, name, FAILED_START_LOG_LINES, this.ctx.log) : [];
        await this.removeQuietly();
        throw new Error(`container ${name} ${why}${lines.length ? `: ${lines.join(' | ')}` : ''}`);
      }
      await sleep(POLL_INTERVAL);
    }
  }

  async stop(): Promise<void> {
    const own = this.s.private;
    // a private engine that does not run here has no container running here
    if (own && !own.active()) return;
    await this.stopContainer();
    // after the last container of the service, its engine
    await own?.stopIfIdle(this.ctx.log);
  }

  private async stopContainer(): Promise<void> {
    const { target, name } = this.s;
    const cur = await this.inspectForAction();
    if (cur.kind === 'absent') return;
    if (this.foreign(cur.container)) {
      this.ctx.log.info({ name, node: cur.container.node }, 'container belongs to another node: left alone');
      return;
    }
    if (cur.container.running) {
      const secs = Math.ceil(this.s.stopTimeout / 1000);
      // the engine kills after `secs`; give the CLI that long plus room to answer
      const r = await engine(target, stopArgs(name, secs), this.s.stopTimeout + 30_000, this.ctx.log);
      if (!r.ok) this.ctx.log.warn({ name, err: engineErrorLine(r) }, 'container stop failed, removing by force');
    }
    await this.remove();
    this.ctx.log.info({ name }, 'container stopped and removed');
  }

  private async remove(): Promise<void> {
    const { target, name } = this.s;
    const r = await engine(target, forceRemoveArgs(target, name), 60_000, this.ctx.log);
    if (r.ok || /no such container/i.test(r.stderr)) return;
    // `rm` keyword: the engine is already removing the container that stop ended
    if (/already in progress/i.test(r.stderr) && (await this.goneWithin(30_000))) return;
    throw new Error(unreachableMessage(target, r) ?? `${target.cli} rm -f ${name} failed: ${engineErrorLine(r)}`);
  }

  private async goneWithin(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if ((await this.inspect()).kind === 'absent') return true;
      await sleep(POLL_INTERVAL);
    }
    return false;
  }

  private async removeQuietly(): Promise<void> {
    try {
      await this.remove();
    } catch (e) {
      this.ctx.log.warn({ name: this.s.name, err: e instanceof Error ? e.message : String(e) }, 'cleanup of failed container');
    }
  }

  async status(): Promise<StatusReport> {
    const down = (messages: string[] = []): StatusReport => ({ status: 'down', label: this.s.image, messages });
    // where the service does not run: no engine to ask (and podman would write to the data dir)
    if (this.s.private && !this.s.private.active()) return down([this.s.private.inactiveMessage]);
    let r: InspectResult;
    try {
      r = await this.inspect();
    } catch (e) {
      return down([e instanceof Error ? e.message : String(e)]);
    }
    if (r.kind === 'unreachable') return down([r.message]);
    if (r.kind === 'absent') return down();
    const c = r.container;
    if (this.foreign(c)) return down([`container ${c.name} is ${c.running ? 'running' : c.state} for node ${c.node}`]);
    if (!c.running) return down([`container ${c.name} is ${c.state} (exit code ${c.exitCode})`]);
    return { status: 'up', label: `${c.id.slice(0, 12)}@${c.image || this.s.image}`, messages: [] };
  }
}


/** The table's value checks, for values that did not come through validation (tests, API). */
function firstProblem(ctx: ResourceContext): string | undefined {
  for (const k of keywords) {
    if (!k.check || k.name === 'run_args') continue;
    const v = ctx.kw.get(k.name);
    if (v === undefined) continue;
    const p = k.check(v);
    if (p !== undefined) return `bad value for ${k.name}: ${p}`;
  }
  return undefined;
}

/** A section whose keywords cannot be used: start fails with the reason, status shows it. */
function brokenResource(ctx: ResourceContext, error: string): Resource {
  const label = ctx.kw.string('run_image') ?? '';
  return {
    rid: ctx.rid,
    kind: 'container',
    async start() {
      throw new Error(error);
    },
    async stop() {
      // nothing of ours can be running under a name we could not compute
    },
    async status() {
      return { status: 'down', label, messages: [error] };
    },
  };
}

/**
 * Labels the host asks every container to carry, from FERRY_CONTAINER_LABELS ("k=v k2=v2"):
 * a lab cluster tags its nodes' containers so that killing a lab node can end them too.
 */
function extraLabels(): string[] {
  const raw = process.env.FERRY_CONTAINER_LABELS?.trim();
  return raw ? raw.split(/\s+/).flatMap((l) => ['--label', l]) : [];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
