// Issue 13: a monitored ip whose link loses its carrier (the lab's switch port taken down,
// `ferry-lab cut <id> n1 0 --down`) is a failed resource: the owner's monitor runs
// monitor_action = switch and the peer takes the service over. Heartbeats keep flowing on the
// second network and the disk, so this is the monitor's doing, not a node-loss failover.
import test from 'ava';
import { requireRoot } from '../helpers/env.js';
import { Sampler, audit, resourcePlacement } from '../helpers/cluster-audit.js';
import { cli, daemonLog, startCluster, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';

test.serial('carrier lost on the owner\'s ipdev: the monitored ip fails, the service switches to the peer', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, service: { ip: ['monitor = true', 'monitor_action = switch'] } });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);

  const t0 = Date.now();
  await lab.cutLinks('n1', 0, 'down');
  await waitFor(`${svc} all on n2`, async () => {
    const p = await resourcePlacement(cl);
    return [p.ip, p.fs, p.container].every((h) => h.join() === 'n2');
  }, 30_000);
  t.log(`n1 lost carrier on eth0: all resources on n2 after ${Date.now() - t0} ms`);
  await waitRunning(cl, 'n2', 10_000);
  // the peer is still heard: it was a switch by the monitor, not a node-loss takeover
  t.is((await view(lab, 'n2')).nodes.n1?.state, 'up');
  t.is((await daemonLog(lab, 'n1', new RegExp(`^${svc} ip#1 failed, restarts exhausted: switch$`))).length, 1);
  const actions = (await daemonLog(lab, 'n1')).filter((e) => e.event === 'monitor_action' && e.svc === svc);
  t.is(actions.length, 1);
  // n1 shows why its ip cannot be up
  const st = await cli(lab, 'n1', 'svcmgr', ['-s', svc, 'print', 'status']);
  t.regex(st.stdout, /# no carrier on eth0 \(operstate \w+\)/);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1', 'n2']);
  await audit(t, cl, 'n2');
});
