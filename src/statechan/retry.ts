// When the puller tries its peer's state channel again: a pure rule (unit-tested), so that a
// peer whose main thread was too busy to answer the handshake for minutes is pulled from as
// soon as it can answer, and a peer that is really away is not hammered.
//
// - after the n-th consecutive failure: wait first * 2^(n-1), capped at max; the attempts
//   never stop while the peer's beats are heard (the heartbeats say whether it is alive);
// - a beat announcing a generation (or incarnation) other than the one the pending retry was
//   scheduled for: try now, whatever the backoff (the peer is alive and has something new).

export const BACKOFF_MS = { first: 200, max: 5_000 };

/** consecutive failures before a warning (`statechan_unreachable`); a success after it logs `statechan_recovered` */
export const UNREACHABLE_AFTER = 5;

/** the wait before the next attempt after `consecutive` (>= 1) failures in a row */
export function retryDelay(consecutive: number, backoff: { first: number; max: number } = BACKOFF_MS): number {
  const n = Math.max(1, Math.floor(consecutive));
  // 2^(n-1) overflows to Infinity for large n: the cap still holds
  return Math.min(backoff.max, backoff.first * 2 ** (n - 1));
}

export interface Announced {
  inc: string;
  gen: number;
}

/** a retry is pending since a failure: does a beat announcing `next` cut the wait short? */
export function retryNow(scheduledFor: Announced | undefined, next: Announced): boolean {
  return scheduledFor === undefined || scheduledFor.inc !== next.inc || scheduledFor.gen !== next.gen;
}
