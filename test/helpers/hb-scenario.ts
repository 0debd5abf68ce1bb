// Heartbeat scenarios shared by the integration tests: a lab cluster in namespaces with a
// cluster file, node processes, and the crash-detection measurement.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ExecutionContext } from 'ava';
import { generateSecret } from '../../src/cluster/config.js';
import { requireRoot, uniquePrefix } from './env.js';
import type { HbLab } from './hb-lab.js';
import { createHbLab } from './hb-lab.js';
import { HbProc } from './hb-proc.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Lab {
  lab: HbLab;
  root: string;
  procs: HbProc[];
  start(name: string, env?: Record<string, string>): HbProc;
}

/** A lab with `names` nodes and a cluster file built by `hbs` (given the nodes' addresses). */
export async function setup(t: ExecutionContext, names: string[], hbs: (lab: HbLab) => string, clusterName = 'lab'): Promise<Lab> {
  requireRoot();
  const lab = await createHbLab(uniquePrefix('hb'), names);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-hb-'));
  const procs: HbProc[] = [];
  t.teardown(async () => {
    for (const p of procs) await p.kill();
    await lab.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
  });
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc', 'cluster.secret'), generateSecret(), { mode: 0o600 });
  const text = ['[cluster]', `name = ${clusterName}`, `nodes = ${names.join(' ')}`, 'secret_file = cluster.secret', 'quorum = false', '', hbs(lab)].join('\n');
  fs.writeFileSync(path.join(root, 'etc', 'cluster.conf'), text);
  return {
    lab,
    root,
    procs,
    start(name, env) {
      const n = lab.nodes.find((x) => x.name === name)!;
      const p = new HbProc(name, n.ns, root, env);
      procs.push(p);
      return p;
    },
  };
}

export const unicast = (id: string, interval: string, timeout: string, port = 10001) => (lab: HbLab) =>
  [`[${id}]`, 'type = unicast', `port = ${port}`, `interval = ${interval}`, `timeout = ${timeout}`, ...lab.nodes.map((n) => `addr@${n.name} = ${n.addr}`), ''].join('\n');
export const multicast = (id: string, interval: string, timeout: string) => () =>
  [`[${id}]`, 'type = multicast', 'addr = 239.214.0.1', 'port = 10002', 'intf = eth0', `interval = ${interval}`, `timeout = ${timeout}`, ''].join('\n');

/** Both nodes up, payload seen, then n1 crashes: n2 must say so within timeout + interval. */
export async function crashDetection(t: ExecutionContext, hb: (lab: HbLab) => string, intervalMs: number, timeoutMs: number, beforeKill?: () => Promise<unknown>): Promise<number> {
  const l = await setup(t, ['n1', 'n2'], hb);
  const a = l.start('n1');
  const b = l.start('n2');
  // two node processes starting on a loaded machine can take seconds before the first beat
  await a.waitPeer('n2', 'up', 30_000);
  await b.waitPeer('n1', 'up', 30_000);
  await b.waitFor((e) => e.ev === 'payload' && e.peer === 'n1', 10_000, 'payload');
  a.send({ cmd: 'payload', value: { node: 'n1', gen: 1 } });
  const p = await b.waitFor((e) => e.ev === 'payload' && (e.payload as { gen?: number }).gen === 1, 10_000, 'new payload');
  t.deepEqual(p.payload, { node: 'n1', gen: 1 });
  await sleep(3 * intervalMs);
  await beforeKill?.();
  // the bound is the algorithm's (timeout + interval) plus the scheduling delay this machine
  // showed during the window, measured as this process's event-loop delay: on a saturated
  // machine every process wakes late, the detector's worker too
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const killedAt = await a.kill();
  // only a verdict after the kill counts: one started later than our timeout is first down (never heard)
  const down = await b.waitPeer('n1', 'down', timeoutMs + intervalMs + 5000, killedAt);
  lag.disable();
  const took = (down.verdictAt ?? down.at) - killedAt;
  const slack = Math.ceil(lag.max / 1e6);
  t.log(`detected in ${took} ms (bound ${timeoutMs + intervalMs} ms + ${slack} ms scheduling delay measured)`);
  t.true(took <= timeoutMs + intervalMs + slack, `detected in ${took}ms, limit ${timeoutMs + intervalMs}ms + ${slack}ms measured scheduling delay`);
  // a peer that starts later than our timeout is first reported down (never seen): only what follows "up" matters here
  const states = b.peerStates('n1');
  t.deepEqual(states.slice(states.indexOf('up')), ['up', 'down']);
  return took;
}

