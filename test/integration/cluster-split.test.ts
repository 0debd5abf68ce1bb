// Split brain, in the lab, with real agents: every node's network heartbeats to its peers
// are cut (a partition, or the owner isolated from everything), with and without the disk
// heartbeat, with and without STONITH (the lab fence agent), with and without an arbitrator
// (nodemgr arbitrator on a lab host outside the cluster), with two and three nodes. A
// sampler checks all along, from the kernel and the engine (addresses, mounts, containers),
// that the service never runs on two nodes; the end state is audited: exactly one owner when
// a side holds a majority, nobody when none does. docs/quorum.md has the rules.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { requireRoot, distCli } from '../helpers/env.js';
import { Sampler, audit, resourcePlacement, type SampleReport } from '../helpers/cluster-audit.js';
import { daemonLog, sleep, startCluster, svcmonText, view, waitFor, waitRunning, type ClusterLab, type ClusterOptions } from '../helpers/cluster-lab.js';

/** short enough for tests, long enough for the lost side to stop the service under load */
const GRACE = ['split_grace = 5s'];
const ARB_PORT = 1215;
/** n3 on the first lab network: written in the cluster file before the lab exists */
const ARB_ADDR = '10.215.0.3';

async function withSampler<T>(t: ExecutionContext, cl: ClusterLab, f: () => Promise<T>): Promise<{ r: T; s: SampleReport }> {
  const sampler = new Sampler(t, cl);
  const r = await f();
  const s = await sampler.stop();
  t.deepEqual(s.violations, [], 'never on two nodes');
  t.log(`sampler: ${s.samples} samples, seen on ${s.seen.join(', ') || 'no node'}`);
  return { r, s };
}

/** The service runs nowhere, and keeps so for holdMs. */
async function nowhere(cl: ClusterLab, withinMs: number, holdMs: number): Promise<void> {
  const empty = async () => {
    const p = await resourcePlacement(cl);
    return p.ip.length + p.fs.length + p.container.length === 0;
  };
  await waitFor(`${cl.svc} stopped everywhere`, empty, withinMs);
  const t0 = Date.now();
  while (Date.now() - t0 < holdMs) {
    if (!(await empty())) throw new Error(`${cl.svc} started again within ${Date.now() - t0} ms`);
    await sleep(200);
  }
}

/** Still on `owner` after holdMs, and no start or stop anywhere since `since`. */
async function stays(t: ExecutionContext, cl: ClusterLab, owner: string, holdMs: number, since: number): Promise<void> {
  await sleep(holdMs);
  await audit(t, cl, owner);
  for (const n of cl.agents.filter((a) => cl.lab.isUp(a))) {
    const acts = (await daemonLog(cl.lab, n, new RegExp(`^${cl.svc} (start|stop) `))).filter((e) => e.time >= since);
    t.deepEqual(acts.map((e) => e.msg), [], `${n} did not act`);
  }
}

/**
 * nodemgr arbitrator on n3 (not a cluster member), with the cluster's secret. No restart
 * hold: it is a first start, there is no lease it could have forgotten.
 */
function startArbitrator(cl: ClusterLab): string {
  const { lab } = cl;
  const addr = lab.address('n3', 0);
  if (addr !== ARB_ADDR) throw new Error(`n3 is at ${addr}, the cluster file says ${ARB_ADDR}`);
  lab.startAgent('n3', [process.execPath, distCli('nodemgr'), 'arbitrator', '--listen', `${addr}:${ARB_PORT}`, '--secret-file', `${lab.root('n3')}/etc/cluster.secret`, '--cluster', lab.id, '--restart-hold', '0']);
  return addr;
}

async function arbitratorCluster(t: ExecutionContext, o: Partial<ClusterOptions>): Promise<ClusterLab> {
  // the arbitrator's address is known before the lab exists: n3 on the first network
  const cl = await startCluster(t, {
    nodes: 3, links: 1, disk: false, members: ['n1', 'n2'], expectOn: null,
    clusterLines: ['quorum = true', ...GRACE],
    clusterExtra: ['[arbitrator#1]', `addr = ${ARB_ADDR}`, `port = ${ARB_PORT}`, 'timeout = 1s'].join('\n'),
    ...o,
  });
  startArbitrator(cl);
  await waitRunning(cl, 'n1', 30_000);
  return cl;
}

const quorumOf = async (cl: ClusterLab, n: string) => (await view(cl.lab, n)).nodes[n]?.payload?.quorum;

// ------------------------------------------------------------------ two nodes

test.serial('2 nodes, network cut, disk heartbeat alive: not a split, nothing moves', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, clusterLines: ['quorum = true', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.partition([['n1'], ['n2']]);
    await stays(t, cl, 'n1', 6_000, t0);
  });
  const v = await view(cl.lab, 'n2');
  t.is(v.nodes.n1?.state, 'up', 'n1 still alive through the disk heartbeat');
  t.is((await quorumOf(cl, 'n2'))?.state, 'quorate');
});

test.serial('2 nodes, no disk heartbeat, no STONITH, no arbitrator: both lose quorum, the owner stops, nobody runs it; back on heal', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, disk: false, clusterLines: ['quorum = true', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.partition([['n1'], ['n2']]);
    await nowhere(cl, 15_000, 6_000);
  });
  for (const n of ['n1', 'n2']) {
    const q = await quorumOf(cl, n);
    t.is(q?.state, 'lost', `${n} has no quorum`);
    t.is(`${q?.votes}/${q?.total}`, '1/2');
  }
  const stops = (await daemonLog(cl.lab, 'n1', new RegExp(`^${cl.svc} stop done`))).filter((e) => e.time >= t0);
  t.is(stops.length, 1, 'n1 stopped it (split_action = stop)');
  t.deepEqual((await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} start`))).filter((e) => e.time >= t0), [], 'n2 never started it');
  t.regex(await svcmonText(cl.lab, 'n1'), /^n1\s+self\s+lost: 1\/2 votes, 2 needed/m, 'svcmon shows the lost quorum');
  await withSampler(t, cl, async () => {
    await cl.lab.heal();
    await waitRunning(cl, 'n1', 30_000);
  });
  await audit(t, cl, 'n1');
});

test.serial('2 nodes, no disk heartbeat, STONITH on both: the tie goes to the fence race, the first node wins and keeps the service', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, disk: false, stonith: true, clusterLines: ['quorum = true', 'fence_delay = 3s', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.partition([['n1'], ['n2']]);
    await waitFor('n2 powered off by n1', () => !cl.lab.isUp('n2'), 15_000);
    await sleep(3_000);
  });
  const fenced = (await daemonLog(cl.lab, 'n1', /^fenced n2/)).filter((e) => e.time >= t0);
  t.is(fenced.length, 1, 'n1 fenced n2');
  t.log(`n2 fenced ${fenced[0]!.time - t0} ms after the cut`);
  await audit(t, cl, 'n1');
  const q = await quorumOf(cl, 'n1');
  t.is(q?.state, 'quorate', q?.why);
  t.regex(await svcmonText(cl.lab, 'n1'), /^n1\s+self\s+quorate: peer n2 fenced\s.*n2 fenced at /m, 'svcmon shows the fence');
  t.deepEqual((await daemonLog(cl.lab, 'n1', new RegExp(`^${cl.svc} (start|stop) `))).filter((e) => e.time >= t0), [], 'the service never moved');
});

test.serial('2 nodes, STONITH on both, the peer daemon stopped gracefully: no fence, nothing stops or moves', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, disk: false, stonith: true, clusterLines: ['quorum = true', 'fence_delay = 1s', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    t.true(await cl.lab.stopAgent('n2'), 'n2 daemon stopped on TERM');
    await stays(t, cl, 'n1', 5_000, t0);
  });
  t.true(cl.lab.isUp('n2'), 'n2 not fenced');
  t.deepEqual((await daemonLog(cl.lab, 'n1', /^fenc/)).filter((e) => e.time >= t0), []);
  t.is((await quorumOf(cl, 'n1'))?.state, 'hold');
});

test.serial('2 nodes + arbitrator, no STONITH: the arbitrator votes for one side, the other stops, exactly one runs it', async (t) => {
  requireRoot();
  const cl = await arbitratorCluster(t, {});
  await withSampler(t, cl, async () => {
    await cl.lab.partition([['n1'], ['n2']]);
    // the loser stops at once; the winner starts (if it was not the owner) after split_grace
    await waitFor('one side quorate, the other lost', async () => {
      const states = await Promise.all(['n1', 'n2'].map(async (n) => (await quorumOf(cl, n))?.state));
      return states.includes('quorate') && states.includes('lost');
    }, 15_000);
    await sleep(9_000);
  });
  const winner = (await quorumOf(cl, 'n1'))?.state === 'quorate' ? 'n1' : 'n2';
  const loser = winner === 'n1' ? 'n2' : 'n1';
  await waitRunning(cl, winner, 15_000);
  await audit(t, cl, winner);
  const lq = await quorumOf(cl, loser);
  t.is(lq?.state, 'lost');
  t.regex(lq?.arbitrators?.['arbitrator#1']?.error ?? '', new RegExp(`held by ${winner}`), 'the arbitrator refused the loser: the vote is held by the winner');
  t.log(`winner ${winner}: ${(await quorumOf(cl, winner))?.why}; loser: ${lq?.why}`);
  // an owner that wins the vote keeps its service: it never stopped while the vote was asked
  if (winner === 'n1') t.deepEqual((await daemonLog(cl.lab, 'n1', new RegExp(`^${cl.svc} stop `))).map((e) => e.msg), [], 'the owner won and never stopped');
});

test.serial('2 nodes + arbitrator + STONITH: the side with the vote fences the other at once, exactly one runs it', async (t) => {
  requireRoot();
  // a two-node race delay far above what a fence takes even on a loaded machine: a fence
  // before it has passed proves the arbitrator's vote skipped the delay
  const cl = await arbitratorCluster(t, { stonith: true, clusterLines: ['quorum = true', 'fence_delay = 60s', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    // the owner is cut from its peer and from the arbitrator (on n3): the peer gets the vote
    await cl.lab.partition([['n1'], ['n2', 'n3']]);
    await waitFor('n1 powered off', () => !cl.lab.isUp('n1'), 45_000);
    await sleep(3_000);
  });
  t.true(cl.lab.isUp('n2'), 'the winner lives');
  // the fence is logged once the agent's status confirms the node off (seconds on a loaded machine)
  const fencedLines = async () => (await daemonLog(cl.lab, 'n2', /^fenced n1/)).filter((e) => e.time >= t0);
  await waitFor('n2 logs the fence of n1', async () => (await fencedLines()).length > 0, 30_000);
  const fenced = await fencedLines();
  t.is(fenced.length, 1, 'n2 fenced n1');
  // n2 is the second node of `nodes`: without the arbitrator's vote it would wait fence_delay
  t.true(fenced[0]!.time - t0 < 40_000, `no two-node fence delay (60 s) with an arbitrator: fenced after ${fenced[0]!.time - t0} ms`);
  t.log(`fenced after ${fenced[0]!.time - t0} ms`);
  await waitRunning(cl, 'n2', 15_000);
  await audit(t, cl, 'n2');
});

// ------------------------------------------------------------------ three nodes

test.serial('3 nodes, owner isolated, no STONITH: it stops its service (no quorum), the majority takes over after split_grace', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 3, links: 1, disk: false, clusterLines: ['quorum = true', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.cutLinks('n1');
    await waitRunning(cl, 'n2', 30_000);
  });
  await audit(t, cl, 'n2');
  const stopped = (await daemonLog(cl.lab, 'n1', new RegExp(`^${cl.svc} stop done`))).find((e) => e.time >= t0);
  const started = (await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} start done`))).find((e) => e.time >= t0);
  const waited = (await daemonLog(cl.lab, 'n2', /split_grace/)).find((e) => e.time >= t0);
  t.truthy(stopped, 'n1 stopped it');
  t.truthy(waited, 'n2 waited the split grace');
  t.true(stopped!.time < started!.time, 'stopped on the minority before the majority started it');
  t.log(`n1 stopped at +${stopped!.time - t0} ms, n2 started at +${started!.time - t0} ms`);
  t.is((await quorumOf(cl, 'n1'))?.state, 'lost');
  t.is((await quorumOf(cl, 'n2'))?.state, 'quorate');
});

test.serial('3 nodes, owner isolated, STONITH: the majority fences it, then takes over without waiting the grace', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 3, links: 1, disk: false, stonith: true, clusterLines: ['quorum = true', 'split_grace = 60s'] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.cutLinks('n1');
    await waitRunning(cl, 'n2', 30_000);
  });
  await audit(t, cl, 'n2');
  t.false(cl.lab.isUp('n1'), 'n1 powered off');
  const fenced = (await daemonLog(cl.lab, 'n2', /^fenced n1/)).find((e) => e.time >= t0);
  const started = (await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} start done`))).find((e) => e.time >= t0);
  t.truthy(fenced);
  t.true(fenced!.time <= started!.time, 'fenced before the takeover');
  t.true(started!.time - t0 < 30_000, 'a fence replaces the 60 s grace');
  t.deepEqual((await daemonLog(cl.lab, 'n3', /^fenc/)).filter((e) => e.time >= t0), [], 'only the heir fences');
});

test.serial('3 nodes, owner partitioned, disk heartbeat alive: not a split, nothing moves', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 3, links: 1, clusterLines: ['quorum = true', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.partition([['n1'], ['n2', 'n3']]);
    await stays(t, cl, 'n1', 6_000, t0);
  });
  t.is((await quorumOf(cl, 'n1'))?.state, 'quorate');
});

test.serial('3 nodes, split_action = freeze: the isolated owner keeps it frozen, the unfenceable majority never starts it', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 3, links: 1, disk: false, clusterLines: ['quorum = true', 'split_action = freeze', 'split_grace = 3s'] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.cutLinks('n1');
    await sleep(9_000);
  });
  await audit(t, cl, 'n1');
  const st = (await view(cl.lab, 'n1')).nodes.n1?.payload?.services[cl.svc];
  t.true(st?.frozen, 'frozen on n1');
  t.deepEqual((await daemonLog(cl.lab, 'n2', new RegExp(`^${cl.svc} start`))).filter((e) => e.time >= t0), []);
  t.regex(await svcmonText(cl.lab, 'n2'), /split_action = freeze.*not taking over/);
});

test.serial('3 nodes, split_action = crash: the isolated owner powers itself off, the majority takes over', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 3, links: 1, disk: false, clusterLines: ['quorum = true', 'split_action = crash', ...GRACE] });
  const t0 = Date.now();
  await withSampler(t, cl, async () => {
    await cl.lab.cutLinks('n1');
    await waitFor('n1 crashed itself', () => !cl.lab.isUp('n1'), 15_000);
    await waitRunning(cl, 'n2', 30_000);
  });
  await audit(t, cl, 'n2');
  t.log(`n2 up ${Date.now() - t0} ms after the cut`);
});
