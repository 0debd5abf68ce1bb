// A pre-opened final push: ferry's transport (src/cli/sync-transport.js --held) started while
// the service still runs, so that after the stop only the data flows (no Node start, no
// channel handshake in the downtime). The transport gets ready (authenticated; with the remote
// command given, the peer's command runs and waits for input), says so on fd 3, and sends
// nothing from its stdin before the go on fd 4. cancel() kills it: the peer's end closes and
// the peer kills its command with no input given (nothing applied, nothing recorded). A daemon
// that dies closes fd 4 first: the transport exits sending nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { PreparedPush, PushResult } from './types.js';

export const transportScript = (): string => fileURLToPath(new URL('../cli/sync-transport.js', import.meta.url));

/** the transport's options of one push of a sync resource (before `--held` and the peer) */
export function transportOptions(svc: string, rid: string, timeoutMs: number, final: boolean): string[] {
  return ['--svc', svc, '--rid', rid, '--timeout', String(Math.ceil(timeoutMs / 1000)), ...(final ? ['--final'] : [])];
}

export interface HeldTransport {
  readonly proc: ChildProcess;
  /** the transport's stdin (what is sent after the go; its stdout is not used) and its go (fd 4) */
  readonly input: Writable;
  readonly go: Writable;
  /** resolves once ready; rejects if the transport ends first (its last stderr line) */
  readonly ready: Promise<void>;
  /** its exit code (null: killed) and stderr */
  readonly exited: Promise<{ code: number | null; stderr: string }>;
  /** kill it: the stream is dropped on both ends */
  cancel(): void;
}

/** `args`: the transport's arguments after the script (with --held). readyMs: bound on getting ready. */
export function holdTransport(args: readonly string[], readyMs: number, env: NodeJS.ProcessEnv = process.env): HeldTransport {
  const proc = spawn(process.execPath, [transportScript(), ...args], { stdio: ['pipe', 'ignore', 'pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString('utf8');
  });
  const lastLine = (): string => (stderr.trim().split('\n').filter((l) => l.trim()).pop() ?? '').slice(0, 300);
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    proc.on('error', (e) => {
      stderr += `${e.message}\n`;
    });
    proc.on('close', (code) => resolve({ code, stderr }));
  });
  const readyFd = proc.stdio[3] as Readable;
  const go = proc.stdio[4] as Writable;
  go.on('error', () => undefined);
  (proc.stdin as Writable).on('error', () => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the pre-opened stream was not ready in ${readyMs} ms`));
    }, readyMs);
    readyFd.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the pre-opened stream ended (exit ${code ?? 'killed'}): ${lastLine() || 'no reason given'}`));
    });
  });
  ready.catch(() => undefined);
  return {
    proc, input: proc.stdin as Writable, go, ready, exited,
    cancel: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/** The daemon's go (one NUL on fd 4): the stop succeeded, the input may flow (rsync: its remote shell may come). */
export function sendGo(h: HeldTransport): void {
  h.go.write(Buffer.from([0]));
}

/**
 * The held transport as a driver's PreparedPush, once it is ready (undo() and the error if it
 * never gets there): push() runs once through it and undoes after, cancel() undoes unless it
 * was pushed. undo: kill the transport and drop what the driver made for it.
 */
export async function preparedPush(h: HeldTransport, undo: () => void, push: () => Promise<PushResult>): Promise<PreparedPush> {
  try {
    await h.ready;
  } catch (e) {
    undo();
    throw e;
  }
  let used = false;
  return {
    push: async () => {
      used = true;
      try {
        return await push();
      } finally {
        undo();
      }
    },
    cancel: () => {
      if (!used) undo();
    },
  };
}
