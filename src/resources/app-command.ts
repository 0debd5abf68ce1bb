// Running an application's commands (app start/stop/check, OCF agent actions).
//
// Why not util/exec.ts (execa): an app start command typically leaves a daemon behind
// (`/bin/sh -c "mydaemon &"`). With pipes on stdout/stderr, execa waits for EOF, which only
// comes when the daemon closes them, so start would hang until its timeout; and closing our
// end instead would kill the daemon with SIGPIPE on its next write. So here:
//   - stdout/stderr go to files we open ourselves (no pipe at all): the app's output is kept,
//     and we read back what this run wrote to report errors;
//   - the command runs in its own session (setsid via `detached`), so it does not get the
//     terminal's SIGINT/SIGHUP and its daemons outlive ferry;
//   - we wait for the command's own exit, never for its descendants;
//   - on timeout the whole process group gets SIGTERM, then SIGKILL after a grace delay.
// In the daemon, a read-only command with scratch output (check, monitor, info) is started by
// its command runner instead (src/util/command-runner.ts: one long-lived small process forks,
// not the ~90 MB daemon), with the same session, environment, cwd, files and timeout; what
// the runner cannot do or did not start is spawned here.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { commandRunnerEnabled, runThroughRunner } from '../util/command-runner.js';

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Where a run's stdout/stderr go. */
export type OutputTarget =
  /** appended to persistent files (start/stop: the app's own log, daemons keep writing there) */
  | { mode: 'log'; stdoutPath: string; stderrPath: string }
  /** fresh files in `dir`, removed once read (check/monitor/info: frequent, short-lived) */
  | { mode: 'scratch'; dir: string; tag: string };

export interface CommandOptions {
  timeoutMs: number;
  /** complete environment of the command (not merged with ours) */
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  output: OutputTarget;
  /** delay between SIGTERM and SIGKILL on timeout */
  killGraceMs?: number;
  /**
   * The command only reads (check, monitor, info): with scratch output, the daemon may start it
   * through its command runner, which runs it a second time (directly) if the runner is lost
   * while it runs.
   */
  readOnly?: boolean;
  log?: Logger;
}

export interface CommandResult extends CommandOutput {
  /** argv joined, for messages */
  command: string;
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  /** the command could not be started at all (ENOENT, EACCES, bad cwd...) */
  spawnError: string | undefined;
  durationMs: number;
}

/** At most this much of a run's output is read back (messages only need the tail). */
const maxReadBack = 64 * 1024;
let scratchCounter = 0;

/** An appended output file larger than this is moved to `<file>.1` before the next run. */
export const LOG_ROTATE_BYTES = 16 * 1024 * 1024;

/**
 * Keep one previous generation: a long-lived service's output never fills the disk. A
 * process still writing to the old file keeps writing there (to `.1`) until its next start.
 */
export function rotateIfLarge(file: string, maxBytes: number): boolean {
  try {
    if (fs.statSync(file).size <= maxBytes) return false;
    fs.renameSync(file, `${file}.1`);
    return true;
  } catch {
    return false; // absent: nothing to rotate
  }
}

/** rm -f of one file; not fs.rmSync, which loads Node's rimraf (~2 ms of a `print status`). */
function unlinkIfPresent(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export async function runAppCommand(argv: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('empty command');
  const started = Date.now();
  if (opts.readOnly && opts.output.mode === 'scratch' && opts.uid === undefined && opts.gid === undefined && commandRunnerEnabled()) {
    const r = await runThroughRunnerOnce(argv, file, args, opts, started);
    if (r) return r;
  }
  return spawnDirect(argv, file, args, opts, started);
}

/** The runner's run, undefined when it did not run the command (then it is spawned directly). */
async function runThroughRunnerOnce(argv: readonly string[], file: string, args: string[], opts: CommandOptions, started: number): Promise<CommandResult | undefined> {
  const files = outputFiles(opts.output);
  fs.mkdirSync(path.dirname(files.stdoutPath), { recursive: true });
  fs.mkdirSync(path.dirname(files.stderrPath), { recursive: true });
  const outcome = await runThroughRunner({ file, args, env: opts.env, cwd: opts.cwd, ...files, timeoutMs: opts.timeoutMs, killGraceMs: opts.killGraceMs ?? 2_000 });
  const stdout = outcome.kind === 'ran' ? readBack(files.stdoutPath, 0) : '';
  const stderr = outcome.kind === 'ran' ? readBack(files.stderrPath, 0) : '';
  unlinkIfPresent(files.stdoutPath);
  unlinkIfPresent(files.stderrPath);
  if (outcome.kind !== 'ran') return undefined;
  const result: CommandResult = {
    command: argv.join(' '),
    exitCode: outcome.code ?? undefined,
    signal: outcome.signal ?? undefined,
    timedOut: outcome.timedOut,
    spawnError: undefined,
    stdout,
    stderr,
    durationMs: Date.now() - started,
  };
  opts.log?.debug({ cmd: result.command, exit: result.exitCode, signal: result.signal, timedOut: result.timedOut, ms: result.durationMs, runner: true }, 'app exec');
  return result;
}

async function spawnDirect(argv: readonly string[], file: string, args: string[], opts: CommandOptions, started: number): Promise<CommandResult> {
  const files = outputFiles(opts.output);
  fs.mkdirSync(path.dirname(files.stdoutPath), { recursive: true });
  fs.mkdirSync(path.dirname(files.stderrPath), { recursive: true });
  const flag = opts.output.mode === 'log' ? 'a' : 'w';
  if (flag === 'a') for (const f of new Set([files.stdoutPath, files.stderrPath])) rotateIfLarge(f, LOG_ROTATE_BYTES);
  const outFd = fs.openSync(files.stdoutPath, flag, 0o640);
  const errFd = fs.openSync(files.stderrPath, flag, 0o640);
  const outStart = fs.fstatSync(outFd).size;
  const errStart = fs.fstatSync(errFd).size;

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error; timedOut: boolean }>((resolve) => {
    let timedOut = false;
    let settled = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, {
        stdio: ['ignore', outFd, errFd],
        detached: true,
        env: opts.env,
        cwd: opts.cwd,
        uid: opts.uid,
        gid: opts.gid,
      });
    } catch (e) {
      // argument errors are thrown synchronously rather than emitted
      resolve({ code: null, signal: null, error: e instanceof Error ? e : new Error(String(e)), timedOut: false });
      return;
    } finally {
      // the child (if any) holds its own copies of the descriptors now
      fs.closeSync(outFd);
      fs.closeSync(errFd);
    }
    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // group already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      // stragglers ignoring SIGTERM are killed even after the leader is gone
      setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 2_000).unref();
    }, opts.timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, signal, error, timedOut });
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('exit', (code, signal) => finish(code, signal));
  });

  const stdout = readBack(files.stdoutPath, outStart);
  const stderr = readBack(files.stderrPath, errStart);
  if (opts.output.mode === 'scratch') {
    unlinkIfPresent(files.stdoutPath);
    unlinkIfPresent(files.stderrPath);
  }
  const result: CommandResult = {
    command: argv.join(' '),
    exitCode: outcome.code ?? undefined,
    signal: outcome.signal ?? undefined,
    timedOut: outcome.timedOut,
    spawnError: outcome.error ? spawnErrorText(file, opts.cwd, outcome.error) : undefined,
    stdout,
    stderr,
    durationMs: Date.now() - started,
  };
  opts.log?.debug({ cmd: result.command, exit: result.exitCode, signal: result.signal, timedOut: result.timedOut, ms: result.durationMs }, 'app exec');
  return result;
}

/** "exit 3: <last stderr line>", "timed out after 2s", "killed by SIGKILL", "cannot run ...". */
export interface DescribeOptions {
  /** name of an exit code ("not installed") */
  meaning?: (code: number) => string | undefined;
  /** the line that explains the failure; default: last stderr line, else last stdout line */
  detail?: (r: CommandResult) => string;
}

export function describeOutcome(r: CommandResult, timeoutMs: number, o: DescribeOptions = {}): string {
  if (r.spawnError) return r.spawnError;
  const named = r.exitCode !== undefined ? o.meaning?.(r.exitCode) : undefined;
  const why = r.timedOut
    ? `timed out after ${formatMs(timeoutMs)}`
    : r.exitCode !== undefined
      ? `exit ${r.exitCode}${named ? ` (${named})` : ''}`
      : `killed by ${r.signal ?? 'signal'}`;
  const detail = o.detail ? o.detail(r) : lastLine(r.stderr) || lastLine(r.stdout);
  return detail ? `${why}: ${detail}` : why;
}

export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.length ? lines[lines.length - 1]! : '';
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Shorten a command line for labels and messages. */
export function shorten(text: string, max = 60): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 3)}...`;
}

/** File-name-safe form of "svc" + "app#1". */
export function safeName(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_.-]/g, '_')).join('.');
}

function outputFiles(t: OutputTarget): { stdoutPath: string; stderrPath: string } {
  if (t.mode === 'log') return t;
  scratchCounter++;
  const base = path.join(t.dir, `${t.tag}.${process.pid}.${scratchCounter}`);
  return { stdoutPath: `${base}.out`, stderrPath: `${base}.err` };
}

function readBack(file: string, from: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const start = Math.max(from, size - maxReadBack);
    if (size <= start) return '';
    const buf = Buffer.alloc(size - start);
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function spawnErrorText(file: string, cwd: string, e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return fs.existsSync(cwd) ? `cannot run ${file}: command not found` : `cannot run ${file}: working directory ${cwd} does not exist`;
  }
  if (code === 'EACCES') return `cannot run ${file}: permission denied`;
  return `cannot run ${file}: ${e.message}`;
}
