// Planned maintenance in a 2-node lab with real agents (docs/maintenance.md): `nodemgr drain
// --wait` on the owner moves every failover service to the other node and freezes the owner;
// a daemon stop afterwards triggers nothing; the drained node comes back frozen and starts
// nothing. The services are sampled all along: none is down longer than its relocation.
import fs from 'node:fs';
import test from 'ava';
import { SVC_ADDR, cli, daemonEvents, serviceText, sleep, startAgentIn, startCluster, view, waitFor } from '../helpers/cluster-lab.js';
import { schemaErrors } from '../helpers/schemas.js';
import type { ClusterView } from '../../src/daemon/control-protocol.js';

const upOn = (v: ClusterView, svc: string): string[] =>
  Object.entries(v.nodes).filter(([, nv]) => ['up', 'warn'].includes(nv.payload?.services[svc]?.avail ?? '')).map(([n]) => n);

/** Samples n2's view: for each service, the longest time no node reported it up. */
class Downtime {
  private stopped = false;
  private readonly lastUp = new Map<string, number>();
  readonly longest = new Map<string, number>();
  samples = 0;
  private readonly loop: Promise<void>;
  constructor(lab: Parameters<typeof view>[0], svcs: string[]) {
    const t0 = Date.now();
    for (const s of svcs) (this.lastUp.set(s, t0), this.longest.set(s, 0));
    this.loop = (async () => {
      while (!this.stopped) {
        const v = await view(lab, 'n2').catch(() => undefined);
        const now = Date.now();
        if (v) {
          this.samples++;
          for (const s of svcs) {
            if (upOn(v, s).length) this.lastUp.set(s, now);
            this.longest.set(s, Math.max(this.longest.get(s)!, now - this.lastUp.get(s)!));
          }
        }
        await sleep(100);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

test.serial('drain --wait moves every failover service to n2 and freezes n1; a daemon stop then triggers nothing; n1 comes back frozen', async (t) => {
  const cl = await startCluster(t, { nodes: 2 });
  const { lab, svc } = cl;
  // a second failover service: its own address, no fs (the data disk is the first one's)
  const svc2 = `${svc}b`;
  const text2 = serviceText(lab, { name: svc2, nodes: ['n1', 'n2'], noFs: true }).replace(`ipname = ${SVC_ADDR}`, 'ipname = 10.215.0.101');
  // written on n1 only, config replication gives it to n2: n1 holds it first and starts it
  // (written on both, n2 could see it before n1 publishes it, and start it as the only holder)
  fs.writeFileSync(`${lab.root('n1')}/etc/services/${svc2}.env`, text2);
  let on = '';
  await waitFor(`${svc2} up`, async () => {
    const v = await view(lab, 'n1');
    on = ['n1', 'n2'].find((n) => v.nodes[n]?.payload?.services[svc2]?.avail === 'up' && v.nodes[n]?.payload?.services[svc2]?.monitor === 'idle') ?? '';
    return on !== '';
  }, 60_000);
  if (on !== 'n1') {
    const back = await cli(lab, 'n1', 'svcmgr', ['-s', svc2, 'relocate', '--to', 'n1', '--wait', '60'], 90_000);
    t.is(back.exitCode, 0, back.stderr);
  }
  await waitFor(`n1 to see ${svc2} on n2 (replicated)`, async () => (await view(lab, 'n1')).nodes.n2?.payload?.services[svc2] !== undefined, 30_000);
  const svcs = [svc, svc2];

  const down = new Downtime(lab, svcs);
  await sleep(500);
  const r = await cli(lab, 'n1', 'nodemgr', ['drain', '--wait', '--timeout', '120', '--format', 'json'], 150_000);
  await sleep(1_000);
  await down.stop();
  t.is(r.exitCode, 0, `${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout) as { node: string; done: boolean; ms: number; services: { svc: string; state: string; to?: string; ms?: number }[] };
  t.is(schemaErrors('nodemgr-drain', out), '', r.stdout);
  t.true(out.done);
  t.deepEqual(out.services.map((s) => [s.svc, s.state, s.to]), svcs.sort().map((s) => [s, 'moved', 'n2']));
  t.log(`drain: ${out.services.map((s) => `${s.svc} moved in ${s.ms} ms`).join(', ')} (drain ${out.ms} ms, CLI ${r.durationMs} ms)`);

  const v = await view(lab, 'n2');
  for (const s of svcs) t.deepEqual(upOn(v, s), ['n2'], `${s} runs on n2 only`);
  t.true(v.nodes.n1?.payload?.frozen, 'n2 sees n1 frozen');
  t.true(fs.existsSync(`${lab.root('n1')}/var/node.frozen`));
  // downtime: each service is down only while it moves (the stop on n1, the start on n2)
  for (const s of out.services) {
    const d = down.longest.get(s.svc)!;
    t.log(`${s.svc}: longest time down ${d} ms (${down.samples} samples)`);
    // one sampling period of slack: a gap is measured between two samples (a svcmon each)
    t.true(d <= (s.ms ?? 0) + 3_000, `${s.svc} down ${d} ms, longer than its move (${s.ms} ms)`);
    t.true(d < 30_000, `${s.svc} down ${d} ms`);
  }
  const drainEvents = (await daemonEvents(lab, 'n1', {})).filter((e) => String(e.event ?? '').startsWith('node.drain.'));
  t.deepEqual(drainEvents.map((e) => e.event), ['node.drain.begin', 'node.drain.service', 'node.drain.service', 'node.drain.end']);
  t.deepEqual(drainEvents.filter((e) => e.event === 'node.drain.service').map((e) => e.state), ['moved', 'moved']);

  // the daemon stop on n1 afterwards: n1 leaves, nothing is started or stopped anywhere
  const stopAt = Date.now();
  const st = await cli(lab, 'n1', 'nodemgr', ['daemon', 'stop']);
  t.is(st.exitCode, 0, st.stderr);
  await lab.stopAgent('n1');
  await waitFor('n2 to see n1 left', async () => (await view(lab, 'n2')).nodes.n1?.state === 'left', 15_000);
  await sleep(5_000);
  const actionsAfter = async (n: string) => (await daemonEvents(lab, n, { event: 'daemon.action.begin' })).filter((e) => e.time >= stopAt).map((e) => `${n} ${String(e.svc)} ${String(e.kind)}`);
  t.deepEqual(await actionsAfter('n2'), [], 'n2 took no action after the stop');
  for (const s of svcs) t.deepEqual(upOn(await view(lab, 'n2'), s).filter((n) => n === 'n2'), ['n2'], `${s} still on n2`);

  // n1 comes back: frozen, it starts nothing, the services stay on n2
  startAgentIn(lab, 'n1');
  await waitFor('n2 to see n1 up and frozen', async () => {
    const w = await view(lab, 'n2');
    return w.nodes.n1?.state === 'up' && w.nodes.n1.payload?.frozen === true;
  }, 20_000);
  await sleep(3_000);
  t.deepEqual([...(await actionsAfter('n1')), ...(await actionsAfter('n2'))], [], 'no action after n1 came back');
  const back = await view(lab, 'n1');
  for (const s of svcs) t.deepEqual(upOn(back, s), ['n2'], `${s} on n2 only after n1 came back`);
  t.true(back.nodes.n1?.payload?.frozen, 'n1 is still frozen');
});
