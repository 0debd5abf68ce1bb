// Host side of the VM lane (scripts/vm/run.sh): boots the Debian kernel under qemu TCG, runs
// one guest script and parses what the guest reports. The guest prints one line per check,
// `CHECK <name> ok|fail <detail>`, and the lane's exit code is the guest script's exit code.
// Nothing here skips: a missing qemu or kernel package makes run.sh exit 125 with a message,
// which the tests surface as a failure.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** repo root (this file runs from dist/test/vm/) */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const runScript = path.join(repoRoot, 'scripts', 'vm', 'run.sh');
export const guestScript = (name: string): string => path.join(repoRoot, 'scripts', 'vm', 'guest', name);

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface LaneResult {
  /** run.sh exit code (guest script's code; 124 timeout; 125 lane failure); null if killed */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  checks: Check[];
  /** CHECKS-DONE failed=N seen (the guest script ran to its end) */
  done: boolean;
  /** guest uptime at userspace (s), at script end (s); host wall time of the whole run (s) */
  bootS?: number;
  scriptEndS?: number;
  wallS: number;
  /** the run's temp dir (from run.sh's first line), to check it was cleaned up */
  tmpDir?: string;
}

export interface LaneOptions {
  /** FERRY_VM_TIMEOUT for run.sh (s); the host kills the process group 30 s later */
  timeoutS?: number;
  env?: Record<string, string>;
  args?: string[];
}

const CHECK_RE = /^CHECK (\S+) (ok|fail)(?: (.*))?$/;

export function parseChecks(stdout: string): Check[] {
  const out: Check[] = [];
  for (const line of stdout.split('\n')) {
    const m = CHECK_RE.exec(line.replace(/\r$/, ''));
    if (m) out.push({ name: m[1]!, ok: m[2] === 'ok', detail: m[3] ?? '' });
  }
  return out;
}

/** Runs one guest script through the lane. Always resolves; kills the whole process group
 *  (run.sh, qemu, tail) if run.sh itself overruns. */
export function runLane(script: string, opts: LaneOptions = {}): Promise<LaneResult> {
  const timeoutS = opts.timeoutS ?? 240;
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(runScript, [script, ...(opts.args ?? [])], {
      cwd: repoRoot,
      env: { ...process.env, FERRY_VM_TIMEOUT: String(timeoutS), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: one kill reaches qemu too
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const guard = setTimeout(() => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    }, (timeoutS + 30) * 1000);
    const onExit = (): void => killGroup('SIGKILL');
    process.once('exit', onExit);
    child.on('error', (err) => {
      clearTimeout(guard);
      process.removeListener('exit', onExit);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      process.removeListener('exit', onExit);
      const num = (re: RegExp): number | undefined => {
        const m = re.exec(stderr);
        return m ? Number(m[1]) : undefined;
      };
      resolve({
        exitCode: code,
        signal,
        stdout,
        stderr,
        checks: parseChecks(stdout),
        done: /^CHECKS-DONE failed=\d+/m.test(stdout),
        bootS: num(/userspace at ([0-9.]+)s/),
        scriptEndS: num(/script done at ([0-9.]+)s/),
        wallS: (Date.now() - t0) / 1000,
        tmpDir: /, tmp (\S+)/.exec(stderr)?.[1],
      });
    });
  });
}

/** A readable digest for assertion messages: failed checks, lane messages, the log's tail. */
export function digest(r: LaneResult): string {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `  CHECK ${c.name} fail ${c.detail}`);
  const reported = r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
  const tail = r.stdout.split('\n').slice(-30).join('\n');
  return [
    `run.sh exit ${r.exitCode}${r.signal ? ` (signal ${r.signal})` : ''}, wall ${r.wallS.toFixed(1)}s`,
    ...(failed.length ? ['failed checks:', ...failed] : []),
    `checks reported (${r.checks.length}):`,
    ...reported,
    'stderr:',
    r.stderr.trim(),
    'stdout tail:',
    tail,
  ].join('\n');
}
