// State channel traffic (issue 9): 3 nodes in network namespaces, each publishing 5000
// services, one unicast heartbeat at 1 s. Measures the initial sync time, then the bytes
// each node sends per second (its veth's counters) while every node republishes every second
// (fresh `updated` stamps only, then 10 services changed per second). Root; ~2 min.
// Run: node dist/bench/run.js statechan. Figures in docs/benchmarks.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSecret } from '../src/cluster/config.js';
import { createHbLab } from '../test/helpers/hb-lab.js';
import { HbProc } from '../test/helpers/hb-proc.js';
import { sh, sleep } from './common.js';

const NODES = ['n1', 'n2', 'n3'];
const SERVICES = 5000;
const WINDOW_MS = 30_000;

async function txBytes(ns: string): Promise<number> {
  const j = JSON.parse(await sh('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'eth0'])) as { stats64: { tx: { bytes: number } } }[];
  return j[0]!.stats64.tx.bytes;
}

export async function statechan(): Promise<Record<string, number>> {
  const lab = await createHbLab(`sc${process.pid % 10000}`, NODES);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-scbench-'));
  const procs: HbProc[] = [];
  try {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'cluster.secret'), generateSecret(), { mode: 0o600 });
    fs.writeFileSync(path.join(root, 'etc', 'cluster.conf'), [
      '[cluster]', 'name = bench', `nodes = ${NODES.join(' ')}`, 'secret_file = cluster.secret', '',
      '[hb#1]', 'type = unicast', 'port = 10001', 'interval = 1s', 'timeout = 3s', ...lab.nodes.map((n) => `addr@${n.name} = ${n.addr}`), '',
    ].join('\n'));
    for (const n of lab.nodes) procs.push(new HbProc(n.name, n.ns, root, { FERRY_HB_STATECHAN: '1' }));
    for (const p of procs) for (const o of NODES.filter((x) => x !== p.name)) await p.waitPeer(o, 'up', 30_000);
    const t0 = Date.now();
    // every second: fresh stamps, and `changes` services changed
    const churn = (changes: number) => { for (const p of procs) p.send({ cmd: 'churn', n: SERVICES, changes, everyMs: 1000 }); };
    churn(0);
    for (const p of procs) {
      for (const o of NODES.filter((x) => x !== p.name)) {
        await p.waitFor((e) => e.ev === 'payload' && e.peer === o && (e.payload as { complete?: boolean; services?: number }).complete === true && (e.payload as { services?: number }).services === SERVICES, 120_000, `${o} synced`);
      }
    }
    const syncMs = Date.now() - t0;
    await sleep(3000);
    const measure = async (): Promise<number> => {
      const before = await Promise.all(lab.nodes.map((n) => txBytes(n.ns)));
      await sleep(WINDOW_MS);
      const after = await Promise.all(lab.nodes.map((n) => txBytes(n.ns)));
      return Math.max(...after.map((a, i) => a - before[i]!)) / (WINDOW_MS / 1000);
    };
    const idle = await measure();
    // now 10 services changed per second per node (the churn replaces the previous one)
    churn(10);
    await sleep(3000);
    const busy = await measure();
    const snaps = await Promise.all(procs.map((p) => p.snapshot()));
    const downs = procs.flatMap((p) => p.events.filter((e) => e.ev === 'peer' && e.state === 'down' && e.at > t0));
    const maxBeat = Math.max(...snaps.flatMap((s) => s.snap!.heartbeats.map((h) => h.maxBytes ?? 0)));
    const allSynced = snaps.every((s) => Object.values(s.statechan!.peers).every((p) => p.synced && p.items === SERVICES));
    const { bigState } = await import('../test/helpers/node-states.js');
    return {
      nodes: NODES.length, services_per_node: SERVICES, initial_sync_ms: syncMs, beat_bytes_max: maxBeat,
      tx_bytes_per_s_per_node_stamps_only: Math.round(idle), tx_bytes_per_s_per_node_10_changes_per_s: Math.round(busy),
      whole_state_beat_bytes_before: JSON.stringify(bigState(SERVICES)).length, peers_down_during_run: downs.length, all_synced_at_end: allSynced ? 1 : 0,
    };
  } finally {
    for (const p of procs) await p.kill();
    await lab.cleanup();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
