// Run one driver action as a child process (dist/test/helpers/driver-run.js), optionally
// inside a network namespace, and return its parsed JSON result.
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './env.js';
import type { DriverRunRequest, DriverRunResult } from './driver-run.js';

const runner = path.join(repoRoot, 'dist', 'test', 'helpers', 'driver-run.js');

export async function runDriver(req: DriverRunRequest, netns?: string): Promise<DriverRunResult> {
  const argv = [process.execPath, runner, JSON.stringify(req)];
  const [file, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const r = await execa(file!, args, { reject: false, timeout: 60_000, stdin: 'ignore' });
  const line = String(r.stdout).trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as DriverRunResult;
  } catch {
    throw new Error(`driver-run gave no JSON (exit ${r.exitCode}): ${String(r.stderr).trim() || line}`);
  }
}
