// Service dependencies in the lab (docs/dependencies.md): a parent (the lab service: ip, fs,
// container) and a child (a container) with `parents = <parent>`, orchestrate = ha on two
// nodes. Cold cluster: the child's start begins only after the parent is up. Owner killed with
// the parent held (frozen on the survivor): the child waits there (views, event, a start by
// hand refused) and follows the parent once it is up again.
import fs from 'node:fs';
import test from 'ava';
import { requireRoot } from '../helpers/env.js';
import { cli, daemonEvents, serviceText, startAgentIn, startCluster, svcmonText, view, waitFor, type LogLine } from '../helpers/cluster-lab.js';
import { EVENT } from '../../src/events.js';
import { schemaErrors } from '../helpers/schemas.js';

type Phase = { upAt: number; beginAt: number };

/** When the parent went up on node, and when the child's start began there, after t0. */
function order(events: LogLine[], parent: string, child: string, t0: number): Phase {
  const up = events.find((e) => e.event === EVENT.serviceStatus && e.svc === parent && e.avail === 'up' && e.time >= t0);
  const begin = events.find((e) => e.event === EVENT.daemonActionBegin && e.svc === child && e.kind === 'start' && e.time >= t0);
  if (!up || !begin) throw new Error(`no ${parent} up (${String(up?.time)}) or ${child} start (${String(begin?.time)}) in the log`);
  return { upAt: up.time, beginAt: begin.time };
}

async function upIdle(lab: Parameters<typeof view>[0], node: string, svc: string): Promise<boolean> {
  const s = (await view(lab, node).catch(() => undefined))?.nodes[node]?.payload?.services[svc];
  return s?.avail === 'up' && s.monitor === 'idle';
}

test.serial('parent and child: started in order on a cold cluster; the child waits while the parent fails over', async (t) => {
  requireRoot();
  // no agent yet: both files are in place before the cluster starts (cold)
  const cl = await startCluster(t, { nodes: 2, agents: [], expectOn: null });
  const { lab } = cl;
  const db = cl.svc;
  const web = `${db}w`;
  const childText = serviceText(lab, { name: web, nodes: ['n1', 'n2'], noFs: true, defaults: [`parents = ${db}`] }).replace(/\[ip#1\][^[]*/, '');
  for (const n of lab.nodeNames) fs.writeFileSync(`${lab.root(n)}/etc/services/${web}.env`, childText);
  const t0 = Date.now();
  for (const n of ['n1', 'n2']) startAgentIn(lab, n);
  await waitFor(`${db} and ${web} up on n1`, async () => (await upIdle(lab, 'n1', db)) && (await upIdle(lab, 'n1', web)), 60_000, 200);
  const cold = order(await daemonEvents(lab, 'n1', {}), db, web, t0);
  t.log(`cold start: ${db} up at +${cold.upAt - t0} ms, ${web} start began at +${cold.beginAt - t0} ms`);
  t.true(cold.beginAt >= cold.upAt, `${web} started before ${db} was up`);
  t.true((await daemonEvents(lab, 'n1', { event: EVENT.serviceWaitParents, svc: web })).length > 0, 'the wait was logged');
  const n2view = await view(lab, 'n2');
  t.is(n2view.nodes['n2']?.payload?.services[web]?.avail, 'down');

  // the parent held on the survivor: a freeze there keeps it from failing over
  let r = await cli(lab, 'n2', 'svcmgr', ['-s', db, 'freeze']);
  t.is(r.exitCode, 0, r.stderr);
  await waitFor(`${db} frozen on n2 seen by n1`, async () => (await view(lab, 'n1')).nodes['n2']?.payload?.services[db]?.frozen === true, 15_000);
  const t1 = Date.now();
  await lab.killNode('n1');
  const why = `waiting for parents: ${db}`;
  await waitFor(`${web} waiting on n2`, async () => (await view(lab, 'n2').catch(() => undefined))?.nodes['n2']?.payload?.services[web]?.error === why, 20_000, 200);
  t.true((await daemonEvents(lab, 'n2', { event: EVENT.serviceWaitParents, svc: web })).some((e) => e.time >= t1));
  // visible in print status and svcmon
  r = await cli(lab, 'n2', 'svcmgr', ['-s', web, 'print', 'status']);
  t.regex(r.stdout, new RegExp(`^# ${web}@n2: ${why}$`, 'm'), r.stdout);
  t.regex(await svcmonText(lab, 'n2'), new RegExp(`^# ${web}@n2: ${why}$`, 'm'));
  const j = await cli(lab, 'n2', 'svcmon', ['--format', 'json']);
  t.is(schemaErrors('svcmon', JSON.parse(j.stdout)), '');
  // a start by hand is refused, nothing started
  r = await cli(lab, 'n2', 'svcmgr', ['-s', web, 'start']);
  t.not(r.exitCode, 0);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, new RegExp(`${web}: not started: ${why} .*--force`));
  await new Promise((res) => setTimeout(res, 2_000));
  const held = (await view(lab, 'n2')).nodes['n2']?.payload?.services;
  t.is(held?.[web]?.avail, 'down', 'the child stays down while its parent is down');
  t.is(held?.[db]?.avail, 'down');

  // the parent released: it fails over, the child follows
  const t2 = Date.now();
  r = await cli(lab, 'n2', 'svcmgr', ['-s', db, 'thaw']);
  t.is(r.exitCode, 0, r.stderr);
  await waitFor(`${db} and ${web} up on n2`, async () => (await upIdle(lab, 'n2', db)) && (await upIdle(lab, 'n2', web)), 60_000, 200);
  const over = order(await daemonEvents(lab, 'n2', {}), db, web, t2);
  t.log(`failover: ${db} up at +${over.upAt - t2} ms after the thaw, ${web} start began at +${over.beginAt - t2} ms`);
  t.true(over.beginAt >= over.upAt, `${web} started before ${db} was up`);
  t.false((await daemonEvents(lab, 'n2', { event: EVENT.daemonActionBegin, svc: web, kind: 'start' })).some((e) => e.time >= t1 && e.time < over.upAt));
  r = await cli(lab, 'n2', 'svcmgr', ['-s', web, 'print', 'status']);
  t.notRegex(r.stdout, /waiting for parents/);
});
