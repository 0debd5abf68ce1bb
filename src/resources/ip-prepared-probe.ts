// A prepared (rolling) duplicate-address probe: while the daemon suspects the owner of an
// address is dying, the node that would take the address over runs Habets' arping in its
// RFC 5227 probe mode (sender 0.0.0.0: no side effect on anybody's ARP cache) continuously,
// one probe every ROLLING_INTERVAL_MS, exiting at the first reply (-C 1). When the start then
// comes, the ip driver takes this probe instead of spawning a new one; the address is free
// only if the probe is still running, has probed for at least the start's window, has probed
// recently, and has seen no reply: its evidence covers the same window, ending at the same
// instant, with more probes than the normal probe's three. A reply at any time is a duplicate.
// Anything else (arping exited, failed, stalled) and the start runs the normal probe.
//
// Process-wide registry, keyed by device and address: the daemon prepares through one Service
// object and starts through another. Every probe is killed on take, on cancel, at its time to
// live, and at process exit: none is ever left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** one probe every 15 ms: at least three in the shortest window (dup_probe_timeout_handover's 50 ms) */
export const ROLLING_INTERVAL_MS = 15;
/** a probe that printed nothing for this long is not probing (a `Timeout` line follows every probe) */
const STALL_MS = 3 * ROLLING_INTERVAL_MS + 50;

/** What a rolling probe has shown so far (monotonic ms). */
export interface ProbeEvidence {
  /** arping printed its `ARPING <address>` header: its capture is open, probes follow */
  since: number | undefined;
  /** the last line it printed (header, a probe's `Timeout`, a reply) */
  lastActivity: number | undefined;
  /** a reply was seen (a line `... bytes from ...`, or its statistics with replies, or exit 0) */
  replied: boolean;
  /** the process ended (or could not start) */
  ended: boolean;
}

export type PreparedVerdict = { verdict: 'reply' } | { verdict: 'free'; probedMs: number } | { verdict: 'wait'; ms: number } | { verdict: 'unusable'; why: string };

/**
 * The rule: what a prepared probe proves at `now` for a start that wants `windowMs` of probing.
 * 'wait': alive, no reply, not long enough yet (the start may wait that much on it).
 */
export function preparedVerdict(e: ProbeEvidence, now: number, windowMs: number): PreparedVerdict {
  if (e.replied) return { verdict: 'reply' };
  if (e.ended) return { verdict: 'unusable', why: 'the prepared probe ended' };
  if (e.since === undefined) return { verdict: 'wait', ms: windowMs };
  if (e.lastActivity === undefined || now - e.lastActivity > STALL_MS) return { verdict: 'unusable', why: 'the prepared probe stalled' };
  const probed = now - e.since;
  if (probed < windowMs) return { verdict: 'wait', ms: windowMs - probed };
  return { verdict: 'free', probedMs: Math.round(probed) };
}

/** arping's line for a reply (Habets: `42 bytes from aa:bb:.. (10.0.0.1): index=0 time=15 usec`) or its statistics */
const REPLY_LINE = /\bbytes from\b/;
const STATS_LINE = /(\d+) packets transmitted, (\d+) packets received/;

/** Fold one line of arping's output into the evidence. */
export function foldLine(e: ProbeEvidence, line: string, at: number): void {
  if (line.trim() === '') return;
  e.lastActivity = at;
  if (/^ARPING /.test(line)) e.since ??= at;
  if (REPLY_LINE.test(line)) e.replied = true;
  const m = STATS_LINE.exec(line);
  if (m && Number(m[2]) > 0) e.replied = true;
}

export class RollingProbe {
  readonly evidence: ProbeEvidence = { since: undefined, lastActivity: undefined, replied: false, ended: false };
  private readonly child: ChildProcess;
  private ttl: NodeJS.Timeout;
  private buf = '';
  private readonly waiters = new Set<() => void>();
  readonly startedAt = performance.now();

  constructor(
    readonly dev: string,
    readonly address: string,
    ttlMs: number,
    /** ended: out of the registry, unless it saw a reply (kept for the start to take) or `discard` (killed on purpose) */
    private readonly onGone: (p: RollingProbe, discard: boolean) => void,
    file = 'arping',
  ) {
    // -w: arping's own deadline, the time to live: even a daemon killed with SIGKILL (no exit
    // hook) leaves no probe running past it
    this.child = spawn(file, ['-C', '1', '-W', (ROLLING_INTERVAL_MS / 1000).toFixed(3), '-w', (Math.max(ttlMs, 1000) / 1000).toFixed(3), '-i', dev, '-S', '0.0.0.0', address], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        foldLine(this.evidence, this.buf.slice(0, i), performance.now());
        this.buf = this.buf.slice(i + 1);
      }
      this.notify();
    });
    // an error is printed before any probe: the probe cannot be trusted
    this.child.stderr!.on('data', () => this.end());
    this.child.on('error', () => this.end());
    this.child.on('close', (code) => {
      if (code === 0) this.evidence.replied = true;
      this.end();
    });
    this.ttl = setTimeout(() => this.kill(), ttlMs);
    this.ttl.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.evidence.ended;
  }

  /** a later preparation of the same address: live that long from now */
  extend(ttlMs: number): void {
    // (arping's own -w deadline stays the first one: a later preparation after it gets a new probe)
    clearTimeout(this.ttl);
    this.ttl = setTimeout(() => this.kill(), ttlMs);
    this.ttl.unref();
  }

  private notify(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private end(): void {
    if (this.evidence.ended) return;
    this.evidence.ended = true;
    // a reply is kept (for the start to take) until its time to live, a cancel or a take
    if (!this.evidence.replied) clearTimeout(this.ttl);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.notify();
    this.onGone(this, false);
  }

  /** resolves after ms, or earlier when the probe prints or ends */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.add(done);
    });
  }

  /** kill it and drop it from the registry (a reply it saw is dropped with it) */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.end();
    clearTimeout(this.ttl);
    this.onGone(this, true);
  }
}

const probes = new Map<string, RollingProbe>();
const key = (dev: string, address: string) => `${dev}\0${address}`;

let exitHook = false;
function killAllAtExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of probes.values()) p.kill();
  });
}

/**
 * Start (or keep) the rolling probe of `address` on `dev`, alive at most ttlMs from now.
 * Returns its cancel: kills it (if it is still this one and not taken).
 */
export function prepareProbe(dev: string, address: string, ttlMs: number, file?: string): { cancel: () => void; probe: RollingProbe } {
  killAllAtExit();
  const k = key(dev, address);
  let p = probes.get(k);
  if (p?.running || p?.evidence.replied) p.extend(ttlMs);
  else {
    p = new RollingProbe(dev, address, ttlMs, (gone, discard) => (discard || !gone.evidence.replied) && probes.get(k) === gone && probes.delete(k), file);
    probes.set(k, p);
  }
  const mine = p;
  return { probe: mine, cancel: () => mine.kill() };
}

/** The start's side: take the prepared probe of this address out of the registry (the taker kills it). */
export function takeProbe(dev: string, address: string): RollingProbe | undefined {
  const k = key(dev, address);
  const p = probes.get(k);
  if (p) probes.delete(k);
  return p;
}

/** Pids of the prepared probes still running (tests: none may survive). */
export function runningProbes(): number[] {
  return [...probes.values()].filter((p) => p.running && p.pid !== undefined).map((p) => p.pid!);
}

/**
 * Use a taken probe for a start that wants windowMs: wait (at most windowMs) while it is young,
 * then its verdict. The probe is killed before this returns, whatever the verdict.
 */
export async function consumeProbe(p: RollingProbe, windowMs: number): Promise<PreparedVerdict> {
  try {
    const deadline = performance.now() + windowMs + STALL_MS;
    for (;;) {
      const now = performance.now();
      const v = preparedVerdict(p.evidence, now, windowMs);
      if (v.verdict !== 'wait') return v;
      if (now >= deadline) return { verdict: 'unusable', why: 'the prepared probe did not get going in time' };
      await p.changed(Math.min(v.ms, deadline - now) + 1);
    }
  } finally {
    p.kill();
  }
}
