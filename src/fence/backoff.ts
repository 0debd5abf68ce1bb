// Retry schedule for a failed fence. A takeover never starts unfenced, so a failing fence is
// retried until it works; the delay grows so a broken BMC or PDU is not hammered, and is
// capped so the service comes back soon after the fence device does.

export interface BackoffOptions {
  /** first retry delay, ms (default 2 s) */
  baseMs?: number;
  /** longest delay, ms (default 60 s) */
  maxMs?: number;
}

/** Delay before retry number `attempt` (1 = the first retry after the first failure): base·2^(attempt-1), capped. */
export function fenceBackoffMs(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 2_000;
  const max = opts.maxMs ?? 60_000;
  if (attempt < 1) return 0;
  // 2^30 already exceeds any sane cap: avoid Infinity arithmetic on long outages
  return Math.min(max, base * 2 ** Math.min(attempt - 1, 30));
}

/** Per-node fence retry state: when a failed node may be tried again, and how often it failed. */
export class FenceRetries {
  private readonly state = new Map<string, { failures: number; nextAt: number; lastError: string }>();
  constructor(private readonly opts: BackoffOptions = {}) {}

  /** May `node` be fenced now? True when it never failed or its backoff expired. */
  due(node: string, now = Date.now()): boolean {
    const s = this.state.get(node);
    return !s || now >= s.nextAt;
  }

  /** Record a failure; returns the delay until the next attempt. */
  failed(node: string, error: string, now = Date.now()): number {
    const failures = (this.state.get(node)?.failures ?? 0) + 1;
    const delay = fenceBackoffMs(failures, this.opts);
    this.state.set(node, { failures, nextAt: now + delay, lastError: error });
    return delay;
  }

  /** A success (or the node came back by itself): forget its failures. */
  reset(node: string): void {
    this.state.delete(node);
  }

  /** For svcmon / print status: failures so far, last error, next attempt time. */
  info(node: string): { failures: number; nextAt: number; lastError: string } | undefined {
    const s = this.state.get(node);
    return s ? { ...s } : undefined;
  }
}
