// Operator moves through the daemons, with real agents in lab nodes: relocate there and back
// (the CLI waits for the result), and refusals that move nothing. After every step an audit
// asks every living node, the kernel, the mount tables and the engine where the service runs.
import test from 'ava';
import type { Lab } from '../../src/lab/lab.js';
import { requireRoot } from '../helpers/env.js';
import { Sampler, audit } from '../helpers/cluster-audit.js';
import { cli, daemonEvents, startCluster, view, waitFor } from '../helpers/cluster-lab.js';
import { schemaErrors } from '../helpers/schemas.js';

/** The refusal contract: non-zero exit, exactly one line on stderr, nothing on stdout. */
async function refused(lab: Lab, node: string, args: string[], why: RegExp): Promise<string> {
  const r = await cli(lab, node, 'svcmgr', args);
  const lines = r.stderr.trim().split('\n');
  if (r.ok || lines.length !== 1 || !why.test(lines[0]!) || r.stdout.trim() !== '') {
    throw new Error(`expected a one-line refusal matching ${why}, got exit ${r.exitCode}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
  }
  return lines[0]!;
}

async function frozenSeenBy(lab: Lab, observer: string, node: string, frozen: boolean): Promise<void> {
  await waitFor(`${observer} to see ${node} ${frozen ? 'frozen' : 'thawed'}`, async () => (await view(lab, observer)).nodes[node]?.payload?.frozen === frozen, 10_000);
}

test.serial('relocate there and back: the CLI waits and exits 0; refusals exit non-zero with one line and move nothing', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2 });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');

  // a node not in `nodes`
  t.log(await refused(lab, 'n1', ['-s', svc, 'relocate', '--to', 'n7'], new RegExp(`^svcmgr: ${svc}: relocate to n7 refused: n7 is not in the nodes of ${svc} \\(n1 n2\\)$`)));
  await audit(t, cl, 'n1');

  // a frozen node (node freeze on the target)
  t.true((await cli(lab, 'n2', 'nodemgr', ['freeze'])).ok);
  await frozenSeenBy(lab, 'n1', 'n2', true);
  t.log(await refused(lab, 'n1', ['-s', svc, 'relocate', '--to', 'n2'], new RegExp(`^svcmgr: ${svc}: relocate to n2 refused: n2 is frozen$`)));
  t.true((await cli(lab, 'n2', 'nodemgr', ['thaw'])).ok);
  await frozenSeenBy(lab, 'n1', 'n2', false);
  await audit(t, cl, 'n1');

  // the service frozen on the target
  t.true((await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'freeze'])).ok);
  await waitFor(`n1 to see ${svc} frozen on n2`, async () => (await view(lab, 'n1')).nodes.n2?.payload?.services[svc]?.frozen === true, 10_000);
  t.log(await refused(lab, 'n1', ['-s', svc, 'relocate', '--to', 'n2'], new RegExp(`^svcmgr: ${svc}: relocate to n2 refused: ${svc} is frozen on n2$`)));
  t.true((await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'thaw'])).ok);
  await waitFor(`n1 to see ${svc} thawed on n2`, async () => (await view(lab, 'n1')).nodes.n2?.payload?.services[svc]?.frozen === false, 10_000);
  await audit(t, cl, 'n1');

  // there...
  const sampler = new Sampler(t, cl);
  const there = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'relocate', '--to', 'n2', '--wait', '60'], 90_000);
  t.is(there.exitCode, 0, there.stderr);
  t.regex(there.stdout, new RegExp(`^${svc} relocated to n2 in \\d+\\.\\d s\n$`));
  t.log(`relocate: ${there.stdout.trim()} (CLI ${there.durationMs} ms)`);
  await audit(t, cl, 'n2');
  // a handover: n2 started while n1 stopped, and took no group n1 had not announced stopped
  const began = await daemonEvents(lab, 'n2', { event: 'daemon.action.begin', svc, kind: 'start' });
  t.regex(String(began.at(-1)?.['why']), /handover from n1/);
  const released = await daemonEvents(lab, 'n1', { event: 'handover.release', svc, side: 'owner' });
  const taken = await daemonEvents(lab, 'n2', { event: 'handover.release', svc, side: 'target' });
  t.true(taken.some((e) => e['group'] === 'ip') && taken.some((e) => e['group'] === 'fs'), 'n2 waited for the ip and fs releases');
  // read from n1's beat (via beat: before its state was pulled) or its pulled state: either way
  // after n1 said so
  for (const e of taken) {
    const first = released.filter((o) => o['group'] === e['group'] || o['group'] === 'all').map((o) => o.time).sort((a, b) => a - b)[0];
    t.true(first !== undefined && first <= e.time, `${String(e['group'])} taken at ${e.time} (via ${String(e['via'])}), released by n1 at ${String(first)}`);
    t.true(e['via'] === 'beat' || e['via'] === 'state', `how n2 read the release of ${String(e['group'])}: ${String(e['via'])}`);
  }
  t.log(`n2 read the releases: ${taken.map((e) => `${String(e['group'])} via ${String(e['via'])} ${e.time - (released.find((o) => o['group'] === e['group'] || o['group'] === 'all')?.time ?? NaN)} ms after n1`).join(', ')}`);
  // ... and back, asked on the node that runs it
  const back = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'giveback', '--wait', '60', '--format', 'json'], 90_000);
  t.is(back.exitCode, 0, back.stderr);
  const bj = JSON.parse(back.stdout) as unknown;
  t.is(schemaErrors('svcmgr-relocate', bj), '', back.stdout);
  t.like(bj, { svc, to: 'n1' });
  t.log(`giveback: ${back.stdout.trim()} (CLI ${back.durationMs} ms)`);
  const s = await sampler.stop();
  t.deepEqual(s.violations, [], 'never up on two nodes during the moves');
  t.deepEqual(s.seen, ['n1', 'n2'], 'the sampler saw it move there and back');
  t.log(`sampler: ${s.samples} samples, never on two nodes`);
  await audit(t, cl, 'n1');

  // a dead node
  await lab.killNode('n2');
  await waitFor('n1 to see n2 down', async () => (await view(lab, 'n1')).nodes.n2?.state === 'down', 10_000);
  t.log(await refused(lab, 'n1', ['-s', svc, 'relocate', '--to', 'n2'], new RegExp(`^svcmgr: ${svc}: relocate to n2 refused: n2 is down: its daemon must be running$`)));
  await audit(t, cl, 'n1');
});
