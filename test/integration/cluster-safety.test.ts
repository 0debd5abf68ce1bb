// Safety with real agents in lab nodes: situations where a naive cluster would run the service
// twice. A sampler checks every 150 ms during each scenario, through the kernel (addresses,
// mount tables) and the engine, that the service is never up on two nodes at once.
import path from 'node:path';
import test from 'ava';
import type { HbSnapshot } from '../../src/heartbeat/index.js';
import { Sampler, audit } from '../helpers/cluster-audit.js';
import { SVC_ADDR, daemonLog, sleep, startAgentIn, startCluster, svcmonText, view, waitFor } from '../helpers/cluster-lab.js';
import { repoRoot, requireRoot } from '../helpers/env.js';

test.serial('agent crash with the resources up: the takeover is stopped by the address guard, never two nodes, the peer shows why', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2 });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  const t0 = Date.now();
  await lab.crashAgent('n1');
  // n2 declares n1 dead (every heartbeat timed out), tries, and is refused by the ip guard
  await waitFor('n2 start failed', async () => (await view(lab, 'n2')).nodes.n2?.payload?.services[svc]?.monitor === 'start failed', 15_000);
  t.log(`n2 tried and was refused ${Date.now() - t0} ms after the crash`);
  const v = await view(lab, 'n2');
  t.is(v.nodes.n1?.state, 'down');
  const mine = v.nodes.n2!.payload!.services[svc]!;
  t.is(mine.avail, 'down');
  const addrMsg = new RegExp(`^start failed at ip#1: ${SVC_ADDR.replace(/\./g, '\\.')} already answers on the network through eth0: refusing to start a duplicate address$`);
  t.regex(mine.error ?? '', addrMsg);
  const mon = await svcmonText(lab, 'n2');
  t.log(mon.split('\n').filter((l) => l.startsWith('# ') || l.includes(svc)).join('\n'));
  t.true(mon.split('\n').some((l) => l.startsWith(`# ${svc}@n2: start failed at ip#1: ${SVC_ADDR} already answers`)), mon);
  t.regex(mon, new RegExp(`${svc}\\s+n2\\s.*\\sstart failed`));
  // the retry after the back-off (5 s) is refused the same way
  await sleep(6_000);
  const fails = await daemonLog(lab, 'n2', new RegExp(`^${svc} start failed: `));
  t.true(fails.length >= 2, `n2 retried: ${fails.length} failed starts`);
  t.true(fails.every((e) => /already answers on the network/.test(e.msg)));
  await audit(t, cl, 'n1');
  // the agent comes back: it finds its service running, n2 stands down
  startAgentIn(lab, 'n1');
  await waitFor('n2 to see n1 up and running it', async () => {
    const n1 = (await view(lab, 'n2')).nodes.n1;
    return n1?.state === 'up' && n1.payload?.services[svc]?.avail === 'up';
  }, 10_000);
  await sleep(1_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, [], 'never on two nodes');
  t.deepEqual(s.seen, ['n1']);
  t.log(`sampler: ${s.samples} samples, never on two nodes`);
  await audit(t, cl, 'n1');
});

test.serial('network cuts while another heartbeat lives: one network, then every network with the disk alive: no failover', async (t) => {
  requireRoot();
  const cl = await startCluster(t, { nodes: 2, links: 2 });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  const sampler = new Sampler(t, cl);
  const rx = (hb: HbSnapshot, id: string) => hb.heartbeats.find((h) => h.id === id)?.peers.n1?.rxState;

  await lab.cutLinks('n1', 0);
  await waitFor('hb#1 down on n2', async () => rx((await view(lab, 'n2')).hb, 'hb#1') === 'down', 5_000);
  await sleep(2_000);
  let v = await view(lab, 'n2');
  t.is(v.nodes.n1?.state, 'up', 'n1 alive through hb#2 and the disk');
  t.is(rx(v.hb, 'hb#2'), 'up');
  t.is(rx(v.hb, 'hb#3'), 'up');
  await audit(t, cl, 'n1');

  await lab.cutLinks('n1', 'all');
  await waitFor('hb#2 down on n2', async () => rx((await view(lab, 'n2')).hb, 'hb#2') === 'down', 5_000);
  await sleep(2_500);
  v = await view(lab, 'n2');
  t.is(v.nodes.n1?.state, 'up', 'n1 alive through the disk alone');
  t.is(rx(v.hb, 'hb#1'), 'down');
  t.is(rx(v.hb, 'hb#3'), 'up');
  // the disk carries the state too: n2 knows n1 runs the service
  t.is(v.nodes.n1?.payload?.services[svc]?.avail, 'up');
  t.is(v.nodes.n2?.payload?.services[svc]?.avail, 'down');
  t.is(v.nodes.n2?.payload?.services[svc]?.monitor, 'idle', 'n2 never tried');
  await audit(t, cl, 'n1');

  await lab.healLinks('n1', 'all');
  await waitFor('every heartbeat up again', async () => {
    const h = (await view(lab, 'n2')).hb;
    return ['hb#1', 'hb#2', 'hb#3'].every((id) => rx(h, id) === 'up');
  }, 10_000);
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1']);
  t.deepEqual(await daemonLog(lab, 'n2', /^peer n1 down$/), [], 'n2 never saw n1 dead');
  t.deepEqual(await daemonLog(lab, 'n2', new RegExp(`^${svc} start`)), [], 'n2 never started it');
  await audit(t, cl, 'n1');
});

test.serial('forged, foreign, replayed, unknown and garbage heartbeats at a node: dropped, counted in svcmon json, nothing changes', async (t) => {
  requireRoot();
  // n3 is a cluster node whose agent never runs: the injector uses its address to capture a
  // genuine beat of n1 (sent to n3), then fires the bad batch at n2's daemon
  const cl = await startCluster(t, { nodes: 3, links: 1, svcNodes: ['n1', 'n2'], agents: ['n1', 'n2'] });
  const { lab, svc } = cl;
  await audit(t, cl, 'n1');
  await waitFor('n2 to see n3 down', async () => (await view(lab, 'n2')).nodes.n3?.state === 'down', 10_000);
  const sampler = new Sampler(t, cl);
  const hb1 = (v: { hb: HbSnapshot }) => v.hb.heartbeats.find((h) => h.id === 'hb#1')!;
  const before = await view(lab, 'n2');
  const spec = {
    etc: path.join(lab.root('n3'), 'etc'),
    cluster: lab.id,
    hb: 'hb#1',
    listen: { addr: lab.address('n3', 0), port: 10001 },
    from: lab.address('n1', 0),
    target: { addr: lab.address('n2', 0), port: 10001 },
  };
  const inj = await lab.exec('n3', process.execPath, [path.join(repoRoot, 'dist', 'test', 'helpers', 'hb-inject.js'), JSON.stringify(spec)], { timeout: 20_000 });
  t.true(inj.ok, inj.stderr);
  const sent = JSON.parse(inj.stdout) as Record<string, number>;
  t.deepEqual(sent, { malformed: 2, foreign: 1, forged: 2, unknown: 1, replayed: 2 });
  const total = (d: Record<string, number>) => Object.values(d).reduce((x, y) => x + y, 0);
  let after = before;
  await waitFor('the drops in n2 snapshot', async () => {
    after = await view(lab, 'n2');
    return total(hb1(after).drops) - total(hb1(before).drops) >= 8;
  }, 5_000);
  const reasons = ['malformed', 'foreign', 'forged', 'unknown', 'replayed'] as const;
  const delta = Object.fromEntries(reasons.map((r) => [r, (hb1(after).drops[r] ?? 0) - (hb1(before).drops[r] ?? 0)]));
  t.deepEqual(delta, sent, 'every bad datagram dropped and counted by reason');
  t.log(`n2 hb#1 drops: ${JSON.stringify(hb1(after).drops)}; as n1: ${JSON.stringify(hb1(after).peers.n1?.drops)}`);
  // the ones claiming to be n1 are also counted under n1
  t.true((hb1(after).peers.n1?.drops.forged ?? 0) >= 1);
  t.true((hb1(after).peers.n1?.drops.replayed ?? 0) >= 2);
  // and they show in the human table
  const text = await svcmonText(lab, 'n2');
  t.regex(text, new RegExp(`^hb#1 unicast\\s.*\\s${total(hb1(after).drops)}$`, 'm'), 'hb#1 total drops');
  t.regex(text, /^\s+n1\s+rx up\s.*forged 2.*replayed 2/m, 'drops claiming to be n1');
  await sleep(1_500);
  const v = await view(lab, 'n2');
  t.is(v.nodes.n1?.state, 'up');
  t.is(v.nodes.n3?.state, 'down', 'capturing n3 traffic gave no life to n3');
  t.false(JSON.stringify(v).includes('evil'), 'no injected payload accepted');
  t.is(v.nodes.n1?.payload?.services[svc]?.avail, 'up');
  const s = await sampler.stop();
  t.deepEqual(s.violations, []);
  t.deepEqual(s.seen, ['n1']);
  t.deepEqual(await daemonLog(lab, 'n2', new RegExp(`^${svc} (start|stop)`)), []);
  t.deepEqual(await daemonLog(lab, 'n1', new RegExp(`^${svc} (start|stop)`)).then((l) => l.filter((e) => e.time > before.hb.at)), []);
  await audit(t, cl, 'n1');
});
