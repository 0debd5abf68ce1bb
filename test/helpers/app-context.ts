// Test plumbing for the app driver: a ResourceContext built the way the config layer builds
// one (driver keywords + common keywords, typed), under a private FERRY_ROOT, plus small
// process helpers for the daemons the tests start.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeywordValue } from '../../src/vocab/keywords.js';
import { commonResourceKeywords } from '../../src/config/keywords.js';
import { TableValues } from '../../src/config/values.js';
import { silentLogger } from '../../src/log.js';
import { ferryPaths } from '../../src/paths.js';
import { driver } from '../../src/resources/app.js';
import type { ResourceContext } from '../../src/resources/types.js';
import type { AppResource } from '../../src/resources/app-forking.js';
import { makeFerryRoot, uniquePrefix } from './env.js';
import type { FerryRoot } from './env.js';

export interface AppFixture {
  /** private FERRY_ROOT */
  root: FerryRoot;
  /** scratch directory for marker files, world-writable (user = nobody tests) */
  dir: string;
  svcname: string;
  /** pids to SIGKILL at teardown, whatever happened */
  pids: Set<number>;
  cleanup(): void;
}

export function makeAppFixture(): AppFixture {
  const root = makeFerryRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-app-'));
  fs.chmodSync(dir, 0o777);
  const pids = new Set<number>();
  return {
    root,
    dir,
    svcname: uniquePrefix('app'),
    pids,
    cleanup() {
      for (const pid of pids) killQuietly(pid);
      root.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AppPlace {
  ferryRoot: string;
  svcname: string;
}

export function appContext(at: AppPlace, kw: Record<string, KeywordValue>, type = 'forking', rid = 'app#1'): ResourceContext {
  return {
    rid,
    svcname: at.svcname,
    nodename: 'node1',
    type,
    kw: TableValues.from([...driver.keywords, ...commonResourceKeywords], kw),
    log: silentLogger(),
    paths: ferryPaths({ FERRY_ROOT: at.ferryRoot }),
  };
}

/** The driver as the service layer would create it. */
export function makeApp(fx: AppFixture, kw: Record<string, KeywordValue>, type = 'forking'): AppResource {
  return driver.create(appContext({ ferryRoot: fx.root.root, svcname: fx.svcname }, kw, type)) as AppResource;
}

/** A zombie still answers kill -0: read its state from /proc. */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function readPid(file: string): number {
  const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`bad pid in ${file}`);
  return pid;
}

export async function waitFor(pred: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return pred();
}
