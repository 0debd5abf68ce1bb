// The contract between the service layer and resource drivers. Drivers know nothing of the
// daemon or of other resources: they get their typed keywords and a logger, and act.
import type { DriverSchema, KeywordValues } from '../vocab/keywords.js';
import type { Logger } from '../log.js';
import type { FerryPaths } from '../paths.js';
import type { Status } from '../vocab/status.js';
import type { Schedule } from './schedule.js';

/** Status/ordering class of a resource: the svcmon columns and the start order. */
export type ResourceKind = 'ip' | 'disk' | 'fs' | 'share' | 'container' | 'app' | 'sync' | 'task';

export interface StatusReport {
  status: Status;
  /** what the status tree shows after the status, e.g. "e9828ec4620a@registry:latest" */
  label: string;
  /** lines shown under the resource as "# message" */
  messages: string[];
}

/** How a start was asked for. Drivers that have nothing to take over ignore it. */
export interface StartOptions {
  /**
   * The caller has decided this node takes the resource over (the daemon's orchestrated
   * start, after its failover decision and fencing; an operator's `svcmgr start --force`):
   * shared storage held by another node is taken from it (SCSI PR preempt). Without it, a
   * resource that finds its storage held elsewhere fails instead.
   */
  force?: boolean;
  /**
   * How the previous owner of the service is known to be out of the way, when it is: 'fenced'
   * (a confirmed STONITH of it, this takeover's), 'handover' (a relocation: it stopped the
   * service itself and said so). The ip driver then probes for a duplicate address with its
   * shorter window (dup_probe_timeout_handover); it never skips the probe.
   */
  prior?: PriorOwner;
  /**
   * The caller read the resource's status as not up just before this call (the service
   * action does, for its "already up" rule): a driver whose own idempotence check is that same
   * status (app's check command) need not run it a second time.
   */
  checkedNotUp?: boolean;
  /**
   * A relocation's handover (the start runs while the previous owner still stops the service):
   * resolves once this node has read the owner's announce that it stopped this resource's group,
   * with the instant it read it (performance.now() ms); rejects when the owner will not release
   * it. Passed only to a driver with `awaitsRelease` (it awaits this before its first change,
   * after its read-only checks); the service action awaits it for the others before start().
   * The ip driver counts its prepared probe's evidence only from that instant.
   */
  released?: () => Promise<number>;
}

/** What a start is prepared for: handover, a relocation target while the owner still stops it (else a takeover while the owner is suspect). */
export interface PrepareOptions {
  handover?: boolean;
}

export type PriorOwner = 'fenced' | 'handover';

/** How a stop was asked for. */
export interface StopOptions {
  /** the caller read the resource's status as not down just before this call (see StartOptions.checkedNotUp) */
  checkedNotDown?: boolean;
}

/** What a start may tell beyond success. */
export interface StartResult {
  /**
   * epoch ms the resource began to serve, when that came before start() returned: a container
   * seen running, before its start_settle check (a verification, not a wait for it to serve)
   */
  servingAt?: number;
}

/** What a resource prepared for a start (Resource.prepareStart): `what` for the logs. */
export interface PreparedStart {
  what: string;
  cancel(): void;
}

export interface Resource {
  readonly rid: string;
  readonly kind: ResourceKind;
  /** the driver's start awaits StartOptions.released itself (after its read-only checks, before its first change) */
  readonly awaitsRelease?: boolean;
  /** Bring the resource up. Idempotent: a resource already up is left as is. Throws on failure. */
  start(opts?: StartOptions): Promise<void | StartResult>;
  /** Bring the resource down. Idempotent: a resource already down is left as is. Throws on failure. */
  stop(opts?: StopOptions): Promise<void>;
  /** Read-only. Never throws: trouble is a status with messages. */
  status(): Promise<StatusReport>;
  /**
   * Prepare a start that may come soon (the daemon suspects the node running it is dying):
   * read-only work whose result the next start may use (ip: a rolling duplicate-address probe,
   * src/resources/ip-prepared-probe.ts), alive at most ttlMs. undefined: nothing to prepare.
   * The returned cancel undoes it; a start that uses it undoes it too. Drivers without it leave it out.
   */
  prepareStart?(ttlMs: number, opts?: PrepareOptions): Promise<PreparedStart | undefined>;
  /** Read-only: the block devices the resource uses (`svcmgr print devs`, `prstatus`). Drivers without devices leave it out. */
  devices?(): Promise<ResourceDevices>;
  /** data sync resources (sync type rsync): copies of the data on the other nodes */
  data?: DataSync;
  /** task resources: a command run on demand or on schedule, never by start/stop */
  task?: TaskRunner;
}

/** How one run of a task ended. */
export interface TaskOutcome {
  /** exit code; undefined when killed by a signal or not started */
  code: number | undefined;
  signal?: string;
  timedOut: boolean;
  /** the command could not be started (unknown user, ENOENT...) */
  error?: string;
  ms: number;
}

export interface TaskRunner {
  readonly command: string;
  readonly user: string | undefined;
  readonly schedule: Schedule | undefined;
  readonly timeoutMs: number | undefined;
  readonly confirmation: boolean;
  /** this node's record of the last run (task-state.ts) */
  readonly recordFile: string;
  /** run the command once; its output goes to the service log (and to onOutput) */
  run(onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): Promise<TaskOutcome>;
}

export interface ResourceDevices {
  /** devices the resource sits on: an fs's dev, a vg's PVs, a disk resource's disks */
  sub: string[];
  /** devices it makes available: a vg's logical volumes */
  exposed: string[];
  /** the subset of sub this resource protects with a SCSI-3 persistent reservation (scsireserv) */
  reserved: string[];
  /** why a list may be incomplete (LVM does not see the VG...) */
  messages: string[];
}

/** One completed push of a data sync resource to a peer. */
export interface PushResult {
  peer: string;
  /** epoch ms when the pass began */
  at: number;
  ms: number;
  /** bytes on the wire (rsync's "Total bytes sent") */
  bytes: number;
  /** size of the files that changed */
  fileBytes: number;
}

/** A final push whose stream was opened before the service's stop (nothing sent yet). */
export interface PreparedPush {
  /** send the final delta now (the service is stopped); throws on failure */
  push(): Promise<PushResult>;
  /** not pushed after all (the stop failed): close the stream on both ends, nothing applied */
  cancel(): void;
}

export interface DataSync {
  /** peers to push to (resolved `target`) */
  readonly targets: string[];
  /** push the data to peer, into its `dst` (resolved for that peer); throws on failure */
  push(peer: string, dst: string, final: boolean): Promise<PushResult>;
  /** open the stream of a final push while the service still runs; throws when it cannot be opened */
  prepareFinal?(peer: string, dst: string): Promise<PreparedPush>;
  /** this node's records (sync-rsync-state.ts) */
  readonly recordFile: string;
  /** scheduled pushes (src/resources/schedule.ts); undefined: only on relocation */
  readonly schedule: Schedule | undefined;
  readonly maxDelayMs: number;
  readonly staleTakeover: boolean;
  readonly timeoutMs: number;
  /** where this node receives the data */
  readonly dst: string;
  /** a peer's command to receive into here (sent in a stream OPEN), checked: what to run */
  receive(argv: readonly string[]): { ok: true; file: string; args: string[] } | { ok: false; error: string };
  /** a push from `from` into here completed (at: its start) */
  received(from: string, at: number, final: boolean): void;
  /** before the service starts here from a received copy: make it the live data */
  prepare?(): Promise<void>;
}

export interface ResourceContext {
  rid: string;
  svcname: string;
  nodename: string;
  /** value of the section's `type` keyword, or the driver's default type */
  type: string;
  kw: KeywordValues;
  /** the service's [DEFAULT] values, for the drivers that use service-wide settings
   *  (container: docker_data_dir, docker_daemon_args). Absent: none set. */
  service?: KeywordValues;
  log: Logger;
  paths: FerryPaths;
  /** the service's `nodes` (resolved), for drivers that act towards the other nodes */
  serviceNodes?: readonly string[];
}

/** A resource driver: its schema (what the config layer reads) plus its class and its factory. */
export interface DriverSpec extends DriverSchema {
  kind: ResourceKind;
  create(ctx: ResourceContext): Resource;
}
