// The node agent, the wiring of its parts along the failover path: heartbeats → membership
// (src/daemon/membership.ts: who is alive, quorum) → the orchestrator's pure decide()
// (src/cluster/orchestrator.ts, with the fencing verdict and the data gate as inputs) → one
// instance monitor per service (src/daemon/instance-monitor.ts: its actions, retries,
// resource monitoring) → the service layer → the drivers. Split handling is
// src/daemon/split.ts, the control socket's answers src/daemon/control-handlers.ts. It talks
// to services only through the service layer.
import fs from 'node:fs';
import path from 'node:path';
import { loadClusterConfig, type ClusterConfig } from '../cluster/config.js';
import { mergeIntents } from '../cluster/intents.js';
import { isNodeState, runsHere, type HandoverProgress, type Intent, type NodeState, type ServiceState } from '../cluster/node-state.js';
import { clusterFormed, decide, type Decision, type DecisionInput, type PeerInfo } from '../cluster/orchestrator.js';
import type { JsonValue } from '../heartbeat/index.js';
import { jsonCopy } from '../util/json-copy.js';
import { type ViewTextOptions, viewAnswerText } from './view-text.js';
import { startClusterState, type ClusterState } from '../statechan/index.js';
import type { FactsSource } from '../statechan/facts.js';
import { PublishedState } from './published.js';
import { LoopLag } from './loop-lag.js';
import { ConfigReplication } from './config-replication.js';
import { tapEvents, type Logger } from '../log.js';
import { EVENT } from '../events.js';
import { EventRing } from './event-ring.js';
import { MultipleActiveWatch } from './multiple-active-watch.js';
import { MULTIPLE_ACTIVE_POLICIES, type MultipleActivePolicy } from '../cluster/multiple-active.js';
import type { FerryPaths } from '../paths.js';
import { Service, listServices } from '../service/service.js';
import type { ServiceStatus } from '../service/status.js';
import type { ActionReport } from '../service/actions.js';
import { controlSocketPath, type ClusterView, type Response } from './control-protocol.js';
import { listenControl, type ControlServer } from './control-server.js';
import { ControlHandlers } from './control-handlers.js';
import { InstanceMonitor } from './instance-monitor.js';
import { Membership } from './membership.js';
import { SplitGuard } from './split.js';
import { takeoverCandidates } from '../cluster/takeover.js';
import { priorOwnerOf } from '../cluster/prior-owner.js';
import type { PriorOwner } from '../resources/types.js';
import { Fencing } from './fencing.js';
import { ArbitratorVotes } from './arbitrator-votes.js';
import { nextIncarnation } from './incarnation.js';
import { dependencyFields, isDependencyWait, WAIT_CHILDREN } from '../cluster/dependencies.js';
import { DataMobility } from './data-mobility.js';
import { Drainer } from './drain.js';
import { TaskScheduler } from './task-scheduler.js';
import { runsHereForTasks } from '../service/tasks.js';
import { ServiceReads } from './service-reads.js';
import type { RefreshKind } from './refresh-schedule.js';
import { StartPreparer } from './start-prepare.js';
import { HandoverGates } from './handover-gate.js';
import { activeIntent } from '../cluster/intents.js';
import { handoversNow } from '../cluster/handover.js';
import { disableCommandRunner, enableCommandRunner } from '../util/command-runner.js';

export interface DaemonOptions {
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  /** status refresh and orchestration period, ms */
  tickMs?: number;
}

function emptyState(error: string): ServiceState {
  const na = 'n/a' as const;
  return {
    avail: 'undef', overall: 'undef', frozen: false, orchestrate: 'no', service_type: '', nodes: [], monitor: 'idle', error,
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: Date.now(),
  };
}

/** orchestrated actions launched per evaluation pass (the rest in the next pass, one loop turn later) */
const ORCHESTRATE_BATCH = 64;

export class Daemon {
  private cluster!: ClusterConfig;
  private hb!: ClusterState;
  /** what the state channel holds of ours: publishes hand it the changes only */
  private readonly published = new PublishedState();
  /** service files kept identical on the nodes of each service (docs/config-replication.md) */
  private configs: ConfigReplication | undefined;
  private fencing!: Fencing;
  private votes!: ArbitratorVotes;
  /** data sync resources: scheduled pushes, two-phase relocation, takeover gate, incoming pushes */
  private data!: DataMobility;
  private tasks!: TaskScheduler;
  /** peer liveness, who is known, quorum (src/daemon/membership.ts) */
  private membership: Membership | undefined;
  /** split_action while quorum is lost (src/daemon/split.ts) */
  private split!: SplitGuard;
  /** the control socket's answers (src/daemon/control-handlers.ts) */
  private control!: ControlHandlers;
  /** the services' `stonith` keyword: may a takeover of them wait for fencing */
  private readonly stonithOf = new Map<string, boolean>();
  /** the services' `multiple_active` keyword */
  private readonly multipleActiveOf = new Map<string, MultipleActivePolicy>();
  private multiActive!: MultipleActiveWatch;
  /** `nodemgr drain` (src/daemon/drain.ts) */
  private drainer!: Drainer;
  /** starts prepared while a peer is suspect (src/daemon/start-prepare.ts) */
  private preparer: StartPreparer | undefined;
  /** a relocation target's starts waiting for the owner's per-group announces (src/daemon/handover-gate.ts) */
  private gates: HandoverGates | undefined;
  private server: ControlServer | undefined;
  /** the recent events (records with an `event` field) for `nodemgr events` */
  private readonly events = new EventRing();
  private untap: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loopLag: LoopLag | undefined;
  /** a publish asked for and not done yet (true: urgent); see publish() */
  private publishPending: boolean | undefined;
  private readonly local = new Map<string, ServiceState>();
  private readonly intents: Record<string, Intent> = {};
  /** one per service: its actions, retries, monitoring (src/daemon/instance-monitor.ts) */
  private readonly instances = new Map<string, InstanceMonitor>();
  private refreshing: Promise<void> | undefined;
  /** services parsed once, read when due (src/daemon/service-reads.ts) */
  private reads!: ServiceReads;
  private kicked = false;
  private stopped = false;
  /** this daemon holds one use of the command runner (src/util/command-runner.ts) */
  private runnerEnabled = false;
  private done!: Promise<void>;
  private resolveDone!: () => void;

  constructor(private readonly opts: DaemonOptions) {}

  private get log(): Logger {
    return this.opts.log;
  }

  private get nodeFrozenFile(): string {
    return path.join(this.opts.paths.var, 'node.frozen');
  }

  get nodeFrozen(): boolean {
    return fs.existsSync(this.nodeFrozenFile);
  }

  async start(): Promise<void> {
    const { paths, nodename } = this.opts;
    this.done = new Promise((r) => (this.resolveDone = r));
    // the daemon's checks are forked by a small co-process, not by the daemon (src/util/command-runner.ts)
    enableCommandRunner(this.log.child({ part: 'runner' }));
    this.runnerEnabled = true;
    this.untap = tapEvents((line) => this.events.pushLine(line));
    this.multiActive = new MultipleActiveWatch(this.log);
    this.cluster = loadClusterConfig(paths, nodename);
    if (!this.cluster.nodes.includes(nodename)) throw new Error(`${nodename} is not a node of cluster ${this.cluster.name}`);
    this.configs = new ConfigReplication({ paths, nodename, log: this.log.child({ part: 'config' }), onChange: () => (this.publish(true), this.kick()) });
    await this.configs.init();
    this.data = new DataMobility({ paths, nodename, log: this.log, runsHere: (s) => runsHere(this.local.get(s)), changed: (s) => void this.refreshOne(s).then(() => this.kick()) });
    this.tasks = new TaskScheduler({ log: this.log });
    this.reads = new ServiceReads(paths, nodename, this.opts.tickMs ?? 1_000);
    await this.refresh();
    // beats carry liveness and small facts; services travel on the state channel (docs/state-channel.md)
    const initial = this.payload();
    this.published.prime(initial as unknown as NodeState);
    const cs = await startClusterState({ cluster: this.cluster, nodename, log: this.log.child({ part: 'hb' }), payload: initial, incarnation: nextIncarnation(paths), streams: this.data.receiver });
    this.hb = cs;
    this.configs.attach(cs);
    this.fencing = new Fencing(this.cluster, nodename, this.log.child({ part: 'fence' }), () => this.kick(), (n) => this.membership?.isDown(n) ?? false, path.join(paths.var, 'fence-metadata.json'));
    this.votes = new ArbitratorVotes(this.cluster, nodename, this.log.child({ part: 'quorum' }), () => this.kick());
    this.membership = new Membership({ cluster: this.cluster, self: nodename, log: this.log, hb: this.hb, fencing: this.fencing, votes: this.votes, quorumChanged: () => this.publish(true) });
    this.split = new SplitGuard({ cluster: this.cluster, paths, nodename, log: this.log, local: this.local, instance: (n) => this.instance(n) });
    // a preparation lives until the start that follows the peer's timeout has had its chance
    const prepareTtl = Math.max(...this.cluster.heartbeats.map((h) => h.timeout), 0) + 5_000;
    this.preparer = new StartPreparer({ log: this.log, wouldTakeOver: (p) => this.wouldTakeOver(p), prepare: (svc, ttl, o) => (this.reads.service(svc) ?? Service.open(paths, svc, nodename)).prepareStart(ttl, o), ttlMs: prepareTtl, handoverTtlMs: Math.max(prepareTtl, 30_000) });
    this.gates = new HandoverGates(() => this.peerInfo(), (svc, group, from, via) => this.log.info({ event: EVENT.handoverRelease, svc, side: 'target', group, from, via }, `${svc}: ${group} released by ${from.join(', ')} (read from its ${via === 'beat' ? 'beat' : 'state'})`));
    this.hb.on('suspect', (peer, on) => this.preparer?.suspect(peer, on));
    this.hb.on('peer', (peer, state, prev) => {
      if (state === 'up' || state === 'left') this.preparer?.cancelPeer(peer, `the peer is ${state}`);
      this.membership?.peerChanged(peer, state, prev);
      this.gates?.peerChanged(peer);
      this.kick();
    });
    this.hb.on('payload', (peer, payload) => {
      if (isNodeState(payload) && mergeIntents(this.intents, payload.intents)) this.publish();
      this.configs?.peerChanged();
      // a handover's announce opens the target's waiting resources here, not at the next pass
      this.gates?.peerChanged(peer);
      this.kick();
    });
    // the owner's beat carried a release: the gate reads it now, its pull comes later
    this.hb.on('handover', (peer) => this.gates?.peerChanged(peer));
    this.hb.on('error', (e) => void this.heartbeatsLost(e));
    this.drainer = new Drainer({
      self: nodename, log: this.log, services: () => Object.fromEntries(this.local), peers: () => this.peerInfo(), fence: () => this.fencing.snapshot(),
      intents: () => this.intents, freeze: () => this.control.freezeNode(true), relocate: (svc, to) => this.control.relocate(svc, to),
    });
    this.control = new ControlHandlers({
      nodename, log: this.log, cluster: () => this.cluster, local: this.local, intents: () => this.intents, instance: (n) => this.instance(n),
      peerInfo: () => this.peerInfo(), nodeFrozen: () => this.nodeFrozen, nodeFrozenFile: this.nodeFrozenFile, viewAnswer: (o) => this.viewAnswer(o),
      drainer: () => this.drainer, events: this.events, shutdown: () => void this.stop(true), publish: (u) => this.publish(u), kick: () => this.kick(), status: (svc) => this.statusAnswer(svc),
    });
    this.server = await listenControl(controlSocketPath(paths), (req) => this.control.handle(req), this.log);
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1_000);
    this.loopLag = new LoopLag(this.log);
    this.log.info({ event: EVENT.daemonStarted, cluster: this.cluster.name, nodes: this.cluster.nodes }, 'daemon started');
    this.kick();
  }

  /** [cluster] metrics_listen, when set (the HTTP listener is run beside the daemon: src/daemon/http) */
  get metricsListen(): ClusterConfig['metricsListen'] {
    return this.cluster?.metricsListen;
  }

  /** [cluster] volume_plugin, when set (the volume plugin is run beside the daemon: src/daemon/volume-plugin) */
  get volumePlugin(): string | undefined {
    return this.cluster?.volumePlugin;
  }

  /** The recent events, read-only use (the HTTP listener's metrics and page). */
  get eventRing(): EventRing {
    return this.events;
  }

  /** Resolves when the daemon has stopped. */
  wait(): Promise<void> {
    return this.done;
  }

  private releaseRunner(): void {
    if (this.runnerEnabled) disableCommandRunner();
    this.runnerEnabled = false;
  }

  /** Graceful: peers are told we leave, so they do not fail our services over. */
  async stop(graceful = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.loopLag?.stop();
    this.preparer?.stop();
    this.flushPublish();
    this.configs?.stop();
    this.reads.close();
    await this.hb?.stop(graceful);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    fs.rmSync(controlSocketPath(this.opts.paths), { force: true });
    this.releaseRunner();
    this.log.info({ event: EVENT.daemonStopped, graceful }, 'daemon stopped');
    this.untap?.();
    this.resolveDone();
  }

  /**
   * Our heartbeats stopped: peers will soon declare this node dead and take its services
   * over. Stop them here first, so two nodes never run them, then leave.
   */
  private async heartbeatsLost(e: Error): Promise<void> {
    this.log.fatal({ event: EVENT.heartbeatLost, err: e.message }, 'heartbeat worker died: stopping local services before peers take them over');
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
    await Promise.all(
      [...this.local.entries()]
        .filter(([, s]) => runsHere(s))
        .map(([name]) => Service.open(this.opts.paths, name, this.opts.nodename).stop().catch(() => undefined)),
    );
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    fs.rmSync(controlSocketPath(this.opts.paths), { force: true });
    this.releaseRunner();
    process.exitCode = 1;
    this.resolveDone();
  }

  // ---------------------------------------------------------------- state

  /** the facts of this node's state: what rides in every beat */
  private facts(): Pick<NodeState, 'frozen' | 'quorum' | 'fence' | 'cluster_sum'> {
    const quorum = this.membership?.quorum;
    return {
      frozen: this.nodeFrozen,
      ...(this.configs ? { cluster_sum: this.configs.clusterSum } : {}),
      ...(quorum ? { quorum: { state: quorum.state, votes: quorum.votes, total: quorum.total, needed: quorum.needed, why: quorum.why, ...(this.cluster.arbitrators.length ? { arbitrators: this.votes.snapshot() } : {}) } } : {}),
      ...(this.fencing ? { fence: this.fencing.snapshot() } : {}),
    };
  }

  /**
   * what its beats carry: the facts, and the releases of the relocations handed over now
   * (src/statechan/facts.ts `ho`), read from the services when the beat is built
   */
  private beatFactsSource(): FactsSource {
    const handovers = handoversNow(this.local);
    return { ...this.facts(), ...(handovers ? { handovers } : {}) };
  }

  /** this node's whole state, live objects (serialize it before anything edits them) */
  private nodeState(): NodeState {
    const { cluster_sum, ...facts } = this.facts();
    return {
      v: 1, ...facts, services: Object.fromEntries(this.local), intents: this.intents,
      ...(this.configs ? { configs: this.configs.digests(), cluster_sum } : {}),
    };
  }

  /** this node's whole state, a copy (the JSON round trip's result, without the text: src/util/json-copy.ts) */
  private payload(): JsonValue {
    return jsonCopy(this.nodeState()) as JsonValue;
  }

  /**
   * urgent: a change peers act on (action begun/ended, intent): sent now, not at the next beat.
   * The state channel gets what changed since the last publish (src/daemon/published.ts).
   */
  private publish(urgent = false): void {
    // coalesced to one per turn of the event loop: each publish compares every service with
    // what was published (tens of ms at 5000), and one evaluate() starting 1667 services asked
    // for 1667 of them in a row, starving the state channel (peers' handshakes timed out)
    if (this.stopped || !this.hb) return;
    const was = this.publishPending;
    this.publishPending = was === true || urgent;
    if (was === undefined) setImmediate(() => this.flushPublish());
  }

  /**
   * A handover's release: in a beat at once, the facts only (src/statechan/facts.ts `ho`),
   * and the state as any urgent publish. Not left to the coalesced publish alone: that runs
   * after what the stop does next on this thread (the status read closing the action spawns
   * its checks: ~20 ms under load, measured); nor a whole publish here: its comparison of
   * every service, once per group of every service handed over (a drain), would be the cost
   * the coalescing exists to avoid.
   */
  private publishRelease(): void {
    this.publish(true);
    if (this.stopped || !this.hb) return;
    const facts = this.beatFactsSource();
    if (facts.handovers) this.hb.publishFacts(facts, true);
  }

  private flushPublish(): void {
    const urgent = this.publishPending;
    this.publishPending = undefined;
    if (urgent === undefined) return;
    // (the releases read at the flush: an urgent release goes out in the beat it triggers)
    this.hb?.publish(this.published.changes({ facts: this.beatFactsSource(), services: this.local, intents: this.intents, ...(this.configs ? { configs: this.configs.digests() } : {}) }), urgent);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.refresh();
    this.publish();
    this.checkMultipleActive();
    this.evaluate();
  }

  /** Once per refresh: a failover service up on more than one live node (src/cluster/multiple-active.ts). */
  private checkMultipleActive(): void {
    if (this.stopped || !this.hb) return;
    const peers = this.peerInfo();
    const nodeFrozen = this.nodeFrozen;
    // monotonic: the back-off of a repeated stop must not stretch or vanish with a wall-clock step
    const now = performance.now();
    for (const [name, local] of this.local) {
      if (local.nodes.length < 2) continue;
      const policy = this.multipleActiveOf.get(name) ?? 'stop_start';
      const v = this.multiActive.refresh({ self: this.opts.nodename, svc: name, local, nodeFrozen, peers, policy, now });
      // stop_only leaves it stopped, as an operator's stop would (the orchestrator starts it nowhere)
      const inst = this.instance(name);
      if (v.action === 'stop' && !inst.busy) void inst.run('stop', (s) => s.stop(policy === 'stop_only' ? { operator: true, multipleActive: v.active } : {}), v.why);
    }
  }

  /** Re-read every service's status here (services under action keep their state). */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const names = listServices(this.opts.paths);
      for (const gone of [...this.local.keys()].filter((n) => !names.includes(n))) {
        this.local.delete(gone);
        this.multiActive?.forget(gone);
        this.reads.forget(gone);
      }
      const now = Date.now();
      // one stat of the flag per pass, not one per service
      const nodeFrozen = this.nodeFrozen;
      await Promise.all(
        names.filter((n) => !this.instances.get(n)?.busy).map(async (n) => {
          const local = this.local.get(n);
          // a failed start's (or a switch's) hold that has run out is read now: that read ends
          // the hold, so the orchestrator may try again without waiting for status_interval
          const holdEnded = (local?.monitor === 'start failed' || local?.monitor === 'switched') && !this.instance(n).retryPending(now);
          const kind = this.reads.due(n, runsHere(local), now) ?? (holdEnded ? 'full' : undefined);
          if (kind) await this.refreshOne(n, false, kind);
          else this.observeUnread(n, nodeFrozen);
        }),
      );
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * afterAction: the refresh that closes an action of ours (the service is still marked busy).
   * It never triggers monitoring: the previous state is the one from before the action, so a
   * resource our own stop took down would look failed.
   */
  private async refreshOne(name: string, afterAction = false, kind: RefreshKind = 'full'): Promise<ServiceStatus | undefined> {
    let svc: Service;
    let st: ServiceStatus;
    const inst = this.instance(name);
    const gen = inst.actionGen;
    // an action started while we read: it owns the state, and what we read may be half-way
    const superseded = () => !afterAction && (inst.busy || inst.actionGen !== gen);
    try {
      ({ svc, st } = await this.reads.read(name, kind));
      if (superseded()) return undefined;
    } catch (e) {
      if (superseded()) return undefined;
      this.local.set(name, emptyState(`config: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`));
      return undefined;
    }
    const prev = this.local.get(name);
    this.stonithOf.set(name, svc.config.defaults.boolean('stonith'));
    const ma = svc.config.defaults.string('multiple_active');
    this.multipleActiveOf.set(name, MULTIPLE_ACTIVE_POLICIES.find((p) => p === ma) ?? 'stop_start');
    const now = Date.now();
    const monitor = inst.monitorAfterRead(prev?.monitor ?? 'idle', st.avail, now);
    let error = prev?.error;
    if (st.avail === 'up') error = undefined;
    if (prev && prev.avail !== st.avail) this.log.info({ event: EVENT.serviceStatus, svc: name, avail: st.avail, prev: prev.avail, overall: st.overall }, `${name} ${prev.avail} -> ${st.avail}`);
    const { groups } = st;
    const up = this.membership?.up() ?? [];
    this.data.observe(svc, !afterAction && (st.avail === 'up' || st.avail === 'warn'), up);
    this.local.set(name, {
      avail: st.avail, overall: st.overall, frozen: st.frozen, orchestrate: st.orchestrate, service_type: st.service_type,
      nodes: svc.config.defaults.list('nodes'), ...dependencyFields(svc.config.defaults.list('parents'), svc.config.defaults.list('children')), monitor, ...(error ? { error } : {}), ...(svc.expect ? { expect: svc.expect } : {}),
      groups: { container: groups.container, ip: groups.ip, disk: groups.disk, fs: groups.fs, share: groups.share, app: groups.app, sync: groups.sync },
      updated: now,
      ...this.data.stateFields(name),
    });
    // scheduled tasks: only where the service runs, idle, neither it nor the node frozen
    this.tasks.observe(svc, !afterAction && monitor === 'idle' && !st.frozen && !this.nodeFrozen && runsHereForTasks(st.avail, svc.expect?.state === 'up'));
    // monitoring applies to what this node runs and the operator has not stopped
    if (!afterAction && prev && runsHere(prev) && monitor === 'idle' && !st.frozen && svc.expect?.state !== 'down') inst.checkMonitored(svc, st);
    else if (!runsHere(this.local.get(name))) inst.endMonitorHold('the service no longer runs here');
    return st;
  }

  /** A tick without a status read: scheduled tasks and data pushes still come due. */
  private observeUnread(name: string, nodeFrozen: boolean): void {
    const local = this.local.get(name);
    // due() has just looked at the file: no second stat
    const svc = this.reads.parsed(name);
    if (!local || !svc) return;
    const up = this.membership?.up() ?? [];
    this.data.observe(svc, local.avail === 'up' || local.avail === 'warn', up);
    Object.assign(local, this.data.stateFields(name));
    this.tasks.observe(svc, local.monitor === 'idle' && !local.frozen && !nodeFrozen && runsHereForTasks(local.avail, local.expect?.state === 'up'));
  }

  // ---------------------------------------------------------------- instances

  /** The instance monitor of a service (made at its first sight; kept while the daemon runs). */
  private instance(name: string): InstanceMonitor {
    let inst = this.instances.get(name);
    if (!inst) {
      inst = new InstanceMonitor(name, {
        paths: this.opts.paths, nodename: this.opts.nodename, log: this.log, state: () => this.local.get(name),
        refreshAfterAction: () => this.refreshOne(name, true), publish: (u) => this.publish(u), kick: () => this.kick(),
        starting: () => this.data.receiver.abort(name),
        takeover: (local) => takeoverCandidates({ self: this.opts.nodename, svc: name, local, peers: this.membership ? this.peerInfo() : {}, fence: this.fencing?.snapshot() ?? {} }),
      });
      this.instances.set(name, inst);
    }
    return inst;
  }

  // ---------------------------------------------------------------- orchestration

  private kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.evaluate();
    });
  }

  private peerInfo(): Record<string, PeerInfo> {
    return this.membership!.peerInfo();
  }

  private evaluate(): void {
    if (this.stopped || !this.membership) return;
    const peers = this.membership.peerInfo();
    const allKnown = clusterFormed(peers);
    const now = Date.now();
    const q = this.membership.computeQuorum(peers);
    this.split.enforceSplit(q, this.membership.majorityLostAt);
    const services = Object.fromEntries(this.local);
    let fence = this.fencing.facts();
    let launched = 0;
    const nodeFrozen = this.nodeFrozen;
    for (const [name, local] of this.local) {
      const inst = this.instance(name);
      if (inst.busy) continue;
      const input = (): DecisionInput => ({
        self: this.opts.nodename, svc: name, local, nodeFrozen, peers, intents: this.intents, now,
        bootPhase: !inst.bootDone, quorum: { ok: q.canTakeOver, why: q.why }, configSum: this.configs?.sumOf(name),
        services, fence, stonith: this.stonithOf.get(name), data: this.data.gateVerdicts(name),
      });
      let d = decide(input());
      // never start in place of a dead node that is not fenced yet: start its fence, and say
      // what the takeover waits for now that it runs
      if (d.action === 'none' && 'blocked' in d && d.blocked === 'fence' && d.fence.length) {
        for (const node of d.fence) this.fencing.ensureFence(node);
        fence = this.fencing.facts();
        d = decide(input());
      }
      if (allKnown) inst.endBoot();
      if (inst.noteWhy(d.why)) {
        this.log.info({ event: EVENT.decision, svc: name, action: d.action, why: d.why }, `${name}: ${d.action === 'none' ? 'no action' : d.action} (${d.why})`);
      }
      this.noteDependencyWait(name, local, d);
      if (d.action === 'none' && 'blocked' in d) {
        if (local.error !== d.why) {
          local.error = d.why;
          if (d.blocked === 'fence') this.log.warn({ event: EVENT.startBlocked, svc: name, why: d.why }, `${name}: not starting: ${d.why}`);
          // the copies of its data here must be current enough (docs/data-mobility.md)
          else this.log.warn({ event: 'data_gate_wait', svc: name, why: d.why }, `${name}: not starting: ${d.why}`);
          this.publish();
        }
        continue;
      }
      if (d.action === 'none') continue;
      // the synchronous part of an action's start (open the service, lock, log) times 1667 at
      // once held the main thread for seconds: a batch per pass, the next pass on the next turn
      if (launched >= ORCHESTRATE_BATCH) continue;
      launched++;
      void this.orchestrated(inst, d, d.action === 'start' ? this.priorOwner(name, local.nodes, peers, d.intent) : undefined);
    }
    if (launched >= ORCHESTRATE_BATCH) this.kick();
    this.prepareRelocations(now);
    this.drainer.step();
  }

  /** A relocation to this node decided: prepare its start now (src/daemon/start-prepare.ts), once per intent. */
  private prepareRelocations(now: number): void {
    for (const name of Object.keys(this.intents)) {
      const intent = activeIntent(this.intents, name, now);
      const local = this.local.get(name);
      if (!intent || intent.target !== this.opts.nodename || !local || runsHere(local) || this.instances.get(name)?.busy || this.data.has(name)) continue;
      this.preparer?.relocation(name, intent.id);
    }
  }

  /**
   * The services this node would start (or fence then start) if `peer` were down: decide() on
   * a copy of the peers with that one down, quorum assumed (preparing is read-only; the real
   * start still needs the real decision). For StartPreparer only.
   */
  private wouldTakeOver(peer: string): string[] {
    if (this.stopped || !this.membership) return [];
    const real = this.membership.peerInfo();
    const was = real[peer];
    if (!was || was.state !== 'up') return [];
    const peers = { ...real, [peer]: { ...was, state: 'down' as const } };
    const services = Object.fromEntries(this.local);
    const fence = this.fencing.facts();
    const now = Date.now();
    const nodeFrozen = this.nodeFrozen;
    return [...this.local].filter(([name, local]) => {
      const inst = this.instance(name);
      if (inst.busy || !local.nodes.includes(peer) || runsHere(local)) return false;
      const d = decide({
        self: this.opts.nodename, svc: name, local, nodeFrozen, peers, intents: this.intents, now, bootPhase: !inst.bootDone, quorum: { ok: true, why: 'assumed' },
        configSum: this.configs?.sumOf(name), services, fence, stonith: this.stonithOf.get(name), data: this.data.gateVerdicts(name),
      });
      return d.action === 'start' || ('blocked' in d && d.blocked === 'fence');
    }).map(([name]) => name);
  }

  /** A wait for parents (or children) is published as the service's error, so the views show it. */
  private noteDependencyWait(name: string, local: ServiceState, d: Decision): void {
    if (d.action === 'none' && isDependencyWait(d.why)) {
      if (local.error === d.why) return;
      local.error = d.why;
      const event = d.why.startsWith(WAIT_CHILDREN) ? EVENT.serviceWaitChildren : EVENT.serviceWaitParents;
      this.log.info({ event, svc: name, why: d.why }, `${name}: ${d.why}`);
      this.publish();
    } else if (local.error !== undefined && isDependencyWait(local.error)) {
      delete local.error;
      this.publish();
    }
  }

  /** how the service's previous owner is out of the way for this start, if it is known to be (ip probe window) */
  private priorOwner(name: string, nodes: readonly string[], peers: ReturnType<Daemon['peerInfo']>, intent: string | undefined): PriorOwner | undefined {
    const dead = nodes.filter((n) => n !== this.opts.nodename && peers[n]?.state === 'down');
    return priorOwnerOf(dead, (n) => this.fencing.isFenced(n), intent !== undefined && this.intents[name]?.id === intent);
  }

  private async orchestrated(inst: InstanceMonitor, d: Exclude<Decision, { action: 'none' }>, prior?: PriorOwner): Promise<void> {
    const { name } = inst;
    const cur = this.intents[name];
    const intent = d.action === 'stop' && d.intent !== undefined && cur?.id === d.intent ? cur : undefined;
    // a relocation of a service with data sync resources: two-phase (src/service/data.ts)
    const stop = (s: Service) => (intent && this.data.has(name) ? this.data.relocateStop(s, intent.id, intent.target, () => s.stop()) : intent ? this.handOver(s, intent) : s.stop());
    // a relocation target whose owner still stops it: each resource waits for its group's release
    const released = d.action === 'start' && d.handover?.length && d.intent !== undefined ? this.gates?.begin(name, d.handover, d.intent) : undefined;
    const report = await inst.run(d.action, (s) => (d.action === 'start' ? s.start({ force: true, ...(prior ? { prior } : {}), ...(released ? { released } : {}) }) : stop(s)), d.why);
    if (released) this.gates?.end(name);
    this.preparer?.actionEnded(name);
    if (report?.ok && d.action === 'start') {
      inst.started();
      const intent = this.intents[name];
      if (intent && intent.id === d.intent) intent.done = true;
      this.publish(true);
    }
  }

  /**
   * A relocation's stop as a handover: each group announced (published at once) as soon as
   * every resource of it is stopped, and the whole stop once done, before the status read that
   * closes the action (src/cluster/handover.ts).
   */
  private async handOver(s: Service, intent: { id: string; target: string }): Promise<ActionReport> {
    const state = this.local.get(s.svcname);
    const progress: HandoverProgress = { intent: intent.id, to: intent.target, released: [], done: false };
    if (state) state.handover = progress;
    const report = await s.stop({
      releaseNotice: (group) => {
        progress.released.push(group);
        this.publishRelease();
        this.log.info({ event: EVENT.handoverRelease, svc: s.svcname, side: 'owner', group, to: intent.target }, `${s.svcname}: ${group} released to ${intent.target}`);
      },
    });
    if (report.ok) {
      // an optional resource whose stop failed (the stop went on): its group stays the owner's
      const held = [...new Set(report.outcomes.filter((o) => !o.ok).map((o) => s.resources.find((r) => r.rid === o.rid)?.kind ?? 'all'))];
      if (held.length) progress.held = held;
      progress.done = true;
      this.publishRelease();
      this.log.info({ event: EVENT.handoverRelease, svc: s.svcname, side: 'owner', group: 'all', to: intent.target }, `${s.svcname}: all released to ${intent.target}`);
    }
    return report;
  }

  // ---------------------------------------------------------------- control

  view(): ClusterView {
    return this.viewOf(this.payload() as unknown as NodeState);
  }

  /** `self`: this node's state, a copy (view) or the live objects, serialized at once (viewAnswer) */
  private viewOf(self: NodeState): ClusterView {
    const nodes: ClusterView['nodes'] = { [this.opts.nodename]: { state: 'self', payload: self } };
    for (const [n, p] of Object.entries(this.peerInfo())) nodes[n] = { state: p.state, payload: p.payload };
    return { nodename: this.opts.nodename, cluster: this.cluster.name, nodes, hb: this.hb.snapshot(), intents: this.intents, ...(this.server ? { control: this.server.stats() } : {}) };
  }

  /** the control answer to `view`: the peers' items serialized once each (src/daemon/view-text.ts), this node's state not copied first */
  private viewAnswer(o: ViewTextOptions): string {
    return viewAnswerText(this.viewOf(this.nodeState()), this.opts.nodename, o);
  }
  /**
   * `svcmgr print status` from the last full read, read again first when the file or the var
   * dir changed since (an edit, a CLI action). Refused while an action of ours runs: the
   * caller reads the live status then.
   */
  private async statusAnswer(svc: string): Promise<Response> {
    if (!this.local.has(svc)) return { ok: false, error: `service ${svc} does not exist on ${this.opts.nodename}` };
    if (this.instances.get(svc)?.busy) return { ok: false, error: `${svc} is ${this.local.get(svc)!.monitor} here` };
    let last = this.reads.lastStatus(svc);
    if (!last?.current) {
      await this.refreshOne(svc);
      last = this.reads.lastStatus(svc);
    }
    return last ? { ok: true, status: last.st } : { ok: false, error: `no status of ${svc}: ${this.local.get(svc)?.error ?? 'not read'}` };
  }

}
