// Multiple-active in a real 2-node lab (issue 9 item 5): the standby's daemon frozen, an
// operator starts the service's app by hand there (its address and container cannot come up
// twice: n1 answers on the address, the lab's one docker engine already runs the container),
// so the failover service is up on n1 and warn on n2, both live. While n2 is
// frozen: the alarm only (event, svcmon note), nothing stopped. Thawed: per multiple_active,
// stop_start leaves it on n1 only, stop_only on no node (and it stays down), block on both
// with the alarm on.
import fs from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { uniquePrefix } from '../helpers/env.js';
import type { MultipleActivePolicy } from '../../src/cluster/multiple-active.js';
import { type ClusterLab, cli, daemonEvents, sleep, startCluster, svcmonText, view, waitFor } from '../helpers/cluster-lab.js';

async function avail(cl: ClusterLab, node: string): Promise<string | undefined> {
  const v = await view(cl.lab, node).catch(() => undefined);
  return v?.nodes[node]?.payload?.services[cl.svc]?.avail;
}

async function madeUpOnTwo(t: ExecutionContext, policy: MultipleActivePolicy): Promise<ClusterLab> {
  // an app holding a marker file per node (the nodes share the host's /tmp)
  const marker = `/tmp/${uniquePrefix('ma')}`;
  t.teardown(() => ['n1', 'n2'].forEach((n) => fs.rmSync(`${marker}-${n}`, { force: true })));
  const app = ['', '[app#1]', `start = /bin/touch ${marker}-{nodename}`, `check = /bin/test -f ${marker}-{nodename}`, `stop = /bin/rm -f ${marker}-{nodename}`];
  // the container not monitored on n2: its monitor (the container cannot run there) would
  // freezestop the instance by itself
  const cl = await startCluster(t, { nodes: 2, service: { noFs: true, defaults: [`multiple_active = ${policy}`, ...app], container: ['monitor@n2 = false'] } });
  const { lab, svc } = cl;
  const fr = await cli(lab, 'n2', 'nodemgr', ['freeze']);
  t.true(fr.ok, fr.stderr);
  const st = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'start', '--rid', 'app#1']);
  t.true(st.ok, st.stderr);
  // both live nodes report it running: the alarm, on both, while nothing is stopped
  await waitFor('n2 reports its instance up (warn: only the app)', async () => (await avail(cl, 'n2')) === 'warn', 30_000);
  for (const n of ['n1', 'n2']) {
    await waitFor(`multiple-active event on ${n}`, async () => (await daemonEvents(lab, n, { event: 'service.multiple-active', svc, confirmed: true })).length > 0, 30_000);
    t.regex(await svcmonText(lab, n), new RegExp(`# ${svc}: multiple-active: up on n1, n2`), n);
  }
  const frozenWhy = (await daemonEvents(lab, 'n1', { event: 'service.multiple-active', svc, confirmed: true })).map((e) => e.why);
  t.true(frozenWhy.some((w) => /frozen on n2: alarm only until thawed/.test(String(w))), frozenWhy.join('; '));
  const m = JSON.parse((await cli(lab, 'n1', 'svcmon', ['--format', 'json'])).stdout) as { services: Record<string, { multipleActive?: string[] }> };
  t.deepEqual(m.services[svc]?.multipleActive, ['n1', 'n2']);
  const ps = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'print', 'status']);
  t.regex(ps.stdout, new RegExp(`# ${svc}: multiple-active: up on n1, n2`));
  await sleep(2_000);
  t.is(await avail(cl, 'n1'), 'up', 'nothing stopped while n2 is frozen');
  t.is(await avail(cl, 'n2'), 'warn', 'nothing stopped while n2 is frozen');
  const th = await cli(lab, 'n2', 'nodemgr', ['thaw']);
  t.true(th.ok, th.stderr);
  return cl;
}

const stops = async (cl: ClusterLab, node: string) => (await daemonEvents(cl.lab, node, { event: 'daemon.action.end', svc: cl.svc, kind: 'stop' })).length;

test.serial('multiple_active = stop_start: stopped on n2, n1 keeps it', async (t) => {
  const cl = await madeUpOnTwo(t, 'stop_start');
  await waitFor('n2 stopped its instance', async () => (await avail(cl, 'n2')) === 'down', 60_000);
  await sleep(3_000);
  t.is(await avail(cl, 'n1'), 'up');
  t.is(await avail(cl, 'n2'), 'down');
  t.is(await stops(cl, 'n1'), 0, 'n1 did not stop it');
  t.is(await stops(cl, 'n2'), 1);
  const stopEv = await daemonEvents(cl.lab, 'n2', { event: 'service.multiple-active', svc: cl.svc, action: 'stop' });
  t.like(stopEv[0], { keep: 'n1', policy: 'stop_start' });
  await waitFor('the alarm ended on n1', async () => (await daemonEvents(cl.lab, 'n1', { event: 'service.multiple-active-ended', svc: cl.svc })).length > 0, 30_000);
  t.notRegex(await svcmonText(cl.lab, 'n1'), /multiple-active/);
});

test.serial('multiple_active = stop_only: stopped on both, and left stopped', async (t) => {
  const cl = await madeUpOnTwo(t, 'stop_only');
  await waitFor('stopped on both', async () => (await avail(cl, 'n1')) === 'down' && (await avail(cl, 'n2')) === 'down', 60_000);
  await sleep(5_000);
  t.is(await avail(cl, 'n1'), 'down', 'not restarted');
  t.is(await avail(cl, 'n2'), 'down', 'not restarted');
  for (const n of ['n1', 'n2']) t.true((await daemonEvents(cl.lab, n, { event: 'service.multiple-active', svc: cl.svc, action: 'stop', policy: 'stop_only' })).length > 0, n);
});

test.serial('multiple_active = block: up on both, the alarm stays, nothing stopped', async (t) => {
  const cl = await madeUpOnTwo(t, 'block');
  await waitFor('the block verdict', async () => (await daemonEvents(cl.lab, 'n2', { event: 'service.multiple-active', svc: cl.svc, confirmed: true })).some((e) => /block: alarm only/.test(String(e.why))), 30_000);
  await sleep(5_000);
  t.is(await avail(cl, 'n1'), 'up');
  t.is(await avail(cl, 'n2'), 'warn');
  t.is(await stops(cl, 'n1'), 0);
  t.is(await stops(cl, 'n2'), 0);
  t.regex(await svcmonText(cl.lab, 'n2'), new RegExp(`# ${cl.svc}: multiple-active: up on n1, n2`));
});
