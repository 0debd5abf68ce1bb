// The fuzz engine: deterministic mutated inputs from a target's seeds, each timed, every
// throw/reject and every input over the budget counted, the first few kept with their input.
// Input N of a run depends only on (seed, N, the target's seeds and dictionary) unless the run
// is guided, so a finding is replayed by its index as well as by its saved bytes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Rng } from './rng.js';
import { pickMutator, seedTokens } from './mutators.js';
import type { MutationContext } from './mutators.js';
import type { FuzzTarget } from './target.js';

export interface FuzzOptions {
  /** how many inputs, the seeds themselves included (they come first) */
  inputs: number;
  seed: bigint | number;
  /** an input running longer than this is a finding */
  budgetMs: number;
  /** mutated inputs are cut to this size (default 4096): keeps each input cheap */
  maxInputBytes?: number;
  /** tokens for the token-level mutators, added to the words of the seeds */
  dictionary?: ReadonlyArray<string | Buffer>;
  /** findings kept with their input and stack (default 5; all are counted) */
  maxFindings?: number;
  /** first input index (a run resumed after a hung input) */
  startIndex?: number;
  /**
   * Slowness-guided: an input clearly slower than its parent (timed twice, under half the
   * budget) joins a small pool that later inputs are mutated from, so slow shapes compound
   * (SlowFuzz); guidance stops at the first slow finding (its job is done, and slow parents
   * would make every later input slow). Makes the input sequence depend on timings, so off
   * for the fixed-seed corpus run.
   */
  guided?: boolean;
  /** called before each input runs (the watchdog records it there) */
  onInput?: (index: number, input: Buffer) => void;
  /** called after each input with the report so far (live: copy what you keep) */
  onResult?: (report: FuzzReport) => void;
}

export type FindingKind = 'crash' | 'slow' | 'hang';

export interface Finding {
  kind: FindingKind;
  index: number;
  ms: number;
  /**
   * for a slow input, the process CPU time of its fastest re-run: near `ms` when the input
   * itself is costly, far below it when the machine was busy with something else
   */
  cpuMs?: number;
  /** the input, base64 */
  input: string;
  error?: string;
  stack?: string;
}

export interface FuzzReport {
  target: string;
  seed: string;
  budgetMs: number;
  inputs: number;
  crashes: number;
  slow: number;
  /** for an input over budget, the fastest of up to 3 runs */
  slowestMs: number;
  slowestIndex: number;
  /** base64 */
  slowestInput: string;
  /** inputs over budget on their first run, timed again */
  retimed: number;
  findings: Finding[];
  wallMs: number;
}

interface PoolEntry {
  input: Buffer;
  ms: number;
}

const POOL_SIZE = 16;
const POOL_CHANCE = 0.02;
/** below this an input's time is mostly noise: not worth guiding on */
const GUIDE_FLOOR_MS = 1;
/** an input over budget is timed again up to this many times; its time is the fastest run */
const RETIMES = 2;
/** ...unless it took this many budgets already: clearly slow, and a hang would take a while */
const RETIME_LIMIT = 10;
/** yield to the event loop this often (timers, IPC, the ava worker's heartbeats) */
const YIELD_EVERY = 1000;

export function toSeed(seed: bigint | number | string): bigint {
  return BigInt.asUintN(64, BigInt(seed));
}

/** The dictionary a run uses: the given tokens, then the seeds' own words. */
export function dictionaryFor(seeds: readonly Buffer[], extra: ReadonlyArray<string | Buffer> = []): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const t of [...extra.map((x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x)), ...seedTokens(seeds)]) {
    const k = t.toString('latin1');
    if (t.length === 0 || seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

/** Input `index` of a run (unguided): a seed as is for the first ones, then 1-16 stacked mutations of one. */
export function makeInput(index: number, seed: bigint, ctx: Omit<MutationContext, 'rng'>, maxBytes: number, parent?: Buffer): Buffer {
  if (parent === undefined && index < ctx.seeds.length) return ctx.seeds[index]!;
  const rng = new Rng(seed, BigInt(index));
  const m: MutationContext = { ...ctx, rng };
  let b = parent ?? rng.pick(ctx.seeds);
  const stack = 1 << rng.int(5);
  for (let i = 0; i < stack; i++) {
    b = pickMutator(rng)(b, m);
    if (b.length > maxBytes) b = b.subarray(0, maxBytes);
  }
  return b;
}

function describe(e: unknown): { error: string; stack?: string } {
  if (e instanceof Error) return { error: `${e.name}: ${e.message}`, ...(e.stack ? { stack: e.stack } : {}) };
  return { error: `non-Error thrown: ${String(e)}` };
}

async function runOnce(target: FuzzTarget, input: Buffer): Promise<{ ms: number; failed: boolean; failure: unknown }> {
  const t0 = performance.now();
  try {
    const r = target.run(input);
    if (isPromise(r)) await r;
    return { ms: performance.now() - t0, failed: false, failure: undefined };
  } catch (e) {
    return { ms: performance.now() - t0, failed: true, failure: e };
  }
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export async function fuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzReport> {
  const wall0 = performance.now();
  const seed = toSeed(opts.seed);
  const maxBytes = opts.maxInputBytes ?? 4096;
  const maxFindings = opts.maxFindings ?? 5;
  const seeds = target.seeds();
  if (seeds.length === 0) throw new Error(`fuzz target ${target.name}: no seeds`);
  const ctx = { seeds, dictionary: dictionaryFor(seeds, opts.dictionary) };
  const report: FuzzReport = {
    target: target.name, seed: seed.toString(), budgetMs: opts.budgetMs,
    inputs: 0, crashes: 0, slow: 0, slowestMs: 0, slowestIndex: -1, slowestInput: '', retimed: 0, findings: [], wallMs: 0,
  };
  const keep = (f: Finding): void => {
    if (report.findings.filter((x) => x.kind === f.kind).length < maxFindings) report.findings.push(f);
  };
  const pool: PoolEntry[] = [];
  let guided = opts.guided === true;

  await target.setup?.();
  try {
    for (let index = opts.startIndex ?? 0; index < opts.inputs; index++) {
      let parent: PoolEntry | undefined;
      if (guided && pool.length > 0 && index >= seeds.length) {
        const g = new Rng(seed ^ 0x5eedn, BigInt(index));
        if (g.chance(POOL_CHANCE)) parent = g.pick(pool);
      }
      const input = makeInput(index, seed, ctx, maxBytes, parent?.input);
      opts.onInput?.(index, input);
      const c0 = process.cpuUsage();
      const first = await runOnce(target, input);
      const c1 = process.cpuUsage(c0);
      const { failed, failure } = first;
      let ms = first.ms;
      /** CPU time of the fastest timing of an input over budget (a loaded machine stretches the wall clock, not this) */
      let cpuMs: number | undefined = ms > opts.budgetMs ? (c1.user + c1.system) / 1000 : undefined;
      if (ms > opts.budgetMs && ms < RETIME_LIMIT * opts.budgetMs) {
        // a loaded machine or a GC pause can stretch any input: slow only if it stays slow
        report.retimed++;
        for (let k = 0; k < RETIMES && ms > opts.budgetMs; k++) {
          const c0 = process.cpuUsage();
          const again = (await runOnce(target, input)).ms;
          const c = process.cpuUsage(c0);
          if (again < ms) {
            ms = again;
            cpuMs = (c.user + c.system) / 1000;
          }
        }
      }
      report.inputs++;
      if (ms > report.slowestMs) {
        report.slowestMs = ms;
        report.slowestIndex = index;
        report.slowestInput = input.toString('base64');
      }
      if (failed) {
        report.crashes++;
        keep({ kind: 'crash', index, ms, input: input.toString('base64'), ...describe(failure) });
      }
      if (ms > opts.budgetMs) {
        report.slow++;
        keep({ kind: 'slow', index, ms, ...(cpuMs !== undefined ? { cpuMs } : {}), input: input.toString('base64') });
        guided = false;
      } else if (guided && !failed) {
        // from a seed: any input well above the noise floor; from the pool: twice its parent.
        // Timed again first: on a loaded machine most "slow" inputs were only preempted.
        const bar = 2 * Math.max(GUIDE_FLOOR_MS, parent?.ms ?? 0);
        if (ms > bar && ms < opts.budgetMs / 2) {
          const again = Math.min(ms, (await runOnce(target, input)).ms);
          if (again > bar) addToPool(pool, { input, ms: again });
        }
      }
      opts.onResult?.(report);
      if (index % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((r) => setImmediate(r));
    }
  } finally {
    await target.teardown?.();
  }
  report.wallMs = performance.now() - wall0;
  return report;
}

/** keep the slowest POOL_SIZE entries */
function addToPool(pool: PoolEntry[], e: PoolEntry): void {
  if (pool.length < POOL_SIZE) {
    pool.push(e);
    return;
  }
  let fastest = 0;
  for (let i = 1; i < pool.length; i++) if (pool[i]!.ms < pool[fastest]!.ms) fastest = i;
  if (pool[fastest]!.ms < e.ms) pool[fastest] = e;
}

export interface LoadedTarget {
  file: string;
  target: FuzzTarget;
  /** the module's optional `dictionary` export */
  dictionary: string[];
}

/** dist/test/fuzz/targets, next to this compiled file */
export const TARGETS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'targets');

/** Every `target` export of the .js files in `dir`, by file name; a file without one is an error. */
export async function loadTargets(dir = TARGETS_DIR): Promise<LoadedTarget[]> {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  const out: LoadedTarget[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const mod = (await import(pathToFileURL(file).href)) as { target?: unknown; dictionary?: unknown };
    const t = mod.target as Partial<FuzzTarget> | undefined;
    if (!t || typeof t.name !== 'string' || typeof t.seeds !== 'function' || typeof t.run !== 'function') {
      throw new Error(`${file}: no \`target: FuzzTarget\` export (name, seeds(), run())`);
    }
    const dup = out.find((x) => x.target.name === t.name);
    if (dup) throw new Error(`${file}: target name "${t.name}" already used by ${dup.file}`);
    const dictionary = Array.isArray(mod.dictionary) ? mod.dictionary.filter((x): x is string => typeof x === 'string') : [];
    out.push({ file, target: t as FuzzTarget, dictionary });
  }
  return out;
}
