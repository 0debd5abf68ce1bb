// The daemon's command runner: one small long-lived co-process (perl, ~7 MB) that starts the
// daemon's frequent read-only commands (app checks, OCF monitors, app info), so the daemon
// does not fork itself for each. Node's spawn is fork()+exec of the whole ~90 MB daemon: the
// fork copies its page tables and write-protects all its memory (every thread then takes
// copy-on-write faults on the pages it writes), the child tears it all down at exec. Through
// the runner the daemon writes one request and reads two short lines; the runner forks
// itself and execs the command. On the idle bench (docs/benchmarks.md, 100 checks a minute)
// this took the owner from 3.5–3.8 % to 2.9–3.0 % of a core; in a tight loop of spawns, where the
// daemon does nothing else, the two ways cost about the same (~4 ms a command, most of it
// the runner's fork and exec once the daemon's own share is gone).
//
// Why perl and not a /bin/sh loop: a shell cannot give the command its own session without
// exec'ing setsid(1), nor reset the SIGINT/SIGQUIT its background jobs ignore, nor give an
// exact environment, without env(1): the two extra execs cost more than the fork they save
// (measured: 3.3–4.4 ms a command against 2.8 for the direct spawn); and dash reads a pipe
// one byte per read(2) (3.6 ms for a 3 KB request). perl-base is Essential on Debian; where
// /usr/bin/perl is missing the daemon spawns directly, as the CLI always does.
//
// What the command gets is what libuv's spawn gives it (src/resources/app-command.ts,
// `detached`): its own session (setsid), stdin /dev/null, stdout/stderr the given files
// (O_WRONLY|O_CREAT|O_TRUNC, 0640), fds 0-2 only, the cwd (chdir(2), relative to the
// daemon's), exactly the given environment in the given order, no signal ignored or blocked,
// execvp(3) of the file through that environment's PATH with argv[0] = file. Differences:
// its parent is the runner, not the daemon ($PPID); a command that exits 127 is run again
// directly (127 is also what the runner exits with when it could not start it: cwd, files,
// exec), so its answer, error message included, is the direct spawn's. Anything the runner
// does not do (uid/gid, a NUL in a word, a name with `=` in the environment) is left to the
// caller's direct spawn.
//
// Protocol (the daemon writes, the runner reads): `<length>\n` then the request, its fields
// joined by NUL: id, cwd, stdout file, stderr file, number of env entries, the `K=V` entries,
// then argv (a word never holds a NUL). The runner answers lines `<id> P <pid>` (forked) and
// `<id> X <wait status>` (reaped: the raw status, so a signal is told apart from an exit
// code). Timeouts stay here: the daemon kills the command's process group (-pid) as the
// direct path does.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { EVENT } from '../events.js';
import type { Logger } from '../log.js';

export interface RunnerRequest {
  file: string;
  args: readonly string[];
  /** complete environment of the command (not merged with the runner's) */
  env: Record<string, string>;
  cwd: string;
  stdoutPath: string;
  stderrPath: string;
  timeoutMs: number;
  /** delay between SIGTERM and SIGKILL on timeout */
  killGraceMs: number;
}

export type RunnerOutcome =
  | { kind: 'ran'; code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }
  /** not run by the runner (disabled, not representable, could not start it, runner lost): spawn it directly */
  | { kind: 'direct' };

export const RUNNER_PERL = '/usr/bin/perl';
/** unexpected runner deaths within DEATH_WINDOW_MS that send the daemon back to direct spawns */
const MAX_DEATHS = 3;
const DEATH_WINDOW_MS = 10 * 60_000;
/** how long the daemon spawns directly after the runner kept dying */
const FALLBACK_MS = 10 * 60_000;
/** a request larger than this is spawned directly (execve's own limit is 2 MiB of argv + env) */
const MAX_REQUEST_BYTES = 1 << 20;
/** a reply line is at most ~30 bytes: anything longer is garbage */
const MAX_REPLY_BYTES = 256;
/** runner stderr lines logged per runner (each cut to 300 characters); the rest are counted */
const MAX_STDERR_LINES = 20;

// The runner. The main loop reads a request, forks the command's process (SIGCHLD blocked
// until its pid is recorded, so the reaper never meets an unknown pid), answers P; the
// SIGCHLD handler reaps (a child left to SIGCHLD=IGNORE would take its CPU time out of the
// daemon's cutime) and answers X. The child sets itself up and execs; whatever fails before
// the exec ends it with 127. EOF on stdin (the daemon stopped or died) ends the loop; a
// command still running finishes on its own.
const SCRIPT = String.raw`
use strict; use warnings; use POSIX ();
$0 = 'ferry-command-runner';
$| = 1;
my %ids;
my $chld = POSIX::SigSet->new(POSIX::SIGCHLD());
$SIG{CHLD} = sub {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $ids{$pid};
    print "$id X $?\n" if defined $id;
  }
};
binmode STDIN; binmode STDOUT;
while (1) {
  my $head = <STDIN>;
  last unless defined $head;
  $head =~ /\A([0-9]{1,8})\n\z/ or die "ferry-command-runner: bad request header\n";
  my ($len, $rec) = ($1, '');
  while (length($rec) < $len) {
    my $n = read(STDIN, $rec, $len - length($rec), length($rec));
    die "ferry-command-runner: truncated request\n" unless $n;
  }
  my ($id, $cwd, $out, $err, $nenv, @argv) = split /\0/, $rec, -1;
  die "ferry-command-runner: bad request\n" unless defined($nenv) && $id =~ /\A[0-9]{1,15}\z/ && $nenv =~ /\A[0-9]{1,6}\z/ && @argv > $nenv;
  my @env = splice(@argv, 0, $nenv);
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), $chld);
  my $pid = fork();
  if (!defined $pid) { print "$id X 32512\n"; }
  elsif ($pid == 0) { child($id, $cwd, $out, $err, \@env, \@argv) }
  else { $ids{$pid} = $id; print "$id P $pid\n"; }
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $chld);
}
exit 0;

sub onto {
  my ($fd, $file, $flags) = @_;
  my $f = POSIX::open($file, $flags, 0640);
  return 0 unless defined $f;
  POSIX::dup2($f, $fd) or return 0;
  POSIX::close($f);
  return 1;
}

sub child {
  my ($id, $cwd, $out, $err, $env, $argv) = @_;
  my $wr = POSIX::O_WRONLY() | POSIX::O_CREAT() | POSIX::O_TRUNC();
  if (defined(POSIX::setsid()) && onto(0, '/dev/null', POSIX::O_RDONLY()) && onto(1, $out, $wr) && onto(2, $err, $wr) && chdir($cwd)) {
    %ENV = ();
    for (@$env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v }
    POSIX::sigprocmask(POSIX::SIG_SETMASK(), POSIX::SigSet->new());
    { no warnings 'exec'; exec { $argv->[0] } @$argv; }
  }
  POSIX::_exit(127);
}
`;

interface Pending {
  resolve: (o: RunnerOutcome) => void;
  pid?: number;
  timedOut: boolean;
  /** a signal due before the pid was known (timeout before exec) */
  deferred?: NodeJS.Signals;
  timer: NodeJS.Timeout;
  /** its X is in: the pid is no longer ours to signal, only its group (stragglers) */
  reaped?: boolean;
}

const signalName = new Map<number, NodeJS.Signals>(Object.entries(os.constants.signals).map(([k, v]) => [v, k as NodeJS.Signals]));

/** The exit code or the signal a raw wait status says, as the 'exit' event of a child gives them. */
export function decodeWaitStatus(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalName.get(sig) ?? null };
}

/** The request's bytes, or undefined when the runner cannot carry it exactly (then: spawn directly). */
export function encodeRequest(id: number, r: RunnerRequest): Buffer | undefined {
  const env = Object.entries(r.env).map(([k, v]) => [k, String(v)] as const);
  if (r.file === '' || env.some(([k]) => k === '' || k.includes('='))) return undefined;
  // a relative cwd is the daemon's: the runner's own cwd is /
  const cwd = r.cwd.startsWith('/') ? r.cwd : `${process.cwd()}/${r.cwd}`;
  const fields = [String(id), cwd, r.stdoutPath, r.stderrPath, String(env.length), ...env.map(([k, v]) => `${k}=${v}`), r.file, ...r.args];
  if (fields.some((f) => f.includes('\0'))) return undefined;
  const body = Buffer.from(fields.join('\0'), 'utf8');
  if (body.length > MAX_REQUEST_BYTES) return undefined;
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

const asHandle = (s: unknown): { ref?: () => void; unref?: () => void } => (s ?? {}) as { ref?: () => void; unref?: () => void };

/**
 * Signal the command's process group; `orLeader`: also the process itself when there is no
 * such group yet (the runner answers P at its fork, before the child's setsid). Not once it
 * is reaped: its pid may be another process's by then.
 */
function killGroup(pid: number, sig: NodeJS.Signals, orLeader: boolean): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // group gone, or not made yet
    if (!orLeader) return;
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  }
}

/** One runner process and the requests it has in hand. */
class Runner {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private buf = '';
  private stderrBuf = '';
  private stderrLines = 0;
  /** no more requests: stdin is closed once the last answer is in */
  private ended = false;
  private finished = false;
  /** why we gave up on it (a bad reply, a broken pipe) */
  private why: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly onDead: (r: Runner, unexpected: boolean, why: string, pending: number) => void,
  ) {
    // an empty environment: nothing of the daemon's (PERL5OPT...) reaches perl
    this.child = spawn(RUNNER_PERL, ['-e', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: {}, cwd: '/' });
    const { stdin, stdout, stderr } = this.child;
    stdout!.setEncoding('utf8');
    stdout!.on('data', (d: string) => this.onData(d));
    stderr!.setEncoding('utf8');
    stderr!.on('data', (d: string) => this.onStderr(d));
    stdin!.on('error', (e) => this.fail(`request pipe: ${e.message}`));
    this.child.once('error', (e) => this.died(`cannot run ${RUNNER_PERL}: ${e.message}`));
    this.child.once('exit', (code, signal) => this.died(signal ? `killed by ${signal}` : `exit ${code}`));
    // an idle runner does not keep a process alive; one with requests in hand does (holding())
    this.child.unref();
    for (const s of [stdin, stdout, stderr]) asHandle(s).unref?.();
    if (this.child.pid !== undefined) this.log.info({ event: EVENT.commandRunnerStarted, runner: this.child.pid }, 'command runner started');
  }

  get pid(): number | undefined {
    return this.finished ? undefined : this.child.pid;
  }

  /** takes requests */
  get open(): boolean {
    return !this.finished && !this.ended;
  }

  submit(id: number, bytes: Buffer, r: RunnerRequest): Promise<RunnerOutcome> {
    return new Promise((resolve) => {
      const p: Pending = {
        resolve,
        timedOut: false,
        timer: setTimeout(() => {
          p.timedOut = true;
          this.signal(p, 'SIGTERM');
          // stragglers ignoring SIGTERM are killed even after the leader is gone
          setTimeout(() => this.signal(p, 'SIGKILL'), r.killGraceMs).unref();
        }, r.timeoutMs),
      };
      this.pending.set(id, p);
      this.holding();
      this.child.stdin!.write(bytes);
    });
  }

  /** No more requests: once the last answer is in, EOF on its stdin ends the runner's loop. */
  end(): void {
    this.ended = true;
    if (this.pending.size === 0 && !this.finished) this.child.stdin!.end();
  }

  /** the reply pipe keeps the event loop alive while an answer is due, as a direct child would */
  private holding(): void {
    const h = asHandle(this.child.stdout);
    if (this.pending.size > 0) h.ref?.();
    else h.unref?.();
  }

  private signal(p: Pending, sig: NodeJS.Signals): void {
    if (p.pid === undefined) p.deferred = sig;
    else killGroup(p.pid, sig, !p.reaped);
  }

  private onData(d: string): void {
    this.buf += d;
    let i: number;
    while (!this.finished && (i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.reply(line);
    }
    if (this.buf.length > MAX_REPLY_BYTES) this.fail(`reply line over ${MAX_REPLY_BYTES} bytes`);
  }

  private reply(line: string): void {
    const m = /^(\d{1,15}) ([PX]) (\d{1,10})$/.exec(line);
    if (!m) return this.fail(`bad reply ${JSON.stringify(line.slice(0, 80))}`);
    const id = Number(m[1]);
    const n = Number(m[3]);
    const p = this.pending.get(id);
    if (!p) return this.fail(`reply for unknown request ${id}`);
    if (m[2] === 'P') {
      p.pid = n;
      if (p.deferred) killGroup(n, p.deferred, true);
      return;
    }
    this.pending.delete(id);
    p.reaped = true;
    clearTimeout(p.timer);
    const status = decodeWaitStatus(n);
    // 127: the runner could not start it (fork, cwd, files, exec failed), or the command
    // itself said 127 ("not found"): spawned directly, its answer is the direct spawn's
    p.resolve(status.code === 127 ? { kind: 'direct' } : { kind: 'ran', ...status, timedOut: p.timedOut });
    this.holding();
    if (this.ended) this.end();
  }

  private onStderr(d: string): void {
    const lines = (this.stderrBuf + d).split('\n');
    this.stderrBuf = lines.pop()!.slice(-1000);
    for (const l of lines) {
      if (!l.trim()) continue;
      this.stderrLines++;
      if (this.stderrLines <= MAX_STDERR_LINES) this.log.warn({ event: EVENT.commandRunnerStderr, runner: this.child.pid, line: l.slice(0, 300) }, 'command runner stderr');
    }
  }

  /** A runner that says what it should not is not trusted with more: killed, its requests spawned directly. */
  private fail(why: string): void {
    if (this.finished) return;
    this.why = why;
    this.child.kill('SIGKILL');
    this.died(why);
  }

  private died(why: string): void {
    if (this.finished) return;
    this.finished = true;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      // the copy whose answer is lost is not left running beside the direct run
      if (p.pid !== undefined) killGroup(p.pid, 'SIGKILL', true);
      p.resolve({ kind: 'direct' });
    }
    // nothing more of it is read (a command it started holds none of its pipes)
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
    const expected = this.ended && pending.length === 0 && this.why === undefined;
    if (this.stderrLines > MAX_STDERR_LINES) this.log.warn({ event: EVENT.commandRunnerStderr, runner: this.child.pid, suppressed: this.stderrLines - MAX_STDERR_LINES }, 'command runner stderr: more lines not logged');
    this.onDead(this, !expected, this.why ?? why, pending.length);
  }
}

interface State {
  log: Logger;
  users: number;
  runner?: Runner;
  deaths: number[];
  fallbackUntil: number;
  unavailable?: string;
}

let state: State | undefined;
let nextId = 1;

/**
 * The daemon's switch (at its start; CLI commands, short-lived, spawn directly): from now on
 * runThroughRunner() uses a runner, started at the first request. Counted: every enable is
 * matched by one disableCommandRunner().
 */
export function enableCommandRunner(log: Logger): void {
  if (state) {
    state.users++;
    return;
  }
  state = { log, users: 1, deaths: [], fallbackUntil: 0 };
  try {
    fs.accessSync(RUNNER_PERL, fs.constants.X_OK);
  } catch {
    state.unavailable = `${RUNNER_PERL} is missing`;
    log.info({ event: EVENT.commandRunnerFallback, why: state.unavailable }, 'command runner unavailable: the daemon spawns its commands directly');
  }
}

/** The last user gone, the runner is ended (EOF on its stdin) and commands are spawned directly again. */
export function disableCommandRunner(): void {
  if (!state || --state.users > 0) return;
  state.runner?.end();
  state = undefined;
}

/** The live runner's pid, if one runs (ps, tests). */
export function commandRunnerPid(): number | undefined {
  return state?.runner?.pid;
}

export function commandRunnerEnabled(): boolean {
  return state !== undefined && state.unavailable === undefined;
}

/**
 * Run a command through the runner. `direct` (right away or after a while): the caller spawns
 * it the direct way, which is only done for a command that has not run or whose run was lost
 * with the runner (a read-only command: it may run twice).
 */
export function runThroughRunner(r: RunnerRequest): Promise<RunnerOutcome> {
  const s = state;
  if (!s || s.unavailable !== undefined || Date.now() < s.fallbackUntil) return Promise.resolve({ kind: 'direct' });
  const id = nextId++;
  const bytes = encodeRequest(id, r);
  if (!bytes) return Promise.resolve({ kind: 'direct' });
  if (!s.runner?.open) s.runner = new Runner(s.log, (dead, unexpected, why, pending) => runnerDied(s, dead, unexpected, why, pending));
  return s.runner.submit(id, bytes, r);
}

function runnerDied(s: State, dead: Runner, unexpected: boolean, why: string, pending: number): void {
  if (s.runner === dead) s.runner = undefined;
  if (!unexpected) return;
  s.log.warn({ event: EVENT.commandRunnerLost, why, pending }, `command runner lost (${why}): ${pending} command(s) spawned directly`);
  const now = Date.now();
  s.deaths = [...s.deaths.filter((t) => now - t < DEATH_WINDOW_MS), now];
  if (s.deaths.length >= MAX_DEATHS) {
    s.deaths = [];
    s.fallbackUntil = now + FALLBACK_MS;
    s.log.warn({ event: EVENT.commandRunnerFallback, why: `${MAX_DEATHS} runners lost within ${DEATH_WINDOW_MS / 60_000} min`, forMs: FALLBACK_MS }, 'command runner keeps dying: the daemon spawns its commands directly for a while');
  }
}
