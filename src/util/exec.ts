// One way to run external commands (iproute2, mount, docker, agents...): bounded in time,
// never through a shell unless the caller asks for one, and failures as one readable line.
import { execa } from 'execa';
import type { Logger } from '../log.js';

export interface RunOptions {
  /** milliseconds; the child gets SIGTERM then SIGKILL after 2 s. Default 60 s. */
  timeout?: number;
  env?: Record<string, string | undefined>;
  /** replace the environment instead of extending process.env */
  extendEnv?: boolean;
  input?: string;
  cwd?: string;
  uid?: number;
  gid?: number;
  log?: Logger;
}

export interface RunResult {
  command: string;
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ok: boolean;
  durationMs: number;
}

export class CommandError extends Error {
  constructor(readonly result: RunResult) {
    super(describeFailure(result));
    this.name = 'CommandError';
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim().length > 0);
  return lines.length ? lines[lines.length - 1]!.trim() : '';
}

export function describeFailure(r: RunResult): string {
  const why = r.timedOut
    ? 'timed out'
    : r.exitCode === undefined
      ? `killed by ${r.signal ?? 'signal'}`
      : `exit ${r.exitCode}`;
  const detail = lastLine(r.stderr) || lastLine(r.stdout);
  return `${r.command}: ${why}${detail ? `: ${detail}` : ''}`;
}

/** Run a command; never throws for a non-zero exit (check `ok`), throws only if it cannot start. */
export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const child = await execa(file, args, {
    reject: false,
    timeout: opts.timeout ?? 60_000,
    forceKillAfterDelay: 2_000,
    env: opts.env,
    extendEnv: opts.extendEnv ?? true,
    input: opts.input,
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    stripFinalNewline: false,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
  });
  const result: RunResult = {
    command: [file, ...args].join(' '),
    exitCode: typeof child.exitCode === 'number' ? child.exitCode : undefined,
    signal: child.signal ?? undefined,
    timedOut: Boolean(child.timedOut),
    stdout: String(child.stdout ?? ''),
    stderr: String(child.stderr ?? ''),
    ok: !child.failed,
    durationMs: Date.now() - started,
  };
  if (result.exitCode === undefined && !result.timedOut && child.failed && child.code === 'ENOENT') {
    result.stderr = `${file}: command not found`;
  }
  opts.log?.debug({ cmd: result.command, exit: result.exitCode, ms: result.durationMs }, 'exec');
  return result;
}

/** Run a command and throw a CommandError unless it exits 0. */
export async function runOk(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (!r.ok) throw new CommandError(r);
  return r;
}

/** Is `file` on PATH? */
export async function haveCommand(file: string): Promise<boolean> {
  const r = await run('sh', ['-c', 'command -v "$1"', 'sh', file], { timeout: 5_000 });
  return r.ok;
}
