// `nodemgr validate`: the cluster file's problems as file:line, exit 1 on an error; a daemon
// refuses to start on the same errors (loadClusterConfig) and changes nothing.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { makeFerryRoot, runCli } from '../helpers/env.js';

const conf = (cluster: string[], extra: string[] = []) =>
  ['[cluster]', 'name = c', 'nodes = a b', `secret = ${'ef'.repeat(32)}`, ...cluster, '', '[hb#1]', 'type = unicast', 'addr@a = 127.0.0.1', 'addr@b = 127.0.0.2', '', ...extra, ''].join('\n');

test('two nodes without a tie-breaker: validate and daemon start refuse it with file:line; explicit quorum passes', async (t) => {
  const r = makeFerryRoot('a');
  t.teardown(() => r.cleanup());
  const file = path.join(r.root, 'etc', 'cluster.conf');
  fs.writeFileSync(file, conf([]));
  const v = await runCli('nodemgr', ['validate'], r.env);
  t.is(v.exitCode, 1);
  t.regex(v.stdout, new RegExp(`^${file}:1: two-node cluster without a tie-breaker: .*add an \\[arbitrator#1\\]`, 'm'));
  const d = await runCli('nodemgr', ['daemon', 'run'], r.env, 20_000);
  t.is(d.exitCode, 78, 'the daemon does not start: configuration error (docs/exit-codes.md)');
  t.regex(d.stderr, /two-node cluster without a tie-breaker/);
  t.false(fs.existsSync(path.join(r.root, 'run', 'nodemgr.sock')));

  fs.writeFileSync(file, conf(['quorum = false']));
  const w = await runCli('nodemgr', ['validate'], r.env);
  t.is(w.exitCode, 0, w.stdout + w.stderr);
  t.regex(w.stdout, new RegExp(`^${file}:5: warning: quorum = false and no \\[stonith#<node>\\] for a, b`, 'm'));

  fs.writeFileSync(file, conf([], ['[arbitrator#1]', 'addr = 127.0.0.9']));
  const ok = await runCli('nodemgr', ['validate'], r.env);
  t.is(ok.exitCode, 0);
  t.is(ok.stdout.trim(), `${file}: ok`);
});

// issue 8: secret_file and the cluster file itself are outside input: a FIFO must not block
// the reader, /dev/zero or a huge file must not be read without end
test('secret_file: a FIFO, a device, a directory and an oversized file are refused at once on the line of the key', async (t) => {
  const r = makeFerryRoot('a');
  t.teardown(() => r.cleanup());
  const etc = path.join(r.root, 'etc');
  const file = path.join(etc, 'cluster.conf');
  const withSecretFile = (p: string) =>
    conf(['quorum = false']).replace(`secret = ${'ef'.repeat(32)}`, `secret_file = ${p}`);
  const fifo = path.join(etc, 'secret.fifo');
  await execa('mkfifo', ['-m', '600', fifo]);
  const big = path.join(etc, 'secret.big');
  // a valid secret padded with blanks past the limit
  fs.writeFileSync(big, 'ef'.repeat(32) + ' '.repeat(64 * 1024), { mode: 0o600 });
  const atLimit = path.join(etc, 'secret.limit');
  fs.writeFileSync(atLimit, 'ef'.repeat(32) + ' '.repeat(64 * 1024 - 64), { mode: 0o600 });
  const cases: [string, string][] = [
    [fifo, `${file}:4: secret_file ${fifo} is not a regular file (FIFO)`],
    ['/dev/zero', `${file}:4: secret_file /dev/zero is not a regular file (character device)`],
    [etc, `${file}:4: secret_file ${etc} is not a regular file (directory)`],
    [big, `${file}:4: secret_file ${big} is larger than the limit of 64 KiB (${64 * 1024 + 64} bytes)`],
  ];
  for (const [p, expected] of cases) {
    fs.writeFileSync(file, withSecretFile(p));
    const started = performance.now();
    const v = await runCli('nodemgr', ['validate'], r.env, 30_000);
    t.is(v.exitCode, 1, `${p}: ${v.stdout}${v.stderr}`);
    t.deepEqual(v.stdout.split('\n').filter((l) => !l.includes('warning:')), [expected], p);
    t.true(performance.now() - started < 20_000, p);
  }
  fs.writeFileSync(file, withSecretFile(atLimit));
  const ok = await runCli('nodemgr', ['validate'], r.env, 30_000);
  t.is(ok.exitCode, 0, ok.stdout + ok.stderr);
  // the daemon refuses the FIFO the same way instead of hanging at start
  fs.writeFileSync(file, withSecretFile(fifo));
  const d = await runCli('nodemgr', ['daemon', 'run'], r.env, 30_000);
  t.is(d.exitCode, 78, d.stdout + d.stderr); // EXIT.config: docs/exit-codes.md
  t.is(d.stderr.split('\n')[0], `${file}:4: secret_file ${fifo} is not a regular file (FIFO)`);
  // and so does the arbitrator, given the FIFO as --secret-file
  const a = await runCli('nodemgr', ['arbitrator', '--cluster', 'c', '--secret-file', fifo, '--listen', '127.0.0.1:0'], r.env, 30_000);
  t.is(a.exitCode, 1, a.stdout + a.stderr);
  t.is(a.stderr, `nodemgr: secret file ${fifo} is not a regular file (FIFO)`);
});

test('the cluster file itself: a FIFO or a file over 1 MiB is refused at once', async (t) => {
  const r = makeFerryRoot('a');
  t.teardown(() => r.cleanup());
  const file = path.join(r.root, 'etc', 'cluster.conf');
  await execa('mkfifo', ['-m', '600', file]);
  const v = await runCli('nodemgr', ['validate'], r.env, 30_000);
  t.is(v.exitCode, 1, v.stdout + v.stderr);
  t.is(v.stdout, `${file}:1: not a regular file (FIFO)`);
  const d = await runCli('nodemgr', ['daemon', 'run'], r.env, 30_000);
  t.is(d.exitCode, 78, d.stdout + d.stderr); // EXIT.config: docs/exit-codes.md
  t.is(d.stderr.split('\n')[0], `${file}:1: not a regular file (FIFO)`);
  fs.rmSync(file);
  fs.writeFileSync(file, conf(['quorum = false']) + '#'.repeat(1024 * 1024));
  const big = await runCli('nodemgr', ['validate'], r.env, 30_000);
  t.is(big.exitCode, 1);
  t.regex(big.stdout, new RegExp(`^${file}:1: file larger than the limit of 1 MiB \\(\\d+ bytes\\)$`));
});
