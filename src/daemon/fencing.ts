// Fencing of lost peers: the fences run (one at a time per node, after the two-node race
// delay, retried with backoff), who is fenced, when each node was declared dead and when this
// node last gained quorum. The takeover verdict made of these facts is a pure function
// (src/cluster/fence-clearance.ts), an input of the orchestrator's decide(); the reason for
// waiting is published so svcmon shows why nothing moves.
import type { ClusterConfig } from '../cluster/config.js';
import type { FenceFacts } from '../cluster/fence-clearance.js';
import type { FenceInfo } from '../cluster/node-state.js';
import { agentActions, metadataCache } from '../fence/agent.js';
import { fenceDelayMs, fenceNode, FenceRetries, stonithFor } from '../fence/fencer.js';
import type { Logger } from '../log.js';
import { utcClock } from '../util/clock.js';
import { EVENT } from '../events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
   * What a takeover's fencing verdict is made of (src/cluster/fence-clearance.ts decides it,
   * inside the orchestrator's decide()); the fences it waits for are started by ensureFence.
   */
  facts(): FenceFacts {
    const nodes: FenceFacts['nodes'] = {};
    for (const node of this.cluster.nodes) {
      if (node === this.self) continue;
      nodes[node] = { fenced: this.fenced.has(node), fenceable: this.canFence(node), deadSince: this.deadSince.get(node), waitWhy: this.describe(node) };
    }
    return { quorum: this.cluster.quorum, splitAction: this.cluster.splitAction, splitGrace: this.cluster.splitGrace, quorateSince: this.quorateSince, nodes };
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
