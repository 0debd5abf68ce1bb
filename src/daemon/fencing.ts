// The fencing gate of a takeover: a dead node that has a [stonith#node] section is fenced
// (powered off, confirmed) before any service is started in its place. A failed or timed
// out fence keeps the service down — unlike OpenSVC, which starts it anyway — and is
// retried with backoff; the reason is published so svcmon shows why nothing moves.
import type { ClusterConfig } from '../cluster/config.js';
import { fenceDelayMs, fenceNode, FenceRetries, stonithFor } from '../fence/fencer.js';
import type { Logger } from '../log.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Clearance = { ok: true } | { ok: false; why: string };

export class Fencing {
  private readonly fenced = new Set<string>();
  private readonly running = new Set<string>();
  private readonly retries = new FenceRetries();

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly self: string,
    private readonly log: Logger,
    /** a fence ended (either way): re-evaluate placements */
    private readonly onChange: () => void,
    /** is the node still dead? (it may come back during the fence delay) */
    private readonly isDead: (node: string) => boolean,
  ) {}

  /** The node was heard again: an old fence of it no longer proves anything. */
  peerBack(node: string): void {
    this.fenced.delete(node);
    this.retries.reset(node);
  }

  /**
   * May a service be taken over from these dead nodes? Those that need fencing and are not
   * fenced yet block it; their fence is started (once at a time, after the race delay, or
   * when its backoff expired).
   */
  clearToTakeOver(dead: readonly string[]): Clearance {
    const waits: string[] = [];
    for (const node of dead) {
      if (this.fenced.has(node) || !stonithFor(this.cluster, node)) continue;
      if (!this.running.has(node) && this.retries.due(node)) this.fence(node);
      waits.push(this.describe(node));
    }
    return waits.length ? { ok: false, why: waits.join('; ') } : { ok: true };
  }

  private describe(node: string): string {
    const failed = this.retries.info(node);
    if (this.running.has(node) || !failed) return `waiting for the fence of ${node}`;
    // an absolute time: the text stays the same between two attempts (it is logged on change)
    const at = new Date(failed.nextAt).toISOString().slice(11, 19);
    return `fence of ${node} failed (${failed.failures}x): ${failed.lastError}; not starting, next attempt at ${at} UTC`;
  }

  private fence(node: string): void {
    this.running.add(node);
    void (async () => {
      const delay = fenceDelayMs(this.cluster, this.self, node);
      if (delay > 0) {
        this.log.warn({ node, delayMs: delay }, `waiting ${delay} ms before fencing ${node} (two-node fence race)`);
        await sleep(delay);
        if (!this.isDead(node)) {
          this.log.info({ node }, `${node} came back before its fence: not fencing`);
          return;
        }
      }
      this.log.warn({ node }, `fencing ${node}`);
      const out = await fenceNode(this.cluster, node, this.log);
      if (out.ok) {
        this.fenced.add(node);
        this.retries.reset(node);
        this.log.warn({ node, ms: out.ms }, `fenced ${node}: ${out.message}`);
      } else {
        const retry = this.retries.failed(node, out.message);
        this.log.error({ node, err: out.message, retryMs: retry }, `fence of ${node} failed: ${out.message}`);
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
