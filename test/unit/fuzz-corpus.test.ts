// The fixed-seed fuzz corpus: every target under dist/test/fuzz/targets gets the same 100,000
// mutated inputs on every run; none may throw and none may run over the budget. The budget
// here is 1 s, not `npm run fuzz`'s 100 ms: the suite runs on a loaded 2-core machine, and
// the engine already times an input over budget twice more before calling it slow.
import test from 'ava';
import { fuzz, loadTargets } from '../fuzz/engine.js';
import type { FuzzReport } from '../fuzz/engine.js';

const INPUTS = 100_000;
const SEED = 0x8f2a_c3d1n;
const BUDGET_MS = 1000;

const targets = await loadTargets();

/** each finding as one line with what it takes to replay it */
function describe(r: FuzzReport): string {
  return r.findings.map((f) => `${f.kind} at input ${f.index} (${f.ms.toFixed(0)} ms): ${f.error ?? ''}\n  input (base64): ${f.input}\n  ${f.stack ?? ''}`).join('\n');
}

test('the three targets of this branch are found by listing the folder', (t) => {
  const names = targets.map((x) => x.target.name);
  for (const n of ['service-file', 'cluster-file', 'hb-envelope']) t.true(names.includes(n), `${n} in ${names.join(', ')}`);
});

for (const { target, dictionary } of targets) {
  test.serial(`fuzz corpus: ${target.name}, ${INPUTS} inputs from a fixed seed, no crash, none over ${BUDGET_MS} ms`, async (t) => {
    t.timeout(10 * 60_000);
    const r = await fuzz(target, { inputs: INPUTS, seed: SEED, budgetMs: BUDGET_MS, dictionary });
    t.log(`${target.name}: ${r.inputs} inputs in ${(r.wallMs / 1000).toFixed(1)} s, slowest ${r.slowestMs.toFixed(1)} ms (input ${r.slowestIndex})`);
    t.is(r.inputs, INPUTS);
    t.is(r.crashes, 0, describe(r));
    t.is(r.slow, 0, describe(r));
  });
}
