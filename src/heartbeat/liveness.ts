// When a peer's liveness verdicts change, as instants on the engine's monotonic clock: pure
// rules, so the engine can arm one timer for the next change instead of polling (a poll lags
// the real timeout by up to one period: ~18 ms on average at 100 ms / 300 ms, measured as
// part of the ~50 ms by which detection came late, docs/benchmarks.md).
//
// "down" keeps its meaning: every heartbeat silent for longer than its timeout. A heartbeat's
// silence counts from its last accepted message (or from the engine's start while it never
// heard the peer: the start-up grace).
//
// "suspect" is advisory and changes nothing that is decided on liveness: the peer is still up,
// but every heartbeat has been silent for longer than its suspect threshold (below). The daemon
// uses it only to prepare a takeover's start (a rolling duplicate-address probe), read-only and
// cancelled when a beat comes back.

/** One heartbeat's view of one peer: the last accepted message (monotonic ms) and its settings. */
export interface RxView {
  /** monotonic ms of the last accepted message; undefined if never heard (or forgotten: left) */
  lastMono: number | undefined;
  /** monotonic ms the heartbeat started */
  startMono: number;
  interval: number;
  timeout: number;
}

/** Share of the timeout after which a silent heartbeat makes its peer suspect. */
export const SUSPECT_FRACTION = 0.4;
/** ... and never before this many intervals of silence (a beat that is merely late is no suspicion). */
export const SUSPECT_MIN_INTERVALS = 1.2;

/** silence (ms) past which this heartbeat counts its peer as suspect: max(40 % of timeout, 1.2 intervals), below the timeout */
export function suspectAfter(v: Pick<RxView, 'interval' | 'timeout'>): number {
  return Math.min(v.timeout, Math.max(v.timeout * SUSPECT_FRACTION, v.interval * SUSPECT_MIN_INTERVALS));
}

const silentSince = (v: RxView): number => v.lastMono ?? v.startMono;

/** The instant this heartbeat turns down (silent for longer than the timeout): from then on, `now > downAt`. */
export function rxDownAt(v: RxView): number {
  return silentSince(v) + v.timeout;
}

/**
 * The instant the peer is down on every heartbeat: the latest of their down instants (down
 * means all silent). undefined without heartbeats.
 */
export function peerDownAt(views: readonly RxView[]): number | undefined {
  if (views.length === 0) return undefined;
  return Math.max(...views.map(rxDownAt));
}

/**
 * The instant the peer becomes suspect: every heartbeat has heard it at least once (a peer
 * never heard is not suspected, it is unknown) and is silent past its suspect threshold.
 * undefined when some heartbeat never heard it.
 */
export function peerSuspectAt(views: readonly RxView[]): number | undefined {
  if (views.length === 0 || views.some((v) => v.lastMono === undefined)) return undefined;
  return Math.max(...views.map((v) => v.lastMono! + suspectAfter(v)));
}

/** Is the peer suspect at `now`: past its suspect instant, not yet past its down instant. */
export function isSuspect(views: readonly RxView[], now: number): boolean {
  const s = peerSuspectAt(views);
  const d = peerDownAt(views);
  return s !== undefined && d !== undefined && now > s && now <= d;
}

/**
 * The next instant after `now` at which some verdict may change (a heartbeat turns down, the
 * peer becomes suspect): the engine's one timer. undefined when nothing is pending (every
 * heartbeat already down).
 */
export function nextChange(views: readonly RxView[], now: number): number | undefined {
  let next: number | undefined;
  const consider = (t: number | undefined) => {
    if (t !== undefined && t >= now && (next === undefined || t < next)) next = t;
  };
  for (const v of views) consider(rxDownAt(v));
  consider(peerSuspectAt(views));
  return next;
}
