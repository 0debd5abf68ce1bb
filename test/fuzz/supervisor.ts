// Runs one fuzz target in worker threads under a watchdog: an input still running after the
// hang limit is stopped and reported with its bytes, and so is one that kills its worker
// (out of memory); the run then resumes with the next input, so one bad input does not end it.
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Finding, FuzzReport, LoadedTarget } from './engine.js';
import { InputSlot } from './watchdog.js';
import type { WorkerJob, WorkerMessage } from './worker.js';

export interface RunOptions {
  inputs: number;
  seed: string;
  budgetMs: number;
  hangMs: number;
  maxInputBytes: number;
  guided: boolean;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const MAX_FINDINGS = 5;
/** a worker using more than this is a finding (an input that makes the reader allocate without bound) */
const WORKER_HEAP_MB = 1024;

interface Segment {
  /** what the worker reported: all of it when it finished, else what it sent before it stopped */
  report: FuzzReport;
  /** the input that hung or took the worker down; the run resumes after it */
  lost?: Finding;
  error?: string;
}

/** Run inputs [start, opts.inputs) of one target in a worker; stops at the first lost input. */
function runSegment(t: LoadedTarget, opts: RunOptions, startIndex: number): Promise<Segment> {
  const slot = new InputSlot(opts.maxInputBytes);
  const job: WorkerJob = {
    file: t.file,
    dictionary: t.dictionary,
    slot: slot.buffer,
    options: {
      inputs: opts.inputs, seed: opts.seed, budgetMs: opts.budgetMs, maxInputBytes: opts.maxInputBytes,
      maxFindings: MAX_FINDINGS, startIndex, guided: opts.guided,
    },
  };
  // what arrived before a stop: counts come from the slot, findings and slowest from messages
  const partial = emptyReport(t.target.name, opts);
  return new Promise((resolve) => {
    const worker = new Worker(WORKER, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    let settled = false;
    const settle = (s: Omit<Segment, 'report'> & { report?: FuzzReport }): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      resolve({ ...s, report: s.report ?? { ...partial, ...slot.counts() } });
    };
    const lostInput = (kind: Finding['kind'], why: string, stack?: string): Finding | undefined => {
      const cur = slot.current();
      if (!cur) return undefined;
      return { kind, index: cur.index, ms: cur.runningMs, input: cur.input.toString('base64'), error: why, ...(stack ? { stack } : {}) };
    };
    const watch = setInterval(() => {
      const cur = slot.current();
      if (!cur || cur.runningMs < opts.hangMs) return;
      const lost = lostInput('hang', `still running after ${opts.hangMs} ms: stopped`);
      void worker.terminate();
      settle(lost ? { lost } : { error: 'hung outside an input' });
    }, 200);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'done') settle({ report: m.report });
      else if (m.type === 'finding') partial.findings.push(m.finding);
      else Object.assign(partial, { slowestMs: m.ms, slowestIndex: m.index, slowestInput: m.input });
    });
    worker.on('error', (e) => {
      const lost = lostInput('crash', `worker died: ${e.message}`, e.stack);
      settle(lost ? { lost } : { error: e.stack ?? e.message });
    });
    worker.on('exit', (code) => {
      const lost = lostInput('crash', `worker exited with code ${code}`);
      settle(lost ? { lost } : { error: `worker exited with code ${code} before reporting` });
    });
  });
}

function emptyReport(name: string, opts: RunOptions): FuzzReport {
  return {
    target: name, seed: opts.seed, budgetMs: opts.budgetMs, inputs: 0, crashes: 0, slow: 0,
    slowestMs: 0, slowestIndex: -1, slowestInput: '', retimed: 0, findings: [], wallMs: 0,
  };
}

function merge(into: FuzzReport, r: FuzzReport): void {
  into.inputs += r.inputs;
  into.crashes += r.crashes;
  into.slow += r.slow;
  into.retimed += r.retimed;
  if (r.slowestMs > into.slowestMs) {
    into.slowestMs = r.slowestMs;
    into.slowestIndex = r.slowestIndex;
    into.slowestInput = r.slowestInput;
  }
  for (const f of r.findings) addFinding(into, f);
}

function addFinding(into: FuzzReport, f: Finding): void {
  if (into.findings.filter((x) => x.kind === f.kind).length < MAX_FINDINGS) into.findings.push(f);
}

export interface TargetResult extends FuzzReport {
  hangs: number;
  error?: string;
}

/** One target, resumed after each input that hangs or kills its worker. */
export async function runTarget(t: LoadedTarget, opts: RunOptions): Promise<TargetResult> {
  const t0 = performance.now();
  const total: TargetResult = { ...emptyReport(t.target.name, opts), hangs: 0 };
  let start = 0;
  while (start < opts.inputs) {
    const seg = await runSegment(t, opts, start);
    merge(total, seg.report);
    if (seg.lost) {
      const lost = seg.lost;
      total.inputs++;
      if (lost.kind === 'hang') {
        total.hangs++;
        total.slow++;
      } else {
        total.crashes++;
      }
      merge(total, { ...emptyReport(t.target.name, opts), slowestMs: lost.ms, slowestIndex: lost.index, slowestInput: lost.input, findings: [lost] });
      start = lost.index + 1;
      continue;
    }
    if (seg.error !== undefined) total.error = seg.error;
    break;
  }
  total.wallMs = Math.round(performance.now() - t0);
  total.slowestMs = Math.round(total.slowestMs * 100) / 100;
  return total;
}

