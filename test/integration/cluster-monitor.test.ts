// Resource monitoring and freezes, with real agents in lab nodes: a killed monitored container
// is restarted, then switched away when its restarts are exhausted (but not while no peer could
// take it: it stays up degraded); a frozen service or node makes the daemon keep its hands off,
// until thawed.
import test from 'ava';
import { run } from '../../src/util/exec.js';
import { requireRoot } from '../helpers/env.js';
import { Sampler, audit, resourcePlacement } from '../helpers/cluster-audit.js';
import { type ClusterLab, type LogLine, cli, daemonLog, sleep, startCluster, svcmonText, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';

async function dockerKill(cl: ClusterLab): Promise<void> {
  const r = await run('docker', ['kill', `${cl.svc}.container.1`], { timeout: 20_000 });
  if (!r.ok) throw new Error(`docker kill: ${r.stderr.trim()}`);
}

async function containerOn(cl: ClusterLab): Promise<string[]> {
  return (await resourcePlacement(cl)).container;
}

/** a node's daemon log entries with this `event` field for the service */
async function events(cl: ClusterLab, node: string, event: string): Promise<LogLine[]> {
  return (await daemonLog(cl.lab, node)).filter((e) => e.event === event && e.svc === cl.svc);
}

/** id of the running container of the service, if any */
async function runningId(cl: ClusterLab): Promise<string | undefined> {
  const r = await run('docker', ['ps', '--filter', `name=^${cl.svc}.container.1$`, '--format', '{{.ID}}'], { timeout: 20_000 });
  return r.stdout.trim() || undefined;
}

/** Wait until the address, the fs and the container are all on `node` and nowhere else. */
async function waitAllOn(cl: ClusterLab, node: string, timeoutMs: number): Promise<void> {
  await waitFor(`${cl.svc} on ${node}`, async () => {
    const p = await resourcePlacement(cl);
    return [p.ip, p.fs, p.container].every((h) => h.join() === node);
  }, timeoutMs);
}

test.serial('monitored container killed: restarted by the daemon; killed again with restart = 1, monitor_action = switch: switched to the peer', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, service: { container: ['restart = 1', 'monitor_action = switch'] } });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);

  const first = await runningId(cl);
  let t0 = Date.now();
  await dockerKill(cl);
  await waitFor('a new container on n1', async () => {
    const id = await runningId(cl);
    return id !== undefined && id !== first && (await containerOn(cl)).join() === 'n1';
  }, 15_000);
  t.log(`container killed: running again on n1 after ${Date.now() - t0} ms`);
  const restarts = await daemonLog(lab, 'n1', new RegExp(`^${svc} container#1 failed: restart 1/1$`));
  t.is(restarts.length, 1);
  await waitRunning(cl, 'n1', 10_000);
  await audit(t, cl, 'n1');

  t0 = Date.now();
  await dockerKill(cl);
  await waitAllOn(cl, 'n2', 20_000);
  t.log(`killed again: switched, all resources on n2 after ${Date.now() - t0} ms`);
  await waitRunning(cl, 'n2', 10_000);
  t.is((await daemonLog(lab, 'n1', new RegExp(`^${svc} container#1 failed, restarts exhausted: switch$`))).length, 1);
  const v = await view(lab, 'n2');
  t.is(v.nodes.n1?.payload?.services[svc]?.monitor, 'switched', 'n1 shows it switched the service away');
  t.regex(v.nodes.n1?.payload?.services[svc]?.error ?? '', /^switched away: container#1 failed, restarts exhausted$/);
  t.false(v.nodes.n1?.payload?.services[svc]?.frozen, 'a switch does not freeze');
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1', 'n2']);
  await audit(t, cl, 'n2');
});

test.serial('monitor_action = switch with the only peer frozen: held, the service stays up degraded where it runs and says why; the peer thawed, the switch runs', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, service: { container: ['monitor_action = switch'] } });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  t.true((await cli(lab, 'n2', 'nodemgr', ['freeze'])).ok);
  await waitFor('n1 to see n2 frozen', async () => (await view(lab, 'n1')).nodes.n2?.payload?.frozen === true, 10_000);

  await dockerKill(cl);
  // n1 decides: holds the switch, or (the bug) stops the service
  await waitFor('n1 to hold the switch or stop the service', async () => (await events(cl, 'n1', 'monitor_action_held')).length > 0 || !(await resourcePlacement(cl)).ip.includes('n1'), 15_000);
  await sleep(3_000); // several daemon ticks: the decision sticks
  t.deepEqual(await resourcePlacement(cl), { ip: ['n1'], fs: ['n1'], container: [] }, 'nothing stopped: address and fs still on n1, only the container is down');
  const held = await events(cl, 'n1', 'monitor_action_held');
  t.is(held.length, 1, 'held once, not re-logged every tick');
  t.is(held[0]?.action, 'switch');
  t.is(held[0]?.why, 'no other node can take it over (n2 node frozen)');
  t.deepEqual(await events(cl, 'n1', 'monitor_action'), [], 'the switch did not run');
  t.is((await events(cl, 'n1', 'monitor_exhausted')).length, 1);
  let v = await view(lab, 'n2');
  const onN1 = v.nodes.n1?.payload?.services[svc];
  t.is(onN1?.avail, 'warn', 'degraded, not down');
  t.is(onN1?.monitor, 'idle');
  t.regex(onN1?.error ?? '', /^container#1 failed, restarts exhausted: monitor_action switch held, the service stays degraded here: no other node can take it over \(n2 node frozen\)$/);
  t.is(v.nodes.n2?.payload?.services[svc]?.avail, 'down');
  t.true((await svcmonText(lab, 'n2')).includes('no other node can take it over (n2 node frozen)'), 'svcmon shows why');

  // the peer thawed: it can take the service, and the held switch runs
  const t0 = Date.now();
  t.true((await cli(lab, 'n2', 'nodemgr', ['thaw'])).ok);
  await waitAllOn(cl, 'n2', 20_000);
  t.log(`n2 thawed: switched, all resources on n2 after ${Date.now() - t0} ms`);
  await waitRunning(cl, 'n2', 10_000);
  t.is((await events(cl, 'n1', 'monitor_action_released')).length, 1);
  t.is((await events(cl, 'n1', 'monitor_action')).length, 1);
  v = await view(lab, 'n2');
  t.is(v.nodes.n1?.payload?.services[svc]?.monitor, 'switched');
  t.regex(v.nodes.n1?.payload?.services[svc]?.error ?? '', /^switched away: container#1 failed, restarts exhausted$/);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1', 'n2']);
  await audit(t, cl, 'n2');
});

test.serial('monitor_action = crash with the only peer frozen: held, the node does not crash itself; the peer thawed, it crashes and the peer takes over', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, service: { container: ['monitor_action = crash'] } });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  t.true((await cli(lab, 'n2', 'nodemgr', ['freeze'])).ok);
  await waitFor('n1 to see n2 frozen', async () => (await view(lab, 'n1')).nodes.n2?.payload?.frozen === true, 10_000);

  await dockerKill(cl);
  await waitFor('n1 to hold the crash or crash', async () => (await events(cl, 'n1', 'monitor_action_held')).length > 0 || !lab.isUp('n1'), 15_000);
  await sleep(3_000);
  t.true(lab.isUp('n1'), 'n1 did not crash itself');
  t.deepEqual(await resourcePlacement(cl), { ip: ['n1'], fs: ['n1'], container: [] }, 'address and fs still on n1');
  const held = await events(cl, 'n1', 'monitor_action_held');
  t.is(held.length, 1);
  t.is(held[0]?.action, 'crash');
  t.is(held[0]?.why, 'no other node can take it over (n2 node frozen)');
  t.is((await view(lab, 'n1')).nodes.n1?.payload?.services[svc]?.avail, 'warn');

  const t0 = Date.now();
  t.true((await cli(lab, 'n2', 'nodemgr', ['thaw'])).ok);
  await waitFor('n1 crashed itself', () => !lab.isUp('n1'), 15_000);
  await waitRunning(cl, 'n2', 30_000);
  t.log(`n2 thawed: n1 crashed itself, ${svc} up on n2 after ${Date.now() - t0} ms`);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  await audit(t, cl, 'n2');
});

test.serial('frozen service: a killed container is left down and nothing moves; frozen on the owner, the owner killed: nothing moves until an operator takeover', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, service: { container: ['restart = 1'] } });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);

  // frozen on the owner: the dead container is not restarted, the peer does not take over
  t.true((await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'freeze'])).ok);
  await waitFor('n2 to see it frozen on n1', async () => (await view(lab, 'n2')).nodes.n1?.payload?.services[svc]?.frozen === true, 10_000);
  await dockerKill(cl);
  await sleep(3_000);
  let p = await resourcePlacement(cl);
  t.deepEqual(p, { ip: ['n1'], fs: ['n1'], container: [] }, 'left as it was: address and fs on n1, container dead');
  let v = await view(lab, 'n2');
  t.is(v.nodes.n1?.payload?.services[svc]?.avail, 'warn');
  t.is(v.nodes.n2?.payload?.services[svc]?.avail, 'down');
  t.deepEqual(await daemonLog(lab, 'n1', new RegExp(`^${svc} container#1 failed`)), [], 'no monitor action while frozen');

  // thawed: the monitor restarts the container
  t.true((await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'thaw'])).ok);
  await waitFor('the container back on n1', async () => (await containerOn(cl)).join() === 'n1', 15_000);
  await waitRunning(cl, 'n1', 10_000);
  await audit(t, cl, 'n1');

  // frozen on the owner, then the owner powered off (freeze, then reboot for maintenance):
  // the peer keeps its hands off; an operator's takeover still moves it
  t.true((await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'freeze'])).ok);
  await waitFor('n2 to see it frozen on n1', async () => (await view(lab, 'n2')).nodes.n1?.payload?.services[svc]?.frozen === true, 10_000);
  await lab.killNode('n1');
  await waitFor('n2 to see n1 down', async () => (await view(lab, 'n2')).nodes.n1?.state === 'down', 5_000);
  await sleep(2_500);
  p = await resourcePlacement(cl);
  t.deepEqual(p, { ip: [], fs: [], container: [] }, 'nothing started on n2');
  v = await view(lab, 'n2');
  t.is(v.nodes.n2?.payload?.services[svc]?.avail, 'down');
  t.is(v.nodes.n2?.payload?.services[svc]?.monitor, 'idle');
  t.true((await daemonLog(lab, 'n2', new RegExp(`^${svc}: no action \\(service frozen on n1\\)$`))).length >= 1);
  const t0 = Date.now();
  const take = await cli(lab, 'n2', 'svcmgr', ['-s', svc, 'takeover', '--wait', '30'], 45_000);
  t.is(take.exitCode, 0, take.stderr);
  t.log(`takeover on n2: ${take.stdout.trim()} (${Date.now() - t0} ms)`);
  await waitRunning(cl, 'n2', 10_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1', 'n2']);
  await audit(t, cl, 'n2');
});

test.serial('frozen node (nodemgr freeze): the owner killed, the frozen peer does not take over until thawed', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2 });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  t.true((await cli(lab, 'n2', 'nodemgr', ['freeze'])).ok);
  await waitFor('n2 frozen', async () => (await view(lab, 'n2')).nodes.n2?.payload?.frozen === true, 5_000);
  await lab.killNode('n1');
  await waitFor('n2 to see n1 down', async () => (await view(lab, 'n2')).nodes.n1?.state === 'down', 5_000);
  await sleep(2_500);
  t.deepEqual(await resourcePlacement(cl), { ip: [], fs: [], container: [] }, 'nothing started on n2');
  t.true((await daemonLog(lab, 'n2', new RegExp(`^${svc}: no action \\(node frozen\\)$`))).length >= 1);
  t.regex(await svcmonTextOf(cl, 'n2'), new RegExp(`${svc}\\s+n2\\s.*\\sTrue\\s+idle`), 'svcmon shows n2 frozen');
  const t0 = Date.now();
  t.true((await cli(lab, 'n2', 'nodemgr', ['thaw'])).ok);
  await waitRunning(cl, 'n2', 15_000);
  t.log(`node thawed: running on n2 after ${Date.now() - t0} ms`);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  await audit(t, cl, 'n2');
});

async function svcmonTextOf(cl: ClusterLab, node: string): Promise<string> {
  return (await cli(cl.lab, node, 'svcmon', [])).stdout;
}

test.serial('monitored container killed, no restart left, monitor_action = freezestop: frozen and stopped, the peer does not take over', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, service: { container: ['monitor_action = freezestop'] } });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  await dockerKill(cl);
  await waitFor('the service stopped on n1', async () => {
    const p = await resourcePlacement(cl);
    return p.ip.length + p.fs.length + p.container.length === 0;
  }, 15_000);
  await sleep(2_500);
  t.deepEqual(await resourcePlacement(cl), { ip: [], fs: [], container: [] }, 'stopped, and not started anywhere');
  const v = await view(lab, 'n2');
  t.is(v.nodes.n1?.payload?.services[svc]?.frozen, true, 'frozen on n1');
  t.is(v.nodes.n1?.payload?.services[svc]?.avail, 'down');
  t.is(v.nodes.n2?.payload?.services[svc]?.monitor, 'idle', 'n2 never tried');
  t.is((await daemonLog(lab, 'n1', new RegExp(`^${svc} container#1 failed, restarts exhausted: freezestop$`))).length, 1);
  t.true((await daemonLog(lab, 'n2', new RegExp(`^${svc}: no action \\(service frozen on n1\\)$`))).length >= 1);
  // thawed: the daemon starts it again where it belongs
  t.true((await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'thaw'])).ok);
  await waitRunning(cl, 'n1', 15_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1']);
  await audit(t, cl, 'n1');
});
