// Shared test plumbing: a private FERRY_ROOT per test, a unique name prefix for every host
// object a test creates, the CLI run as a real child process, and loud failures when the
// test cannot run (no root, no engine) instead of silent skips.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** repo root (tests run from dist/test/...) */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const distCli = (name: string): string => path.join(repoRoot, 'dist', 'src', 'cli', `${name}.js`);
export const testImage = process.env.FERRY_TEST_IMAGE ?? 'ferry/busybox:latest';

let counter = 0;
/** Short unique prefix for host objects (netns, interfaces <= 15 chars, containers, VGs). */
export function uniquePrefix(tag = 'f'): string {
  counter++;
  return `fy${tag}${(process.pid % 10000).toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
}

/** Throws (fails the test loudly) unless running as root. */
export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('this test needs root (network namespaces, mounts, LVM, container engines): run the README test command as root');
  }
}

export interface FerryRoot {
  root: string;
  services: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** A fresh FERRY_ROOT with etc/services created. */
export function makeFerryRoot(nodename = 'node1'): FerryRoot {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-'));
  const services = path.join(root, 'etc', 'services');
  fs.mkdirSync(services, { recursive: true });
  return {
    root,
    services,
    env: { FERRY_ROOT: root, FERRY_NODENAME: nodename },
    cleanup() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run one of our CLIs as a child process (the real thing, not an import). */
export async function runCli(
  name: 'svcmgr' | 'svcmon' | 'nodemgr',
  args: string[],
  env: Record<string, string>,
  opts: number | { timeoutMs?: number; wrap?: (cmd: string, args: string[]) => [string, string[]] } = {},
): Promise<CliResult> {
  const o = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const timeoutMs = o.timeoutMs ?? 120_000;
  const [cmd, argv] = o.wrap ? o.wrap(process.execPath, [distCli(name), ...args]) : [process.execPath, [distCli(name), ...args]];
  const r = await execa(cmd, argv, {
    env,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Run a host command, throwing with its stderr on failure. */
export async function sh(cmd: string, args: string[], opts: { reject?: boolean } = {}): Promise<CliResult> {
  const r = await execa(cmd, args, { reject: false, stdin: 'ignore' });
  const res = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  if ((opts.reject ?? true) && res.exitCode !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: exit ${res.exitCode}: ${res.stderr.trim()}`);
  }
  return res;
}
