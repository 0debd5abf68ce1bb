// One fuzz run in a worker thread, so run.ts can stop an input that hangs (a synchronous
// target cannot be interrupted from its own thread). Counts go to the shared slot after every
// input, findings and new slowest inputs are posted as they come, so a worker stopped or
// killed mid-run loses nothing but the input that stopped it (which the slot holds).
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { fuzz } from './engine.js';
import type { Finding, FuzzOptions, FuzzReport } from './engine.js';
import type { FuzzTarget } from './target.js';
import { InputSlot } from './watchdog.js';

export interface WorkerJob {
  /** compiled target module */
  file: string;
  dictionary: string[];
  options: Omit<FuzzOptions, 'onInput' | 'onResult' | 'dictionary' | 'seed'> & { seed: string };
  slot: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'finding'; finding: Finding }
  | { type: 'slowest'; ms: number; index: number; input: string }
  | { type: 'done'; report: FuzzReport };

const job = workerData as WorkerJob;
const slot = new InputSlot(job.slot);
const post = (m: WorkerMessage): void => parentPort?.postMessage(m);
const mod = (await import(pathToFileURL(job.file).href)) as { target: FuzzTarget };
let posted = 0;
let slowest = -1;
const report = await fuzz(mod.target, {
  ...job.options,
  seed: BigInt(job.options.seed),
  dictionary: job.dictionary,
  onInput: (index, input) => slot.begin(index, input),
  onResult: (r) => {
    slot.count(r);
    while (posted < r.findings.length) post({ type: 'finding', finding: r.findings[posted++]! });
    if (r.slowestIndex !== slowest) {
      slowest = r.slowestIndex;
      post({ type: 'slowest', ms: r.slowestMs, index: r.slowestIndex, input: r.slowestInput });
    }
  },
});
slot.end();
post({ type: 'done', report });
