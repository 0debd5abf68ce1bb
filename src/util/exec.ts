// One way to run external commands (iproute2, mount, docker, agents...): bounded in time,
// never through a shell unless the caller asks for one, and failures as one readable line.
import { spawn } from 'node:child_process';
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
  /** aborted: the child is killed (SIGKILL) */
  signal?: AbortSignal;
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

/**
 * Run a command; never throws for a non-zero exit (check `ok`). Built on node:child_process
 * rather than execa: loading execa costs ~160 ms per CLI invocation here (measured), more than
 * the whole status of a 20-resource service, and this wrapper needs none of its extras.
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const command = [file, ...args].join(' ');
  const env = opts.extendEnv === false ? opts.env : opts.env ? { ...process.env, ...opts.env } : process.env;
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const child = spawn(file, args as string[], {
      env: env as NodeJS.ProcessEnv,
      cwd: opts.cwd,
      uid: opts.uid,
      gid: opts.gid,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    }, opts.timeout ?? 60_000);
    opts.signal?.addEventListener('abort', () => child.kill('SIGKILL'), { once: true });
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => undefined); // a child that exits without reading its input
      child.stdin?.end(opts.input);
    }
    // a grandchild that inherited our pipes (a daemon started in the background) would keep
    // 'close' from ever firing: once the command itself exited, stop waiting for its output
    child.on('exit', () => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 1_000).unref();
    });
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      const result: RunResult = {
        command,
        exitCode: typeof code === 'number' ? code : undefined,
        signal: signal ?? undefined,
        timedOut,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        ok: code === 0 && !timedOut && !spawnError,
        durationMs: Date.now() - started,
      };
      if (spawnError) {
        result.exitCode = undefined;
        result.stderr = spawnError.code === 'ENOENT' ? `${file}: command not found` : `${file}: ${spawnError.message}`;
      }
      opts.log?.debug({ cmd: command, exit: result.exitCode, ms: result.durationMs }, 'exec');
      resolve(result);
    });
  });
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
