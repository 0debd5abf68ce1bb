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
// Handover mode (a relocation's target, prepared as soon as the relocation is decided): the
// owner still holds the address and answers the probes, so the probe does not exit at a reply;
// it keeps probing and records when it last saw one. The start takes it once the owner has
// published the address removed (its `ip` group released), and only the evidence after that
// announce counts (handoverVerdict): a reply seen then is a duplicate, probing must cover the
// whole window after it.
//
// Process-wide registry, keyed by device and address: the daemon prepares through one Service
// object and starts through another. Every probe is killed on take, on cancel, at its time to
// live, and at process exit: none is ever left running.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
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
  /** when the last reply line was read (handover mode: replies from the owner before it released the address are expected) */
  lastReplyAt?: number | undefined;
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

/**
 * Replies read up to this long after the owner's announce are taken for answers to probes sent
 * before it removed the address (the pipe's backlog, the probe in flight); the evidence of a
 * handover probe starts after it, so that margin is never counted as probing.
 */
export const HANDOVER_REPLY_GRACE_MS = 10;

/**
 * The handover rule: what a probe prepared while the owner still held the address proves at
 * `now`, the owner having announced it removed at `releasedAt` (monotonic ms, when this node
 * read the announce). Only what came after the announce counts: the evidence starts at
 * releasedAt + HANDOVER_REPLY_GRACE_MS (or later, when the probe got going later); a reply read
 * after that instant is a duplicate (someone else holds the address); a reply before it is the
 * owner's and is ignored; free once the probe has probed for the whole window after that
 * start, recently, without such a reply. A probe that ended proves nothing about now.
 */
export function handoverVerdict(e: ProbeEvidence, now: number, windowMs: number, releasedAt: number): PreparedVerdict {
  const from = releasedAt + HANDOVER_REPLY_GRACE_MS;
  if (e.lastReplyAt !== undefined && e.lastReplyAt > from) return { verdict: 'reply' };
  // (a reply without a time, the statistics line or exit 0, cannot be placed: a duplicate, as for a suspect probe)
  if (e.replied && e.lastReplyAt === undefined) return { verdict: 'reply' };
  if (e.ended) return { verdict: 'unusable', why: 'the prepared probe ended' };
  if (e.since === undefined) return { verdict: 'wait', ms: Math.max(windowMs, from + windowMs - now) };
  if (e.lastActivity === undefined || now - e.lastActivity > STALL_MS) return { verdict: 'unusable', why: 'the prepared probe stalled' };
  const start = Math.max(e.since, from);
  const probed = now - start;
  if (probed < windowMs) return { verdict: 'wait', ms: windowMs - probed };
  // the last line read must come from a probe sent after the evidence began
  if (e.lastActivity <= start) return { verdict: 'wait', ms: ROLLING_INTERVAL_MS };
  return { verdict: 'free', probedMs: Math.round(probed) };
}

/**
 * Is a prepared probe's reply a duplicate by itself? A suspect-mode probe's is: the owner is
 * dying, whoever answers holds the address. A handover probe's reply read after the announce
 * may still be the owner's last one: the reply's line and the announce come through different
 * channels (arping's pipe, the state channel), read in whatever order a loaded event loop takes
 * them, so the grace above cannot order them for sure. Then only a new probe, started after
 * the announce, tells: any reply to it is a duplicate (the owner removed the address before
 * announcing it).
 */
export function replyIsDuplicate(p: { readonly handover: boolean }): boolean {
  return !p.handover;
}

/** arping's line for a reply (Habets: `42 bytes from aa:bb:.. (10.0.0.1): index=0 time=15 usec`) or its statistics */
const REPLY_LINE = /\bbytes from\b/;
const STATS_LINE = /(\d+) packets transmitted, (\d+) packets received/;

/**
 * Fold one line of arping's output into the evidence. handover: replies are timed (the owner's
 * are expected before its announce) and the statistics, printed at exit, are not read.
 */
export function foldLine(e: ProbeEvidence, line: string, at: number, handover = false): void {
  if (line.trim() === '') return;
  e.lastActivity = at;
  if (/^ARPING /.test(line)) e.since ??= at;
  if (REPLY_LINE.test(line)) {
    if (handover) e.lastReplyAt = at;
    else e.replied = true;
  }
  if (handover) return;
  const m = STATS_LINE.exec(line);
  if (m && Number(m[2]) > 0) e.replied = true;
}

/** arping's output between two reads: the text after the last newline, and whether its reply was already folded */
export interface PendingOutput {
  buf: string;
  timed: boolean;
}

/**
 * Fold a chunk of arping's output read at `at`: its complete lines, and a reply still without
 * its newline. Habets' arping (2.23, the reply printer) prints a reply's text and flushes it at
 * once, but its newline only goes out with the next flush: the next reply, or the next probe's
 * `Timeout`, one interval (15 ms) later. A reply is timed when its text comes, so the owner's
 * last reply is placed when it was read, not one interval after; its line, once complete, is
 * not folded again. (In a handover the announce is read ~2 ms after the owner removed the
 * address since it rides in the beat; an interval late, the owner's last reply came after the
 * grace and cost a new probe.)
 */
export function foldOutput(e: ProbeEvidence, p: PendingOutput, chunk: string, at: number, handover = false): void {
  p.buf += chunk;
  let i;
  while ((i = p.buf.indexOf('\n')) >= 0) {
    if (p.timed) p.timed = false;
    else foldLine(e, p.buf.slice(0, i), at, handover);
    p.buf = p.buf.slice(i + 1);
  }
  if (!p.timed && REPLY_LINE.test(p.buf)) {
    foldLine(e, p.buf, at, handover);
    p.timed = true;
  }
}

export class RollingProbe {
  readonly evidence: ProbeEvidence = { since: undefined, lastActivity: undefined, replied: false, ended: false };
  private readonly child: ChildProcess;
  private ttl: NodeJS.Timeout;
  private readonly out: PendingOutput = { buf: '', timed: false };
  private readonly waiters = new Set<() => void>();
  readonly startedAt = performance.now();

  constructor(
    readonly dev: string,
    readonly address: string,
    ttlMs: number,
    /** ended: out of the registry, unless it saw a reply (kept for the start to take) or `discard` (killed on purpose) */
    private readonly onGone: (p: RollingProbe, discard: boolean) => void,
    file = 'arping',
    /** handover mode: goes on past replies (the owner's, until it releases the address) */
    readonly handover = false,
  ) {
    // -w: arping's own deadline, the time to live: even a daemon killed with SIGKILL (no exit
    // hook) leaves no probe running past it
    const [cmd, ...args] = lineBuffered([file, ...(handover ? [] : ['-C', '1']), '-W', (ROLLING_INTERVAL_MS / 1000).toFixed(3), '-w', (Math.max(ttlMs, 1000) / 1000).toFixed(3), '-i', dev, '-S', '0.0.0.0', address]);
    this.child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      foldOutput(this.evidence, this.out, d, performance.now(), this.handover);
      this.notify();
    });
    // an error is printed before any probe: the probe cannot be trusted
    this.child.stderr!.on('data', () => this.end());
    this.child.on('error', () => this.end());
    this.child.on('close', (code) => {
      // (handover: exit 0 at the deadline may be the owner's replies of long ago; an ended probe is unusable anyway)
      if (code === 0 && !handover) this.evidence.replied = true;
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

/** coreutils' stdbuf, where this host has it */
const STDBUF = '/usr/bin/stdbuf';
let stdbufPresent: boolean | undefined;

/**
 * argv run with its stdout line-buffered (`stdbuf -oL`), where stdbuf exists. The evidence
 * starts when arping's `ARPING` header is read, and arping flushes its stdout only after a
 * probe's line: to a pipe, the header (printed once its capture is open, before the first
 * probe) came with the first `Timeout`, one interval late (measured: 15 ms). Without stdbuf
 * (or for a binary that ignores LD_PRELOAD) the header is only read later: the evidence then
 * starts later than it could, never earlier.
 */
export function lineBuffered(argv: readonly string[]): string[] {
  stdbufPresent ??= fs.existsSync(STDBUF);
  return stdbufPresent ? [STDBUF, '-oL', ...argv] : [...argv];
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
export function prepareProbe(dev: string, address: string, ttlMs: number, file?: string, handover = false): { cancel: () => void; probe: RollingProbe } {
  killAllAtExit();
  const k = key(dev, address);
  let p = probes.get(k);
  // a probe of the other mode is replaced (a suspect probe stops at the owner's first reply; a
  // handover probe is of no use to a takeover, which has no announce to count from)
  if (p && p.handover !== handover && !p.evidence.replied) {
    p.kill();
    p = undefined;
  }
  if (p?.running || p?.evidence.replied) p.extend(ttlMs);
  else {
    p = new RollingProbe(dev, address, ttlMs, (gone, discard) => (discard || !gone.evidence.replied) && probes.get(k) === gone && probes.delete(k), file, handover);
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
export async function consumeProbe(p: RollingProbe, windowMs: number, releasedAt?: number): Promise<PreparedVerdict> {
  try {
    // a handover probe is used only with the announce it counts from; without one (a start
    // that is no handover) its evidence cannot be placed: unusable, the normal probe runs
    if (p.handover && releasedAt === undefined) return { verdict: 'unusable', why: 'a handover probe without the owner\'s announce' };
    const deadline = performance.now() + windowMs + STALL_MS + HANDOVER_REPLY_GRACE_MS;
    for (;;) {
      const now = performance.now();
      const v = releasedAt !== undefined && p.handover ? handoverVerdict(p.evidence, now, windowMs, releasedAt) : preparedVerdict(p.evidence, now, windowMs);
      if (v.verdict !== 'wait') return v;
      if (now >= deadline) return { verdict: 'unusable', why: 'the prepared probe did not get going in time' };
      await p.changed(Math.min(v.ms, deadline - now) + 1);
    }
  } finally {
    p.kill();
  }
}
