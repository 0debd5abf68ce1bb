// decide() with the configuration gate: no orchestrated start while a live candidate holds
// another configuration of the service, or none yet. A file written to n1, n2, n3 in turn
// starts on n1, the first eligible candidate, once all three hold it.
import test from 'ava';
import { decide, type DecisionInput, type PeerInfo } from '../../src/cluster/orchestrator.js';
import { configDisagreement } from '../../src/cluster/config-gate.js';
import type { ConfigDigest, Intent, NodeState, ServiceState } from '../../src/cluster/node-state.js';

const na = 'n/a' as const;
const svc = (over: Partial<ServiceState> = {}): ServiceState => ({
  avail: 'down', overall: 'down', frozen: false, orchestrate: 'ha', service_type: '', nodes: ['n1', 'n2', 'n3'], monitor: 'idle',
  groups: { container: na, ip: na, disk: na, fs: na, share: na, app: na, sync: na }, updated: 0, ...over,
});
const digest = (sum: string, over: Partial<ConfigDigest> = {}): ConfigDigest => ({ updated: 1, sum, hist: [], nodes: ['n1', 'n2', 'n3'], ...over });
const node = (configs: Record<string, ConfigDigest> | undefined, services: Record<string, ServiceState> = {}): NodeState => ({
  v: 1, frozen: false, services, intents: {}, complete: true, ...(configs ? { configs } : {}),
});
const up = (p: NodeState): PeerInfo => ({ state: 'up', payload: p });
const S1 = 'a'.repeat(64);
const S2 = 'b'.repeat(64);
const input = (self: string, peers: Record<string, PeerInfo>, configSum: string | undefined, intents: Record<string, Intent> = {}): DecisionInput => ({
  self, svc: 'web', local: svc(), nodeFrozen: false, peers, intents, now: 1_000_000, bootPhase: false, quorum: { ok: true, why: 'quorum' }, configSum,
});

test('the first eligible node waits while a live candidate has no file of the service yet', (t) => {
  const peers = { n2: up(node({ web: digest(S1) }, { web: svc() })), n3: up(node({})) };
  t.deepEqual(decide(input('n1', peers, S1)), { action: 'none', why: 'waiting for n3 to hold the same configuration' });
});

test('... or another one; once all hold the same, it starts there, and only there', (t) => {
  const diff = { n2: up(node({ web: digest(S2) }, { web: svc() })), n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(decide(input('n1', diff, S1)), { action: 'none', why: 'waiting for n2 to hold the same configuration' });
  const same = { n2: up(node({ web: digest(S1) }, { web: svc() })), n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.is(decide(input('n1', same, S1)).action, 'start');
  const fromN2 = { n1: up(node({ web: digest(S1) }, { web: svc() })), n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(decide(input('n2', fromN2, S1)), { action: 'none', why: 'n1 is the first eligible node' });
});

test('a tombstone on a candidate is a different configuration', (t) => {
  const peers = { n2: up(node({ web: digest('deleted', { deleted: true }) })), n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(configDisagreement(input('n1', peers, S1), ['n1', 'n2', 'n3']), ['n2']);
});

test('dead peers, peers of an earlier version, and a daemon without replication do not hold a start', (t) => {
  const peers: Record<string, PeerInfo> = { n2: { state: 'down', payload: node({}) }, n3: up(node(undefined, { web: svc() })) };
  t.is(decide(input('n1', peers, S1)).action, 'start');
  t.is(decide(input('n1', { n2: up(node({})), n3: up(node({})) }, undefined)).action, 'start');
});

test('a relocation target waits for the same configuration too', (t) => {
  const intent: Intent = { id: 'i1', svc: 'web', target: 'n3', by: 'n1', at: 999_000, done: false };
  const peers = { n1: up(node({ web: digest(S2) }, { web: svc() })), n2: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(decide(input('n3', peers, S1, { web: intent })), { action: 'none', why: 'waiting for n1 to hold the same configuration' });
  const agree = { n1: up(node({ web: digest(S1) }, { web: svc() })), n2: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(decide(input('n3', agree, S1, { web: intent })), { action: 'start', why: 'relocation target', intent: 'i1' });
});

test('a candidate that holds the configuration but has not reported the service yet is waited for, not passed over', (t) => {
  // n1 installed the file from n2 a moment ago: its configs say so, its services do not yet
  const fresh = { n1: up(node({ web: digest(S1) })), n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(decide(input('n2', fresh, S1)), { action: 'none', why: 'waiting for the state of n1' });
  const reported = { n1: up(node({ web: digest(S1) }, { web: svc() })), n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.deepEqual(decide(input('n2', reported, S1)), { action: 'none', why: 'n1 is the first eligible node' });
  // a candidate with another configuration is the disagreement rule's, and a dead one holds nothing
  const dead: Record<string, PeerInfo> = { n1: { state: 'down', payload: node({ web: digest(S1) }) }, n3: up(node({ web: digest(S1) }, { web: svc() })) };
  t.is(decide(input('n2', dead, S1)).action, 'start');
});
