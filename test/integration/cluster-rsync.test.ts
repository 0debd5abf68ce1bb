// Data that follows its service without a shared disk: [sync#1] type = rsync between two lab
// nodes, real agents, real rsync over the state channel, a busybox container writing numbered
// records into its synced directory (each node has its own directory: no shared storage).
// relocate keeps every record written before the stop and the target carries on from them;
// back again; killing the owner fails over to the last synced copy, whose age the target
// showed. A bad file (target outside nodes, no src) is one file:line line and changes nothing.
import fs from 'node:fs';
import test from 'ava';
import { requireRoot } from '../helpers/env.js';
import type { ClusterLab } from '../helpers/cluster-lab.js';
import { cli, startCluster, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';
import type { RelocateResult } from '../../src/cli/relocate.js';
import { schemaErrors } from '../helpers/schemas.js';
import { logEvents } from '../helpers/service-log.js';

/** outside the lab's own directory (not known before the lab exists); named after the service */
const ROOT = '/var/tmp/ferry-rsync-test';
const dataDir = (cl: ClusterLab, node: string): string => `${ROOT}/${cl.svc}/${node}`;

/** the records file of a node's data directory: "<n>:<writer node>" lines */
function lines(cl: ClusterLab, node: string): string[] {
  const f = `${dataDir(cl, node)}/records`;
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0);
}
const records = (cl: ClusterLab, node: string): number[] => lines(cl, node).map((l) => Number(l.split(':')[0]));

/** 1..n with no gap or repeat: every record kept, the writer carried on from the last one */
const sequential = (r: number[]): boolean => r.every((v, i) => v === i + 1);

async function copyOf(cl: ClusterLab, node: string) {
  return (await view(cl.lab, node)).nodes[node]?.payload?.services[cl.svc]?.data?.['sync#1'];
}

async function relocateJson(cl: ClusterLab, from: string, args: string[]): Promise<RelocateResult> {
  const r = await cli(cl.lab, from, 'svcmgr', ['--format', 'json', '-s', cl.svc, ...args, '--wait', '120'], 150_000);
  if (r.exitCode !== 0) throw new Error(`relocate from ${from}: exit ${r.exitCode}: ${r.stderr.trim()}`);
  const v = JSON.parse(r.stdout) as RelocateResult;
  const bad = schemaErrors('svcmgr-relocate', v);
  if (bad) throw new Error(`relocate --format json: ${bad}: ${r.stdout}`);
  return v;
}

/** the old owner's records at its stop are all on the target, which wrote on from the last one */
async function keptAndContinued(t: { log: (s: string) => void }, cl: ClusterLab, from: string, to: string): Promise<void> {
  const before = records(cl, from);
  if (before.length === 0) throw new Error(`no record on ${from}`);
  await waitFor(`${to} to write after record ${before.length}`, () => records(cl, to).length > before.length + 5, 30_000);
  const after = records(cl, to);
  if (!sequential(after)) throw new Error(`records on ${to} not 1..n: ${after.slice(0, 5).join(',')}...${after.slice(-5).join(',')}`);
  if (!sequential(before)) throw new Error(`records on ${from} not 1..n`);
  t.log(`${from} stopped at record ${before.length}; ${to} carried on from it (now ${after.length})`);
}


test.serial('rsync sync: two-phase relocate there and back keeps every record; failover starts from the last synced copy', async (t) => {
  requireRoot();
  const cl = await startCluster(t, {
    nodes: 2, links: 1,
    service: {
      noFs: true,
      container: [
        'run_args = --network none -v {env.data}:/data',
        `run_command = /bin/sh -c "trap 'exit 0' TERM; n=$(cat /data/records 2>/dev/null | wc -l); while :; do n=$((n+1)); echo $n:{nodename} >> /data/records; sleep 0.1; done"`,
      ],
      sections: ['[env]', `data = ${ROOT}/{svcname}/{nodename}`, '', '[sync#1]', 'type = rsync', 'src = {env.data}', 'schedule = @2s', ''],
    },
  });
  t.teardown(() => fs.rmSync(`${ROOT}/${cl.svc}`, { recursive: true, force: true }));
  // teardowns run last first: this one before the lab is destroyed
  t.teardown(() => {
    if (t.passed) return;
    for (const n of cl.lab.nodeNames) {
      const f = `${cl.lab.root(n)}/log/${cl.svc}.log`;
      if (!fs.existsSync(f)) continue;
      const ev = fs.readFileSync(f, 'utf8').split('\n').filter((l) => /rsync_|relocate_/.test(l)).slice(-8);
      console.error(`[${n}] ${cl.svc}.log sync events:\n${ev.join('\n')}`);
    }
  });
  const { lab, svc } = cl;

  // the node running it pushes on schedule: n2 holds a copy, not current, of a known age
  await waitFor('n2 to hold a scheduled copy', async () => (await copyOf(cl, 'n2'))?.received?.from === 'n1', 30_000);
  const c = (await copyOf(cl, 'n2'))!;
  t.false(c.current);
  t.true(typeof c.asOf === 'number');

  // bad input: one file:line line, non-zero, nothing changed (no data dir, no container)
  const bad = `${lab.root('n1')}/bad-${svc}.env`;
  for (const [body, line] of [
    [`[DEFAULT]\nnodes = n1 n2\n\n[sync#1]\ntype = rsync\nsrc = ${ROOT}/${svc}/bad\ntarget = n2 n7\n`, /^.*bad-.*\.env:7: \[sync#1\] target n7 not in the nodes of the service \(n1 n2\)$/],
    ['[DEFAULT]\nnodes = n1 n2\n\n[sync#1]\ntype = rsync\n', /^.*bad-.*\.env:4: \[sync#1\] missing required keyword "src" for type rsync \(the directory to copy\)$/],
  ] as const) {
    fs.writeFileSync(bad, body);
    const r = await cli(lab, 'n1', 'svcmgr', ['-s', bad, 'start']);
    const lines = r.stderr.trim().split('\n');
    t.not(r.exitCode, 0);
    t.is(lines.length, 1, r.stderr);
    t.regex(lines[0]!, line);
    t.false(fs.existsSync(`${ROOT}/${svc}/bad`));
  }
  fs.rmSync(bad);

  // there: phase 1 while it runs, stop, phase 2, start on n2 from a current copy
  const there = await relocateJson(cl, 'n1', ['relocate', '--to', 'n2']);
  t.log(`relocate to n2: ${JSON.stringify(there)}`);
  // the final push's stream was opened before the stop, and the final push went through it
  t.true(logEvents(lab.root('n1'), svc, 'relocate_final_preopened').length >= 1, 'final stream pre-opened');
  t.true(logEvents(lab.root('n1'), svc, 'rsync_push').some((e) => e.final === true && e.preopened === true), 'final push through the pre-opened stream');
  t.truthy(there.transfer, 'the two phases are reported');
  t.true(there.transfer!.phase1.passes >= 1);
  t.true(there.transfer!.phase2.bytes > 0);
  t.true(there.transfer!.downtimeMs > 0 && there.transfer!.downtimeMs < there.ms);
  await keptAndContinued(t, cl, 'n1', 'n2');
  t.like(await copyOf(cl, 'n2'), { current: true });

  // ... and back (giveback asked on the node running it)
  const back = await relocateJson(cl, 'n2', ['giveback']);
  t.log(`giveback to n1: ${JSON.stringify(back)}`);
  t.truthy(back.transfer);
  await keptAndContinued(t, cl, 'n2', 'n1');

  // failover: n2's copy comes from n1's schedule; its age shows in print status on n2
  const since = Date.now();
  await waitFor('a scheduled push to n2 after the giveback', async () => ((await copyOf(cl, 'n2'))?.received?.at ?? 0) > since, 30_000);
  const held = (await copyOf(cl, 'n2'))!;
  // the age is computed while print status runs: between the ages at its start and its end
  // (a loaded machine can take seconds to run the command), floored to a second
  const ageBefore = Date.now() - held.asOf!;
  const st = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'print', 'status']);
  const ageAfter = Date.now() - held.asOf!;
  const m = /rsync \S+ from n1: last sync (\d+)s ago/.exec(st.stdout);
  t.truthy(m, st.stdout);
  const shown = Number(m![1]) * 1000;
  t.true(shown >= ageBefore - 1_500 && shown <= ageAfter + 500, `age shown ${shown} ms, record says ${ageBefore}–${ageAfter} ms while the command ran`);
  // the records the copy holds: what n1 had when that push began, at least
  const inCopy = records(cl, 'n2').length;
  await lab.killNode('n1');
  await waitRunning(cl, 'n2', 60_000);
  await waitFor('n2 to write on', () => records(cl, 'n2').length > inCopy + 5, 30_000);
  t.true(sequential(records(cl, 'n2')), 'n2 carried on from the last record of its copy');
  // n2 took over at record k: its first k records are n1's, as n1 wrote them; what n1 wrote after the last push is lost
  const after = lines(cl, 'n2');
  const lost = lines(cl, 'n1');
  const k = after.findIndex((l, i) => lost[i] !== l);
  t.log(`n1 died at record ${lost.length}; n2's copy (pushed ${Math.round(ageAfter / 1000)} s before) held ${inCopy} records; n2 took over after record ${k}`);
  t.true(k >= inCopy && k <= lost.length, `took over after ${k}, copy held ${inCopy}, n1 wrote ${lost.length}`);
  t.true(after.slice(k).every((l) => l.endsWith(':n2')));
  t.like(await copyOf(cl, 'n2'), { current: true });
});
