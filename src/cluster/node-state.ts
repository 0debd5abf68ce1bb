// What each node tells its peers: its services' state here, whether it is frozen, its quorum,
// its fencing of peers and the placement intents (relocations) it knows of. Plain JSON. The
// small facts ride in every heartbeat; services and intents are pulled over the state
// channel when the beat announces a new generation (src/statechan, docs/state-channel.md).
import type { Status } from '../vocab/status.js';
import type { QuorumState } from './quorum.js';
import type { ConfigGen } from '../config/generation.js';
import type { TransferReport } from '../service/data.js';

/** What this node's daemon is doing with a service. */
export type MonitorState = 'idle' | 'starting' | 'stopping' | 'start failed' | 'stop failed' | 'switched';

export interface ServiceGroups {
  container: Status;
  ip: Status;
  disk: Status;
  fs: Status;
  share: Status;
  app: Status;
  sync: Status;
}

export interface ServiceState {
  avail: Status;
  overall: Status;
  frozen: boolean;
  orchestrate: string;
  service_type: string;
  nodes: string[];
  /** services that must be up somewhere before this one starts (docs/dependencies.md) */
  parents?: string[];
  /** services that must be down everywhere before the daemon stops this one */
  children?: string[];
  monitor: MonitorState;
  /** why the last orchestrated action failed, or why the daemon is waiting */
  error?: string;
  groups: ServiceGroups;
  /** the operator's last start (up) or stop (down) of the service on this node */
  expect?: { state: 'up' | 'down'; at: number; multipleActive?: string[] };
  /** epoch ms of the last status refresh */
  updated: number;
  /** data sync resources (sync type rsync): the copy this node holds, per rid */
  data?: Record<string, DataCopyInfo>;
  /** the last two-phase relocation from this node (src/service/data.ts) */
  transfer?: TransferReport;
  /** a relocation's stop under way here, announced group by group (src/cluster/handover.ts) */
  handover?: HandoverProgress;
}

/** The owner's side of a relocation as a handover: what it has released so far. */
export interface HandoverProgress {
  /** the intent the stop is for */
  intent: string;
  /** the relocation's target */
  to: string;
  /** groups (resource kinds) every resource of which this stop has stopped */
  released: string[];
  /** the whole stop is done, its post_stop triggers included */
  done: boolean;
  /** groups with a resource whose stop failed though the stop went on (an optional one): never released */
  held?: string[];
}

/**
 * A relocation's release as the owner's beat carries it (src/statechan/facts.ts `ho`): its
 * HandoverProgress, compact (i: intent id, r: released groups, d: 1 once the whole stop is
 * done, h: held groups), so the target reads it with the beat, not a state-channel pull later.
 */
export interface BeatRelease {
  i: string;
  r: string[];
  d?: 1;
  h?: string[];
}

/**
 * What a peer's latest beat said of the handovers it runs, as the reader assembled it (never
 * published): the releases, the incarnation of the beat (its channel mark's `inc`) and that of
 * the services pulled beside it (undefined: none pulled yet). src/cluster/handover.ts takes a
 * beat's release only when the two are the same process.
 */
export interface BeatHandovers {
  inc: string;
  pulledInc: string | undefined;
  releases: Record<string, BeatRelease>;
}

/** A data copy on a node. Its age is now − asOf (an epoch, so the state does not change every refresh). */
export interface DataCopyInfo {
  /** the copy is the truth: the service ran here last, or a final sync came after the owner stopped */
  current: boolean;
  why: string;
  /** not current: epoch ms it was last known current (the last completed sync into here, or the hand-over) */
  asOf?: number;
  maxDelayMs: number;
  /** epoch ms of the last completed push from here, per peer */
  sent: Record<string, number>;
  received?: { from: string; at: number; final: boolean };
  /** epoch ms the service last began to serve here (its resources started; a container from running, before its start_settle check) */
  started?: number;
}

/** A request to move a service to `target`, gossiped until the target runs it. */
export interface Intent {
  id: string;
  svc: string;
  target: string;
  /** node that took the request */
  by: string;
  at: number;
  done: boolean;
}

/** A node's word on quorum, as it computed it (src/cluster/quorum.ts). */
export interface QuorumInfo {
  state: QuorumState;
  votes: number;
  total: number;
  needed: number;
  why: string;
  /** per arbitrator: does this partition hold its vote, or why not */
  arbitrators?: Record<string, { granted: boolean; error?: string }>;
}

/** This node's fencing of a peer: under way, done (confirmed off), or failed and retried later. */
export interface FenceInfo {
  state: 'fencing' | 'fenced' | 'failed';
  /** epoch ms: when it was fenced, or the last failure */
  at: number;
  failures?: number;
  error?: string;
  /** epoch ms of the next attempt after a failure */
  nextAt?: number;
}

/** A config conflict this node resolved: shown for a while (docs/config-replication.md). */
export interface ConfigConflict {
  /** the peer holding the other side */
  with: string;
  at: number;
  /** sums of the generation kept and of the one discarded */
  kept: string;
  lost: string;
}

/**
 * What a node announces of its file of a service (its generation, the nodes the file names),
 * over the state channel: a peer that sees a newer one pulls the file (src/daemon/config-replication.ts).
 */
export interface ConfigDigest extends ConfigGen {
  nodes: string[];
  conflict?: ConfigConflict;
}

export interface NodeState {
  v: 1;
  frozen: boolean;
  /** truncated SHA-256 of this node's cluster file (rides in the beat) */
  cluster_sum?: string;
  /** per service: the generation of this node's file (tombstones included); absent from nodes of an earlier version */
  configs?: Record<string, ConfigDigest>;
  quorum?: QuorumInfo;
  /** peers this node fenced or is fencing */
  fence?: Record<string, FenceInfo>;
  services: Record<string, ServiceState>;
  intents: Record<string, Intent>;
  /**
   * As seen by a peer: false while `services` and `intents` are not (yet) those of the
   * node's current state generation (pulled over the state channel, docs/state-channel.md),
   * e.g. just after it came up, or while only its disk heartbeat reaches us. Never read
   * "not running" from an incomplete state. Absent: the whole state came in the beat.
   */
  complete?: boolean;
  /** as seen by a peer: the handover releases its latest beat carried (normally absent) */
  beat_handovers?: BeatHandovers;
}

export function isNodeState(x: unknown): x is NodeState {
  return typeof x === 'object' && x !== null && (x as { v?: unknown }).v === 1 && typeof (x as { services?: unknown }).services === 'object';
}

/** avail values that mean "this node runs it" (warn: running but degraded) */
export const runningStatuses: readonly Status[] = ['up', 'warn', 'stdby up'];

/** May `services` and `intents` of this peer state be trusted to say what it does not run? */
export function isComplete(p: NodeState | undefined): boolean {
  return p !== undefined && p.complete !== false;
}

export function runsHere(s: ServiceState | undefined): boolean {
  if (s === undefined) return false;
  if (runningStatuses.includes(s.avail) || s.monitor === 'starting' || s.monitor === 'stopping') return true;
  // nothing in the service can report a status (apps without check): trust the last start
  return s.avail === 'n/a' && s.expect?.state === 'up';
}
