// The fuzz engine itself, on toy targets broken on purpose: it must report what throws, what
// is slow and (under run.ts's watchdog) what hangs or kills its worker, with the input, and
// give the same inputs for the same seed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { dictionaryFor, fuzz, makeInput } from '../fuzz/engine.js';
import { runTarget } from '../fuzz/supervisor.js';
import type { FuzzTarget } from '../fuzz/target.js';

const busyWait = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin: a synchronous slow input */ }
};

/** throws a TypeError on any input holding "CRASH", spins 60 ms on any holding "SLOW" */
const broken: FuzzTarget = {
  name: 'toy-broken',
  seeds: () => [Buffer.from('hello world'), Buffer.from('key = value\n')],
  run(input) {
    const s = input.toString('latin1');
    if (s.includes('SLOW')) busyWait(60);
    if (s.includes('CRASH')) throw new TypeError('toy: cannot read properties of undefined');
  },
};
const dictionary = ['CRASH', 'SLOW'];

test('a throwing input is a crash, kept with its input and stack', async (t) => {
  const r = await fuzz(broken, { inputs: 400, seed: 7, budgetMs: 5000, dictionary });
  t.is(r.inputs, 400);
  t.true(r.crashes > 0);
  const f = r.findings.find((x) => x.kind === 'crash');
  t.truthy(f);
  t.true(Buffer.from(f!.input, 'base64').toString('latin1').includes('CRASH'));
  t.regex(f!.error ?? '', /^TypeError: toy/);
  t.regex(f!.stack ?? '', /fuzz-engine\.test\.[jt]s/);
  t.true(r.findings.filter((x) => x.kind === 'crash').length <= 5, 'only the first findings are kept');
});

test('an input over the budget is slow (and stays slow when timed again)', async (t) => {
  const r = await fuzz(broken, { inputs: 100, seed: 7, budgetMs: 20, dictionary });
  t.true(r.slow > 0);
  const f = r.findings.find((x) => x.kind === 'slow');
  t.truthy(f);
  t.true(f!.ms >= 20);
  t.true((f!.cpuMs ?? 0) > 0, 'CPU time of the re-run recorded');
  t.true(Buffer.from(f!.input, 'base64').toString('latin1').includes('SLOW'));
  t.true(r.slowestMs >= 60);
  t.true(Buffer.from(r.slowestInput, 'base64').toString('latin1').includes('SLOW'));
});

test('a clean target reports nothing', async (t) => {
  const clean: FuzzTarget = { name: 'toy-clean', seeds: () => [Buffer.from('abc')], run: () => undefined };
  const r = await fuzz(clean, { inputs: 2000, seed: 1, budgetMs: 1000 });
  t.deepEqual([r.inputs, r.crashes, r.slow, r.findings.length], [2000, 0, 0, 0]);
});

test('async targets: a rejection is a crash', async (t) => {
  const rejecting: FuzzTarget = {
    name: 'toy-async',
    seeds: () => [Buffer.from('abc')],
    run: async (input) => {
      await Promise.resolve();
      if (input.length > 3) throw new RangeError('toy: too long');
    },
  };
  const r = await fuzz(rejecting, { inputs: 300, seed: 3, budgetMs: 1000 });
  t.true(r.crashes > 0);
  t.regex(r.findings[0]?.error ?? '', /^RangeError/);
});

test('same seed, same inputs; another seed, other inputs; seeds come first as they are', (t) => {
  const seeds = broken.seeds();
  const ctx = { seeds, dictionary: dictionaryFor(seeds, dictionary) };
  const run = (seed: bigint): string[] => Array.from({ length: 300 }, (_, i) => makeInput(i, seed, ctx, 4096).toString('hex'));
  const a = run(11n);
  t.deepEqual(run(11n), a);
  const b = run(12n);
  t.notDeepEqual(b, a);
  t.is(a[0], seeds[0]!.toString('hex'));
  t.is(a[1], seeds[1]!.toString('hex'));
  t.true(new Set(a).size > 200, 'mutations differ from one input to the next');
  t.true(a.every((h) => h.length <= 2 * 4096));
});

/** a target module on disk (the watchdog runs targets in a worker, by file) */
function toyModule(t: { teardown: (fn: () => void) => void }, name: string, body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-fuzz-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(file, `let calls = 0;\nexport const target = { name: '${name}', seeds: () => [Buffer.from('abc')], run(input) { calls++; ${body} } };\n`);
  return file;
}

const watchOpts = { seed: '5', budgetMs: 10, hangMs: 500, maxInputBytes: 4096, guided: false };

test('run.ts watchdog: an input that hangs is stopped, reported with its bytes, and the run goes on', async (t) => {
  // every fifth input a worker runs never returns
  const file = toyModule(t, 'toy-hang', 'if (calls % 5 === 0) for (;;) {}');
  const target = { name: 'toy-hang', seeds: () => [], run: () => undefined };
  const r = await runTarget({ file, target, dictionary: [] }, { ...watchOpts, inputs: 12 });
  t.is(r.error, undefined);
  t.is(r.hangs, 2);
  t.is(r.slow, 2);
  t.is(r.inputs, 12);
  const hangs = r.findings.filter((f) => f.kind === 'hang');
  t.deepEqual(hangs.map((f) => f.index), [4, 9]);
  t.true(hangs.every((f) => f.ms >= 500));
  // the bytes reported are the very input that hung
  const seeds = [Buffer.from('abc')];
  const ctx = { seeds, dictionary: dictionaryFor(seeds) };
  t.deepEqual(hangs.map((f) => f.input), [4, 9].map((i) => makeInput(i, 5n, ctx, 4096).toString('base64')));
});

test('run.ts watchdog: an input that kills its worker is a crash with its bytes', async (t) => {
  // the third input of each worker ends it: inputs 2, 5 and 8 of the run
  const file = toyModule(t, 'toy-exit', 'if (calls === 3) process.exit(7);');
  const target = { name: 'toy-exit', seeds: () => [], run: () => undefined };
  const r = await runTarget({ file, target, dictionary: [] }, { ...watchOpts, inputs: 10 });
  t.is(r.error, undefined);
  t.is(r.crashes, 3);
  t.is(r.inputs, 10);
  const crashes = r.findings.filter((x) => x.kind === 'crash');
  t.deepEqual(crashes.map((f) => f.index), [2, 5, 8]);
  t.true(crashes.every((f) => /code 7/.test(f.error ?? '')));
});
