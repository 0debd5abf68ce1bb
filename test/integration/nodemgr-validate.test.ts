// `nodemgr validate`: the cluster file's problems as file:line, exit 1 on an error; a daemon
// refuses to start on the same errors (loadClusterConfig) and changes nothing.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
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
