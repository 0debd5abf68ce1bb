// `nodemgr drain` against one real daemon, outside a lab: the refusals (no daemon, a bad
// --timeout) and a failover service with no other node to go to (not movable: exit 75, the
// node frozen all the same). The moves themselves: test/integration/cluster-drain.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { makeFerryRoot, runCli } from '../helpers/env.js';
import { startSingleDaemon } from '../helpers/single-daemon.js';
import { schemaErrors } from '../helpers/schemas.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function oneLine(t: { is(a: unknown, b: unknown, m?: string): void }, r: { stdout: string; stderr: string }): string {
  t.is(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  return lines[0]!;
}

test('drain without a daemon: one line naming the missing daemon, exit 69; bad --timeout: exit 64; nothing frozen', async (t) => {
  const r = makeFerryRoot('dr1');
  t.teardown(() => r.cleanup());
  for (const args of [['drain'], ['drain', '--wait'], ['drain', '--wait', '--format', 'json']]) {
    const res = await runCli('nodemgr', args, r.env);
    t.is(res.exitCode, 69, `${args.join(' ')}: ${res.stderr}`);
    t.regex(oneLine(t, res), /^nodemgr: drain needs the daemon: the daemon is not running \(.*nodemgr\.sock: ENOENT\)$/);
  }
  for (const v of ['0', '-3', '1.5', 'soon', '86401']) {
    const res = await runCli('nodemgr', ['drain', '--timeout', v], r.env);
    t.is(res.exitCode, 64, `--timeout ${v}: ${res.stderr}`);
    t.regex(oneLine(t, res), /^nodemgr: --timeout .*: expected whole seconds from 1 to 86400$/);
  }
  t.false(fs.existsSync(path.join(r.root, 'var', 'node.frozen')));
});

test('drain of a node whose failover service has nowhere to go: not movable, exit 75, node frozen; thaw ends it', async (t) => {
  const d = await startSingleDaemon('dr2', { FERRY_TICK_MS: '200' });
  t.teardown(() => d.close());
  const mark = path.join(d.root.root, 'app.up');
  fs.writeFileSync(path.join(d.root.services, 'drsvc.env'), ['[DEFAULT]', 'nodes = dr2', 'orchestrate = ha', '', '[app#1]', `start = /bin/touch ${mark}`, `stop = /bin/rm -f ${mark}`, `check = /bin/test -e ${mark}`, ''].join('\n'));
  const st = await runCli('svcmgr', ['-s', 'drsvc', 'start'], d.root.env);
  t.is(st.exitCode, 0, st.stderr);
  // the daemon's refresh sees it running
  for (let i = 0; i < 100; i++) {
    const v = await runCli('svcmon', ['--format', 'json'], d.root.env);
    const s = (JSON.parse(v.stdout) as { nodes?: Record<string, { payload?: { services: Record<string, { avail: string }> } }> }).nodes?.dr2?.payload?.services.drsvc;
    if (s?.avail === 'up') break;
    await sleep(100);
  }
  const res = await runCli('nodemgr', ['drain', '--wait', '--timeout', '30', '--format', 'json'], d.root.env);
  t.is(res.exitCode, 75, res.stderr);
  const out = JSON.parse(res.stdout) as { node: string; done: boolean; services: { svc: string; state: string; why?: string }[] };
  t.is(schemaErrors('nodemgr-drain', out), '', res.stdout);
  t.is(out.node, 'dr2');
  t.true(out.done);
  t.deepEqual(out.services.map((s) => [s.svc, s.state]), [['drsvc', 'unmovable']]);
  t.regex(out.services[0]!.why ?? '', /^no other node in nodes \(dr2\)$/);
  t.true(fs.existsSync(path.join(d.paths.var, 'node.frozen')), 'the node is frozen');
  t.true(fs.existsSync(mark), 'the service not movable keeps running here');
  const text = await runCli('nodemgr', ['drain'], d.root.env);
  t.is(text.exitCode, 75);
  t.is(text.stdout.trimEnd(), 'dr2 frozen; 1 failover service\ndrsvc: not movable: no other node in nodes (dr2)');
  const events = d.logEntries().filter((e) => typeof e.event === 'string' && String(e.event).startsWith('node.drain.'));
  t.deepEqual(events.slice(0, 3).map((e) => [e.event, e.state ?? null]), [['node.drain.begin', null], ['node.drain.service', 'unmovable'], ['node.drain.end', null]]);
  t.is((await runCli('nodemgr', ['thaw'], d.root.env)).exitCode, 0);
  t.false(fs.existsSync(path.join(d.paths.var, 'node.frozen')));
  await runCli('svcmgr', ['-s', 'drsvc', 'stop'], d.root.env);
});
