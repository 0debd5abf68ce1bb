// Failover with real agents in lab nodes: the owner node powered off (2 and 3 nodes), and a
// graceful daemon stop that must not fail anything over. Takeover times are measured from the
// kill, with the heartbeats at 200ms / 1s on every network and on the disk.
import test, { type ExecutionContext } from 'ava';
import { requireRoot } from '../helpers/env.js';
import { Sampler, audit, resourcePlacement } from '../helpers/cluster-audit.js';
import { type ClusterLab, cli, daemonLog, sleep, startAgentIn, startCluster, svcmonText, view, waitFor, waitRunning } from '../helpers/cluster-lab.js';
import type { SvcmonModel } from '../../src/daemon/svcmon-model.js';

/**
 * After the failover, the survivor's svcmon shows none of the dead node's statuses as current:
 * text `-`/`unknown` and when it was last heard, json `stale: true` with its last word under
 * `last` and no avail/overall; the survivor's own row with the heartbeats of live members `up`;
 * the node table's quorum with its reason.
 */
async function deadNodeIsStale(t: ExecutionContext, cl: ClusterLab, survivor: string, dead: string, quorum: RegExp): Promise<void> {
  const svc = cl.svc;
  // the hb column settles once the dead node is known down (heartbeats of live members only)
  await waitFor(`${svc} hb up on ${survivor}`, async () => new RegExp(`^${svc}\\s+${survivor}\\s+(\\S+\\s+){8}up\\s`, 'm').test(await svcmonText(cl.lab, survivor)), 15_000);
  const text = await svcmonText(cl.lab, survivor);
  const rows = text.split('\n');
  const deadRow = rows.find((l) => l.startsWith(`${svc} `) && l.includes(` ${dead} (down)`));
  t.regex(deadRow ?? '', new RegExp(`^${svc}\\s+${dead} \\(down\\)\\s+\\S+\\s+hosted(\\s+-){8}\\s+unknown\\s+unknown\\s+-\\s+-$`), text);
  t.regex(text, new RegExp(`^# ${svc}@${dead}: ${dead} is down, last seen \\d+\\.\\d s ago: its statuses are not current$`, 'm'));
  t.regex(text, new RegExp(`^${dead}\\s+down, last seen \\d+(\\.\\d)? s ago\\s+-\\s+-$`, 'm'), 'the node table: no quorum nor fencing from the dead node');
  t.regex(text, quorum, 'the quorum reason');
  t.notRegex(text, /\(\d+ needed\)/);
  const r = await cli(cl.lab, survivor, 'svcmon', ['--format', 'json'], 15_000);
  t.is(r.exitCode, 0, r.stderr);
  const m = JSON.parse(r.stdout) as SvcmonModel;
  const gone = m.services[svc]?.instances[dead];
  t.like(gone, { agent: 'down', stale: true, last: { avail: 'up' } }, r.stdout);
  t.false(gone === undefined || 'avail' in gone || 'overall' in gone, 'no avail/overall for the dead node');
  t.like(m.nodes[dead], { state: 'down', stale: true });
  t.false('avail' in (m.nodes[dead]?.payload?.services[svc] ?? {}), 'nor in the published view');
  // a script counting avail == up sees it once
  const ups = Object.entries(m.services[svc]?.instances ?? {}).filter(([, i]) => !i.stale && i.avail === 'up').map(([n]) => n);
  t.deepEqual(ups, [survivor]);
  t.like(m.services[svc], { placement: 'optimal', runningOn: [survivor] });
}

/** Kill the owner node and measure: detection (peer down in the survivor's log), resources up, service idle-up. */
async function killAndMeasure(t: ExecutionContext, cl: ClusterLab, victim: string, heir: string): Promise<void> {
  const t0 = Date.now();
  await cl.lab.killNode(victim);
  const killed = Date.now();
  const resourcesUp = await waitFor(`${cl.svc} resources on ${heir}`, async () => {
    const p = await resourcePlacement(cl);
    return [p.ip, p.fs, p.container].every((h) => h.length === 1 && h[0] === heir);
  }, 20_000);
  await waitRunning(cl, heir, 10_000);
  const down = (await daemonLog(cl.lab, heir, new RegExp(`^peer ${victim} down$`))).find((e) => e.time >= t0);
  const started = (await daemonLog(cl.lab, heir, new RegExp(`^${cl.svc} start done in \\d+ ms$`))).find((e) => e.time >= t0);
  t.truthy(down, `${heir} logged ${victim} down`);
  t.truthy(started, `${heir} logged the start`);
  const detect = down!.time - t0;
  const total = started!.time - t0;
  t.log(`killNode(${victim}) took ${killed - t0} ms; ${heir} saw it down after ${detect} ms, service started after ${total} ms (start itself ${total - detect} ms); all resources seen on ${heir} at ${resourcesUp + (killed - t0)} ms`);
  // heartbeat timeout 1 s + one check period; the start of an address, an ext4 mount and a container.
  // The takeover bound is loose on purpose (bench/failover.ts measures speed): on a loaded
  // machine the lab's killed node releases its mount of the shared disk asynchronously, the
  // heir's first fsck can find the device busy, and the start is retried after its backoff.
  t.true(detect <= 2_500, `detection ${detect} ms`);
  t.true(total <= 25_000, `takeover ${total} ms`);
}

test.serial('owner node killed: the service is back on the peer (time measured)', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2 });
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  await killAndMeasure(t, cl, 'n1', 'n2');
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1', 'n2']);
  await audit(t, cl, 'n2');
  // the survivor tells why
  const mon = await svcmonText(cl.lab, 'n2');
  t.regex(mon, /n1 \(down\)/);
  await deadNodeIsStale(t, cl, 'n2', 'n1', /^n2\s+self\s+off\s/m);
});

test.serial('3 nodes, owner killed: exactly one of the two others takes over, the first of nodes among the living', async (t) => {
  requireRoot();
  // nodes order n1 n3 n2: the heir is n3, not the next node by name
  const cl = await startCluster(t, { nodes: 3, svcNodes: ['n1', 'n3', 'n2'] });
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  await killAndMeasure(t, cl, 'n1', 'n3');
  // and it stays that way: n2 never tries
  await sleep(2_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, [], 'never on two nodes');
  t.deepEqual(s.seen, ['n1', 'n3']);
  await audit(t, cl, 'n3');
  const n2Actions = await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} (start|stop) `));
  t.deepEqual(n2Actions.map((e) => e.msg), [], 'n2 never acted');
  const why = (await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc}: no action`))).map((e) => e.msg);
  t.log(`n2 decisions: ${why.join(' | ')}`);
  t.true(why.some((m) => /n3 is the first eligible node|running on n3/.test(m)), why.join(' | '));
  await deadNodeIsStale(t, cl, 'n3', 'n1', /^n3\s+self\s+quorate: 2\/3 votes\s+-$/m);
});

test.serial('graceful daemon stop: no failover, the peer shows the node left; the daemon comes back to a running service', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2 });
  const { lab } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  const stop = await cli(lab, 'n1', 'nodemgr', ['daemon', 'stop']);
  t.is(stop.exitCode, 0, stop.stderr);
  t.regex(stop.stdout, /daemon stopped/);
  await waitFor('n2 to see n1 left', async () => (await view(lab, 'n2')).nodes.n1?.state === 'left', 5_000);
  // well past the heartbeat timeout (1 s): nobody declared n1 dead, nothing moved
  await sleep(3_000);
  const v = await view(lab, 'n2');
  t.is(v.nodes.n1?.state, 'left');
  t.is(v.nodes.n2?.payload?.services[cl.svc]?.avail, 'down');
  t.regex(await svcmonText(lab, 'n2'), /n1 \(left\)/);
  t.deepEqual(await daemonLog(lab, 'n2', /^peer n1 down$/), [], 'n1 never seen down');
  await audit(t, cl, 'n1');
  // back: the agent rejoins, finds the service running, nothing is started twice
  startAgentIn(lab, 'n1');
  await waitFor('n2 to see n1 up again', async () => (await view(lab, 'n2')).nodes.n1?.state === 'up', 10_000);
  await sleep(2_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1']);
  t.deepEqual(await daemonLog(lab, 'n2', new RegExp(`^${cl.svc} start `)), [], 'n2 never started it');
  await audit(t, cl, 'n1');
});
