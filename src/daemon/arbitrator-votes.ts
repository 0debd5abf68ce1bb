// The arbitrators' votes as this node holds them. Asked only when the nodes this node hears
// are not a majority by themselves, renewed every tick while needed. A vote counts for
// less time than the arbitrator keeps it (VALID_MS < LEASE_MS): when an arbitrator stops
// answering, this node stops counting its vote before the other partition can get it.
import { askVote } from '../arbitrator/client.js';
import { warmHttpClient } from '../util/warm-http-client.js';
import type { ClusterConfig } from '../cluster/config.js';
import type { Logger } from '../log.js';
import { EVENT } from '../events.js';

/** how long the arbitrator keeps a vote for us without renewal */
export const LEASE_MS = 6_000;
/** how long we count it after asking (counted from before the request was sent) */
export const VALID_MS = 4_000;

interface Held {
  granted: boolean;
  validUntil: number;
  error?: string;
  holder: string[];
}

export class ArbitratorVotes {
  private readonly held = new Map<string, Held>();
  private asking = false;

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly self: string,
    private readonly log: Logger,
    /** a vote was won or lost: re-evaluate */
    private readonly onChange: () => void,
  ) {
    // the first HTTP exchange builds Node's HTTP client (~25-50 ms): not on the takeover path
    if (cluster.arbitrators.length) void warmHttpClient();
  }

  /** votes this partition holds now */
  granted(now = Date.now()): number {
    return [...this.held.values()].filter((h) => h.granted && now < h.validUntil).length;
  }

  /** arbitrators asked whose first answer since release() is still awaited */
  pending(): number {
    if (!this.asking) return 0;
    return this.cluster.arbitrators.filter((a) => !this.held.has(a.id)).length;
  }

  /** Ask (or renew with) every arbitrator for the partition `members`; one round at a time. */
  ask(members: readonly string[]): void {
    if (this.asking || this.cluster.arbitrators.length === 0) return;
    this.asking = true;
    const sorted = [...new Set([this.self, ...members])].sort();
    const before = this.granted();
    void Promise.all(
      this.cluster.arbitrators.map(async (arb) => {
        const sentAt = Date.now();
        const r = await askVote(arb, { name: this.cluster.name, secret: this.cluster.secret }, this.self, sorted, LEASE_MS);
        const prev = this.held.get(arb.id);
        const next: Held = { granted: r.granted, validUntil: r.granted ? sentAt + VALID_MS : 0, holder: r.holder, ...(r.error ? { error: r.error } : {}) };
        this.held.set(arb.id, next);
        if (prev?.granted !== next.granted || prev?.error !== next.error) {
          const msg = r.granted
            ? `${arb.id} gives its vote to ${sorted.join(' ')}`
            : `${arb.id} refuses its vote: ${r.error ?? `held by ${r.holder.join(' ') || 'nobody'}`}`;
          this.log.warn({ event: EVENT.quorumVote, arbitrator: arb.id, members: sorted, granted: r.granted, holder: r.holder, err: r.error }, msg);
        }
      }),
    ).finally(() => {
      this.asking = false;
      if (this.granted() !== before) this.onChange();
    });
  }

  /** Not needed any more (the nodes are a majority): stop counting; the lease expires by itself. */
  release(): void {
    this.held.clear();
  }

  snapshot(now = Date.now()): Record<string, { granted: boolean; error?: string }> {
    const out: Record<string, { granted: boolean; error?: string }> = {};
    for (const a of this.cluster.arbitrators) {
      const h = this.held.get(a.id);
      const granted = h !== undefined && h.granted && now < h.validUntil;
      const error = h === undefined ? 'not asked (not needed)' : granted ? undefined : (h.error ?? `held by ${h.holder.join(' ') || 'nobody'}`);
      out[a.id] = { granted, ...(error ? { error } : {}) };
    }
    return out;
  }
}
