// `npm run fuzz [-- target...] [--inputs N] [--seed S] [--budget MS]`: every target found in
// dist/test/fuzz/targets (or the ones named), one at a time, each in a worker thread under a
// watchdog, and one JSON line per target with its counts. Exits 1 when anything was found.
//
//   --inputs N     inputs per target (default 1000000)
//   --seed S       PRNG seed (default 1)
//   --budget MS    an input over this is a finding (default 100)
//   --hang MS      an input still running after this is stopped and reported (default 10000)
//   --max-bytes N  mutated inputs are cut to this size (default 4096)
//   --no-guide     plain mutation only (default: slowness-guided, see engine.ts)
//   --one-line     also refuse config problems spanning several lines (problems.ts)
//   --replay B64   run the one named target on this input (a finding's) 5 times, print wall and CPU times
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { loadTargets } from './engine.js';
import type { LoadedTarget } from './engine.js';
import { runTarget } from './supervisor.js';
import type { RunOptions } from './supervisor.js';

function parse(argv: string[]): { names: string[]; opts: RunOptions; replay?: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      inputs: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      budget: { type: 'string', default: '100' },
      hang: { type: 'string', default: '10000' },
      'max-bytes': { type: 'string', default: '4096' },
      'no-guide': { type: 'boolean', default: false },
      'one-line': { type: 'boolean', default: false },
      replay: { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got "${v}"`);
    return n;
  };
  if (!/^\d+$/.test(values.seed ?? '')) throw new Error(`--seed: expected a non-negative integer, got "${values.seed}"`);
  if (values['one-line']) process.env.FERRY_FUZZ_ONE_LINE = '1';
  const budgetMs = int('budget', values.budget, 1);
  return {
    names: positionals,
    ...(values.replay !== undefined ? { replay: values.replay } : {}),
    opts: {
      inputs: int('inputs', values.inputs, 1),
      seed: values.seed ?? '1',
      budgetMs,
      // an input over budget is timed up to 3 times (engine.ts): the hang limit leaves room for that
      hangMs: Math.max(int('hang', values.hang, 1), 40 * budgetMs),
      maxInputBytes: int('max-bytes', values['max-bytes'], 1),
      guided: !values['no-guide'],
    },
  };
}

/** a finding's input again, in this process: is it slow every time, does it still throw */
async function replay(t: LoadedTarget, b64: string): Promise<number> {
  const input = Buffer.from(b64, 'base64');
  await t.target.setup?.();
  const runs: number[] = [];
  // CPU time as well: on a shared machine wall time is mostly other processes' turn
  const cpu: number[] = [];
  let error: string | undefined;
  try {
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      try {
        await t.target.run(input);
      } catch (e) {
        error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      }
      runs.push(Math.round((performance.now() - t0) * 100) / 100);
      const c = process.cpuUsage(c0);
      cpu.push(Math.round((c.user + c.system) / 10) / 100);
    }
  } finally {
    await t.target.teardown?.();
  }
  process.stdout.write(JSON.stringify({ target: t.target.name, bytes: input.length, runsMs: runs, cpuMs: cpu, ...(error ? { error } : {}) }) + '\n');
  return error === undefined ? 0 : 1;
}

async function main(): Promise<number> {
  const { names, opts, replay: replayInput } = parse(process.argv.slice(2));
  const all = await loadTargets();
  const unknown = names.filter((n) => !all.some((t) => t.target.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`fuzz: unknown target ${unknown.join(', ')} (known: ${all.map((t) => t.target.name).join(', ')})\n`);
    return 2;
  }
  if (replayInput !== undefined) {
    const t = all.find((x) => x.target.name === names[0]);
    if (!t || names.length !== 1) throw new Error('--replay: name exactly one target');
    return replay(t, replayInput);
  }
  let found = false;
  for (const t of all.filter((x) => names.length === 0 || names.includes(x.target.name))) {
    const r = await runTarget(t, opts);
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), ...r }) + '\n');
    if (r.crashes > 0 || r.slow > 0 || r.error !== undefined) found = true;
  }
  return found ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
