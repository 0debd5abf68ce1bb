// Issue 9 item 3, the start gate in a 3-node lab: a new service file copied by hand to n2,
// then n3, then n1 (an operator's scp loop) starts on n1, the first of its `nodes`, and never
// on n2 or n3 — even though n2's daemon read it first and replicated it. Before the gate,
// whichever node read a new file first started it.
import fs from 'node:fs';
import test from 'ava';
import { Lab } from '../../src/lab/lab.js';
import { requireRoot, uniquePrefix } from '../helpers/env.js';
import { daemonEvents, diagnose, serviceText, sleep, startAgentIn, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';

const NODES = ['n1', 'n2', 'n3'] as const;

test.serial('a service file copied to n2, n3, n1 in turn starts on n1 only', async (t) => {
  requireRoot();
  const lab = await Lab.create({ nodes: 3, links: 1, prefix: uniquePrefix('g').slice(0, 6), disks: { heartbeat: 0, data: 0 } });
  t.teardown(async () => {
    if (!t.passed) await diagnose(lab).then((d) => console.error(d), () => undefined);
    const problems = await lab.destroy();
    if (problems.length) console.error(`lab ${lab.id} teardown: ${problems.join('; ')}`);
  });
  lab.writeClusterConf({ interval: '200ms', timeout: '1s', disk: false, cluster: ['split_grace = 2s'] });
  for (const n of NODES) startAgentIn(lab, n);
  await waitFor('cluster formed', async () => {
    for (const n of NODES) {
      const v = await view(lab, n).catch(() => undefined);
      if (!v || NODES.some((p) => p !== n && v.nodes[p]?.state !== 'up')) return false;
    }
    return true;
  }, 30_000);
  const svc = `g${lab.id}`;
  const text = serviceText(lab, { name: svc, nodes: [...NODES], noFs: true });
  for (const n of ['n2', 'n3', 'n1']) {
    fs.writeFileSync(`${lab.root(n)}/etc/services/${svc}.env`, text);
    await sleep(400);
  }
  const ms = await waitRunning({ lab, svc, mnt: undefined, agents: [...NODES] }, 'n1', 60_000);
  t.log(`${svc} up on n1 ${ms} ms after the last copy`);
  // a few more ticks: nothing else starts it
  await sleep(2_000);
  for (const n of ['n2', 'n3']) {
    const starts = await daemonEvents(lab, n, { event: 'daemon.action.begin', svc, kind: 'start' });
    t.deepEqual(starts.map((e) => e.why), [], `no start of ${svc} on ${n}`);
  }
  const v = await view(lab, 'n1');
  const upOn = NODES.filter((n) => v.nodes[n]?.payload?.services[svc]?.avail === 'up');
  t.deepEqual(upOn, ['n1']);
  const onN1 = await daemonEvents(lab, 'n1', { event: 'daemon.action.begin', svc, kind: 'start' });
  t.is(onN1.length, 1, 'started once on n1');
});
