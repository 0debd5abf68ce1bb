// The node agent: heartbeats with the peers, the cluster view, orchestration and resource
// monitoring. It talks to services only through the service layer.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadClusterConfig, type ClusterConfig } from '../cluster/config.js';
import { mergeIntents } from '../cluster/intents.js';
import { isNodeState, runsHere, type Intent, type NodeState, type ServiceState } from '../cluster/node-state.js';
import { clusterFormed, decide, type Decision, type PeerInfo } from '../cluster/orchestrator.js';
import type { Heartbeats, JsonValue } from '../heartbeat/index.js';
import { startClusterState } from '../statechan/index.js';
import { ConfigReplication } from './config-replication.js';
import { tapEvents, type Logger } from '../log.js';
import { EVENT, peerEvent } from '../events.js';
import { EventRing } from './event-ring.js';
import { answerEvents } from './control-events.js';
import { MultipleActiveWatch } from './multiple-active-watch.js';
import { MULTIPLE_ACTIVE_POLICIES, type MultipleActivePolicy } from '../cluster/multiple-active.js';
import type { FerryPaths } from '../paths.js';
import { Service, listServices } from '../service/service.js';
import type { ActionReport } from '../service/actions.js';
import type { ServiceStatus } from '../service/status.js';
import { controlSocketPath, type ClusterView, type Request, type Response } from './control-protocol.js';
import { listenControl, type ControlServer, type StreamAnswer } from './control-server.js';
import { RestartCounters, gateMonitorAction, monitorStep } from './monitor.js';
import { takeoverCandidates } from '../cluster/takeover.js';
import { Fencing } from './fencing.js';
import { ArbitratorVotes } from './arbitrator-votes.js';
import { selfFence } from './self-fence.js';
import { nextIncarnation } from './incarnation.js';
import { quorumOf, type QuorumView } from '../cluster/quorum.js';
import { SPLIT_GRACE_DEFAULT } from '../cluster/keywords.js';
import { dependencyFields, isDependencyWait, relocateRefusal, WAIT_CHILDREN } from '../cluster/dependencies.js';
import { DataMobility } from './data-mobility.js';
import { Drainer } from './drain.js';
import { TaskScheduler } from './task-scheduler.js';
import { runsHereForTasks } from '../service/tasks.js';
import { ServiceReads } from './service-reads.js';
import type { RefreshKind } from './refresh-schedule.js';

export interface DaemonOptions {
  paths: FerryPaths;
  nodename: string;
  log: Logger;
  /** status refresh and orchestration period, ms */
  tickMs?: number;
}

const FAILED_BACKOFF_MS = [5_000, 10_000, 20_000, 40_000, 60_000];
const SWITCHED_HOLD_MS = 60_000;

function emptyState(error: string): ServiceState {
  const na = 'n/a' as const;
  return {
    avail: 'undef', overall: 'undef', frozen: false, orchestrate: 'no', service_type: '', nodes: [], monitor: 'idle', error,
    groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: Date.now(),
  };
}

export class Daemon {
  private cluster!: ClusterConfig;
  private hb!: Heartbeats;
  /** service files kept identical on the nodes of each service (docs/config-replication.md) */
  private configs: ConfigReplication | undefined;
  private fencing!: Fencing;
  private votes!: ArbitratorVotes;
  /** data sync resources: scheduled pushes, two-phase relocation, takeover gate, incoming pushes */
  private data!: DataMobility;
  private tasks!: TaskScheduler;
  private quorum: QuorumView | undefined;
  /** when this node last stopped holding a majority while awaiting an arbitrator's first answer */
  private majorityLostAt: number | undefined;
  /** split_action = stop: when the node crashes itself if its failover services still run */
  private splitDeadline: number | undefined;
  private selfFenced = false;
  /** peers heard at least once since this daemon started */
  private readonly seen = new Set<string>();
  /** the services' `stonith` keyword: may a takeover of them wait for fencing */
  private readonly stonithOf = new Map<string, boolean>();
  /** the services' `multiple_active` keyword */
  private readonly multipleActiveOf = new Map<string, MultipleActivePolicy>();
  private multiActive!: MultipleActiveWatch;
  /** `nodemgr drain` (src/daemon/drain.ts) */
  private drainer!: Drainer;
  private server: ControlServer | undefined;
  /** the recent events (records with an `event` field) for `nodemgr events` */
  private readonly events = new EventRing();
  private untap: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly local = new Map<string, ServiceState>();
  private intents: Record<string, Intent> = {};
  private readonly busy = new Set<string>();
  /** actions started per service: a status read that spans one is stale */
  private readonly actionGen = new Map<string, number>();
  private readonly retryAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly lastWhy = new Map<string, string>();
  private readonly counters = new RestartCounters();
  /** per service: the monitor action taken (why undefined) or held for the failed resource */
  private readonly monitorHeld = new Map<string, { key: string; why?: string; error?: string }>();
  private readonly bootDone = new Set<string>();
  private refreshing: Promise<void> | undefined;
  /** services parsed once, read when due (src/daemon/service-reads.ts) */
  private reads!: ServiceReads;
  private kicked = false;
  private stopped = false;
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
    const cs = await startClusterState({ cluster: this.cluster, nodename, log: this.log.child({ part: 'hb' }), payload: this.payload(), incarnation: nextIncarnation(paths), streams: this.data.receiver });
    this.hb = cs;
    this.configs.attach(cs);
    this.fencing = new Fencing(this.cluster, nodename, this.log.child({ part: 'fence' }), () => this.kick(), (n) => this.hb.peers()[n]?.state === 'down', path.join(paths.var, 'fence-metadata.json'));
    this.votes = new ArbitratorVotes(this.cluster, nodename, this.log.child({ part: 'quorum' }), () => this.kick());
    this.hb.on('peer', (peer, state, prev) => {
      this.log.info({ event: peerEvent(state), peer, state, prev }, `peer ${peer} ${state}`);
      if (state === 'up') {
        this.seen.add(peer);
        this.fencing.peerBack(peer);
      }
      if (state === 'down') this.fencing.peerDown(peer);
      this.kick();
    });
    this.hb.on('payload', (_peer, payload) => {
      if (isNodeState(payload) && mergeIntents(this.intents, payload.intents)) this.publish();
      this.configs?.peerChanged();
      this.kick();
    });
    this.hb.on('error', (e) => void this.heartbeatsLost(e));
    this.drainer = new Drainer({
      self: nodename, log: this.log, services: () => Object.fromEntries(this.local), peers: () => this.peerInfo(), fence: () => this.fencing.snapshot(),
      intents: () => this.intents, freeze: () => this.freezeNode(true), relocate: (svc, to) => this.relocate(svc, to),
    });
    this.server = await listenControl(controlSocketPath(paths), (req) => this.handle(req), this.log);
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1_000);
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

  /** Graceful: peers are told we leave, so they do not fail our services over. */
  async stop(graceful = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.configs?.stop();
    await this.hb?.stop(graceful);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    fs.rmSync(controlSocketPath(this.opts.paths), { force: true });
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
    process.exitCode = 1;
    this.resolveDone();
  }

  // ---------------------------------------------------------------- state

  private payload(): JsonValue {
    const state: NodeState = {
      v: 1, frozen: this.nodeFrozen, services: Object.fromEntries(this.local), intents: this.intents,
      ...(this.configs ? { configs: this.configs.digests(), cluster_sum: this.configs.clusterSum } : {}),
      ...(this.quorum ? { quorum: { state: this.quorum.state, votes: this.quorum.votes, total: this.quorum.total, needed: this.quorum.needed, why: this.quorum.why, ...(this.cluster.arbitrators.length ? { arbitrators: this.votes.snapshot() } : {}) } } : {}),
      ...(this.fencing ? { fence: this.fencing.snapshot() } : {}),
    };
    return JSON.parse(JSON.stringify(state)) as JsonValue;
  }

  /** urgent: a change peers act on (action begun/ended, intent): sent now, not at the next beat */
  private publish(urgent = false): void {
    this.hb?.setPayload(this.payload(), urgent);
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
    for (const [name, local] of this.local) {
      if (local.nodes.length < 2) continue;
      const policy = this.multipleActiveOf.get(name) ?? 'stop_start';
      const v = this.multiActive.refresh({ self: this.opts.nodename, svc: name, local, nodeFrozen: this.nodeFrozen, peers, policy });
      // stop_only leaves it stopped, as an operator's stop would (the orchestrator starts it nowhere)
      if (v.action === 'stop' && !this.busy.has(name)) void this.runAction(name, 'stop', (s) => s.stop(policy === 'stop_only' ? { operator: true, multipleActive: v.active } : {}), v.why);
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
      await Promise.all(
        names.filter((n) => !this.busy.has(n)).map(async (n) => {
          const kind = this.reads.due(n, runsHere(this.local.get(n)), now);
          if (kind) await this.refreshOne(n, false, kind);
          else this.observeUnread(n);
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
    const gen = this.actionGen.get(name);
    // an action started while we read: it owns the state, and what we read may be half-way
    const superseded = () => !afterAction && (this.busy.has(name) || this.actionGen.get(name) !== gen);
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
    let monitor = prev?.monitor ?? 'idle';
    let error = prev?.error;
    if ((monitor === 'start failed' || monitor === 'switched') && now >= (this.retryAt.get(name) ?? 0)) monitor = 'idle';
    if (monitor === 'stop failed' && st.avail === 'down') monitor = 'idle';
    if (st.avail === 'up') error = undefined;
    if (prev && prev.avail !== st.avail) this.log.info({ event: EVENT.serviceStatus, svc: name, avail: st.avail, prev: prev.avail, overall: st.overall }, `${name} ${prev.avail} -> ${st.avail}`);
    const { groups } = st;
    const up = this.hb ? Object.entries(this.hb.peers()).filter(([, v]) => v.state === 'up').map(([n]) => n) : [];
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
    if (!afterAction && prev && runsHere(prev) && monitor === 'idle' && !st.frozen && svc.expect?.state !== 'down') this.checkMonitored(svc, st);
    else if (!runsHere(this.local.get(name))) this.endMonitorHold(name, 'the service no longer runs here');
    return st;
  }

  /** A tick without a status read: scheduled tasks and data pushes still come due. */
  private observeUnread(name: string): void {
    const local = this.local.get(name);
    const svc = this.reads.service(name);
    if (!local || !svc) return;
    const up = this.hb ? Object.entries(this.hb.peers()).filter(([, v]) => v.state === 'up').map(([n]) => n) : [];
    this.data.observe(svc, local.avail === 'up' || local.avail === 'warn', up);
    Object.assign(local, this.data.stateFields(name));
    this.tasks.observe(svc, local.monitor === 'idle' && !local.frozen && !this.nodeFrozen && runsHereForTasks(local.avail, local.expect?.state === 'up'));
  }

  // ---------------------------------------------------------------- monitoring

  private checkMonitored(svc: Service, st: ServiceStatus): void {
    const name = svc.svcname;
    const step = monitorStep(
      st,
      (rid) => {
        const r = svc.resources.find((x) => x.rid === rid);
        return { restart: r?.restart ?? 0, action: r?.monitorAction ?? 'freezestop' };
      },
      this.counters,
    );
    if (step?.kind !== 'action') this.endMonitorHold(name, 'the resource is no longer failed');
    if (!step) return;
    if (step.kind === 'restart') {
      this.log.warn({ event: 'monitor_restart', svc: name, rid: step.rid, attempt: step.attempt, of: step.of }, `${name} ${step.rid} failed: restart ${step.attempt}/${step.of}`);
      void this.runAction(name, 'restart-rid', (s) => s.start({ rids: [step.rid] }));
      return;
    }
    const reason = `${step.rid} failed, restarts exhausted`;
    const key = `${step.rid} ${step.action}`;
    const prev = this.monitorHeld.get(name);
    // the action was run (or, for none, noted) for this failure already
    if (prev?.key === key && prev.why === undefined) return;
    if (prev?.key !== key) this.log.error({ event: 'monitor_exhausted', svc: name, rid: step.rid, action: step.action }, `${name} ${reason}: ${step.action}`);
    const local = this.local.get(name);
    const gate = gateMonitorAction(
      step.action,
      local ? takeoverCandidates({ self: this.opts.nodename, svc: name, local, peers: this.hb ? this.peerInfo() : {}, fence: this.fencing?.snapshot() ?? {} }) : { ok: false, why: 'no state' },
    );
    if (!gate.run) {
      const error = `${reason}: monitor_action ${step.action} held, the service stays degraded here: ${gate.why}`;
      if (prev?.key !== key || prev.why !== gate.why) this.log.warn({ event: 'monitor_action_held', svc: name, rid: step.rid, action: step.action, why: gate.why }, `${name}: not running monitor_action ${step.action}: ${gate.why}`);
      this.monitorHeld.set(name, { key, why: gate.why, error });
      if (local && local.error !== error) {
        local.error = error;
        this.publish();
      }
      return;
    }
    if (prev?.why !== undefined) {
      if (prev.key === key) this.log.info({ event: 'monitor_action_released', svc: name, rid: step.rid, action: step.action, candidates: gate.candidates }, `${name}: monitor_action ${step.action} no longer held (${gate.candidates.join(', ')} can take it over)`);
      if (local && local.error === prev.error) delete local.error;
    }
    this.monitorHeld.set(name, { key });
    this.log.info({ event: 'monitor_action', svc: name, rid: step.rid, action: step.action, candidates: gate.candidates }, `${name}: monitor_action ${step.action}`);
    switch (step.action) {
      case 'freezestop':
        void this.runAction(name, 'stop', async (s) => {
          await s.freeze();
          return s.stop();
        }, reason);
        break;
      case 'switch':
        void this.runAction(name, 'switch', (s) => s.stop(), reason);
        break;
      case 'reboot':
      case 'crash':
        selfFence(step.action, `${name}: ${reason} (monitor_action ${step.action})`, this.log.child({ svc: name }));
        break;
      default:
        break;
    }
  }

  /** A new failure episode starts: the resource is back or restarted, or the service left this node. */
  private endMonitorHold(name: string, why: string): void {
    const held = this.monitorHeld.get(name);
    if (!held) return;
    this.monitorHeld.delete(name);
    if (held.why === undefined) return;
    this.log.info({ event: 'monitor_action_dropped', svc: name, key: held.key, why }, `${name}: held monitor_action dropped: ${why}`);
    const local = this.local.get(name);
    if (local && local.error === held.error) {
      delete local.error;
      this.publish();
    }
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
    const out: Record<string, PeerInfo> = {};
    for (const [n, v] of Object.entries(this.hb.peers())) out[n] = { state: v.state, payload: isNodeState(v.payload) ? v.payload : undefined };
    return out;
  }

  /** This node's quorum now; asks the arbitrators when the nodes heard are not a majority. */
  private computeQuorum(peers: Record<string, PeerInfo>): QuorumView {
    const self = this.opts.nodename;
    const nodes = this.cluster.nodes;
    const up = nodes.filter((n) => n !== self && peers[n]?.state === 'up');
    const unknown = nodes.filter((n) => n !== self && (peers[n] === undefined || peers[n]!.state === 'unknown'));
    const peer = nodes.length === 2 ? nodes.find((n) => n !== self) : undefined;
    const input = {
      enabled: this.cluster.quorum, self, nodes, up, unknown, arbitrators: this.cluster.arbitrators.length, granted: 0,
      peerFenceable: peer !== undefined && this.fencing.canFence(peer), peerFenced: peer !== undefined && this.fencing.isFenced(peer),
      peerLeft: peer !== undefined && peers[peer]?.state === 'left', peerSeen: peer !== undefined && this.seen.has(peer),
    };
    // ask only once every peer is known (up or declared down): a node that asked while its
    // peers were still starting would hold the vote for a lease after they joined
    if (this.cluster.quorum && this.cluster.arbitrators.length && quorumOf(input).state === 'lost') this.votes.ask(up);
    else this.votes.release();
    const view = quorumOf({ ...input, granted: this.votes.granted(), pending: this.votes.pending() });
    // the split clock starts when the majority is lost, the wait for a first vote included
    if (view.asking) this.majorityLostAt ??= Date.now();
    else if (!view.mustSplit) this.majorityLostAt = undefined;
    // a tie of two nodes: race to fence the peer (fence_delay lets the first node of `nodes` win)
    if (view.state === 'tie' && peer) this.fencing.ensureFence(peer);
    if (view.canTakeOver && this.quorum && !this.quorum.canTakeOver) this.fencing.quorumGained();
    const changed = this.quorum?.why !== view.why;
    const event = this.quorum?.canTakeOver === view.canTakeOver ? EVENT.quorumChanged : view.canTakeOver ? EVENT.quorumGained : EVENT.quorumLost;
    this.quorum = view;
    if (changed) {
      const level = view.canTakeOver ? 'info' : 'warn';
      this.log[level]({ event, quorum: view.state, votes: view.votes, total: view.total, needed: view.needed }, view.why);
      this.publish(true);
    }
    return view;
  }

  /**
   * No quorum: the other partition may have it and take our failover services over after its
   * split_grace. Apply split_action to them, as long as the state lasts.
   */
  private enforceSplit(q: QuorumView): void {
    const now = Date.now();
    const mine = [...this.local.entries()].filter(([, s]) => runsHere(s) && s.nodes.length > 1 && s.orchestrate !== 'no').map(([n]) => n);
    if (!q.mustSplit || mine.length === 0 || this.selfFenced) {
      this.splitDeadline = undefined;
      return;
    }
    const action = this.cluster.splitAction;
    if (action === 'crash') {
      this.selfFenced = true;
      selfFence('crash', `${q.why}: split_action = crash while running ${mine.join(', ')}`, this.log);
      return;
    }
    if (action === 'freeze') {
      for (const name of mine.filter((n) => !this.local.get(n)!.frozen)) {
        this.log.warn({ event: EVENT.splitFreeze, svc: name }, `${q.why}: freezing ${name} (split_action = freeze)`);
        this.local.get(name)!.frozen = true;
        void Service.open(this.opts.paths, name, this.opts.nodename).freeze().catch((e: unknown) => this.log.error({ svc: name, err: String(e) }, 'freeze failed'));
      }
      return;
    }
    const grace = this.cluster.splitGrace ?? SPLIT_GRACE_DEFAULT;
    this.splitDeadline ??= (this.majorityLostAt ?? now) + Math.floor(grace * 0.8);
    if (now >= this.splitDeadline) {
      this.selfFenced = true;
      selfFence('crash', `${q.why}: ${mine.join(', ')} still running ${Math.floor(grace * 0.8)} ms after quorum was lost (split_grace ${grace} ms): the majority may start them`, this.log);
      return;
    }
    for (const name of mine) {
      const s = this.local.get(name)!;
      if (this.busy.has(name) || (s.monitor === 'stop failed' && now < (this.retryAt.get(name) ?? 0))) continue;
      void this.runAction(name, 'stop', (svc) => svc.stop(), `${q.why} (split_action = stop)`);
    }
  }

  private evaluate(): void {
    if (this.stopped || !this.hb) return;
    const peers = this.peerInfo();
    const allKnown = clusterFormed(peers);
    const now = Date.now();
    const q = this.computeQuorum(peers);
    this.enforceSplit(q);
    const services = Object.fromEntries(this.local);
    for (const [name, local] of this.local) {
      if (this.busy.has(name)) continue;
      const d = decide({
        self: this.opts.nodename, svc: name, local, nodeFrozen: this.nodeFrozen, peers, intents: this.intents, now,
        bootPhase: !this.bootDone.has(name), quorum: { ok: q.canTakeOver, why: q.why }, configSum: this.configs?.sumOf(name),
        services,
      });
      if (allKnown) this.bootDone.add(name);
      if (this.lastWhy.get(name) !== d.why) {
        this.lastWhy.set(name, d.why);
        this.log.info({ event: EVENT.decision, svc: name, action: d.action, why: d.why }, `${name}: ${d.action === 'none' ? 'no action' : d.action} (${d.why})`);
      }
      this.noteDependencyWait(name, local, d);
      if (d.action === 'start') {
        // never start in place of a dead node that is not fenced yet (when it can be fenced),
        // or, when it cannot, before its split grace
        const dead = local.nodes.filter((n) => n !== this.opts.nodename && peers[n]?.state === 'down');
        const clear = this.fencing.clearToTakeOver(dead, this.stonithOf.get(name) !== false);
        if (!clear.ok) {
          if (local.error !== clear.why) {
            local.error = clear.why;
            this.log.warn({ event: EVENT.startBlocked, svc: name, why: clear.why }, `${name}: not starting: ${clear.why}`);
            this.publish();
          }
          continue;
        }
        // the copies of its data here must be current enough (docs/data-mobility.md)
        const relocation = d.intent !== undefined && dead.length === 0;
        const g = this.data.gate(name, relocation);
        if (!g.ok) {
          if (local.error !== g.why) {
            local.error = g.why;
            this.log.warn({ event: 'data_gate_wait', svc: name, why: g.why }, `${name}: not starting: ${g.why}`);
            this.publish();
          }
          continue;
        }
      }
      if (d.action !== 'none') void this.orchestrated(name, d);
    }
    this.drainer.step();
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

  private async orchestrated(name: string, d: Exclude<Decision, { action: 'none' }>): Promise<void> {
    const cur = this.intents[name];
    const intent = d.action === 'stop' && d.intent !== undefined && cur?.id === d.intent ? cur : undefined;
    // a relocation of a service with data sync resources: two-phase (src/service/data.ts)
    const stop = (s: Service) => (intent && this.data.has(name) ? this.data.relocateStop(s, intent.id, intent.target, () => s.stop()) : s.stop());
    const report = await this.runAction(name, d.action, (s) => (d.action === 'start' ? s.start({ force: true }) : stop(s)), d.why);
    if (report?.ok && d.action === 'start') {
      this.counters.reset(name);
      const intent = this.intents[name];
      if (intent && intent.id === d.intent) intent.done = true;
      this.publish(true);
    }
  }

  /** Run one action on a service with its state published as it goes. */
  private async runAction(
    name: string,
    kind: 'start' | 'stop' | 'switch' | 'restart-rid',
    fn: (s: Service) => Promise<ActionReport>,
    why?: string,
  ): Promise<ActionReport | undefined> {
    const state = this.local.get(name);
    if (!state || this.busy.has(name)) return undefined;
    this.busy.add(name);
    // a push into this node must not go on under a service starting here
    if (kind === 'start' || kind === 'restart-rid') this.data.receiver.abort(name);
    this.actionGen.set(name, (this.actionGen.get(name) ?? 0) + 1);
    state.monitor = kind === 'start' || kind === 'restart-rid' ? 'starting' : 'stopping';
    this.log.info({ event: EVENT.daemonActionBegin, svc: name, kind, why }, `${name} ${kind} begins${why ? ` (${why})` : ''}`);
    this.publish(true);
    const t0 = Date.now();
    let report: ActionReport | undefined;
    let error: string | undefined;
    try {
      report = await fn(Service.open(this.opts.paths, name, this.opts.nodename));
      if (!report.ok) error = `${report.action} failed at ${report.failed?.rid}: ${report.failed?.error}`;
    } catch (e) {
      error = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
    const ms = Date.now() - t0;
    if (error) {
      const n = (this.failures.get(name) ?? 0) + 1;
      this.failures.set(name, n);
      this.retryAt.set(name, Date.now() + FAILED_BACKOFF_MS[Math.min(n, FAILED_BACKOFF_MS.length) - 1]!);
      state.monitor = kind === 'stop' || kind === 'switch' ? 'stop failed' : 'start failed';
      state.error = error;
      this.log.error({ event: EVENT.daemonActionEnd, svc: name, kind, why, ok: false, ms, err: error }, `${name} ${kind} failed: ${error}`);
    } else {
      this.failures.delete(name);
      state.monitor = kind === 'switch' ? 'switched' : 'idle';
      if (kind === 'switch') this.retryAt.set(name, Date.now() + SWITCHED_HOLD_MS);
      if (kind === 'switch' && why) state.error = `switched away: ${why}`;
      else delete state.error;
      this.log.info({ event: EVENT.daemonActionEnd, svc: name, kind, why, ok: true, ms }, `${name} ${kind} done in ${ms} ms`);
    }
    await this.refreshOne(name, true);
    const after = this.local.get(name);
    if (after) {
      after.monitor = state.monitor;
      if (state.error) after.error = state.error;
    }
    this.busy.delete(name);
    this.publish(true);
    this.kick();
    return report;
  }

  // ---------------------------------------------------------------- control

  view(): ClusterView {
    const nodes: ClusterView['nodes'] = { [this.opts.nodename]: { state: 'self', payload: this.payload() as unknown as NodeState } };
    for (const [n, p] of Object.entries(this.peerInfo())) nodes[n] = { state: p.state, payload: p.payload };
    return { nodename: this.opts.nodename, cluster: this.cluster.name, nodes, hb: this.hb.snapshot(), intents: this.intents, ...(this.server ? { control: this.server.stats() } : {}) };
  }

  private async handle(req: Request): Promise<Response | StreamAnswer> {
    switch (req.op) {
      case 'ping':
        return { ok: true, nodename: this.opts.nodename };
      case 'view':
        return { ok: true, view: this.view() };
      case 'relocate':
        return this.relocate(req.svc, req.to);
      case 'clear':
        return this.clear(req.svc);
      case 'status':
        return this.statusAnswer(req.svc);
      case 'freeze-node':
      case 'thaw-node':
        this.freezeNode(req.op === 'freeze-node');
        return { ok: true };
      case 'drain':
        return this.drainer.begin(req.timeout);
      case 'drain-status':
        return { ok: true, ...(this.drainer.report() ? { drain: this.drainer.report()! } : {}) };
      case 'shutdown':
        setImmediate(() => void this.stop(true));
        return { ok: true };
      case 'events':
        return answerEvents(this.events, req);
      default:
        return { ok: false, error: `unknown request ${(req as { op?: string }).op}` };
    }
  }

  /**
   * `svcmgr print status` from the last full read, read again first when the file or the var
   * dir changed since (an edit, a CLI action). Refused while an action of ours runs: the
   * caller reads the live status then.
   */
  private async statusAnswer(svc: string): Promise<Response> {
    if (!this.local.has(svc)) return { ok: false, error: `service ${svc} does not exist on ${this.opts.nodename}` };
    if (this.busy.has(svc)) return { ok: false, error: `${svc} is ${this.local.get(svc)!.monitor} here` };
    let last = this.reads.lastStatus(svc);
    if (!last?.current) {
      await this.refreshOne(svc);
      last = this.reads.lastStatus(svc);
    }
    return last ? { ok: true, status: last.st } : { ok: false, error: `no status of ${svc}: ${this.local.get(svc)?.error ?? 'not read'}` };
  }

  private freezeNode(frozen: boolean): void {
    if (frozen) fs.writeFileSync(this.nodeFrozenFile, `${new Date().toISOString()}\n`);
    else fs.rmSync(this.nodeFrozenFile, { force: true });
    this.publish(true);
  }

  /**
   * `svcmgr clear`: forget a failed start/stop, a switch hold, the monitor's restart counts
   * and a held monitor_action, so the orchestrator may try the service here again now
   * (instead of after the backoff). An action in progress is not interrupted.
   */
  private clear(svc: string): Response {
    const local = this.local.get(svc);
    if (!local) return { ok: false, error: `service ${svc} does not exist on ${this.opts.nodename}` };
    if (this.busy.has(svc)) return { ok: false, error: `${svc} is ${local.monitor} here: wait for the action to end` };
    const was = local.monitor;
    const error = local.error;
    this.retryAt.delete(svc);
    this.failures.delete(svc);
    this.counters.reset(svc);
    this.monitorHeld.delete(svc);
    local.monitor = 'idle';
    delete local.error;
    this.lastWhy.delete(svc);
    this.log.info({ event: 'clear', svc, was, ...(error ? { error } : {}) }, `${svc}: cleared (was ${was})`);
    this.publish(true);
    this.kick();
    return { ok: true, cleared: { svc, was, ...(error ? { error } : {}) } };
  }

  private relocate(svc: string, to: string): Response {
    const local = this.local.get(svc);
    if (!local) return { ok: false, error: `service ${svc} does not exist on ${this.opts.nodename}` };
    if (local.nodes.length && !local.nodes.includes(to)) return { ok: false, error: `${to} is not in the nodes of ${svc} (${local.nodes.join(' ')})` };
    if (to !== this.opts.nodename) {
      const p = this.peerInfo()[to];
      if (!p) return { ok: false, error: `${to} is not a node of cluster ${this.cluster.name}` };
      if (p.state !== 'up') return { ok: false, error: `${to} is ${p.state}: its daemon must be running` };
      const s = p.payload?.services[svc];
      if (!s) return { ok: false, error: `${to} does not have service ${svc}` };
      if (p.payload?.frozen) return { ok: false, error: `${to} is frozen` };
      // a frozen instance is never started by the daemon: the move could only stop the service
      if (s.frozen) return { ok: false, error: `${svc} is frozen on ${to}` };
    } else {
      if (this.nodeFrozen) return { ok: false, error: `${to} is frozen` };
      if (local.frozen) return { ok: false, error: `${svc} is frozen on ${to}` };
    }
    const deps = relocateRefusal(svc, { self: this.opts.nodename, local: Object.fromEntries(this.local), peers: this.peerInfo() });
    if (deps) return { ok: false, error: deps };
    const intent: Intent = { id: crypto.randomUUID(), svc, target: to, by: this.opts.nodename, at: Date.now(), done: false };
    this.intents[svc] = intent;
    // an operator's request clears a failed state on the target
    if (to === this.opts.nodename && local.monitor !== 'starting' && local.monitor !== 'stopping') local.monitor = 'idle';
    this.log.info({ event: EVENT.relocate, svc, to, id: intent.id }, `relocate ${svc} to ${to}`);
    this.publish(true);
    this.kick();
    return { ok: true, intent };
  }
}
