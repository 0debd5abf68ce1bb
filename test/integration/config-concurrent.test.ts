// Concurrent `svcmgr set` / `unset` on one service file, as real processes: every update
// must survive (issue 8 item 3: ten parallel sets all exited 0 and one value survived).
// FERRY_CONCURRENT_RUNS sets how many rounds each test runs (default 5; 20 is the
// acceptance figure).
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import test from 'ava';
import { makeFerryRoot, repoRoot, runCli } from '../helpers/env.js';
import { parseDocument } from '../../src/config/document.js';
import { lockFileOf } from '../../src/util/file-lock.js';

const RUNS = Number(process.env.FERRY_CONCURRENT_RUNS ?? 5);
const WRITERS = 10;
const base = '# concurrent writers\n[DEFAULT]\nnodes = node1\n\n[app#1]\ncheck = /bin/true\n';

/** [env] of the file as a plain object */
function envOf(file: string): Record<string, string> {
  const { doc } = parseDocument(fs.readFileSync(file, 'utf8'), file);
  return Object.fromEntries(doc.sections.filter((s) => s.name === 'env').flatMap((s) => s.entries.map((e) => [e.key, e.value])));
}

test.serial(`${WRITERS} concurrent svcmgr set on one service: every value is kept (${RUNS} rounds)`, async (t) => {
  t.timeout(RUNS * 60_000);
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const file = path.join(root.services, 'fyconc.env');
  for (let run = 0; run < RUNS; run++) {
    fs.writeFileSync(file, base);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => runCli('svcmgr', ['-s', 'fyconc', 'set', `env.c${i}=v${i}`], root.env)),
    );
    for (const [i, r] of results.entries()) t.is(r.exitCode, 0, `round ${run} writer ${i}: ${r.stderr}`);
    const env = envOf(file);
    const expected = Object.fromEntries(Array.from({ length: WRITERS }, (_, i) => [`c${i}`, `v${i}`]));
    t.deepEqual(env, expected, `round ${run}: lost updates`);
    t.true(fs.readFileSync(file, 'utf8').startsWith(base), 'the rest of the file is kept');
    t.deepEqual(fs.readdirSync(root.services), ['fyconc.env'], 'no lock or temp file left');
    t.log(`round ${run}: ${WRITERS} writers in ${Date.now() - started} ms`);
  }
});

test.serial(`concurrent svcmgr unset and set on one service: both kinds of edit are kept (${RUNS} rounds)`, async (t) => {
  t.timeout(RUNS * 60_000);
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const file = path.join(root.services, 'fyconc.env');
  const half = WRITERS / 2;
  const initial = `${base}\n[env]\n${Array.from({ length: half }, (_, i) => `u${i} = old${i}\n`).join('')}`;
  for (let run = 0; run < RUNS; run++) {
    fs.writeFileSync(file, initial);
    const results = await Promise.all([
      ...Array.from({ length: half }, (_, i) => runCli('svcmgr', ['-s', 'fyconc', 'unset', `env.u${i}`], root.env)),
      ...Array.from({ length: half }, (_, i) => runCli('svcmgr', ['-s', 'fyconc', 'set', `env.c${i}=v${i}`], root.env)),
    ]);
    for (const [i, r] of results.entries()) t.is(r.exitCode, 0, `round ${run} writer ${i}: ${r.stderr}`);
    t.deepEqual(envOf(file), Object.fromEntries(Array.from({ length: half }, (_, i) => [`c${i}`, `v${i}`])), `round ${run}`);
  }
});

test.serial('a writer killed while holding the lock does not block the next one', async (t) => {
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const file = path.join(root.services, 'fyconc.env');
  fs.writeFileSync(file, base);
  // a real process takes the lock, then dies by SIGKILL without releasing it
  const lockModule = path.join(repoRoot, 'dist', 'src', 'util', 'file-lock.js');
  const script = `import(${JSON.stringify(lockModule)}).then(async (m) => { await m.acquireFileLock(${JSON.stringify(file)}, { waitMs: 1000, purpose: 'doomed writer' }); process.stdout.write('locked\\n'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
  t.true(fs.existsSync(lockFileOf(file)), 'the holder took the lock');
  const gone = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await gone;
  t.true(fs.existsSync(lockFileOf(file)), 'SIGKILL left the lock file behind');
  const started = Date.now();
  // --waitlock 30: a stale lock must be broken at once, not waited out
  const r = await runCli('svcmgr', ['-s', 'fyconc', '--waitlock', '30', 'set', 'env.after=crash'], root.env);
  t.is(r.exitCode, 0, r.stderr);
  t.true(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  t.deepEqual(envOf(file), { after: 'crash' });
  t.deepEqual(fs.readdirSync(root.services), ['fyconc.env']);
  const events = fs.readFileSync(path.join(root.root, 'log', 'fyconc.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event?: string; holder?: { pid?: number } });
  t.true(events.some((e) => e.event === 'file-lock-stale-broken' && e.holder?.pid === child.pid), 'the broken stale lock is logged');
});

test.serial('a writer that cannot get the lock in --waitlock fails with one line and changes nothing', async (t) => {
  const root = makeFerryRoot('node1');
  t.teardown(() => root.cleanup());
  const file = path.join(root.services, 'fyconc.env');
  fs.writeFileSync(file, base);
  // this test process is the live holder
  const { acquireFileLock } = await import('../../src/util/file-lock.js');
  const lock = await acquireFileLock(file, { waitMs: 1000, purpose: 'test holder' });
  t.teardown(() => lock.release());
  const started = Date.now();
  const r = await runCli('svcmgr', ['-s', 'fyconc', '--waitlock', '1', 'set', 'env.x=y'], root.env);
  t.is(r.exitCode, 1);
  t.regex(r.stderr.trim(), new RegExp(`^svcmgr: ${file.replace(/[.]/g, '\\.')}: another writer holds it \\(pid ${process.pid}, test holder, since [^)]+\\); nothing changed; retry later or raise --waitlock$`));
  t.true(Date.now() - started >= 1000, 'it waited');
  t.is(fs.readFileSync(file, 'utf8'), base);
  t.true(lock.release());
  t.deepEqual(fs.readdirSync(root.services), ['fyconc.env']);
});
