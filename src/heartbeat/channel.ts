// One heartbeat as the engine sees it: the replay guard, counters and per-peer rx liveness.
// Pure bookkeeping with an injected monotonic clock, so the rules are unit-testable.
import type { HbConfig } from '../cluster/config.js';
import type { DropReason, Header } from './envelope.js';
import { ReplayGuard } from './envelope.js';
import type { DropCounts, HbStats, RxState, TxState } from './types.js';
import { emptyDrops } from './types.js';

interface PeerRx {
  /** monotonic ms of the last accepted message */
  lastMono: number | undefined;
  lastEpoch: number | null;
  rx: number;
  drops: DropCounts;
}

export class Channel {
  readonly guard = new ReplayGuard();
  private readonly peers = new Map<string, PeerRx>();
  readonly drops: DropCounts = emptyDrops();
  tx = 0;
  txState: TxState = 'up';
  txError: string | undefined;
  lastSent: number | null = null;
  maxBytes = 0;

  constructor(
    readonly cfg: HbConfig,
    peerNames: readonly string[],
    /** monotonic ms at start: a peer never heard is "unknown" until the timeout has passed */
    private readonly startMono: number,
  ) {
    for (const p of peerNames) this.peers.set(p, { lastMono: undefined, lastEpoch: null, rx: 0, drops: emptyDrops() });
  }

  drop(reason: DropReason, claimedSender: string | undefined): void {
    this.drops[reason]++;
    const p = claimedSender === undefined ? undefined : this.peers.get(claimedSender);
    if (p) p.drops[reason]++;
  }

  /** an authentic, fresh message from `peer` */
  seen(peer: string, nowMono: number, nowEpoch: number): void {
    const p = this.peers.get(peer);
    if (!p) return;
    p.lastMono = nowMono;
    p.lastEpoch = nowEpoch;
    p.rx++;
  }

  /** replay check, and remember the header when fresh */
  fresh(h: Header): boolean {
    return this.guard.accept(h);
  }

  /** rx state ignoring graceful leave (the engine knows about that) */
  rxState(peer: string, nowMono: number): Exclude<RxState, 'left'> {
    const p = this.peers.get(peer);
    if (!p || p.lastMono === undefined) return nowMono - this.startMono > this.cfg.timeout ? 'down' : 'unknown';
    return nowMono - p.lastMono <= this.cfg.timeout ? 'up' : 'down';
  }

  /**
   * The monotonic ms after which rxState(peer) turns from up (or unknown) to down if nothing
   * more is heard; undefined when it is down already. The engine evaluates then, not on a poll.
   */
  expiresAt(peer: string, nowMono: number): number | undefined {
    const p = this.peers.get(peer);
    const from = !p || p.lastMono === undefined ? this.startMono : p.lastMono;
    return nowMono - from > this.cfg.timeout ? undefined : from + this.cfg.timeout;
  }

  /** forget liveness, e.g. when the peer said it is leaving */
  forget(peer: string): void {
    const p = this.peers.get(peer);
    if (p) p.lastMono = undefined;
  }

  stats(nowMono: number, left: (peer: string) => boolean): HbStats {
    const peers: HbStats['peers'] = {};
    for (const [name, p] of this.peers) {
      const st = this.rxState(name, nowMono);
      peers[name] = { rxState: st !== 'up' && left(name) ? 'left' : st, lastSeen: p.lastEpoch, rx: p.rx, drops: { ...p.drops } };
    }
    return { id: this.cfg.id, type: this.cfg.type, txState: this.txState, txError: this.txError, tx: this.tx, lastSent: this.lastSent, maxBytes: this.maxBytes, drops: { ...this.drops }, peers };
  }
}
