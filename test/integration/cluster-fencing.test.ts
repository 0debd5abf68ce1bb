// Fencing before takeover, with real agents in lab nodes: a dead owner that has a
// [stonith#node] section is fenced before its service starts elsewhere; when the fence fails
// the service stays down, svcmon says why, and nothing runs twice.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, requireRoot } from '../helpers/env.js';
import { Sampler, audit, placement } from '../helpers/cluster-audit.js';
import { cli, daemonLog, sleep, startCluster, svcmonText, waitFor, waitRunning } from '../helpers/cluster-lab.js';

const labAgent = path.join(repoRoot, 'scripts', 'fence_ferry_lab');

test.serial('owner killed, its fence fails: the service is not started on the peer, svcmon says why', async (t) => {
  requireRoot();
  const cl = await startCluster(t, {
    nodes: 2,
    clusterLines: ['fence_delay = 200ms'],
    // a real fence agent that fails: fence_dummy type=fail never powers anything off
    clusterExtra: ['[stonith#n1]', 'agent = fence_dummy', 'params = type=fail power_timeout=1', 'timeout = 10s'].join('\n'),
  });
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  const t0 = Date.now();
  await cl.lab.killNode('n1');
  await sleep(8_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, [], 'never on two nodes');
  const p = await placement(cl);
  t.deepEqual(p.ip, [], 'the address is nowhere');
  t.deepEqual(p.container, [], 'no container runs');
  const fails = (await daemonLog(cl.lab, 'n2', /^fence of n1 failed/)).filter((e) => e.time >= t0);
  t.true(fails.length >= 1, 'n2 tried to fence n1 and failed');
  const starts = (await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} start `))).filter((e) => e.time >= t0);
  t.deepEqual(starts.map((e) => e.msg), [], 'n2 never started the service');
  // the fence is retried with backoff: between two attempts the note says the fence failed,
  // during one it says it is waiting for it; read the views between attempts
  const failedNote = new RegExp(`# ${cl.svc}@n2: fence of n1 failed \\(\\d+x\\): .*not starting`);
  let mon = '';
  await waitFor('svcmon to show the failed fence', async () => failedNote.test((mon = await svcmonText(cl.lab, 'n2'))) && /^n2\s+self\s+off\s.*n1 fence failed \d+x/m.test(mon), 30_000, 250).catch(() => undefined);
  t.regex(mon, failedNote);
  t.regex(mon, /^n2\s+self\s+off\s.*n1 fence failed \d+x/m, 'the node table shows the failed fence');
  let st = { stdout: '' };
  const failedLine = new RegExp(`^# ${cl.svc}@n2: fence of n1 failed \\(\\d+x\\): .*not starting`, 'm');
  await waitFor('print status to show the failed fence', async () => failedLine.test((st = await cli(cl.lab, 'n2', 'svcmgr', ['-s', cl.svc, 'print', 'status'])).stdout), 30_000, 250).catch(() => undefined);
  t.regex(st.stdout, failedLine, 'print status shows it too');
});

test.serial('owner killed, fenced by the lab agent: the peer fences first, then takes over', async (t) => {
  requireRoot();
  const cl = await startCluster(t, {
    nodes: 2,
    clusterLines: ['fence_delay = 200ms'],
    clusterExtra: ['[stonith#n1]', `agent = ${labAgent}`, 'timeout = 30s'].join('\n'),
  });
  t.true(fs.existsSync(labAgent));
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  const t0 = Date.now();
  await cl.lab.killNode('n1');
  await waitRunning(cl, 'n2', 30_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, [], 'never on two nodes');
  const fenced = (await daemonLog(cl.lab, 'n2', /^fenced n1/)).find((e) => e.time >= t0);
  const started = (await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} start done`))).find((e) => e.time >= t0);
  t.truthy(fenced, 'n2 fenced n1');
  t.truthy(started, 'n2 started the service');
  t.true(fenced!.time <= started!.time, 'fence before takeover');
  t.log(`fenced after ${fenced!.time - t0} ms, service up after ${started!.time - t0} ms`);
  await audit(t, cl, 'n2');
});
