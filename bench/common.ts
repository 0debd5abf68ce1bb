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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `f` every stepMs until it gives a value other than undefined or false; throw after timeoutMs. */
export async function waitFor<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, stepMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** JSON lines of a file from a byte offset (pino logs, a client's output); a line being written is skipped. */
export function readJsonLines<T>(file: string, offset = 0): T[] {
  if (!fs.existsSync(file)) return [];
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= offset) return [];
    const buf = Buffer.alloc(size - offset);
    fs.readSync(fd, buf, 0, buf.length, offset);
    const out: T[] = [];
    for (const l of buf.toString('utf8').split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as T);
      } catch {
        // a line being written
      }
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
