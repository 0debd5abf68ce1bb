// The layer the daemon uses, in-process over loopback: the whole NodeState goes in on one
// side and comes out, complete, on the other; a refresh stamp alone moves no generation and
// pulls nothing; a peer of an earlier version (whole state in its beats) is passed through.
import crypto from 'node:crypto';
import test from 'ava';
import type { ClusterConfig } from '../../src/cluster/config.js';
import { performance } from 'node:perf_hooks';
import type { HandoverProgress, NodeState } from '../../src/cluster/node-state.js';
import type { PeerInfo } from '../../src/cluster/takeover.js';
import { HandoverGates } from '../../src/daemon/handover-gate.js';
import { startHeartbeats } from '../../src/heartbeat/index.js';
import type { JsonValue } from '../../src/heartbeat/index.js';
import { startClusterState } from '../../src/statechan/index.js';
import { bigState, serviceState } from '../helpers/node-states.js';

const port = 20_000 + crypto.randomInt(0, 30_000);
const cluster = (): ClusterConfig => ({
  file: 'x', name: `layer${port}`, nodes: ['n1', 'n2'], secret: crypto.randomBytes(32).toString('hex'), quorum: false, splitAction: 'crash', stonith: [], arbitrators: [],
  heartbeats: [{ id: 'hb#1', type: 'unicast', interval: 100, timeout: 1000, intf: undefined, endpoints: { n1: { addr: '127.0.0.1', port }, n2: { addr: '127.0.0.2', port } } }],
});
const until = async (what: string, f: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};
const json = (s: NodeState): JsonValue => JSON.parse(JSON.stringify(s)) as JsonValue;

test.serial('the whole state crosses; a refresh stamp alone pulls nothing; a change is pulled', async (t) => {
  const c = cluster();
  const state = bigState(300, { intents: true });
  const a = await startClusterState({ cluster: c, nodename: 'n1', payload: json(state) });
  t.teardown(() => a.stop(false));
  const b = await startClusterState({ cluster: c, nodename: 'n2', payload: json(bigState(0)) });
  t.teardown(() => b.stop(false));
  const seen = () => b.peers().n1?.payload as NodeState | undefined;
  await until('n1 complete at n2', () => seen()?.complete === true && Object.keys(seen()!.services).length === 300);
  t.deepEqual(seen()!.services, state.services);
  t.deepEqual(seen()!.intents, state.intents);
  const gen = a.statechan().gen;
  t.is(a.snapshot().statechan?.items, 600, 'the counters ride in the heartbeat snapshot (svcmon json)');
  t.true(b.snapshot().statechan?.peers.n1?.synced);
  const pulls = b.statechan().peers.n1!.pulls;

  for (const v of Object.values(state.services)) v.updated += 5000;
  a.setPayload(json(state));
  await new Promise((r) => setTimeout(r, 600));
  t.is(a.statechan().gen, gen, 'stamps only: same generation');
  t.is(b.statechan().peers.n1!.pulls, pulls, 'nothing pulled');

  state.services.svc00010!.monitor = 'starting';
  a.setPayload(json(state), true);
  await until('the change at n2', () => seen()?.complete === true && seen()!.services.svc00010!.monitor === 'starting');
  t.is(a.statechan().gen, gen + 1);
  t.is(b.statechan().peers.n1!.pulls, pulls + 1);
  t.true(Math.max(...a.snapshot().heartbeats.map((h) => h.maxBytes ?? 0)) < 1024);
});

test.serial('a peer publishing its whole state in the beat (earlier version) is passed through', async (t) => {
  const c = cluster();
  const whole = bigState(3);
  const a = await startHeartbeats({ cluster: c, nodename: 'n1', payload: json(whole) });
  t.teardown(() => a.stop(false));
  const b = await startClusterState({ cluster: c, nodename: 'n2', payload: json(bigState(0)) });
  t.teardown(() => b.stop(false));
  await until('n1 state at n2', () => b.peers().n1?.payload !== undefined);
  t.deepEqual(b.peers().n1!.payload, whole);
});

test.serial("a relocation's release rides in the owner's beat: the target reads it before the pull, and its gate opens on it", async (t) => {
  const c = cluster();
  const progress: HandoverProgress = { intent: 'i1', to: 'n2', released: ['app'], done: false };
  const state = bigState(20);
  state.services.web = serviceState({ monitor: 'stopping', handover: progress });
  const a = await startClusterState({ cluster: c, nodename: 'n1', payload: json(state) });
  t.teardown(() => a.stop(false));
  const b = await startClusterState({ cluster: c, nodename: 'n2', payload: json(bigState(0)) });
  t.teardown(() => b.stop(false));
  const seen = () => b.peers().n1?.payload as NodeState | undefined;
  const peerInfo = (): Record<string, PeerInfo> => Object.fromEntries(Object.entries(b.peers()).map(([n, v]) => [n, { state: v.state, payload: v.payload as NodeState }]));
  await until('n1 complete at n2, with its beat releases', () => seen()?.complete === true && seen()!.beat_handovers?.releases.web?.r.length === 1 && b.peers().n1!.state === 'up');
  t.is(seen()!.beat_handovers!.inc, a.incarnation.toString());
  t.is(seen()!.beat_handovers!.pulledInc, a.incarnation.toString(), 'the beat and the pulled state: the same process');

  const opened: string[] = [];
  const gates = new HandoverGates(peerInfo, (_s, group, _from, via) => opened.push(`${group} ${via}`));
  b.on('handover', (peer) => gates.peerChanged(peer));
  b.on('payload', (peer) => gates.peerChanged(peer));
  const gate = gates.begin('web', ['n1'], 'i1');
  t.teardown(() => gates.end('web'));
  const at: { read?: NodeState } = {};
  b.once('handover', () => (at.read = structuredClone(seen())));
  const ip = gate('ip');
  progress.released.push('fs', 'ip');
  const sent = performance.now();
  a.setPayload(json(state), true);
  const openedAt = await ip;
  t.true(openedAt >= sent);
  t.truthy(at.read, "the 'handover' event came");
  t.is(at.read!.complete, false, 'read with the beat: the state it announced not pulled yet');
  t.deepEqual(at.read!.services.web!.handover!.released, ['app'], 'the pulled services still the older ones');
  t.deepEqual(at.read!.beat_handovers!.releases.web, { i: 'i1', r: ['app', 'fs', 'ip'] });
  t.deepEqual(opened, ['ip beat']);
  await until('the pull lands', () => seen()?.complete === true && seen()!.services.web!.handover!.released.length === 3);
  t.log(`release read ${Math.round(openedAt - sent)} ms after the publish`);
});
