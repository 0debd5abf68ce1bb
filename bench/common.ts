// Shared bench plumbing: timing, medians, a private FERRY_ROOT, the CLI as a child process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = (name: string): string => path.join(repoRoot, 'dist', 'src', 'cli', `${name}.js`);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export async function timed(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await execa(cmd, args, { env, reject: false, stdin: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.exitCode}: ${String(r.stderr)}`);
  return ms;
}

export function benchRoot(): { root: string; services: string; env: Record<string, string>; cleanup(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
  const services = path.join(root, 'etc', 'services');
  fs.mkdirSync(services, { recursive: true });
  return {
    root,
    services,
    env: { ...process.env, FERRY_ROOT: root, FERRY_NODENAME: 'bench1' } as Record<string, string>,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

export async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { stdin: 'ignore' });
  return String(r.stdout);
}
