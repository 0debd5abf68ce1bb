// The gate of a takeover: a dead peer may still run what we want to start. It is cleared by
//  - a confirmed fence: a dead node that has a [stonith#node] section is fenced (powered off,
//    confirmed) first; a failed or timed out fence keeps the service down — unlike OpenSVC,
//    which starts it anyway — and is retried with backoff;
//  - or, when it cannot be fenced and quorum is on, the split grace: the lost node lost
//    quorum at the same time we declared it dead, and `split_grace` is the time it has to
//    apply its split_action (stop, crash). With split_action = freeze it keeps running its
//    services, so only a fence clears it.
// The reason for waiting is published so svcmon shows why nothing moves.
import type { ClusterConfig } from '../cluster/config.js';
import { SPLIT_GRACE_DEFAULT } from '../cluster/keywords.js';
import type { FenceInfo } from '../cluster/node-state.js';
import { agentActions, metadataCache } from '../fence/agent.js';
import { fenceDelayMs, fenceNode, FenceRetries, stonithFor } from '../fence/fencer.js';
import type { Logger } from '../log.js';
import { utcClock } from '../util/clock.js';
import { EVENT } from '../events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Clearance = { ok: true } | { ok: false; why: string };

export class Fencing {
  /** node → when it was fenced (confirmed off) */
  private readonly fenced = new Map<string, number>();
  private readonly running = new Set<string>();
  private readonly retries = new FenceRetries();
  /** node → when it was declared dead */
  private readonly deadSince = new Map<string, number>();
  /** when this node last gained quorum: the side that just lost it needs its grace from then */
  private quorateSince = 0;

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly self: string,
    private readonly log: Logger,
    /** a fence ended (either way): re-evaluate placements */
    private readonly onChange: () => void,
    /** is the node still dead? (it may come back during the fence delay) */
    private readonly isDead: (node: string) => boolean,
    /** where the agents' metadata is kept across restarts (the var dir) */
    metadataFile?: string,
  ) {
    // the agents' metadata (which actions they have) is asked once per agent version, kept
    // on disk: ask it now, off the takeover path (a Python fence agent takes ~100 ms to start)
    if (metadataFile) metadataCache.persistIn(metadataFile);
    for (const cfg of cluster.stonith) if (cfg.node !== self) void agentActions(cfg).catch(() => undefined);
  }

  /** The node was declared dead (all heartbeats lost). */
  peerDown(node: string, now = Date.now()): void {
    if (!this.deadSince.has(node)) this.deadSince.set(node, now);
  }

  /** This node just gained quorum (e.g. an arbitrator's vote moved to us). */
  quorumGained(now = Date.now()): void {
    this.quorateSince = now;
  }

  /** The node was heard again: an old fence of it no longer proves anything. */
  peerBack(node: string): void {
    this.fenced.delete(node);
    this.deadSince.delete(node);
    this.retries.reset(node);
  }

  isFenced(node: string): boolean {
    return this.fenced.has(node);
  }

  canFence(node: string): boolean {
    return stonithFor(this.cluster, node) !== undefined;
  }

  /**
   * May a service be taken over from these dead nodes? useStonith: the service allows
   * waiting for fences (its `stonith` keyword). Fences needed are started (one at a time per
   * node, after the race delay, or when their backoff expired).
   */
  clearToTakeOver(dead: readonly string[], useStonith: boolean, now = Date.now()): Clearance {
    const waits: string[] = [];
    for (const node of dead) {
      if (this.fenced.has(node)) continue;
      if (useStonith && this.canFence(node)) {
        this.ensureFence(node);
        waits.push(this.describe(node));
        continue;
      }
      if (!this.cluster.quorum) continue;
      if (this.cluster.splitAction === 'freeze') {
        waits.push(`${node} is lost and keeps its services frozen without quorum (split_action = freeze), and it cannot be fenced: not taking over`);
        continue;
      }
      const until = Math.max(this.deadSince.get(node) ?? now, this.quorateSince) + (this.cluster.splitGrace ?? SPLIT_GRACE_DEFAULT);
      if (now < until) waits.push(`${node} lost: giving it until ${utcClock(until)} UTC (split_grace) to stop its services`);
    }
    return waits.length ? { ok: false, why: waits.join('; ') } : { ok: true };
  }

  /** Start fencing `node` unless it is fenced, being fenced, or waiting for its backoff. */
  ensureFence(node: string): void {
    if (this.fenced.has(node) || this.running.has(node) || !this.retries.due(node) || !this.canFence(node)) return;
    this.fence(node);
  }

  /** For the published node state: what this node did to its peers. */
  snapshot(): Record<string, FenceInfo> {
    const out: Record<string, FenceInfo> = {};
    for (const [node, at] of this.fenced) out[node] = { state: 'fenced', at };
    for (const node of this.running) out[node] = { state: 'fencing', at: Date.now() };
    for (const node of this.cluster.nodes) {
      const f = this.retries.info(node);
      if (f && !out[node]) out[node] = { state: 'failed', at: f.nextAt, failures: f.failures, error: f.lastError, nextAt: f.nextAt };
    }
    return out;
  }

  private describe(node: string): string {
    const failed = this.retries.info(node);
    if (this.running.has(node) || !failed) return `waiting for the fence of ${node}`;
    return `fence of ${node} failed (${failed.failures}x): ${failed.lastError}; not starting, next attempt at ${utcClock(failed.nextAt)} UTC`;
  }

  private fence(node: string): void {
    this.running.add(node);
    void (async () => {
      const delay = fenceDelayMs(this.cluster, this.self, node);
      if (delay > 0) {
        this.log.warn({ event: EVENT.fenceDelay, node, target: node, delayMs: delay }, `waiting ${delay} ms before fencing ${node} (two-node fence race)`);
        await sleep(delay);
        if (!this.isDead(node)) {
          this.log.info({ event: EVENT.fenceSkipped, node, target: node }, `${node} came back before its fence: not fencing`);
          return;
        }
      }
      this.log.warn({ event: EVENT.fenceBegin, node, target: node }, `fencing ${node}`);
      const out = await fenceNode(this.cluster, node, this.log);
      if (out.ok) {
        this.fenced.set(node, Date.now());
        this.retries.reset(node);
        this.log.warn({ event: EVENT.fenceEnd, node, target: node, ok: true, ms: out.ms }, `fenced ${node}: ${out.message}`);
      } else {
        const retry = this.retries.failed(node, out.message);
        this.log.error({ event: EVENT.fenceEnd, node, target: node, ok: false, err: out.message, retryMs: retry }, `fence of ${node} failed: ${out.message}`);
      }
    })()
      .catch((e: unknown) => {
        this.retries.failed(node, e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        this.running.delete(node);
        this.onChange();
      });
  }
}
