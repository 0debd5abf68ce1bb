// The daemon's main thread serves the control socket and the state channel (peers' pulls and
// their handshakes, src/statechan): a long synchronous step starves them. This watches the
// event loop's delay (perf_hooks) and says, once per window, how late it ran: at debug, at
// info past NOTE_MS, at warn past WARN_MS (a peer's handshake to us may have timed out).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';

export const LOOP_LAG_WINDOW_MS = 30_000;
/** a delay above this is a starved main thread worth a warning (a third of the state channel's handshake timeout) */
export const LOOP_LAG_WARN_MS = 1_500;
/** worth a line in the log at the default level (benchmarks read it) */
export const LOOP_LAG_NOTE_MS = 250;

/**
 * The histogram samples on a timer of this period and records the time between two samples:
 * the period is subtracted, so 0 is on time; a stall of L ms is seen as L - 100 to L. 100 ms,
 * not 20: an idle daemon is not woken 50 times a second to learn it is idle (0.26 % of a core).
 */
const RESOLUTION_MS = 100;

export class LoopLag {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly log: Logger) {
    this.h.enable();
    this.timer = setInterval(() => this.report(), LOOP_LAG_WINDOW_MS);
    this.timer.unref();
  }

  private report(): void {
    const ms = (ns: number) => Math.max(0, Math.round(ns / 1e6) - RESOLUTION_MS);
    const max = ms(this.h.max);
    const fields = { event: EVENT.daemonLoopLag, window_ms: LOOP_LAG_WINDOW_MS, p50_ms: ms(this.h.percentile(50)), p99_ms: ms(this.h.percentile(99)), max_ms: max };
    this.h.reset();
    if (max > LOOP_LAG_WARN_MS) this.log.warn(fields, `main thread delayed up to ${max} ms in the last ${LOOP_LAG_WINDOW_MS / 1000} s`);
    else if (max > LOOP_LAG_NOTE_MS) this.log.info(fields, `main thread delayed up to ${max} ms in the last ${LOOP_LAG_WINDOW_MS / 1000} s`);
    else this.log.debug(fields, 'main thread delay');
  }

  stop(): void {
    clearInterval(this.timer);
    this.h.disable();
  }
}
